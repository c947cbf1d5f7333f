//! The server's settings: defaults, then `locker.toml` in the data folder (or `--config FILE`),
//! then `SKYLARK_LOCKER_*` environment variables, then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Settings of a running locker.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Days a sign-in stays valid.
    pub session_days: u32,
    /// Failed logins allowed per account and per address within `login_window_secs`.
    pub login_attempts: u32,
    /// The window failed logins are counted in, in seconds.
    pub login_window_secs: u64,
    /// The largest file an upload may declare, in bytes.
    pub max_upload_bytes: u64,
    /// Hours after which an upload nobody continued is deleted.
    pub upload_expiry_hours: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8750)),
            session_days: 90,
            login_attempts: 10,
            login_window_secs: 15 * 60,
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            upload_expiry_hours: 24,
        }
    }
}

impl Config {
    /// Loads the settings for the data folder `data`: `file` if given, else `data/locker.toml` if
    /// it exists, then the environment (`vars`, normally `std::env::vars()`).
    pub fn load(
        data: &Path,
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        let default_file = data.join("locker.toml");
        let path: Option<PathBuf> = match file {
            Some(f) => Some(f.to_owned()),
            None => default_file.exists().then_some(default_file),
        };
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                    context: format!("reading {}", path.display()),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| Error::Io {
                    context: format!("reading {}", path.display()),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
                })?
            }
            None => Config::default(),
        };
        for (key, value) in vars {
            let bad = |what: &str| Error::Io {
                context: format!("environment variable {key}"),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{value:?} is not {what}"),
                ),
            };
            match key.as_str() {
                "SKYLARK_LOCKER_LISTEN" => {
                    config.listen = value
                        .parse()
                        .map_err(|_| bad("an address like 0.0.0.0:8750"))?;
                }
                "SKYLARK_LOCKER_SESSION_DAYS" => {
                    config.session_days = value.parse().map_err(|_| bad("a number of days"))?;
                }
                "SKYLARK_LOCKER_LOGIN_ATTEMPTS" => {
                    config.login_attempts = value.parse().map_err(|_| bad("a number"))?;
                }
                "SKYLARK_LOCKER_MAX_UPLOAD_BYTES" => {
                    config.max_upload_bytes =
                        value.parse().map_err(|_| bad("a number of bytes"))?;
                }
                "SKYLARK_LOCKER_UPLOAD_EXPIRY_HOURS" => {
                    config.upload_expiry_hours =
                        value.parse().map_err(|_| bad("a number of hours"))?;
                }
                "SKYLARK_LOCKER_LOGIN_WINDOW_SECS" => {
                    config.login_window_secs =
                        value.parse().map_err(|_| bad("a number of seconds"))?;
                }
                _ => {}
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let none: Vec<(String, String)> = Vec::new();
        assert_eq!(
            Config::load(dir.path(), None, none.clone()).unwrap(),
            Config::default()
        );
        std::fs::write(
            dir.path().join("locker.toml"),
            "listen = \"0.0.0.0:9000\"\nsession_days = 7\n",
        )
        .unwrap();
        let config = Config::load(dir.path(), None, none).unwrap();
        assert_eq!((config.listen.port(), config.session_days), (9000, 7));
        let env = vec![(
            "SKYLARK_LOCKER_LISTEN".to_owned(),
            "127.0.0.1:9100".to_owned(),
        )];
        assert_eq!(
            Config::load(dir.path(), None, env).unwrap().listen.port(),
            9100
        );
        let bad = vec![("SKYLARK_LOCKER_SESSION_DAYS".to_owned(), "soon".to_owned())];
        assert!(Config::load(dir.path(), None, bad).is_err());
        std::fs::write(dir.path().join("locker.toml"), "unknown = 1\n").unwrap();
        let none: Vec<(String, String)> = Vec::new();
        assert!(
            Config::load(dir.path(), None, none).is_err(),
            "typos are errors, not ignored"
        );
    }
}
