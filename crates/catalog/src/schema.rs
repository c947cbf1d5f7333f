//! The database schema, its migrations, and how connections are opened.
//!
//! Columns that the library sorts on are `NOT NULL` with 0 or '' standing for "unknown", so that
//! keyset paging can compare row values without NULL's three-valued logic; the API maps 0 back to
//! `None`.

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::error::{DbContext, Result};

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(vec![M::up(include_str!("../migrations/001_initial.sql"))]));

/// Opens (creating if needed) the catalog database at `path` and brings its schema up to date.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(crate::error::io_error(parent))?;
    }
    let mut conn = Connection::open(path).ctx("opening the database")?;
    configure(&conn)?;
    MIGRATIONS.to_latest(&mut conn)?;
    Ok(conn)
}

/// Pragmas every connection uses: WAL so readers never wait for the scanner, foreign keys on, and
/// a busy timeout so two writers queue instead of failing.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(30))
        .ctx("setting the busy timeout")?;
    // A scan batch uses about twenty distinct statements; the default cache of 16 would make
    // them evict each other and be prepared again for every track.
    conn.set_prepared_statement_cache_capacity(128);
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32000;",
    )
    .ctx("configuring the connection")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn reopening_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub/catalog.db");
        let conn = open(&db).unwrap();
        conn.execute(
            "INSERT INTO genres(name, match_key) VALUES ('Jazz', 'jazz')",
            [],
        )
        .unwrap();
        drop(conn);
        let conn = open(&db).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM genres", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
