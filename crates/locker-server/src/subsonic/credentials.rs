//! What Subsonic apps sign in with: an app password per account, and OpenSubsonic API keys.
//!
//! Subsonic's token form (`t` = md5(password + `s`)) needs the server to know the password, while
//! accounts keep only argon2id hashes; and checking argon2 on every request (Subsonic apps send
//! their credentials with each one) would cost tens of milliseconds apiece. So apps get a password
//! of their own, made by the server: 24 random-looking characters derived with a keyed BLAKE3
//! from the server's secret (`subsonic.key` in the data folder, mode 0600) and a per-account nonce
//! in the database. Neither half alone yields a password, a new nonce replaces it, and it is shown
//! to the user once. API keys are random, stored as their BLAKE3 hash like session tokens, and
//! last until revoked, as the extension asks.
//!
//! **Architecture Invariant:** the account password is never accepted here, and no credential
//! is stored in a form that signs anyone in from a copy of the database alone.

use std::path::Path;

use md5::{Digest, Md5};
use rusqlite::{Connection, OptionalExtension, params};
use skylark_locker_api::ErrorCode;
use skylark_locker_api::subsonic::ApiKey;

use crate::UnixMillis;
use crate::accounts::UserId;
use crate::error::{DbContext, Error, Result};

/// How often a key's "last used" time is written: at most once a minute.
const TOUCH_INTERVAL_MS: i64 = 60_000;
/// API keys an account may hold at once.
pub const MAX_API_KEYS: usize = 100;
/// The characters of an app password: lowercase letters and digits without the look-alikes
/// (0/o, 1/l/i), so it can be typed from a screen into a phone.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters in an app password: 24 of 31 symbols is 118 bits.
const PASSWORD_CHARS: usize = 24;

/// The server's secret for app passwords.
#[derive(Clone)]
pub struct AppPasswordKey {
    key: [u8; 32],
}

impl std::fmt::Debug for AppPasswordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppPasswordKey(..)")
    }
}

impl AppPasswordKey {
    /// Loads the key from `data/subsonic.key`, creating it (mode 0600) on first use.
    pub fn load(data: &Path) -> Result<Self> {
        Ok(Self {
            key: crate::signed::load_key(&data.join("subsonic.key"))?,
        })
    }

    /// The app password of `user` for `nonce`: groups of four characters joined by dashes.
    fn derive(&self, user: UserId, nonce: &str) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(format!("skylark subsonic app password\n{}\n{nonce}", user.0).as_bytes());
        let mut reader = hasher.finalize_xof();
        let mut out = String::with_capacity(PASSWORD_CHARS + PASSWORD_CHARS / 4);
        let mut taken = 0;
        // Rejection sampling keeps every character equally likely: bytes past the largest
        // multiple of the alphabet's size are skipped.
        let limit = 256 - 256 % ALPHABET.len();
        let mut byte = [0u8; 1];
        while taken < PASSWORD_CHARS {
            reader.fill(&mut byte);
            let b = usize::from(byte[0]);
            if b >= limit {
                continue;
            }
            if taken > 0 && taken % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(ALPHABET[b % ALPHABET.len()]));
            taken += 1;
        }
        out
    }
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Io {
        context: "reading the system's random source".to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn key_hash(key: &str) -> String {
    blake3::hash(key.as_bytes()).to_hex().to_string()
}

/// Whether `a` and `b` are equal, in a time that depends only on their lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Makes a new app password for `user`, replacing any other, and returns it.
pub fn new_app_password(
    conn: &Connection,
    key: &AppPasswordKey,
    user: UserId,
    now: UnixMillis,
) -> Result<String> {
    let nonce = random_hex(16)?;
    conn.execute(
        "INSERT INTO subsonic_passwords(user_id, nonce, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(user_id) DO UPDATE SET nonce = excluded.nonce, created_at = excluded.created_at",
        params![user.0, nonce, now],
    )
    .ctx("making an app password")?;
    Ok(key.derive(user, &nonce))
}

/// Removes the app password of `user`; false when there was none.
pub fn remove_app_password(conn: &Connection, user: UserId) -> Result<bool> {
    let n = conn
        .execute(
            "DELETE FROM subsonic_passwords WHERE user_id = ?1",
            [user.0],
        )
        .ctx("removing an app password")?;
    Ok(n > 0)
}

/// Makes an API key for `user` named `label`; returns the key (shown once) and its list entry.
pub fn new_api_key(
    conn: &Connection,
    user: UserId,
    label: &str,
    now: UnixMillis,
) -> Result<(String, ApiKey)> {
    let label: String = label
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let count: usize = conn
        .query_row(
            "SELECT COUNT(*) FROM subsonic_api_keys WHERE user_id = ?1",
            [user.0],
            |r| r.get(0),
        )
        .ctx("counting API keys")?;
    if count >= MAX_API_KEYS {
        return Err(Error::api(
            ErrorCode::Conflict,
            format!("an account holds at most {MAX_API_KEYS} API keys; revoke one first"),
        ));
    }
    let key = random_hex(32)?;
    let id = random_hex(8)?;
    conn.execute(
        "INSERT INTO subsonic_api_keys(id, user_id, key_hash, label, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, user.0, key_hash(&key), label, now],
    )
    .ctx("making an API key")?;
    Ok((
        key,
        ApiKey {
            id,
            label,
            created_at: now,
            last_used_at: None,
        },
    ))
}

/// The API keys of `user`, oldest first.
pub fn api_keys(conn: &Connection, user: UserId) -> Result<Vec<ApiKey>> {
    let mut stmt = conn
        .prepare(
            "SELECT id, label, created_at, last_used_at FROM subsonic_api_keys
             WHERE user_id = ?1 ORDER BY created_at, id",
        )
        .ctx("listing API keys")?;
    let rows = stmt
        .query_map([user.0], |r| {
            Ok(ApiKey {
                id: r.get(0)?,
                label: r.get(1)?,
                created_at: r.get(2)?,
                last_used_at: r.get(3)?,
            })
        })
        .ctx("listing API keys")?;
    rows.collect::<rusqlite::Result<_>>()
        .ctx("listing API keys")
}

/// Revokes API key `id` of `user`; false when `user` has no such key.
pub fn revoke_api_key(conn: &Connection, user: UserId, id: &str) -> Result<bool> {
    let n = conn
        .execute(
            "DELETE FROM subsonic_api_keys WHERE id = ?1 AND user_id = ?2",
            params![id, user.0],
        )
        .ctx("revoking an API key")?;
    Ok(n > 0)
}

/// Removes every Subsonic credential of `user` (when the account's password changes, like its
/// sessions).
pub(crate) fn revoke_all(conn: &Connection, user: UserId) -> Result<()> {
    remove_app_password(conn, user)?;
    conn.execute("DELETE FROM subsonic_api_keys WHERE user_id = ?1", [user.0])
        .ctx("revoking API keys")?;
    Ok(())
}

/// The credentials of one Subsonic request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `apiKey`.
    ApiKey(String),
    /// `u`, `t` and `s`: the token is md5(app password + salt), in hex.
    Token {
        /// Account name.
        user: String,
        /// The token.
        token: String,
        /// The salt.
        salt: String,
    },
    /// `u` and `p`: the app password in clear, or hex-encoded after `enc:`.
    Password {
        /// Account name.
        user: String,
        /// The password as sent.
        password: String,
    },
}

