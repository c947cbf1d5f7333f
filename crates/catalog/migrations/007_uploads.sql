-- Catalog schema, version 7: the upload queue of scan and match (DESIGN.md, "uploads"): the
-- files the locker asked for, each with its resumable state, so that uploading goes on after a
-- dropped connection or a restart without sending acknowledged bytes again. See
-- crates/catalog/src/uploads.rs.
CREATE TABLE uploads (
    track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    state TEXT NOT NULL,             -- the locker client's resumable upload, as JSON
    size INTEGER NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0, -- bytes the locker has acknowledged
    queued_at INTEGER NOT NULL,
    error TEXT                       -- why the last attempt failed, if it did
) STRICT;
