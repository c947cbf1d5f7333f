-- Locker schema, version 5: cover pictures taken from uploaded files.
CREATE TABLE covers (
    hash TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL
) STRICT;

-- The front cover embedded in each blob that has one.
CREATE TABLE blob_covers (
    blob TEXT PRIMARY KEY REFERENCES blobs(hash),
    cover TEXT NOT NULL REFERENCES covers(hash)
) STRICT, WITHOUT ROWID;
CREATE INDEX blob_covers_by_cover ON blob_covers(cover);
