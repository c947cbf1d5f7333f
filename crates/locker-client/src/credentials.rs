//! Keeping a sign-in across restarts: the bearer token goes to the OS keychain (the `keyring`
//! crate: macOS Keychain, Windows Credential Manager, the Secret Service on Linux) and, where no
//! keychain answers (a headless machine, CI), to a file only its owner can read.
//!
//! What is kept is one file, `locker.json` in the data folder, created with mode 0600 and
//! replaced atomically (written beside, then renamed): the server, account and session id, plus
//! the token itself only when the keychain could not take it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::client::Credentials;
use crate::error::{Error, Result};

/// The keychain service name the token is filed under.
const KEYCHAIN_SERVICE: &str = "skylark-locker";
/// The file in the data folder.
const FILE_NAME: &str = "locker.json";

/// Where [`CredentialStore::save`] put the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    /// In the OS keychain.
    Keychain,
    /// In this file (mode 0600), because no keychain took it.
    File(PathBuf),
}

/// The saved sign-in of one device: `locker.json` in the data folder (mode 0600, replaced
/// atomically) with the server, account and session id, and the token in the OS keychain, or in
/// the file when no keychain takes it.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    dir: PathBuf,
    use_keychain: bool,
}

/// `locker.json`.
#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    username: String,
    session_id: String,
    /// Present when the token is not in the keychain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

fn keychain_entry(c: &Credentials) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(KEYCHAIN_SERVICE, &format!("{}@{}", c.username, c.server))
}

impl CredentialStore {
    /// The store a Skylark program uses in its data folder `data_dir`: the OS keychain for the
    /// token, unless the environment says `SKYLARK_KEYCHAIN=off` (a headless machine, a test),
    /// which keeps it in the sign-in file.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        if std::env::var_os("SKYLARK_KEYCHAIN").is_some_and(|v| v == "off") {
            Self::file_only(data_dir)
        } else {
            Self::new(data_dir)
        }
    }

    /// The store in the data folder `data_dir`, preferring the OS keychain for the token.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.to_owned(),
            use_keychain: true,
        }
    }

    /// The store in `data_dir` that never asks the keychain: the token goes to the file.
    pub fn file_only(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.to_owned(),
            use_keychain: false,
        }
    }

    /// The file the store writes.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Saves `credentials`, replacing what was saved.
    ///
    /// # Errors
    ///
    /// [`Error::Credentials`] if the file cannot be written.
    pub fn save(&self, credentials: &Credentials) -> Result<TokenLocation> {
        let in_keychain = self.use_keychain
            && match keychain_entry(credentials).and_then(|e| e.set_password(&credentials.token)) {
                Ok(()) => true,
                Err(e) => {
                    tracing::info!(error = %e, "no keychain; keeping the locker token in a private file");
                    false
                }
            };
        let saved = Saved {
            server: credentials.server.clone(),
            username: credentials.username.clone(),
            session_id: credentials.session_id.clone(),
            token: (!in_keychain).then(|| credentials.token.clone()),
        };
        let text = serde_json::to_vec_pretty(&saved).map_err(|e| Error::Credentials {
            action: "save",
            message: e.to_string(),
        })?;
        write_private(&self.path(), &text).map_err(|e| Error::Credentials {
            action: "save",
            message: format!("{}: {e}", self.path().display()),
        })?;
        Ok(if in_keychain {
            TokenLocation::Keychain
        } else {
            TokenLocation::File(self.path())
        })
    }

    /// The saved sign-in, or `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`Error::Credentials`] if the file is unreadable or damaged, or its token is in a
    /// keychain that no longer has it (sign in again).
    pub fn load(&self) -> Result<Option<Credentials>> {
        let path = self.path();
        let bad = |message: String| Error::Credentials {
            action: "read",
            message: format!("{}: {message}", path.display()),
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(bad(e.to_string())),
        };
        let saved: Saved = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        let mut credentials = Credentials {
            server: saved.server,
            username: saved.username,
            session_id: saved.session_id,
            token: String::new(),
        };
        credentials.token = match saved.token {
            Some(token) => token,
            None => keychain_entry(&credentials)
                .and_then(|e| e.get_password())
                .map_err(|e| {
                    bad(format!(
                        "the token is not in the keychain ({e}); sign in again"
                    ))
                })?,
        };
        Ok(Some(credentials))
    }

    /// Forgets the saved sign-in (file and keychain entry). Nothing saved is not an error.
    ///
    /// # Errors
    ///
    /// [`Error::Credentials`] if the file cannot be removed.
    pub fn clear(&self) -> Result<()> {
        let path = self.path();
        if let Ok(bytes) = std::fs::read(&path)
            && let Ok(saved) = serde_json::from_slice::<Saved>(&bytes)
            && saved.token.is_none()
        {
            let credentials = Credentials {
                server: saved.server,
                username: saved.username,
                session_id: saved.session_id,
                token: String::new(),
            };
            if let Err(e) = keychain_entry(&credentials).and_then(|e| e.delete_credential()) {
                tracing::warn!(error = %e, "cannot remove the locker token from the keychain");
            }
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::Credentials {
                action: "remove",
                message: format!("{}: {e}", path.display()),
            }),
        }
    }
}

/// Writes `bytes` to `path` readable by its owner only, atomically: a crash leaves the old file
/// or the new one, never half of one.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temp = path.with_extension("json.partial");
    let _ = std::fs::remove_file(&temp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path)
}
