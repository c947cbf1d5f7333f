-- Catalog schema, version 11: an index of the tracks that have no cover. Each scan looks for a
-- folder image that has appeared beside them since (see `adopt_folder_covers` in scan.rs); with
-- the index that costs nothing when every track has a cover.
CREATE INDEX IF NOT EXISTS tracks_without_cover ON tracks(id) WHERE cover_hash IS NULL;
