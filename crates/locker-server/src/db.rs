//! The locker's metadata database: one SQLite file (WAL) in the data folder.

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::error::{DbContext, Error, Result};

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("../migrations/001_accounts.sql")),
        M::up(include_str!("../migrations/002_blobs_uploads.sql")),
        M::up(include_str!("../migrations/003_catalog.sql")),
        M::up(include_str!("../migrations/004_claims.sql")),
        M::up(include_str!("../migrations/005_covers.sql")),
        M::up(include_str!("../migrations/006_audio_id_index.sql")),
        M::up(include_str!("../migrations/007_subsonic.sql")),
        M::up(include_str!("../migrations/008_play_queue.sql")),
        M::up(include_str!("../migrations/009_bookmarks.sql")),
    ])
});

/// Opens (creating if needed) the database in the data folder `data` and migrates it.
pub fn open_database(data: &Path) -> Result<Connection> {
    std::fs::create_dir_all(data).map_err(|source| Error::Io {
        context: format!("creating the data folder {}", data.display()),
        source,
    })?;
    let mut conn = Connection::open(data.join("locker.db")).ctx("opening the database")?;
    conn.busy_timeout(Duration::from_secs(30))
        .ctx("setting the busy timeout")?;
    // WAL is recorded in the file; switching a new database takes an exclusive lock that a
    // concurrent opener may hold for a moment (the busy handler does not cover it), so retry.
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
                return Err(Error::Db {
                    context: "switching to write-ahead logging",
                    source,
                });
            }
        }
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .ctx("configuring the database")?;
    // The migration library reads the version before it takes the write lock, so a second
    // process opening a new database at the same moment (`user add` while the server starts) can
    // try to create tables the first just made; once the version has moved on, trying again is a
    // no-op.
    let mut attempts = 0;
    loop {
        match MIGRATIONS.to_latest(&mut conn) {
            Ok(()) => return Ok(conn),
            Err(_) if attempts < 3 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_first_opens_all_succeed() {
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let openers: Vec<_> = (0..6)
                .map(|_| {
                    let data = dir.path().to_owned();
                    std::thread::spawn(move || open_database(&data).map(drop))
                })
                .collect();
            for opener in openers {
                opener.join().unwrap().unwrap();
            }
        }
    }

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }
}
