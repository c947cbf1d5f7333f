//! Bulk loading: how a scan writes a large import into a catalog that holds few tracks so far (a
//! first scan, above all).
//!
//! Written row by row, every new track is a B-tree insert into each of the eleven secondary
//! indexes of `tracks`, `files` and the link tables. A bulk load drops those indexes when the
//! import begins, writes the rows batch by batch as any scan does, and creates the indexes again
//! when the import ends, which sorts each index's keys once and writes its pages in order. The
//! full-text index is still written with each row: FTS5 gains nothing from being filled later (a
//! measured variant that held the rows back and wrote them at the end cost as much).
//!
//! Batches still commit one by one, so a scan killed half-way keeps what it wrote and another
//! writer (the app recording a play) waits for one batch at most. Meanwhile queries are as
//! correct as ever, only slower where they would have used a dropped index.
//!
//! **Architecture Invariant:** the indexes a bulk load drops are recorded in `dropped_indexes`
//! in the transaction that drops them, and created again from there, in one transaction, by
//! [`build_dropped_indexes`]: when the import ends, and whenever the catalog is opened, so a
//! process killed during an import leaves a catalog that gets its indexes back on the next
//! open.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::{DbContext, Result};

/// The fewest new files a scan must bring for a bulk load: below this, dropping and creating the
/// indexes again is not worth the schema change.
pub(crate) const MIN_FILES: usize = 256;

/// The tables whose secondary indexes a bulk load builds at the end instead of row by row: the
/// ones a scan fills. Their `UNIQUE` constraints stay, so duplicates are refused as ever.
const TABLES: [&str; 4] = ["tracks", "files", "track_artists", "track_genres"];

/// Whether a scan about to write `new_files` files that the catalog does not know, into a
/// catalog of `tracks` tracks, should bulk load them. Building an index costs about as much as
/// inserting into it the rows it will hold, so a bulk load pays off once the new rows are at
/// least as many as the old.
pub(crate) fn worthwhile(new_files: usize, tracks: u64) -> bool {
    new_files >= MIN_FILES && new_files as u64 >= tracks
}

/// Starts a bulk load: drops the secondary indexes of [`TABLES`], recording each in
/// `dropped_indexes`, and commits. `conn` must not be in a transaction.
pub(crate) fn drop_indexes(conn: &Connection) -> Result<()> {
    const CONTEXT: &str = "starting a bulk load";
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).ctx(CONTEXT)?;
    // The statements come from the schema itself, so an index a later migration adds is handled
    // without a change here. Indexes SQLite makes for UNIQUE constraints have no statement and
    // are never dropped.
    let indexes: Vec<(String, String)> = {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT name, sql FROM sqlite_schema
                 WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({})
                 ORDER BY name",
                TABLES.map(|t| format!("'{t}'")).join(", ")
            ))
            .ctx(CONTEXT)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx(CONTEXT)?;
        rows.collect::<rusqlite::Result<_>>().ctx(CONTEXT)?
    };
    for (name, sql) in &indexes {
        tx.execute(
            "INSERT OR REPLACE INTO dropped_indexes(name, sql) VALUES (?1, ?2)",
            [name, sql],
        )
        .ctx(CONTEXT)?;
        tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
            .ctx(CONTEXT)?;
    }
    tx.commit().ctx(CONTEXT)?;
    tracing::debug!(indexes = indexes.len(), "bulk load started");
    Ok(())
}

