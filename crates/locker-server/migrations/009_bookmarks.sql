-- Locker schema, version 9: bookmarks (`createBookmark`, `getBookmarks`, `deleteBookmark`): a
-- place in a song the listener wants to come back to, with an optional note, one per song and
-- account (audiobooks, long mixes, lectures). Subsonic apps' own state: not a catalog op, so not
-- in the change feed, like the play queue.
CREATE TABLE bookmarks (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The song's track uid.
    track TEXT NOT NULL,
    -- How far into the song, in milliseconds.
    position_ms INTEGER NOT NULL,
    comment TEXT,
    created_at INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, track)
) STRICT;
