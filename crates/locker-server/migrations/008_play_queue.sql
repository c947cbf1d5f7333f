-- Locker schema, version 8: the play queue Subsonic apps save and restore (`savePlayQueue`,
-- `getPlayQueue` and their by-index forms), one per account, so that listening can move from one
-- app to another.
CREATE TABLE play_queues (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    -- The songs in order, as a JSON array of track uids.
    tracks TEXT NOT NULL,
    -- The place in `tracks` of the song playing, if any (a song may be queued twice), and how
    -- far into it, in milliseconds.
    current_index INTEGER,
    position_ms INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    -- The app that saved it (its `c` parameter).
    changed_by TEXT NOT NULL
) STRICT;
