//! The locker from the command line: signing in and out, scan and match (`upload`), `sync`,
//! offline copies (`download`), and the sources `play` gets for catalog tracks with no file here.
//!
//! Glue only, like the rest of the CLI: the catalog keeps the library and the sync state, the
//! locker client talks to the locker, and the sign-in lives in Skylark's data folder (the token
//! in the OS keychain when there is one).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde::Serialize;
use skylark_catalog::{Catalog, PinTarget, TrackId};
use skylark_locker_client::{
    Bandwidth, Client, CredentialStore, LibraryProgress, LibraryUpload, StreamedCopies,
};
use skylark_tags::FileHash;

/// `skylark locker ...`.
#[derive(Debug, Subcommand)]
pub enum LockerCommand {
    /// Sign in to a locker. The password is asked for at a prompt, or read from the first line
    /// of standard input when that is not a terminal.
    Login {
        /// The locker's address (`https://music.example.org`).
        url: String,
        /// The account name.
        user: String,
        /// What to call this device in the account's session list.
        #[arg(long, default_value = "skylark command line")]
        device: String,
    },
    /// Sign out: end this device's session on the locker and forget it here.
    Logout,
    /// The account this library is signed in to, and what waits to be synced.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Take tracks out of the locker, on every device (at their next sync). A track with a file
    /// on this computer stays, as a local track; the file is not touched.
    Remove {
        /// Track ids.
        #[arg(required = true)]
        tracks: Vec<i64>,
    },
}

/// The sign-in store for the library whose database is `db`: the database's folder.
fn store(db: &Path) -> CredentialStore {
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    CredentialStore::for_data_dir(dir)
}

/// A client for the library's saved sign-in.
pub fn client(db: &Path) -> Result<Client> {
    let credentials = store(db)
        .load()
        .context("reading the locker sign-in")?
        .context("not signed in to a locker: run `skylark locker login URL USER` first")?;
    Client::with_credentials(credentials).context("using the saved locker sign-in")
}

fn read_password() -> Result<String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ").context("reading the password");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

/// `skylark locker ...`.
pub fn locker(
    db: &Path,
    catalog: &mut Catalog,
    out: &mut impl Write,
    command: LockerCommand,
) -> Result<()> {
    match command {
        LockerCommand::Remove { tracks } => {
            let mut removed = 0;
            for track in tracks {
                if catalog.remove_from_locker(TrackId(track), SystemTime::now())? {
                    removed += 1;
                } else {
                    eprintln!("skylark: track {track} is not in the locker");
                }
            }
            writeln!(out, "{removed} tracks taken out of the locker")?;
            if removed > 0 {
                // Told to the locker now when it can be; else at the next sync.
                match client(db).and_then(|c| Ok(c.sync(catalog)?)) {
                    Ok(_) => writeln!(out, "the locker and your other devices are told")?,
                    Err(e) => writeln!(
                        out,
                        "not synced yet ({e:#}); `skylark sync` will tell the locker"
                    )?,
                }
            }
        }
        LockerCommand::Login { url, user, device } => {
            let password = read_password()?;
            let (client, answer) = Client::sign_in(&url, &user, &password, &device)
                .with_context(|| format!("signing in to {url} as {user}"))?;
            let location = store(db)
                .save(client.credentials())
                .context("saving the locker sign-in")?;
            writeln!(
                out,
                "signed in to {} as {} (token kept in the {})",
                client.credentials().server,
                answer.user.name,
                match location {
                    skylark_locker_client::TokenLocation::Keychain => "OS keychain",
                    _ => "sign-in file, readable by you only",
                }
            )?;
        }
        LockerCommand::Logout => {
            let store = store(db);
            let Some(credentials) = store.load().context("reading the locker sign-in")? else {
                writeln!(out, "not signed in")?;
                return Ok(());
            };
            let server = credentials.server.clone();
            // Ending the session on the locker is best done, but forgetting it here must
            // happen even when the locker cannot be reached.
            let revoked = Client::with_credentials(credentials).and_then(|c| c.sign_out());
            store.clear().context("forgetting the locker sign-in")?;
            match revoked {
                Ok(()) => writeln!(out, "signed out of {server}")?,
                Err(e) => writeln!(
                    out,
                    "forgot the sign-in here; the locker at {server} could not end the session ({e}): sign it out from another device"
                )?,
            }
        }
        LockerCommand::Status { json } => {
            #[derive(Serialize)]
            struct Status {
                server: Option<String>,
                user: Option<String>,
                pending_ops: u64,
                feed_cursor: i64,
            }
            let saved = store(db).load().context("reading the locker sign-in")?;
            let status = Status {
                server: saved.as_ref().map(|c| c.server.clone()),
                user: saved.as_ref().map(|c| c.username.clone()),
                pending_ops: catalog.pending_op_count()?,
                feed_cursor: catalog.feed_cursor()?,
            };
            if json {
                serde_json::to_writer(&mut *out, &status)?;
                writeln!(out)?;
            } else {
                match (&status.server, &status.user) {
                    (Some(server), Some(user)) => writeln!(out, "signed in to {server} as {user}")?,
                    _ => writeln!(out, "not signed in")?,
                }
                writeln!(
                    out,
                    "{} changes wait to be pushed; the change feed is read to {}",
                    status.pending_ops, status.feed_cursor
                )?;
            }
        }
    }
    Ok(())
}

