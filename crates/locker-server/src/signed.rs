//! Short-lived signed stream URLs, for players that cannot send an `Authorization` header (an
//! `<audio>` element, a Subsonic app): `POST /api/v1/tracks/{id}/stream-url` returns a URL whose
//! query carries the account, an expiry and a BLAKE3 keyed hash of both and the track, made with a
//! secret only the server knows. The secret is 32 random bytes in the data folder, readable only
//! by the server's user.

use std::path::Path;

use axum::Json;
use axum::extract::{Path as UrlPath, State};
use serde::Deserialize;
use skylark_locker_api::ErrorCode;

use crate::accounts::UserId;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::sessions::Authenticated;
use crate::{UnixMillis, now_millis};

/// How long a signed URL works.
pub const SIGNED_URL_TTL_MS: i64 = 6 * 3600 * 1000;

/// The server's signing key.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(..)")
    }
}

impl UrlSigner {
    /// Loads the key from `data/url-signing.key`, creating it (mode 0600) on first use.
    pub fn load(data: &Path) -> Result<Self> {
        Ok(Self {
            key: load_key(&data.join("url-signing.key"))?,
        })
    }

    fn mac(&self, user: UserId, track: &str, expires: UnixMillis) -> String {
        let message = format!("stream\n{}\n{track}\n{expires}", user.0);
        blake3::keyed_hash(&self.key, message.as_bytes())
            .to_hex()
            .to_string()
    }

    /// The query string that lets anyone holding it stream `track` of `user` until `expires`.
    pub fn sign(&self, user: UserId, track: &str, expires: UnixMillis) -> String {
        format!(
            "u={}&exp={expires}&sig={}",
            user.0,
            self.mac(user, track, expires)
        )
    }

    /// The account a signed query is good for, if the signature is right and has not expired.
    pub fn verify(&self, query: &SignedQuery, track: &str, now: UnixMillis) -> Option<UserId> {
        let user = UserId(query.u);
        let expected = self.mac(user, track, query.exp);
        (same_text(&expected, &query.sig) && query.exp > now).then_some(user)
    }

    /// The anti-forgery token of the browser session whose cookie holds `session_token`: the
    /// page sends it back in a header with every change it asks for, which a page of another
    /// site cannot do (it can neither read the cookie nor compute this without it).
    pub fn csrf_token(&self, session_token: &str) -> String {
        let message = format!("csrf\n{session_token}");
        blake3::keyed_hash(&self.key, message.as_bytes()).to_hex()[..32].to_owned()
    }

    /// Whether `presented` is the anti-forgery token of `session_token`.
    pub fn check_csrf(&self, session_token: &str, presented: &str) -> bool {
        same_text(&self.csrf_token(session_token), presented)
    }
}

/// Compares a secret with what was presented in a time that does not depend on how much of a
/// forgery is right.
fn same_text(expected: &str, presented: &str) -> bool {
    expected.len() == presented.len()
        && expected
            .bytes()
            .zip(presented.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Loads a 32-byte secret from `path`, creating it with random bytes (mode 0600) when there is
/// none. Two processes starting at once (the server and a `user` command) end up with the same
/// key: the file is created exclusively, and the loser reads the winner's.
pub(crate) fn load_key(path: &Path) -> Result<[u8; 32]> {
    let io = |context: &str| {
        let context = format!("{context} {}", path.display());
        move |source| Error::Io { context, source }
    };
    let read = || {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
    };
    if let Some(key) = read() {
        return Ok(key);
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| Error::Io {
        context: "reading the system's random source".to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if path.exists() {
        // A damaged key (not 32 bytes) is replaced; what it signed no longer verifies.
        options.truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, &key).map_err(io("writing"))?;
            file.sync_all().map_err(io("writing"))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another process is writing it: its 32 bytes appear in a moment.
            for _ in 0..100 {
                if let Some(key) = read() {
                    return Ok(key);
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(io("reading")(e))
        }
        Err(e) => Err(io("creating")(e)),
    }
}

/// The query of a signed stream URL.
#[derive(Debug, Clone, Deserialize)]
pub struct SignedQuery {
    /// The account.
    pub u: i64,
    /// Expiry, milliseconds since the Unix epoch.
    pub exp: i64,
    /// The signature.
    pub sig: String,
}

pub use skylark_locker_api::SignedUrl;

/// `POST /api/v1/tracks/{id}/stream-url`.
pub async fn stream_url(
    State(state): State<AppState>,
    who: Authenticated,
    UrlPath(track): UrlPath<String>,
) -> Result<Json<SignedUrl>> {
    if track.is_empty() || track.len() > 100 {
        return Err(Error::api(ErrorCode::NotFound, "no such track"));
    }
    let expires_at = now_millis() + SIGNED_URL_TTL_MS;
    let query = state.signer().sign(who.user, &track, expires_at);
    let encoded: String = track
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok(Json(SignedUrl {
        url: format!("/api/v1/tracks/{encoded}/stream?{query}"),
        expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_account_track_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let signer = UrlSigner::load(dir.path()).unwrap();
        let again = UrlSigner::load(dir.path()).unwrap();
        assert_eq!(signer.key, again.key, "the key persists");
        let q = |u, exp, sig: String| SignedQuery { u, exp, sig };
        let sig = signer.mac(UserId(1), "t1", 1000);
        assert_eq!(
            signer.verify(&q(1, 1000, sig.clone()), "t1", 999),
            Some(UserId(1))
        );
        assert_eq!(
            signer.verify(&q(1, 1000, sig.clone()), "t1", 1000),
            None,
            "expired"
        );
        assert_eq!(
            signer.verify(&q(2, 1000, sig.clone()), "t1", 999),
            None,
            "another account"
        );
        assert_eq!(
            signer.verify(&q(1, 2000, sig.clone()), "t1", 999),
            None,
            "a longer expiry"
        );
        assert_eq!(
            signer.verify(&q(1, 1000, sig), "t2", 999),
            None,
            "another track"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("url-signing.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
