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

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("../migrations/001_initial.sql")),
        M::up(include_str!("../migrations/002_imports.sql")),
        M::up(include_str!("../migrations/003_sync.sql")),
        M::up(include_str!("../migrations/004_bulk_load.sql")),
        M::up(include_str!("../migrations/005_feed.sql")),
        M::up(include_str!("../migrations/006_offline.sql")),
        M::up(include_str!("../migrations/007_uploads.sql")),
        M::up(include_str!("../migrations/008_reread_opus.sql")),
        M::up(include_str!("../migrations/009_reread_sound_check.sql")),
        M::up(include_str!("../migrations/010_reread_artist_credits.sql")),
        M::up(include_str!("../migrations/011_tracks_without_cover.sql")),
        M::up(include_str!("../migrations/012_album_artist_guessed.sql")),
    ])
});

/// Opens (creating if needed) the catalog database at `path` and brings its schema up to date.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(crate::error::io_error(parent))?;
    }
    let mut conn = Connection::open(path).ctx("opening the database")?;
    configure(&conn)?;
    migrate(&mut conn)?;
    // A process that died during a bulk load left its indexes dropped.
    crate::bulk_load::build_dropped_indexes(&conn)?;
    Ok(conn)
}

/// Brings the schema up to date. Two processes may open a new catalog at once (the app and the
/// CLI, say): the migration library reads the version before it takes the write lock, so the
/// second one can try to create tables the first just made. It then finds the version moved on,
/// and trying again is a no-op.
fn migrate(conn: &mut Connection) -> Result<()> {
    let mut attempts = 0;
    loop {
        match MIGRATIONS.to_latest(conn) {
            Ok(()) => return Ok(()),
            Err(e) if attempts < 3 => {
                attempts += 1;
                tracing::debug!(error = %e, "migration raced with another process; retrying");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Pragmas every connection uses: WAL so readers never wait for the scanner, foreign keys on, and
/// a busy timeout so two writers queue instead of failing.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(30))
        .ctx("setting the busy timeout")?;
    // A scan batch uses about twenty distinct statements; the default cache of 16 would make
    // them evict each other and be prepared again for every track.
    conn.set_prepared_statement_cache_capacity(128);
    // WAL is recorded in the file, so only a new catalog needs switching; switching takes an
    // exclusive lock that a concurrent opener may hold for a moment, hence the retries.
    let mut attempts = 0;
    loop {
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .ctx("reading the journal mode")?;
        if mode.eq_ignore_ascii_case("wal") {
            break;
        }
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => break,
            Err(_) if attempts < 100 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(source) => {
                return Err(crate::Error::Db {
                    context: "switching to write-ahead logging",
                    source,
                });
            }
        }
    }
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )
    .ctx("configuring the connection")?;
    set_cache(conn, BROWSING_CACHE_KIB)
}

/// A connection to `path` that only checkpoints the write-ahead log, for a thread of its own
/// while a scan writes (see [`with_scan_settings`]).
pub(crate) fn checkpointer(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).ctx("opening the database")?;
    conn.busy_timeout(Duration::from_secs(30))
        .ctx("setting the busy timeout")?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;")
        .ctx("configuring the connection")?;
    Ok(conn)
}

/// Copies what the write-ahead log holds into the database file, as far as it can without
/// waiting for anyone (a passive checkpoint).
pub(crate) fn checkpoint(conn: &Connection) -> Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        .ctx("checkpointing the write-ahead log")
}

/// SQLite's default: the writing connection checkpoints once the log holds this many pages.
const AUTOCHECKPOINT_PAGES: u32 = 1000;

/// SQLite's page cache for browsing and searching, per connection: the database file's pages
/// beyond it come from the system's page cache at a system call each, which a query touching
/// a few hundred pages does not notice. The desktop app's idle memory counts every page kept here
/// (32 MB held 16 MB more after a session of browsing 100,000 tracks).
const BROWSING_CACHE_KIB: i64 = 8_000;

/// SQLite's page cache while a scan writes: the batches' B-tree pages and the bulk load's index
/// builds stay in it.
pub(crate) const SCAN_CACHE_KIB: i64 = 32_000;

fn set_autocheckpoint(conn: &Connection, pages: u32) -> Result<()> {
    conn.query_row(&format!("PRAGMA wal_autocheckpoint = {pages}"), [], |_| {
        Ok(())
    })
    .ctx("setting the checkpoint interval")
}

/// Sets `conn`'s page cache to at most `kib` KiB.
fn set_cache(conn: &Connection, kib: i64) -> Result<()> {
    conn.execute_batch(&format!("PRAGMA cache_size = -{kib};"))
        .ctx("sizing the page cache")
}

/// Runs `work` (a scan) with the page cache at [`SCAN_CACHE_KIB`] and without checkpoints of the
/// write-ahead log on `conn` (the scan checkpoints on another thread, through [`checkpointer`],
/// so that its writing thread does not stop to copy pages and wait for the disk), then sets both
/// back and hands the pages it no longer needs back to the allocator.
pub(crate) fn with_scan_settings<T>(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    set_cache(conn, SCAN_CACHE_KIB)?;
    set_autocheckpoint(conn, 0)?;
    let result = work(conn);
    let restored = set_cache(conn, BROWSING_CACHE_KIB)
        .and_then(|()| set_autocheckpoint(conn, AUTOCHECKPOINT_PAGES))
        .and_then(|()| {
            conn.execute_batch("PRAGMA shrink_memory;")
                .ctx("freeing the page cache")
        });
    let value = result?;
    restored?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_get_a_larger_page_cache_and_no_checkpoints_and_give_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("catalog.db")).unwrap();
        let settings = |conn: &Connection| -> (i64, i64) {
            let cache = conn.query_row("PRAGMA cache_size", [], |r| r.get(0));
            let pages = conn.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0));
            (cache.unwrap(), pages.unwrap())
        };
        let browsing = (-BROWSING_CACHE_KIB, i64::from(AUTOCHECKPOINT_PAGES));
        assert_eq!(settings(&conn), browsing);
        let seen = with_scan_settings(&mut conn, |conn| Ok(settings(conn))).unwrap();
        assert_eq!(seen, (-SCAN_CACHE_KIB, 0));
        assert_eq!(settings(&conn), browsing);
        // A failed scan gives them back too.
        let failed = with_scan_settings(&mut conn, |_| -> Result<()> {
            Err(crate::Error::InvalidInput("a test's failure".into()))
        });
        assert!(failed.is_err());
        assert_eq!(settings(&conn), browsing);
    }

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn concurrent_first_opens_all_succeed() {
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("catalog.db");
            let openers: Vec<_> = (0..6)
                .map(|_| {
                    let db = db.clone();
                    std::thread::spawn(move || open(&db).map(drop))
                })
                .collect();
            for opener in openers {
                opener.join().unwrap().unwrap();
            }
        }
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
