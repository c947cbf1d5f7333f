-- Catalog schema, version 6: offline copies of locker tracks and what the user pinned for
-- offline (DESIGN.md, data flow 5). See crates/catalog/src/offline.rs.

-- A locker track's file downloaded into the offline folder.
CREATE TABLE offline (
    track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    file TEXT NOT NULL,              -- its name in the offline folder
    size INTEGER NOT NULL,
    blob TEXT NOT NULL,              -- the locker blob it copies (BLAKE3 of its bytes)
    last_access INTEGER NOT NULL     -- downloaded or last played, Unix ms
) STRICT;

-- What the user asked to keep offline: a track, or an album or playlist with every track it
-- has now or gains later. Pinned copies are never evicted.
CREATE TABLE pins (
    kind TEXT NOT NULL CHECK (kind IN ('track', 'album', 'playlist')),
    target INTEGER NOT NULL,
    pinned_at INTEGER NOT NULL,
    PRIMARY KEY (kind, target)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER pins_of_deleted_tracks AFTER DELETE ON tracks BEGIN
    DELETE FROM pins WHERE kind = 'track' AND target = old.id;
END;
CREATE TRIGGER pins_of_deleted_albums AFTER DELETE ON albums BEGIN
    DELETE FROM pins WHERE kind = 'album' AND target = old.id;
END;
CREATE TRIGGER pins_of_deleted_playlists AFTER DELETE ON playlists BEGIN
    DELETE FROM pins WHERE kind = 'playlist' AND target = old.id;
END;
