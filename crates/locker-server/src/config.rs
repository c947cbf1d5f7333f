//! The server's settings: defaults, then `locker.toml` in the data folder (or `--config FILE`),
//! then `SKYLARK_LOCKER_*` environment variables, then command-line flags.
//!
//! Blobs live in the data folder's `store` folder unless an `[s3]` table (or
//! `SKYLARK_LOCKER_S3_BUCKET`) names an S3-compatible bucket:
//!
//! ```toml
//! [s3]
//! bucket = "skylark"
//! endpoint = "https://s3.example.net"   # omit for AWS itself
//! region = "eu-west-1"
//! access_key_id = "..."                 # omit both to use the AWS_* variables or an instance role
//! secret_access_key = "..."
//! allow_http = false                    # true only for an endpoint on loopback or a trusted network
//! ```

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
    /// The S3-compatible bucket blobs and covers are kept in; `None` keeps them in the data
    /// folder's `store` folder.
    pub s3: Option<S3Config>,
    /// The web player's built files (`ui/dist-web`), served at `/`; `None` serves no web player.
    pub web_dir: Option<PathBuf>,
}

/// Where an S3-compatible blob store is and how to sign in to it.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The bucket's name.
    pub bucket: String,
    /// The service's URL (`https://host:port`); `None` for AWS S3 itself.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The region; `None` for `AWS_DEFAULT_REGION`, else `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// The access key id; `None` (with no secret) for the `AWS_*` variables or an instance role.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// The secret access key.
    #[serde(default)]
    pub secret_access_key: Option<String>,
    /// Whether a plain `http://` endpoint is allowed (a store on loopback, or a trusted network).
    #[serde(default)]
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of logs and error messages.
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "(hidden)"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
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
            s3: None,
            web_dir: None,
        }
    }
}

impl Config {
    /// How long a sign-in stays valid, in milliseconds.
    pub fn session_ttl_ms(&self) -> i64 {
        i64::from(self.session_days) * 24 * 3600 * 1000
    }

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
                "SKYLARK_LOCKER_WEB_DIR" => config.web_dir = Some(PathBuf::from(value)),
                "SKYLARK_LOCKER_LOGIN_WINDOW_SECS" => {
                    config.login_window_secs =
                        value.parse().map_err(|_| bad("a number of seconds"))?;
                }
                s3_key if s3_key.starts_with("SKYLARK_LOCKER_S3_") => {
                    let s3 = config.s3.get_or_insert_with(S3Config::default);
                    match &s3_key["SKYLARK_LOCKER_S3_".len()..] {
                        "BUCKET" => s3.bucket = value,
                        "ENDPOINT" => s3.endpoint = Some(value),
                        "REGION" => s3.region = Some(value),
                        "ACCESS_KEY_ID" => s3.access_key_id = Some(value),
                        "SECRET_ACCESS_KEY" => s3.secret_access_key = Some(value),
                        "ALLOW_HTTP" => {
                            s3.allow_http = match value.to_ascii_lowercase().as_str() {
                                "true" | "1" | "yes" => true,
                                "false" | "0" | "no" => false,
                                _ => return Err(bad("true or false")),
                            }
                        }
                        _ => {
                            return Err(Error::Io {
                                context: format!("environment variable {key}"),
                                source: std::io::Error::new(
                                    std::io::ErrorKind::InvalidInput,
                                    "unknown; the S3 settings are SKYLARK_LOCKER_S3_BUCKET, \
                                     _ENDPOINT, _REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY \
                                     and _ALLOW_HTTP",
                                ),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(s3) = &config.s3 {
            s3.check()?;
        }
        Ok(config)
    }
}

impl S3Config {
    /// Checks the settings hang together: a bucket, and both halves of a key or neither.
    fn check(&self) -> Result<()> {
        let invalid = |message: &str| Error::Io {
            context: "the S3 settings".to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message.to_owned()),
        };
        if self.bucket.trim().is_empty() {
            return Err(invalid(
                "a bucket is required (bucket in [s3], or SKYLARK_LOCKER_S3_BUCKET)",
            ));
        }
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            return Err(invalid(
                "give both access_key_id and secret_access_key, or neither",
            ));
        }
        Ok(())
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

    #[test]
    fn s3_from_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        std::fs::write(
            dir.path().join("locker.toml"),
            "[s3]\nbucket = \"music\"\nendpoint = \"http://127.0.0.1:9000\"\n\
             access_key_id = \"id\"\nsecret_access_key = \"secret\"\nallow_http = true\n",
        )
        .unwrap();
        let config = Config::load(dir.path(), None, env(&[])).unwrap();
        let s3 = config.s3.clone().unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.endpoint.as_deref(), s3.allow_http),
            ("music", Some("http://127.0.0.1:9000"), true)
        );
        assert!(
            !format!("{config:?}").contains("secret\""),
            "the secret is not printed"
        );
        // The environment overrides one field and keeps the rest.
        let config = Config::load(
            dir.path(),
            None,
            env(&[("SKYLARK_LOCKER_S3_BUCKET", "other")]),
        )
        .unwrap();
        let s3 = config.s3.unwrap();
        assert_eq!((s3.bucket.as_str(), s3.region), ("other", None));
        assert_eq!(s3.access_key_id.as_deref(), Some("id"));

        // The environment alone.
        std::fs::remove_file(dir.path().join("locker.toml")).unwrap();
        let config = Config::load(
            dir.path(),
            None,
            env(&[
                ("SKYLARK_LOCKER_S3_REGION", "eu-west-1"),
                ("SKYLARK_LOCKER_S3_BUCKET", "b"),
                ("SKYLARK_LOCKER_S3_ALLOW_HTTP", "1"),
            ]),
        )
        .unwrap();
        let s3 = config.s3.unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.region.as_deref(), s3.allow_http),
            ("b", Some("eu-west-1"), true)
        );
        let refused = |pairs: &[(&str, &str)]| Config::load(dir.path(), None, env(pairs)).is_err();
        assert!(refused(&[("SKYLARK_LOCKER_S3_REGION", "x")]), "no bucket");
        assert!(refused(&[
            ("SKYLARK_LOCKER_S3_BUCKET", "b"),
            ("SKYLARK_LOCKER_S3_ACCESS_KEY_ID", "id")
        ]));
        assert!(refused(&[
            ("SKYLARK_LOCKER_S3_BUCKET", "b"),
            ("SKYLARK_LOCKER_S3_ALLOW_HTTP", "perhaps")
        ]));
        assert!(refused(&[("SKYLARK_LOCKER_S3_BUKET", "b")]), "typos");
    }
}
