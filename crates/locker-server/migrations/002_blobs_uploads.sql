-- Locker schema, version 2: blobs and resumable uploads.

-- A blob is a file's exact bytes, stored once in the object store under its BLAKE3 hash.
CREATE TABLE blobs (
    hash TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Which accounts hold which blobs; an account's used bytes are the sizes of its blobs.
CREATE TABLE user_blobs (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash TEXT NOT NULL REFERENCES blobs(hash),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;

-- A tus upload in progress. Its bytes so far are in uploads/<id>.part in the data folder.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    length INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    blake3 TEXT NOT NULL,
    filename TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX uploads_by_user ON uploads(user_id);
CREATE INDEX uploads_by_age ON uploads(updated_at);
