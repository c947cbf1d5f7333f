-- Catalog schema, version 4: the indexes a bulk load (a large first scan) dropped and has not
-- created again yet. Written in the transaction that drops them; emptied in the one that creates
-- them again, at the end of the import or, after a process died during one, when the catalog is
-- next opened. See crates/catalog/src/bulk_load.rs.
CREATE TABLE dropped_indexes (
    name TEXT PRIMARY KEY,
    sql TEXT NOT NULL               -- the CREATE INDEX statement, as sqlite_schema held it
) STRICT;
