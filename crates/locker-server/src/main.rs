//! The `skylark-locker` binary: `serve` runs the server; `user` manages accounts and their
//! Subsonic credentials.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use skylark_locker::config::Config;
use skylark_locker::http::{AppState, serve};
use skylark_locker::subsonic::credentials::{self, AppPasswordKey};
use skylark_locker::{accounts, now_millis, open_database};

/// Skylark's self-hosted music locker.
#[derive(Debug, Parser)]
#[command(name = "skylark-locker", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// The data folder: the database, uploads in progress, and the blob store (unless
        /// locker.toml or SKYLARK_LOCKER_S3_BUCKET names an S3 bucket for it).
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on (default 127.0.0.1:8750, or the config file's `listen`).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// A TOML config file (default: locker.toml in the data folder, if present).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The web player's built files (`ui/dist-web`), served at `/` (default: the config
        /// file's `web_dir`, or SKYLARK_LOCKER_WEB_DIR; without one, no web player).
        #[arg(long)]
        web_dir: Option<PathBuf>,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password is asked for (or read from standard input).
    Add {
        /// Account name.
        name: String,
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
        /// Storage quota in bytes (0 for none).
        #[arg(long, default_value_t = 0)]
        quota: u64,
    },
    /// Change an account's password (signs out its devices).
    Passwd {
        /// Account name.
        name: String,
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
    },
    /// Set an account's storage quota.
    Quota {
        /// Account name.
        name: String,
        /// Bytes (0 for none).
        bytes: u64,
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
    },
    /// List accounts.
    List {
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
    },
    /// Delete an account and everything it stores.
    Remove {
        /// Account name.
        name: String,
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
    },
    /// Make a new app password for Subsonic apps (replacing the old one) and print it.
    SubsonicPassword {
        /// Account name.
        name: String,
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
        /// Remove the app password instead: apps using it are signed out.
        #[arg(long)]
        remove: bool,
    },
    /// Manage an account's OpenSubsonic API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Make an API key and print it (it is shown only once).
    Add {
        /// Account name.
        name: String,
        /// A name for the key ("car", "phone").
        #[arg(long, default_value = "")]
        label: String,
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
    },
    /// List an account's API keys (ids and names, not the keys).
    List {
        /// Account name.
        name: String,
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
    },
    /// Revoke an API key by its id.
    Revoke {
        /// Account name.
        name: String,
        /// The key's id, as `list` shows it.
        id: String,
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SKYLARK_LOG")
                // symphonia logs every file it opens to decode (and harmless oddities of the
                // files) at info and warn, lofty such oddities of the tags it reads; the
                // locker's own lines say what matters of them.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("info,symphonia=error,lofty=error")
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("skylark-locker: {e:#}");
        std::process::exit(1);
    }
}

/// Reads a new password: twice from a prompt on a terminal, or one line of standard input.
fn read_password() -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let second = rpassword::prompt_password("Again: ").context("reading the password")?;
        if first != second {
            bail!("the passwords do not match");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            data,
            listen,
            config,
            web_dir,
        } => {
            let mut config = Config::load(&data, config.as_deref(), std::env::vars())?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            if let Some(dir) = web_dir {
                config.web_dir = Some(dir);
            }
            if let Some(dir) = &config.web_dir
                && !dir.join("index.html").is_file()
            {
                anyhow::bail!(
                    "{} holds no web player (no index.html); build it with `make web`",
                    dir.display()
                );
            }
            let conn = open_database(&data)?;
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(config.listen)
                    .await
                    .with_context(|| format!("listening on {}", config.listen))?;
                tracing::info!(address = %listener.local_addr()?, "skylark-locker listening");
                serve(
                    listener,
                    AppState::new(conn, config, &data)?,
                    shutdown_signal(),
                )
                .await?;
                tracing::info!("stopped");
                Ok(())
            })
        }
        Command::User(command) => user(command),
    }
}

fn user(command: UserCommand) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match command {
        UserCommand::Add { name, data, quota } => {
            let conn = open_database(&data)?;
            let password = read_password()?;
            accounts::add_user(&conn, &name, &password, quota, now_millis())?;
            writeln!(out, "added {name}")?;
        }
        UserCommand::Passwd { name, data } => {
            let conn = open_database(&data)?;
            let password = read_password()?;
            accounts::set_password(&conn, &name, &password)?;
            writeln!(
                out,
                "changed the password of {name} and signed out its devices"
            )?;
        }
        UserCommand::Quota { name, bytes, data } => {
            accounts::set_quota(&open_database(&data)?, &name, bytes)?;
        }
        UserCommand::List { data } => {
            for u in accounts::list_users(&open_database(&data)?)? {
                writeln!(
                    out,
                    "{}\t{} bytes used\tquota {}",
                    u.name, u.used_bytes, u.quota_bytes
                )?;
            }
        }
        UserCommand::Remove { name, data } => {
            accounts::remove_user(&open_database(&data)?, &name)?;
            writeln!(out, "removed {name}")?;
        }
        UserCommand::SubsonicPassword { name, data, remove } => {
            let conn = open_database(&data)?;
            let user = accounts::user_id(&conn, &name)?;
            if remove {
                if !credentials::remove_app_password(&conn, user)? {
                    bail!("{name} has no app password");
                }
                writeln!(out, "removed the app password of {name}")?;
            } else {
                let key = AppPasswordKey::load(&data)?;
                let password = credentials::new_app_password(&conn, &key, user, now_millis())?;
                writeln!(out, "{password}")?;
            }
        }
        UserCommand::ApiKey(command) => api_key(command, &mut out)?,
    }
    Ok(())
}

fn api_key(command: ApiKeyCommand, out: &mut impl Write) -> Result<()> {
    match command {
        ApiKeyCommand::Add { name, label, data } => {
            let conn = open_database(&data)?;
            let user = accounts::user_id(&conn, &name)?;
            let (key, _) = credentials::new_api_key(&conn, user, &label, now_millis())?;
            writeln!(out, "{key}")?;
        }
        ApiKeyCommand::List { name, data } => {
            let conn = open_database(&data)?;
            let user = accounts::user_id(&conn, &name)?;
            for key in credentials::api_keys(&conn, user)? {
                writeln!(
                    out,
                    "{}\t{}\tcreated {}\tlast used {}",
                    key.id,
                    key.label,
                    key.created_at,
                    key.last_used_at
                        .map_or_else(|| "never".to_owned(), |t| t.to_string())
                )?;
            }
        }
        ApiKeyCommand::Revoke { name, id, data } => {
            let conn = open_database(&data)?;
            let user = accounts::user_id(&conn, &name)?;
            if !credentials::revoke_api_key(&conn, user, &id)? {
                bail!("{name} has no API key {id}");
            }
            writeln!(out, "revoked {id}")?;
        }
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C, so the server can finish the requests in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}
