-- Catalog schema, version 9: no change of shape. iTunes' Sound Check (`iTunNORM`, in MP3, AAC,
-- Apple Lossless and AIFF files) is now read as a ReplayGain track gain where a file has none, so
-- each such file without a track gain is read again at the next scan (recorded modification time
-- -1 ns, as in version 8). Its track keeps its row, play stats and playlist entries.
UPDATE files SET mtime_ns = -1
WHERE track_id IN (
    SELECT id FROM tracks
    WHERE rg_track_gain IS NULL AND codec IN ('mp3', 'aac', 'alac', 'pcm')
);
