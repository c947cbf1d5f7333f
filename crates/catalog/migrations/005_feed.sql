-- Catalog schema, version 5: what applying the locker's change feed needs (DESIGN.md, data flow 4
-- and "Catalog model"). See crates/catalog/src/feed.rs.

-- Last-writer-wins registers: for every field a synced change can set, the value with the
-- greatest stamp seen and that stamp, as text that sorts like stamps do (wall time and counter
-- zero-padded, then the device id, as the locker keeps them). Kinds and fields:
--   track    uid   a track field ('title', 'loved', ...), 'rating', 'blob'
--   playlist uid   'name', 'deleted'
--   item     uid   'set' (value: {"playlist", "track", "order_key"}), 'removed'
-- Values are JSON. A register outlives the row it describes, so that a late op about a deleted
-- playlist or entry cannot bring it back.
CREATE TABLE sync_registers (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    stamp TEXT NOT NULL,
    PRIMARY KEY (kind, key, field)
) STRICT, WITHOUT ROWID;

-- Other uids of a track: another device's uid for the same recording (the same audio_id), which
-- ops from that device name it by.
CREATE TABLE track_aliases (
    uid TEXT PRIMARY KEY,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE
) STRICT;
CREATE INDEX track_aliases_by_track ON track_aliases(track_id);

-- The locker's copy of a track: the blob (BLAKE3 of the file) that holds its audio.
CREATE TABLE locker_tracks (
    track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    blob TEXT NOT NULL
) STRICT;

-- What waits for a track or playlist not here yet (ref, its uid): an entry (key: the entry's
-- uid) or a play (key: the op id; value: when, in Unix milliseconds), placed when it arrives.
CREATE TABLE sync_parked (
    ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value INTEGER,
    PRIMARY KEY (ref, kind, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX sync_parked_by_key ON sync_parked(kind, key);

-- Locker tracks are joined to local ones by audio id.
CREATE INDEX tracks_by_audio_id ON tracks(audio_id) WHERE audio_id IS NOT NULL;

-- Plays are a set of events: each is one op, and an op seen twice (this device's own, coming back
-- in the feed) counts once.
ALTER TABLE plays ADD COLUMN op_id TEXT;
CREATE UNIQUE INDEX plays_by_op ON plays(op_id) WHERE op_id IS NOT NULL;

-- Entries with equal order keys (inserted at one place on two devices at once) sort by uid, the
-- same on every device, not by row id.
DROP INDEX playlist_items_in_order;
CREATE INDEX playlist_items_in_order ON playlist_items(playlist_id, order_key, uid);