/// Why credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such account, no app password, or the wrong one.
    WrongPassword,
    /// No such API key.
    UnknownApiKey,
    /// `p=enc:` followed by something that is not hex-encoded UTF-8.
    Malformed,
}

/// The account signed in as, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account.
    pub user: UserId,
    /// Its name as stored.
    pub name: String,
}

/// Decodes `enc:`-prefixed hex passwords; others are returned as they are.
fn decode_password(password: &str) -> Option<String> {
    let Some(hex) = password.strip_prefix("enc:") else {
        return Some(password.to_owned());
    };
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Checks `credentials`: the account they sign in, or why not.
pub fn verify(
    conn: &Connection,
    key: &AppPasswordKey,
    credentials: &Credentials,
    now: UnixMillis,
) -> Result<std::result::Result<Account, Refusal>> {
    let (name, token_or_password) = match credentials {
        Credentials::ApiKey(api_key) => {
            let hash = key_hash(api_key);
            let row: Option<(String, i64, String, Option<i64>)> = conn
                .query_row(
                    "SELECT k.id, k.user_id, u.name, k.last_used_at FROM subsonic_api_keys k
                     JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?1",
                    [&hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .ctx("checking an API key")?;
            let Some((id, user, name, last_used)) = row else {
                return Ok(Err(Refusal::UnknownApiKey));
            };
            if last_used.is_none_or(|t| now - t >= TOUCH_INTERVAL_MS) {
                conn.execute(
                    "UPDATE subsonic_api_keys SET last_used_at = ?2 WHERE id = ?1",
                    params![id, now],
                )
                .ctx("recording an API key's use")?;
            }
            return Ok(Ok(Account {
                user: UserId(user),
                name,
            }));
        }
        Credentials::Token { user, token, salt } => (user, Ok((token, salt))),
        Credentials::Password { user, password } => match decode_password(password) {
            Some(p) => (user, Err(p)),
            None => return Ok(Err(Refusal::Malformed)),
        },
    };
    let row: Option<(i64, String, String)> = conn
        .query_row(
            "SELECT u.id, u.name, p.nonce FROM users u JOIN subsonic_passwords p ON p.user_id = u.id
             WHERE u.name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .ctx("looking up an account")?;
    // An unknown account is checked against a password nobody has, so that the answer takes as
    // long either way.
    let (user, stored_name, nonce) = row.unwrap_or((0, String::new(), String::new()));
    let expected = key.derive(UserId(user), &nonce);
    let matches = match token_or_password {
        Ok((token, salt)) => {
            let digest = Md5::digest(format!("{expected}{salt}").as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            same(hex.as_bytes(), token.to_ascii_lowercase().as_bytes())
        }
        Err(password) => same(expected.as_bytes(), password.as_bytes()),
    };
    Ok(if matches && user != 0 {
        Ok(Account {
            user: UserId(user),
            name: stored_name,
        })
    } else {
        Err(Refusal::WrongPassword)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Connection, AppPasswordKey, UserId) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::open_database(dir.path()).unwrap();
        let user = crate::accounts::add_user(&conn, "mia", "a long password", 0, 1).unwrap();
        let key = AppPasswordKey::load(dir.path()).unwrap();
        (dir, conn, key, user)
    }

    fn token(password: &str, salt: &str) -> Credentials {
        let digest = Md5::digest(format!("{password}{salt}").as_bytes());
        Credentials::Token {
            user: "mia".to_owned(),
            token: digest.iter().map(|b| format!("{b:02x}")).collect(),
            salt: salt.to_owned(),
        }
    }

    #[test]
    fn app_passwords_verify_as_token_plain_and_hex_and_are_replaced() {
        let (dir, conn, key, user) = setup();
        assert_eq!(
            verify(&conn, &key, &token("anything", "abc123"), 5).unwrap(),
            Err(Refusal::WrongPassword),
            "no app password yet"
        );
        let password = new_app_password(&conn, &key, user, 10).unwrap();
        assert_eq!(password.len(), 29, "{password}");
        assert!(
            password
                .split('-')
                .all(|g| g.len() == 4 && g.bytes().all(|b| ALPHABET.contains(&b)))
        );
        let ok = Ok(Account {
            user,
            name: "mia".to_owned(),
        });
        assert_eq!(
            verify(&conn, &key, &token(&password, "s4lt!"), 11).unwrap(),
            ok
        );
        let plain = |p: &str, u: &str| Credentials::Password {
            user: u.to_owned(),
            password: p.to_owned(),
        };
        assert_eq!(
            verify(&conn, &key, &plain(&password, "MIA"), 11).unwrap(),
            ok
        );
        let hex: String = password.bytes().map(|b| format!("{b:02X}")).collect();
        assert_eq!(
            verify(&conn, &key, &plain(&format!("enc:{hex}"), "mia"), 11).unwrap(),
            ok
        );
        assert_eq!(
            verify(&conn, &key, &plain("enc:zz", "mia"), 11).unwrap(),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            verify(&conn, &key, &plain("a long password", "mia"), 11).unwrap(),
            Err(Refusal::WrongPassword),
            "the account password is not an app password"
        );
        assert_eq!(
            verify(&conn, &key, &plain(&password, "nobody"), 11).unwrap(),
            Err(Refusal::WrongPassword)
        );
        // Nothing in the database is the password or its hash.
        let nonce: String = conn
            .query_row("SELECT nonce FROM subsonic_passwords", [], |r| r.get(0))
            .unwrap();
        assert!(!nonce.contains(&password));
        // The key persists: a restarted server derives the same password.
        let again = AppPasswordKey::load(dir.path()).unwrap();
        assert_eq!(
            verify(&conn, &again, &token(&password, "x"), 12).unwrap(),
            ok
        );
        // A new password replaces the old one.
        let second = new_app_password(&conn, &key, user, 20).unwrap();
        assert_ne!(second, password);
        assert_eq!(
            verify(&conn, &key, &token(&password, "x"), 21).unwrap(),
            Err(Refusal::WrongPassword)
        );
        assert!(remove_app_password(&conn, user).unwrap());
        assert_eq!(
            verify(&conn, &key, &token(&second, "x"), 22).unwrap(),
            Err(Refusal::WrongPassword)
        );
    }

    #[test]
    fn api_keys_are_stored_hashed_listed_and_revoked() {
        let (_dir, conn, key, user) = setup();
        let (secret, info) = new_api_key(&conn, user, " car\n", 100).unwrap();
        assert_eq!(info.label, "car");
        let stored: String = conn
            .query_row("SELECT key_hash FROM subsonic_api_keys", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, secret);
        let creds = Credentials::ApiKey(secret.clone());
        assert_eq!(
            verify(&conn, &key, &creds, 200).unwrap().unwrap().user,
            user
        );
        assert_eq!(api_keys(&conn, user).unwrap()[0].last_used_at, Some(200));
        assert!(!revoke_api_key(&conn, UserId(user.0 + 1), &info.id).unwrap());
        assert!(revoke_api_key(&conn, user, &info.id).unwrap());
        assert_eq!(
            verify(&conn, &key, &creds, 300).unwrap(),
            Err(Refusal::UnknownApiKey)
        );
        assert!(api_keys(&conn, user).unwrap().is_empty());
    }
}