/// `skylark sync`: push this library's changes, then pull everyone's.
pub fn sync(db: &Path, catalog: &mut Catalog, out: &mut impl Write, json: bool) -> Result<()> {
    let report = client(db)?
        .sync(catalog)
        .context("syncing with the locker")?;
    if json {
        serde_json::to_writer(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        let pulled = &report.pulled.applied;
        writeln!(
            out,
            "pushed {} changes; pulled {} ({} tracks added from the locker, {} joined to tracks here, {} plays, {} playlist changes, {} entry changes)",
            report.pushed.pushed,
            pulled.ops,
            pulled.tracks_added,
            pulled.tracks_joined,
            pulled.plays_added,
            pulled.playlists_changed,
            pulled.entries_changed
        )?;
    }
    Ok(())
}

/// How `skylark upload` runs.
#[derive(Debug)]
pub struct UploadArgs {
    /// Ask and count only.
    pub dry_run: bool,
    /// Print JSON.
    pub json: bool,
    /// Uploads at once.
    pub parallel: usize,
    /// A bandwidth limit for all of them together, in bytes a second.
    pub limit: Option<u64>,
    /// Only tracks whose file is under one of these folders (none: every folder).
    pub folders: Vec<PathBuf>,
    /// Only tracks on one of these playlists (none: every track).
    pub playlists: Vec<skylark_catalog::PlaylistId>,
    /// List the queue instead.
    pub show_queue: bool,
}

/// `skylark upload`: scan and match the tracks chosen (every track here the locker lacks, or
/// those under some folders or on some playlists), queue what the locker needs, upload the queue
/// (earlier runs' unfinished uploads too, from where they stopped), and sync.
pub fn upload(
    db: &Path,
    catalog: &mut Catalog,
    out: &mut impl Write,
    args: &UploadArgs,
) -> Result<()> {
    if args.show_queue {
        for queued in catalog.upload_queue()? {
            if args.json {
                serde_json::to_writer(&mut *out, &queued)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{}\t{}/{} bytes{}",
                    queued.track,
                    queued.sent,
                    queued.size,
                    queued.error.map(|e| format!("\t{e}")).unwrap_or_default()
                )?;
            }
        }
        return Ok(());
    }
    let client = client(db)?;
    let options = LibraryUpload {
        dry_run: args.dry_run,
        parallel: args.parallel,
        bandwidth: args.limit.map(Bandwidth::new),
        folders: args.folders.clone(),
        playlists: args.playlists.clone(),
        ..LibraryUpload::default()
    };
    let bar = if std::io::stderr().is_terminal() && !args.json {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let report = client
        .upload_library(catalog, &options, &mut |progress| match progress {
            LibraryProgress::Hashing { done, total } => {
                bar.set_message(format!("hashing {done}/{total}"));
            }
            LibraryProgress::Uploading {
                files_done,
                files_total,
                bytes_done,
                bytes_total,
                current,
                ..
            } => {
                bar.set_length(bytes_total);
                bar.set_position(bytes_done);
                bar.set_message(format!(
                    "{files_done}/{files_total} files{}",
                    current.map(|c| format!(", {c}")).unwrap_or_default()
                ));
            }
        })
        .context("uploading to the locker")?;
    bar.finish_and_clear();
    for (what, why) in &report.failures {
        eprintln!("skylark: {what}: {why}");
    }
    if args.json {
        serde_json::to_writer(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{}{} already in the locker, {} claimed, {} uploaded ({} bytes sent), {} failed",
            if args.dry_run { "dry run: " } else { "" },
            report.have,
            report.claimed,
            report.uploaded,
            report.bytes_sent,
            report.failed
        )?;
    }
    if report.failed > 0 && report.have + report.claimed + report.uploaded == 0 {
        bail!("no file could be matched");
    }
    Ok(())
}

/// How `skylark download` runs.
#[derive(Debug)]
pub struct DownloadOptions {
    /// Unpin the targets instead of pinning them.
    pub unpin: bool,
    /// The most the offline copies may take before unpinned ones are evicted.
    pub cache_cap_bytes: u64,
    /// Print JSON.
    pub json: bool,
}

/// What `skylark download` did.
#[derive(Debug, Default, Serialize)]
struct DownloadSummary {
    /// Targets pinned (or unpinned).
    pinned: u64,
    /// Copies downloaded.
    downloaded: u64,
    /// Bytes they hold.
    bytes: u64,
    /// Tracks that could not be downloaded (each reported on standard error).
    failed: u64,
    /// Unpinned copies evicted to keep within the cache cap.
    evicted: u64,
}

/// `skylark download`: pin (or unpin) `targets`, download every pinned track that has no file
/// here, then keep the offline folder within the cap.
pub fn download(
    db: &Path,
    catalog: &mut Catalog,
    out: &mut impl Write,
    targets: &[PinTarget],
    options: &DownloadOptions,
) -> Result<()> {
    let mut summary = DownloadSummary::default();
    for target in targets {
        if options.unpin {
            summary.pinned += u64::from(catalog.unpin(*target)?);
        } else {
            catalog.pin(*target, SystemTime::now())?;
            summary.pinned += 1;
        }
    }
    let wanted = catalog.downloads_wanted()?;
    let dir = catalog.offline_dir();
    if !wanted.is_empty() {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let client = client(db)?;
        for (track, blob) in wanted {
            match fetch(&client, &dir, &blob) {
                Ok((file, size)) => {
                    catalog.record_offline_copy(track, &file, size, &blob, SystemTime::now())?;
                    summary.downloaded += 1;
                    summary.bytes += size;
                }
                Err(e) => {
                    eprintln!("skylark: track {track}: {e:#}");
                    summary.failed += 1;
                }
            }
        }
    }
    summary.evicted = catalog
        .evict_offline(&dir, options.cache_cap_bytes)?
        .removed;
    if options.json {
        serde_json::to_writer(&mut *out, &summary)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} {}; downloaded {} ({} bytes), {} failed; evicted {} cached copies",
            if options.unpin { "unpinned" } else { "pinned" },
            summary.pinned,
            summary.downloaded,
            summary.bytes,
            summary.failed,
            summary.evicted
        )?;
    }
    if summary.failed > 0 {
        bail!("{} tracks could not be downloaded", summary.failed);
    }
    Ok(())
}

