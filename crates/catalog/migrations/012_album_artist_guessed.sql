-- Catalog schema, version 12: whether a track's album artist was guessed (its file names no album
-- artist and no compilation flag, so it is filed under its first artist). After each scan such
-- tracks of one folder that share an album title are filed as one album (see compilations.rs).
-- And an album artist spelled "VA", "V.A." or "various artists" now means Various Artists, a
-- compilation (names::is_various_artists).
-- And a genre value joined with ";" ("Rock; Pop") is several genres.
-- Tracks of albums whose title another album shares, of albums by such a spelling, and with a ";"
-- in a genre are read again at the next scan (recorded modification time -1 ns, as in version
-- 8), which records the flag and files them; each keeps its row, play stats and playlist entries.
ALTER TABLE tracks ADD COLUMN album_artist_guessed INTEGER NOT NULL DEFAULT 0;
UPDATE files SET mtime_ns = -1
WHERE track_id IN (
    SELECT t.id FROM tracks t JOIN albums al ON al.id = t.album_id
    WHERE al.title IN (SELECT title FROM albums GROUP BY title HAVING count(*) > 1)
       OR al.artist_id IN (
           SELECT id FROM artists
           WHERE match_key IN ('various artist', 'various', 'va', 'v.a.', 'v. a.', 'v/a')
       )
       OR t.genre LIKE '%;%'
);
-- An album by "various artists" in another case is the Various Artists album already.
UPDATE albums SET compilation = 1
WHERE artist_id IN (SELECT id FROM artists WHERE match_key = 'various artists');
