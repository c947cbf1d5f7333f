//! Sign-in sessions: opaque random bearer tokens, stored only as their BLAKE3 hash, expiring and
//! revocable.

use rusqlite::{Connection, OptionalExtension, params};
use skylark_locker_api::Session;

use crate::UnixMillis;
use crate::accounts::UserId;
use crate::error::{DbContext, Error, Result};

/// How often a session's "last used" time is written: at most once a minute, so that reads do not
/// all turn into writes.
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// A request's verified identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The account.
    pub user: UserId,
    /// The session whose token was presented.
    pub session: String,
}

/// `bytes` random bytes from the system's source, in hex.
pub(crate) fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Io {
        context: "reading the system's random source".to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// Creates a session for `user` and returns its bearer token (256 random bits) and description.
pub fn create(
    conn: &Connection,
    user: UserId,
    device: &str,
    now: UnixMillis,
    ttl_ms: i64,
) -> Result<(String, Session)> {
    let token = random_hex(32)?;
    let id = random_hex(16)?;
    let device: String = device
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let expires_at = now.saturating_add(ttl_ms);
    conn.execute(
        "INSERT INTO sessions(id, user_id, token_hash, device, created_at, last_used_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
        params![id, user.0, token_hash(&token), device, now, expires_at],
    )
    .ctx("creating a session")?;
    let session = Session {
        id,
        device,
        created_at: now,
        last_used_at: now,
        expires_at,
        current: true,
    };
    Ok((token, session))
}

/// What a token names, as far as reading tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// A live session whose "last used" time is recent enough to stand.
    Live(Authenticated),
    /// No session.
    Unknown,
    /// A session that has expired (and is to be deleted) or whose "last used" time is due to be
    /// written: only [`authenticate`] can settle it.
    NeedsWrite,
}

/// What `token` names, found without writing: for a hot path that may not wait on the write lock
/// (see [`crate::stream::stream`]), which leaves [`Check::NeedsWrite`] to [`authenticate`].
pub fn check(conn: &Connection, token: &str, now: UnixMillis) -> Result<Check> {
    Ok(match look_up(conn, token)? {
        None => Check::Unknown,
        Some(row) if row.expires <= now || now - row.last_used >= TOUCH_INTERVAL_MS => {
            Check::NeedsWrite
        }
        Some(row) => Check::Live(row.who),
    })
}

/// A session as stored.
struct Row {
    who: Authenticated,
    last_used: UnixMillis,
    expires: UnixMillis,
}

fn look_up(conn: &Connection, token: &str) -> Result<Option<Row>> {
    conn.prepare_cached(
        "SELECT id, user_id, last_used_at, expires_at FROM sessions WHERE token_hash = ?1",
    )
    .and_then(|mut s| {
        s.query_row([token_hash(token)], |r| {
            Ok(Row {
                who: Authenticated {
                    session: r.get(0)?,
                    user: UserId(r.get(1)?),
                },
                last_used: r.get(2)?,
                expires: r.get(3)?,
            })
        })
        .optional()
    })
    .ctx("checking a token")
}

/// The identity behind `token`, if it names a live session; expired sessions are deleted.
pub fn authenticate(
    conn: &Connection,
    token: &str,
    now: UnixMillis,
) -> Result<Option<Authenticated>> {
    let Some(row) = look_up(conn, token)? else {
        return Ok(None);
    };
    if row.expires <= now {
        conn.execute("DELETE FROM sessions WHERE id = ?1", [&row.who.session])
            .ctx("expiring a session")?;
        return Ok(None);
    }
    if now - row.last_used >= TOUCH_INTERVAL_MS {
        conn.execute(
            "UPDATE sessions SET last_used_at = ?2 WHERE id = ?1",
            params![row.who.session, now],
        )
        .ctx("recording a session's use")?;
    }
    Ok(Some(row.who))
}

/// The live sessions of `user`, newest first; `current` marks the one asking.
pub fn list(
    conn: &Connection,
    user: UserId,
    current: &str,
    now: UnixMillis,
) -> Result<Vec<Session>> {
    let mut stmt = conn
        .prepare(
            "SELECT id, device, created_at, last_used_at, expires_at FROM sessions
             WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at DESC, id",
        )
        .ctx("listing sessions")?;
    let rows = stmt
        .query_map(params![user.0, now], |r| {
            let id: String = r.get(0)?;
            Ok(Session {
                current: id == current,
                id,
                device: r.get(1)?,
                created_at: r.get(2)?,
                last_used_at: r.get(3)?,
                expires_at: r.get(4)?,
            })
        })
        .ctx("listing sessions")?;
    rows.collect::<rusqlite::Result<_>>()
        .ctx("listing sessions")
}

/// Revokes session `id` of `user`; false when `user` has no such session (another account's
/// session is "not found" too).
pub fn revoke(conn: &Connection, user: UserId, id: &str) -> Result<bool> {
    let n = conn
        .execute(
            "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2",
            params![id, user.0],
        )
        .ctx("revoking a session")?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_expire_and_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::open_database(dir.path()).unwrap();
        let user = crate::accounts::add_user(&conn, "dave", "long enough", 0, 0).unwrap();
        let (token, session) = create(&conn, user, "laptop\n", 1_000, 10_000).unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(session.device, "laptop");
        let stored: String = conn
            .query_row("SELECT token_hash FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, token);
        let who = authenticate(&conn, &token, 2_000).unwrap().unwrap();
        assert_eq!(
            (who.user, who.session.as_str()),
            (user, session.id.as_str())
        );
        assert_eq!(authenticate(&conn, "not a token", 2_000).unwrap(), None);
        assert_eq!(
            authenticate(&conn, &token, 11_000).unwrap(),
            None,
            "expired"
        );
        let (token, session) = create(&conn, user, "phone", 20_000, 10_000).unwrap();
        assert!(!revoke(&conn, UserId(user.0 + 1), &session.id).unwrap());
        assert!(revoke(&conn, user, &session.id).unwrap());
        assert_eq!(
            authenticate(&conn, &token, 21_000).unwrap(),
            None,
            "revoked"
        );
    }

    #[test]
    fn checks_without_writing_leave_touches_and_expiry_to_authenticate() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::open_database(dir.path()).unwrap();
        let user = crate::accounts::add_user(&conn, "erin", "long enough", 0, 0).unwrap();
        let (token, session) = create(&conn, user, "laptop", 1_000, 600_000).unwrap();
        let live = Authenticated {
            user,
            session: session.id.clone(),
        };
        assert_eq!(
            check(&conn, &token, 2_000).unwrap(),
            Check::Live(live.clone())
        );
        assert_eq!(check(&conn, "not a token", 2_000).unwrap(), Check::Unknown);
        // A minute on, the use is due to be recorded; checking does not record it.
        let due = 1_000 + TOUCH_INTERVAL_MS;
        assert_eq!(check(&conn, &token, due).unwrap(), Check::NeedsWrite);
        assert_eq!(check(&conn, &token, due).unwrap(), Check::NeedsWrite);
        assert_eq!(
            authenticate(&conn, &token, due).unwrap(),
            Some(live.clone())
        );
        assert_eq!(check(&conn, &token, due + 1).unwrap(), Check::Live(live));
        // Expired: checking leaves the row, authenticating deletes it.
        assert_eq!(check(&conn, &token, 601_000).unwrap(), Check::NeedsWrite);
        assert_eq!(authenticate(&conn, &token, 601_000).unwrap(), None);
        assert_eq!(check(&conn, &token, 601_000).unwrap(), Check::Unknown);
    }
}