/// Downloads blob `blob` into `dir` (see [`Client::download_blob`]).
pub fn fetch(client: &Client, dir: &Path, blob: &str) -> Result<(String, u64)> {
    let hash: FileHash = blob
        .parse()
        .with_context(|| format!("a locker copy named {blob:?}"))?;
    client
        .download_blob(&hash, dir)
        .context("downloading the locker copy")
}

pub use skylark_locker_client::DEFAULT_CACHE_CAP_BYTES;

/// Keeps each stream of `streamed` that arrived whole as an offline copy of its track, drops the
/// others, and keeps the cache within the default cap.
pub fn keep_streamed(catalog: &mut Catalog, streamed: &mut StreamedCopies) -> Result<()> {
    streamed
        .settle(catalog, DEFAULT_CACHE_CAP_BYTES)
        .context("keeping what was streamed")?;
    Ok(())
}

/// A player source for a catalog track: its file here, else its offline copy, else its copy in
/// the locker, streamed.
pub fn track_source(
    db: &Path,
    catalog: &mut Catalog,
    track: TrackId,
    client: &mut Option<Client>,
    streamed: &mut StreamedCopies,
) -> Result<skylark_player::Source> {
    let info = catalog.track(track)?;
    if let Some(path) = info.path.as_ref().filter(|p| p.exists()) {
        return Ok(skylark_player::Source::path(path));
    }
    if let Some(copy) = catalog.offline_copy(track)? {
        let path = catalog.offline_dir().join(&copy.file);
        if path.exists() {
            catalog.touch_offline_copy(track, SystemTime::now())?;
            return Ok(skylark_player::Source::path(path));
        }
    }
    let Some(blob) = catalog.locker_blob(track)? else {
        bail!(
            "track {track} ({}) has no reachable file and is not in the locker",
            info.title
        );
    };
    if client.is_none() {
        *client = Some(self::client(db)?);
    }
    let Some(client) = client.as_ref() else {
        bail!("not signed in to a locker");
    };
    // What streams is written to the offline folder as it arrives, and kept there once whole
    // (see `keep_streamed`). By the blob, not the track's uid: a track joined to another
    // device's upload is known to the locker by that device's uid.
    let mut stream = streamed.open(client, catalog, track, &blob)?;
    stream
        .open_now()
        .with_context(|| format!("streaming {} from the locker", info.title))?;
    let extension = stream
        .watch()
        .extension()
        .or_else(|| skylark_tags::Codec::from_name(&info.codec).extension());
    Ok(skylark_player::Source::from_reader(
        format!("{} (locker)", info.title),
        stream,
        extension,
    ))
}
