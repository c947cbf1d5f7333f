-- Catalog schema, version 2: the loved flag, play counts brought in from other players, and the
-- import journal that lets an import be undone as a whole. See crates/catalog/src/import/mod.rs.

-- A "loved" (favourite) mark, separate from the star rating as in iTunes/Music.
ALTER TABLE tracks ADD COLUMN loved INTEGER NOT NULL DEFAULT 0;
-- The part of play_count that came from an import (another player's count, set as a baseline).
-- play_count - imported_play_count is what Skylark itself counted. A later import replaces the
-- baseline instead of adding to it, so importing the same history twice never doubles counts.
ALTER TABLE tracks ADD COLUMN imported_play_count INTEGER NOT NULL DEFAULT 0;

-- One row per applied import.
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,             -- 'itunes', 'm3u' or 'stats'
    source TEXT NOT NULL,           -- what was read, for people (file names)
    source_key TEXT NOT NULL,       -- what identifies the source across imports
    imported_at INTEGER NOT NULL,
    undone_at INTEGER,
    tracks_changed INTEGER NOT NULL,
    playlists_written INTEGER NOT NULL
) STRICT;

-- The play statistics an import changed: the values before and after, per track. Undo puts
-- back the old value of each field the import set, unless the user changed that field since.
CREATE TABLE import_track_changes (
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    old_rating INTEGER NOT NULL,
    new_rating INTEGER NOT NULL,
    old_play_count INTEGER NOT NULL,
    new_play_count INTEGER NOT NULL,
    old_imported_play_count INTEGER NOT NULL,
    new_imported_play_count INTEGER NOT NULL,
    old_last_played_at INTEGER NOT NULL,
    new_last_played_at INTEGER NOT NULL,
    old_added_at INTEGER NOT NULL,
    new_added_at INTEGER NOT NULL,
    old_loved INTEGER NOT NULL,
    new_loved INTEGER NOT NULL,
    PRIMARY KEY (import_id, track_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX import_track_changes_by_track ON import_track_changes(track_id);

-- Where an imported playlist came from, so that importing the same source again replaces it.
CREATE TABLE playlist_sources (
    playlist_id INTEGER PRIMARY KEY REFERENCES playlists(id) ON DELETE CASCADE,
    source_key TEXT NOT NULL,
    external_id TEXT,               -- the source's own id (iTunes "Playlist Persistent ID")
    smart INTEGER NOT NULL DEFAULT 0 -- a snapshot of a smart playlist's contents at import time
) STRICT;
CREATE INDEX playlist_sources_by_source ON playlist_sources(source_key, external_id);

-- The playlists an import created or replaced. For a replaced playlist, its name, source row and
-- entries before the import (in import_playlist_items), so undo can put them back as they were.
CREATE TABLE import_playlist_changes (
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    playlist_id INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    old_name TEXT,
    old_updated_at INTEGER,
    old_external_id TEXT,
    old_smart INTEGER,
    PRIMARY KEY (import_id, playlist_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE import_playlist_items (
    import_id INTEGER NOT NULL,
    playlist_id INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    uid TEXT NOT NULL,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    order_key TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (import_id, playlist_id, item_id),
    FOREIGN KEY (import_id, playlist_id)
        REFERENCES import_playlist_changes(import_id, playlist_id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX import_playlist_items_by_track ON import_playlist_items(track_id);
