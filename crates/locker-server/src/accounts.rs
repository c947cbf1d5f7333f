//! Accounts: names, argon2id password hashes and storage quotas.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{Connection, OptionalExtension, params};
use skylark_locker_api::{ErrorCode, User};

use crate::UnixMillis;
use crate::error::{DbContext, Error, Result};

/// An account's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longer inputs are refused before hashing, so a huge password cannot tie up the server.
const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks an account name: 1 to 64 characters, no whitespace, no control characters, no slash.
pub fn valid_name(name: &str) -> Result<&str> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/');
    if ok {
        Ok(name)
    } else {
        Err(Error::api(
            ErrorCode::BadRequest,
            "an account name is 1 to 64 characters without spaces, slashes or control characters",
        ))
    }
}

fn valid_password(password: &str) -> Result<&str> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::api(
            ErrorCode::BadRequest,
            format!("a password has at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::api(
            ErrorCode::BadRequest,
            "the password is too long",
        ));
    }
    Ok(password)
}

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane, as OWASP
/// recommends) and a random salt, in PHC string format.
fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Io {
        context: "reading the system's random source".to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| Error::api(ErrorCode::Internal, format!("cannot encode a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::api(ErrorCode::Internal, format!("cannot hash a password: {e}")))
}

/// A PHC hash of a password nobody has, checked when a name is unknown so that a failed login
/// takes as long whether or not the account exists.
static DECOY_HASH: std::sync::LazyLock<Option<String>> =
    std::sync::LazyLock::new(|| hash_password("decoy password that matches nothing").ok());

fn verify_hash(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates an account.
pub fn add_user(
    conn: &Connection,
    name: &str,
    password: &str,
    quota_bytes: u64,
    now: UnixMillis,
) -> Result<UserId> {
    let name = valid_name(name)?;
    let hash = hash_password(valid_password(password)?)?;
    let inserted = conn
        .execute(
            "INSERT INTO users(name, password_hash, quota_bytes, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO NOTHING",
            params![name, hash, quota_bytes, now],
        )
        .ctx("adding an account")?;
    if inserted == 0 {
        return Err(Error::api(
            ErrorCode::Conflict,
            format!("an account named {name} already exists"),
        ));
    }
    Ok(UserId(conn.last_insert_rowid()))
}

/// Changes an account's password and signs out all of its sessions and Subsonic apps (its app
/// password and API keys are revoked).
pub fn set_password(conn: &Connection, name: &str, password: &str) -> Result<()> {
    let hash = hash_password(valid_password(password)?)?;
    let id = user_id(conn, name)?;
    let tx = conn.unchecked_transaction().ctx("changing a password")?;
    tx.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![id.0, hash],
    )
    .ctx("changing a password")?;
    tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id.0])
        .ctx("signing out an account")?;
    crate::subsonic::credentials::revoke_all(&tx, id)?;
    tx.commit().ctx("changing a password")?;
    Ok(())
}

/// Sets an account's quota in bytes (0 for none).
pub fn set_quota(conn: &Connection, name: &str, quota_bytes: u64) -> Result<()> {
    let id = user_id(conn, name)?;
    conn.execute(
        "UPDATE users SET quota_bytes = ?2 WHERE id = ?1",
        params![id.0, quota_bytes],
    )
    .ctx("setting a quota")?;
    Ok(())
}

/// Deletes an account and everything that belongs to it.
pub fn remove_user(conn: &Connection, name: &str) -> Result<()> {
    let id = user_id(conn, name)?;
    conn.execute("DELETE FROM users WHERE id = ?1", [id.0])
        .ctx("removing an account")?;
    Ok(())
}

/// Every account, by name.
pub fn list_users(conn: &Connection) -> Result<Vec<User>> {
    let mut stmt = conn
        .prepare("SELECT name, quota_bytes, used_bytes FROM users ORDER BY name")
        .ctx("listing accounts")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(User {
                name: r.get(0)?,
                quota_bytes: r.get(1)?,
                used_bytes: r.get(2)?,
            })
        })
        .ctx("listing accounts")?;
    rows.collect::<rusqlite::Result<_>>()
        .ctx("listing accounts")
}

/// One account.
pub fn user(conn: &Connection, id: UserId) -> Result<User> {
    conn.query_row(
        "SELECT name, quota_bytes, used_bytes FROM users WHERE id = ?1",
        [id.0],
        |r| {
            Ok(User {
                name: r.get(0)?,
                quota_bytes: r.get(1)?,
                used_bytes: r.get(2)?,
            })
        },
    )
    .optional()
    .ctx("loading an account")?
    .ok_or_else(|| Error::api(ErrorCode::NotFound, "no such account"))
}

/// The id of the account named `name`.
pub fn user_id(conn: &Connection, name: &str) -> Result<UserId> {
    conn.query_row("SELECT id FROM users WHERE name = ?1", [name], |r| {
        r.get(0).map(UserId)
    })
    .optional()
    .ctx("looking up an account")?
    .ok_or_else(|| Error::api(ErrorCode::NotFound, format!("no account named {name}")))
}

/// The account `name` if `password` is its password. Unknown names cost the same time as wrong
/// passwords, so the answer does not reveal which accounts exist.
pub fn verify(conn: &Connection, name: &str, password: &str) -> Result<Option<UserId>> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(None);
    }
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, password_hash FROM users WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .ctx("looking up an account")?;
    match row {
        Some((id, hash)) => Ok(verify_hash(password, &hash).then_some(UserId(id))),
        None => {
            if let Some(decoy) = DECOY_HASH.as_deref() {
                verify_hash(password, decoy);
            }
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::open_database(dir.path()).unwrap();
        (dir, conn)
    }

    #[test]
    fn passwords_are_argon2id_and_verify() {
        let (_dir, conn) = db();
        let id = add_user(&conn, "alice", "correct horse", 0, 1).unwrap();
        let stored: String = conn
            .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
            .unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        assert_eq!(verify(&conn, "alice", "correct horse").unwrap(), Some(id));
        assert_eq!(
            verify(&conn, "ALICE", "correct horse").unwrap(),
            Some(id),
            "names ignore case"
        );
        assert_eq!(verify(&conn, "alice", "wrong horse!").unwrap(), None);
        assert_eq!(verify(&conn, "nobody", "correct horse").unwrap(), None);
    }

    #[test]
    fn names_and_passwords_are_checked() {
        let (_dir, conn) = db();
        for bad in ["", "has space", "a/b", "tab\t", &"x".repeat(65)] {
            assert!(
                add_user(&conn, bad, "long enough", 0, 1).is_err(),
                "{bad:?}"
            );
        }
        assert!(add_user(&conn, "bob", "short", 0, 1).is_err());
        add_user(&conn, "bob", "long enough", 0, 1).unwrap();
        let err = add_user(&conn, "Bob", "long enough", 0, 1).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict);
    }

    #[test]
    fn password_change_and_removal() {
        let (_dir, conn) = db();
        add_user(&conn, "carol", "first password", 1000, 1).unwrap();
        set_password(&conn, "carol", "second password").unwrap();
        assert!(verify(&conn, "carol", "first password").unwrap().is_none());
        assert!(verify(&conn, "carol", "second password").unwrap().is_some());
        set_quota(&conn, "carol", 5000).unwrap();
        assert_eq!(list_users(&conn).unwrap()[0].quota_bytes, 5000);
        remove_user(&conn, "carol").unwrap();
        assert!(list_users(&conn).unwrap().is_empty());
        assert_eq!(
            remove_user(&conn, "carol").unwrap_err().code(),
            ErrorCode::NotFound
        );
    }
}
