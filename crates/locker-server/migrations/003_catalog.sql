-- Locker schema, version 3: the catalog ops log (the change feed) and the state it builds.
-- Stamps (hlc columns) are hybrid logical clock stamps as sortable text; see catalog.rs.

CREATE TABLE ops (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    op_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (user_id, op_id)
) STRICT;
CREATE INDEX ops_feed ON ops(user_id, seq);

CREATE TABLE tracks (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    blob TEXT REFERENCES blobs(hash),
    blob_hlc TEXT,
    rating INTEGER NOT NULL DEFAULT 0,
    rating_hlc TEXT,
    deleted_hlc TEXT,
    PRIMARY KEY (user_id, uid)
) STRICT, WITHOUT ROWID;

-- Each field of a track is its own last-writer-wins register.
CREATE TABLE track_fields (
    user_id INTEGER NOT NULL,
    uid TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    hlc TEXT NOT NULL,
    PRIMARY KEY (user_id, uid, field),
    FOREIGN KEY (user_id, uid) REFERENCES tracks(user_id, uid) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Plays are a set of events: each counts once.
CREATE TABLE plays (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    op_id TEXT NOT NULL,
    track TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (user_id, op_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE playlists (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    name TEXT NOT NULL,
    name_hlc TEXT NOT NULL,
    deleted_hlc TEXT,
    PRIMARY KEY (user_id, uid)
) STRICT, WITHOUT ROWID;

CREATE TABLE playlist_items (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    playlist TEXT NOT NULL,
    item TEXT NOT NULL,
    track TEXT NOT NULL,
    order_key TEXT NOT NULL,
    hlc TEXT NOT NULL,
    removed_hlc TEXT,
    PRIMARY KEY (user_id, playlist, item)
) STRICT, WITHOUT ROWID;
