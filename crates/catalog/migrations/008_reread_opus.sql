-- Catalog schema, version 8: no change of shape. Opus files' R128 gains (R128_TRACK_GAIN,
-- R128_ALBUM_GAIN) are now read as ReplayGain values, so each Opus file is read again at the next
-- scan: its recorded modification time is set to one no file has (-1 ns), which the scan takes
-- for a change. The track keeps its row, play stats and playlist entries, as for any changed file.
UPDATE files SET mtime_ns = -1
WHERE track_id IN (SELECT id FROM tracks WHERE codec = 'opus');
