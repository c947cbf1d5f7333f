-- The sync outbox (DESIGN.md, data flow 4): every change a device makes that other devices must
-- see is written here as an op, in the same transaction as the change; the locker client pushes
-- the ops in order and deletes them once the locker has them.

-- One row: this catalog's device id, the last hybrid logical clock stamp it gave, and how far
-- it has pulled the locker's change feed.
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device TEXT NOT NULL,
    hlc_wall INTEGER NOT NULL,
    hlc_counter INTEGER NOT NULL,
    feed_cursor INTEGER NOT NULL
) STRICT;
INSERT INTO sync_state(id, device, hlc_wall, hlc_counter, feed_cursor)
    VALUES (1, lower(hex(randomblob(8))), 0, 0, 0);

CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,            -- push order
    op_id TEXT NOT NULL UNIQUE,         -- the op's id: a replay of it is a no-op on the locker
    hlc_wall INTEGER NOT NULL,
    hlc_counter INTEGER NOT NULL,
    change TEXT NOT NULL                -- the change as JSON, tagged by "type" as on the wire
) STRICT;