/// Creates the indexes recorded in `dropped_indexes` again, in one transaction. Cheap when there
/// are none, as after every finished import; `conn` must not be in a transaction.
pub(crate) fn build_dropped_indexes(conn: &Connection) -> Result<()> {
    const CONTEXT: &str = "building the indexes of a bulk load";
    let pending: Option<i64> = conn
        .query_row("SELECT 1 FROM dropped_indexes LIMIT 1", [], |r| r.get(0))
        .optional()
        .ctx(CONTEXT)?;
    if pending.is_none() {
        return Ok(());
    }
    // Another process may have built them since the look above: read them again under the
    // write lock.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).ctx(CONTEXT)?;
    let indexes: Vec<(String, String)> = {
        let mut stmt = tx
            .prepare(
                "SELECT d.name, d.sql FROM dropped_indexes d
                 WHERE NOT EXISTS (SELECT 1 FROM sqlite_schema s
                                   WHERE s.type = 'index' AND s.name = d.name)
                 ORDER BY d.name",
            )
            .ctx(CONTEXT)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx(CONTEXT)?;
        rows.collect::<rusqlite::Result<_>>().ctx(CONTEXT)?
    };
    for (_, sql) in &indexes {
        tx.execute_batch(sql).ctx(CONTEXT)?;
    }
    tx.execute("DELETE FROM dropped_indexes", []).ctx(CONTEXT)?;
    tx.commit().ctx(CONTEXT)?;
    tracing::debug!(indexes = indexes.len(), "bulk load indexes built");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog's indexes (name and statement), what `dropped_indexes` holds, and its tracks.
    type State = (Vec<(String, String)>, i64, i64);

    fn state(conn: &Connection) -> State {
        let mut stmt = conn
            .prepare(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL
                 ORDER BY name",
            )
            .unwrap();
        let indexes = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get(0)).unwrap();
        (
            indexes,
            count("SELECT count(*) FROM dropped_indexes"),
            count("SELECT count(*) FROM tracks"),
        )
    }

    fn add_track(conn: &Connection) {
        let info = skylark_tags::FileInfo {
            tags: skylark_tags::Tags {
                title: Some("Jóga".to_owned()),
                ..skylark_tags::Tags::default()
            },
            properties: skylark_tags::AudioProperties {
                duration: std::time::Duration::from_secs(305),
                sample_rate: Some(44_100),
                channels: Some(2),
                bit_depth: None,
                bitrate_kbps: Some(320),
                codec: skylark_tags::Codec::Mp3,
            },
            cover: None,
        };
        let record = crate::store::TrackRecord::new(std::path::Path::new("Jóga.mp3"), info, None);
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Deferred).unwrap();
        crate::store::Store::default()
            .insert_track(&tx, &record, std::time::SystemTime::UNIX_EPOCH)
            .unwrap();
        tx.commit().unwrap();
    }

    #[test]
    fn worthwhile_for_large_imports_into_small_catalogs() {
        assert!(!worthwhile(MIN_FILES - 1, 0));
        assert!(worthwhile(MIN_FILES, 0));
        assert!(worthwhile(10_000, 10_000));
        assert!(!worthwhile(10_000, 10_001));
    }

    #[test]
    fn a_bulk_load_builds_every_index_it_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("catalog.db")).unwrap();
        let (indexes, _, _) = state(&conn);
        drop_indexes(&conn).unwrap();
        let (during, recorded, _) = state(&conn);
        assert_eq!(recorded, 12);
        assert_eq!(indexes.len() - during.len(), 12);
        assert!(!during.iter().any(|(name, _)| name == "tracks_by_title"));
        add_track(&conn);
        build_dropped_indexes(&conn).unwrap();
        assert_eq!(state(&conn), (indexes, 0, 1));
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    #[test]
    fn a_catalog_left_mid_load_gets_its_indexes_back_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("catalog.db");
        let conn = crate::schema::open(&db).unwrap();
        let (indexes, _, _) = state(&conn);
        drop_indexes(&conn).unwrap();
        add_track(&conn);
        // The process dies here: nothing builds the indexes but the next open.
        drop(conn);
        let conn = crate::schema::open(&db).unwrap();
        assert_eq!(state(&conn), (indexes, 0, 1));
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    #[test]
    fn indexes_built_by_another_opener_are_not_built_twice() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("catalog.db");
        let loader = crate::schema::open(&db).unwrap();
        let (indexes, _, _) = state(&loader);
        drop_indexes(&loader).unwrap();
        add_track(&loader);
        // Another process opens the catalog while the import runs, and builds the indexes; the
        // import goes on with them, then finishes.
        let other = crate::schema::open(&db).unwrap();
        assert_eq!(state(&other), (indexes.clone(), 0, 1));
        add_track(&loader);
        build_dropped_indexes(&loader).unwrap();
        assert_eq!(state(&loader), (indexes, 0, 2));
    }
}
