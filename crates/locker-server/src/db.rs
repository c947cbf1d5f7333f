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
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .ctx("configuring the database")?;
    MIGRATIONS.to_latest(&mut conn)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }
}
