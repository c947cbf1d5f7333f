-- Catalog schema, version 10: no change of shape. A file that lists its artists one by one (an
-- `ARTISTS` field, as MusicBrainz Picard writes) now shows its artist field as the track's artist
-- ("A feat. B") instead of the listed artists joined ("A, B"), and a list joined with "/" (ID3v2.3)
-- is split where that credit parts the names. So each track with more than one artist, or with an
-- artist whose name holds a "/", is read again at the next scan (recorded modification time -1 ns,
-- as in version 8). Its track keeps its row, play stats and playlist entries.
UPDATE files SET mtime_ns = -1
WHERE track_id IN (SELECT track_id FROM track_artists GROUP BY track_id HAVING count(*) > 1)
   OR track_id IN (
       SELECT ta.track_id FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
       WHERE instr(a.name, '/') > 0
   );
