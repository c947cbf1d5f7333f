-- Locker schema, version 7: Subsonic credentials, loved albums and artists, playlist creation
-- times. See DESIGN.md "Locker (server)" and src/subsonic/.

-- An account's Subsonic app password is not stored: it is derived from the server's key
-- (subsonic.key in the data folder) and this nonce, so the database alone reveals nothing, and
-- a new nonce replaces the password.
CREATE TABLE subsonic_passwords (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- OpenSubsonic API keys: like session tokens, stored only as their BLAKE3 hash; they do not
-- expire, and revoking one deletes its row.
CREATE TABLE subsonic_api_keys (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;
CREATE INDEX subsonic_api_keys_by_user ON subsonic_api_keys(user_id);

-- Loved albums and artists (`love` ops), each a last-writer-wins register named by its
-- case-folded tags (`kind` is 'album' or 'artist').
CREATE TABLE loves (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    loved INTEGER NOT NULL,
    hlc TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, key)
) STRICT, WITHOUT ROWID;

-- When the locker first heard of a playlist (NULL for playlists made before this version).
ALTER TABLE playlists ADD COLUMN created_at INTEGER;
