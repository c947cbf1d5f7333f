-- Locker schema, version 4: proof-of-possession challenges for scan and match.
CREATE TABLE claims (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash TEXT NOT NULL REFERENCES blobs(hash),
    nonce TEXT NOT NULL,
    ranges TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX claims_by_user ON claims(user_id);
