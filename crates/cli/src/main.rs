//! `skylark`: the headless command line over Skylark's library.
//!
//! Glue only: each subcommand parses its arguments, calls one catalog function and prints the
//! result, as text for people or as JSON for scripts (`--json`). The command names, flags and JSON
//! shapes are a public interface: keep them stable.

mod locker;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use skylark_catalog::export::ExportOptions;
use skylark_catalog::import::{ImportKind, ImportReport, PlaylistAction, RootMapping, SkipReason};
use skylark_catalog::m3u::PathStyle;
use skylark_catalog::playlists::Playlist;
use skylark_catalog::{
    AlbumId, Catalog, ImportId, PinTarget, PlaylistItemId, Rating, ScanOptions, ScanProgress,
    ScanReport, Track, TrackId, TrackQuery, TrackSort,
};

/// Skylark's music library, from the command line.
#[derive(Debug, Parser)]
#[command(name = "skylark", version, about)]
struct Cli {
    /// The catalog database (default: catalog.db in Skylark's data folder, or in $SKYLARK_DATA_DIR).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Play files or catalog tracks one after another, gaplessly, on the default audio device;
    /// with --out, render them to a WAV file instead. A track only in the locker streams.
    Play {
        /// Audio files or catalog track ids (as `skylark tracks` lists them), in play order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Render the whole list to this WAV file instead of playing it.
        #[arg(long, value_name = "OUT.wav")]
        out: Option<PathBuf>,
        /// Output sample rate in Hz (default: the first file's rate).
        #[arg(long, value_name = "N")]
        rate: Option<u32>,
        /// Sample format of the WAV file.
        #[arg(long, value_enum, default_value_t = WavFormatArg::F32)]
        format: WavFormatArg,
    },
    #[command(flatten)]
    Library(LibraryCommand),
}

/// The subcommands that work on the library database.
#[derive(Debug, Subcommand)]
enum LibraryCommand {
    /// Import folders into the library, or rescan them (all roots when none are given).
    Scan {
        /// Folders to import or rescan.
        dirs: Vec<PathBuf>,
        /// Print one JSON report at the end.
        #[arg(long)]
        json: bool,
    },
    /// Import folders, then follow changes to them until interrupted.
    Watch {
        /// Folders to watch (all roots when none are given).
        dirs: Vec<PathBuf>,
        /// Print each rescan's report as a JSON line.
        #[arg(long)]
        json: bool,
    },
    /// List tracks.
    Tracks {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Sort order.
        #[arg(long, value_enum, default_value_t = SortArg::Artist)]
        sort: SortArg,
        /// Reverse the order.
        #[arg(long)]
        desc: bool,
        /// At most this many tracks.
        #[arg(long)]
        limit: Option<u64>,
        /// Only tracks that play with no network: a file here, or an offline copy.
        #[arg(long)]
        offline: bool,
    },
    /// Search artists, albums and tracks.
    Search {
        /// What to look for; each word matches as a prefix, ignoring case and accents.
        query: String,
        /// Print the grouped results as one JSON object.
        #[arg(long)]
        json: bool,
        /// At most this many results per group.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// List albums.
    Albums {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// List album artists (or every artist with --all).
    Artists {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Include artists who only appear as track artists.
        #[arg(long)]
        all: bool,
    },
    /// List genres.
    Genres {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// List the library's folders.
    Roots {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Recently added tracks.
    Recent {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Most played tracks.
    Top {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Record a play of a track.
    Played {
        /// Track id.
        track: i64,
    },
    /// Rate a track from 0 (no rating) to 5 stars.
    Rate {
        /// Track id.
        track: i64,
        /// Stars, 0 to 5.
        stars: u8,
    },
    /// Mark a track as loved (or, with --off, not).
    Love {
        /// Track id.
        track: i64,
        /// Take the mark off.
        #[arg(long)]
        off: bool,
    },
    /// Create, edit, list, import and export playlists.
    #[command(subcommand)]
    Playlist(PlaylistCommand),
    /// Bring in ratings, play counts and playlists from iTunes/Music, M3U files or a Skylark
    /// export; list and undo imports.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Take everything out: every playlist as NAME.m3u8 and every track's statistics (path,
    /// audio id, rating, play count, last played, date added, loved) as lines of stats.jsonl in
    /// DIR, optionally with the music files copied into DIR/music.
    ///
    /// Tracks that are only in the locker have no local file: they are counted, listed in
    /// stats.jsonl without a path and left out of the playlist files. Downloading them into DIR
    /// needs the locker client, which a later release brings.
    Export {
        /// The folder to write (created if missing).
        dir: PathBuf,
        /// Name files relative to DIR (the default with --copy).
        #[arg(long, conflicts_with = "absolute")]
        relative: bool,
        /// Name files by absolute path (the default without --copy).
        #[arg(long)]
        absolute: bool,
        /// Copy every track's file into DIR/music and name the copies; files already there
        /// from an earlier export are not copied again. Your music files are only read.
        #[arg(long)]
        copy: bool,
        /// With --copy, also download the tracks only in the locker into DIR/music/Locker (an
        /// offline copy, when there is one, is copied instead), so nothing is left behind.
        #[arg(long, requires = "copy")]
        with_locker: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Library totals.
    Stats {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign in to a locker, sign out, or show the sign-in and what waits to sync.
    #[command(subcommand)]
    Locker(locker::LockerCommand),
    /// Scan and match: hash every track here the locker lacks, upload only what it does not
    /// already hold (from any device, or another account with proof of possession), and sync.
    Upload {
        /// Ask the locker and count, but send and record nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the counts as one JSON object (with --queue, one object per line).
        #[arg(long)]
        json: bool,
        /// Files uploaded at once.
        #[arg(long, value_name = "N", default_value_t = 2)]
        parallel: usize,
        /// The most all uploads together may send, in kilobytes a second.
        #[arg(long, value_name = "KB/S")]
        limit_kbps: Option<u64>,
        /// Only the tracks whose file is under this folder (repeat for more).
        #[arg(long = "folder", value_name = "DIR")]
        folders: Vec<PathBuf>,
        /// Only the tracks on this playlist (repeat for more).
        #[arg(long = "playlist", value_name = "NAME")]
        playlists: Vec<String>,
        /// List the upload queue (what an interrupted run left, and how far each got) instead.
        #[arg(long)]
        queue: bool,
    },
    /// Keep tracks, albums or playlists on this device, to play with no network: pins them and
    /// downloads every pinned track that has no file here; then keeps the unpinned copies (what
    /// was cached) within the cache cap, least recently played first.
    Download {
        /// Track ids.
        tracks: Vec<i64>,
        /// Album ids (every track of the album, now and later).
        #[arg(long = "album", value_name = "ID")]
        albums: Vec<i64>,
        /// Playlist names (every track on the playlist, now and later).
        #[arg(long = "playlist", value_name = "NAME")]
        playlists: Vec<String>,
        /// Unpin these instead: their copies stay as cache, until evicted.
        #[arg(long)]
        unpin: bool,
        /// The most the unpinned offline copies may take, in MB.
        #[arg(long, value_name = "MB", default_value_t = locker::DEFAULT_CACHE_CAP_BYTES / 1_000_000)]
        cache_cap_mb: u64,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Push this library's changes to the locker and apply everyone's from its change feed.
    Sync {
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PlaylistCommand {
    /// Create an empty playlist.
    Create {
        /// Its name.
        name: String,
    },
    /// List playlists, or the entries of one.
    Ls {
        /// The playlist to list (all playlists when omitted).
        name: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Add tracks (by id) to a playlist.
    Add {
        /// The playlist.
        name: String,
        /// Track ids, in order.
        #[arg(required = true)]
        tracks: Vec<i64>,
        /// Insert at this position (0-based) instead of appending.
        #[arg(long)]
        at: Option<usize>,
    },
    /// Remove entries (by entry id, as `ls` shows them) from a playlist.
    Rm {
        /// The playlist.
        name: String,
        /// Entry ids.
        #[arg(required = true)]
        items: Vec<i64>,
    },
    /// Move an entry to a position (0-based).
    Mv {
        /// The playlist.
        name: String,
        /// Entry id.
        item: i64,
        /// New position.
        to: usize,
    },
    /// Rename a playlist.
    Rename {
        /// The playlist.
        name: String,
        /// Its new name.
        new_name: String,
    },
    /// Delete a playlist (its tracks stay in the library).
    Delete {
        /// The playlist.
        name: String,
    },
    /// Write a playlist as M3U8.
    Export {
        /// The playlist.
        name: String,
        /// The file to write.
        file: PathBuf,
        /// Write absolute paths instead of paths relative to the file.
        #[arg(long)]
        absolute: bool,
    },
    /// Import an M3U or M3U8 file as a new playlist.
    Import {
        /// The playlist file.
        file: PathBuf,
        /// The new playlist's name (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The flags every import takes.
#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// Show what would be imported and what matched nothing, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// Look for files the source places under FROM in TO instead (a moved music folder, another
    /// computer's drive). The report proposes mappings; repeat for several.
    #[arg(long = "map", value_name = "FROM=TO")]
    mappings: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import an iTunes or Music library XML (iTunes Library.xml, or File > Library > Export
    /// Library in Music): ratings, play counts, last played, date added, loved, and every
    /// playlist (folders as "Folder / Name", smart playlists as snapshots).
    ///
    /// Tracks are matched to the library by file location, then by --map, then by title,
    /// artist, album and duration. Play counts are a baseline: importing the same library again
    /// replaces them instead of adding, and keeps the plays Skylark counted. Tracks only in
    /// Apple's cloud are reported; downloading locker-only tracks is not built yet.
    Itunes {
        /// The library XML.
        file: PathBuf,
        #[command(flatten)]
        args: ImportArgs,
    },
    /// Import M3U/M3U8 playlists (foobar2000, MusicBee, Skylark's export), one playlist per
    /// file, named by its #PLAYLIST line or its file name; a playlist of the same name imported
    /// again replaces the one imported before.
    M3u {
        /// Playlist files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        args: ImportArgs,
    },
    /// Import the stats.jsonl of a `skylark export` (ratings, play counts, dates, loved).
    Stats {
        /// The stats.jsonl file.
        file: PathBuf,
        #[command(flatten)]
        args: ImportArgs,
    },
    /// Undo an import as a whole (by default the latest still in place).
    Undo {
        /// The import's id, as `skylark import list` shows it.
        id: Option<i64>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List imports, newest first.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SortArg {
    Title,
    Artist,
    Album,
    AlbumArtist,
    Year,
    Genre,
    Duration,
    Added,
    Plays,
    LastPlayed,
    Rating,
}

impl From<SortArg> for TrackSort {
    fn from(s: SortArg) -> Self {
        match s {
            SortArg::Title => TrackSort::Title,
            SortArg::Artist => TrackSort::Artist,
            SortArg::Album => TrackSort::Album,
            SortArg::AlbumArtist => TrackSort::AlbumArtist,
            SortArg::Year => TrackSort::Year,
            SortArg::Genre => TrackSort::Genre,
            SortArg::Duration => TrackSort::Duration,
            SortArg::Added => TrackSort::DateAdded,
            SortArg::Plays => TrackSort::PlayCount,
            SortArg::LastPlayed => TrackSort::LastPlayed,
            SortArg::Rating => TrackSort::Rating,
        }
    }
}

/// The `--format` of `skylark play --out`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum WavFormatArg {
    /// 32-bit float: the decoded samples unchanged.
    F32,
    /// 16-bit PCM, clipped at full scale.
    S16,
}

/// `skylark play`: renders `files` to `wav` when given, else plays them on the default device.
fn play(
    out: &mut impl Write,
    db: Option<PathBuf>,
    items: Vec<PathBuf>,
    wav: Option<PathBuf>,
    rate: Option<u32>,
    format: WavFormatArg,
) -> Result<()> {
    if wav.is_none() && rate.is_some() {
        bail!("--rate applies to --out; a device plays at its own rate");
    }
    let mut sources = play_sources(db, items)?;
    let Some(wav) = wav else {
        let played = play_on_device(out, std::mem::take(&mut sources.sources));
        sources.keep_streamed()?;
        return played;
    };
    let format = match format {
        WavFormatArg::F32 => skylark_player::WavSampleFormat::F32,
        WavFormatArg::S16 => skylark_player::WavSampleFormat::S16,
    };
    let mut sink = skylark_player::WavSink::new(&wav, format);
    let report = skylark_player::render(
        std::mem::take(&mut sources.sources),
        &mut sink,
        &skylark_player::RenderOptions { sample_rate: rate },
    )
    .with_context(|| format!("rendering to {}", wav.display()))?;
    sources.keep_streamed()?;
    writeln!(
        out,
        "rendered {} tracks, {} frames at {} Hz, to {}",
        report.tracks.len(),
        report.frames_written,
        report.spec.sample_rate,
        wav.display()
    )?;
    Ok(())
}

/// What `play` plays, and the library it took tracks from.
struct PlaySources {
    sources: Vec<skylark_player::Source>,
    library: Option<(PathBuf, Catalog)>,
    streamed: skylark_locker_client::StreamedCopies,
}

impl PlaySources {
    /// Keeps, as offline copies, the streams that arrived whole.
    fn keep_streamed(&mut self) -> Result<()> {
        if let Some((_, catalog)) = &mut self.library {
            locker::keep_streamed(catalog, &mut self.streamed)?;
        }
        Ok(())
    }
}

/// What `play` plays: each argument that names a file, that file; else the catalog track with
/// that id, from its file here, its offline copy, or streamed from the locker.
fn play_sources(db: Option<PathBuf>, items: Vec<PathBuf>) -> Result<PlaySources> {
    let mut library: Option<(PathBuf, Catalog)> = None;
    let mut client = None;
    let mut sources = Vec::with_capacity(items.len());
    let mut streamed = skylark_locker_client::StreamedCopies::default();
    for item in items {
        let track = item
            .to_str()
            .filter(|_| !item.exists())
            .and_then(|s| s.parse::<i64>().ok());
        let Some(track) = track else {
            sources.push(skylark_player::Source::path(item));
            continue;
        };
        let (db, catalog) = match &mut library {
            Some(open) => open,
            None => {
                let path = db_path(db.clone())?;
                let catalog = open(Some(path.clone()))?;
                library.insert((path, catalog))
            }
        };
        sources.push(locker::track_source(
            db,
            catalog,
            TrackId(track),
            &mut client,
            &mut streamed,
        )?);
    }
    Ok(PlaySources {
        sources,
        library,
        streamed,
    })
}

/// Plays `sources` gaplessly on the default output device until the queue ends, printing each
/// track as it starts. A file that cannot be played is reported on stderr and skipped; the
/// command fails only if none could be played.
fn play_on_device(out: &mut impl Write, sources: Vec<skylark_player::Source>) -> Result<()> {
    use skylark_player::{DeviceOutput, Player, PlayerCmd, PlayerEvent};

    let total = sources.len();
    let device = DeviceOutput::open_default().context("opening the default audio device")?;
    let device_name = device.name().to_owned();
    let player = Player::spawn(device).with_context(|| format!("playing on {device_name}"))?;
    let events = player.subscribe().context("starting playback")?;
    player
        .send(PlayerCmd::Load(
            // Each source carries its position in the list, for the "[n/total]" line.
            (0_i64..)
                .zip(sources)
                .map(|(i, source)| source.with_key(i))
                .collect(),
        ))
        .context("starting playback")?;
    player.send(PlayerCmd::Play).context("starting playback")?;
    let mut played = 0;
    for event in events.iter() {
        match event {
            PlayerEvent::TrackStarted { key, name, .. } => {
                played += 1;
                let position = key.map_or(played, |k| k + 1);
                writeln!(out, "[{position}/{total}] {name}")?;
                out.flush()?;
            }
            PlayerEvent::Error { error, .. } => {
                let mut message = error.to_string();
                let mut cause = std::error::Error::source(error.as_ref());
                while let Some(inner) = cause {
                    message.push_str(&format!(": {inner}"));
                    cause = inner.source();
                }
                eprintln!("skylark: {message}");
            }
            PlayerEvent::QueueEnded => {
                if played == 0 {
                    bail!("none of the files could be played");
                }
                return Ok(());
            }
            _ => {}
        }
    }
    bail!("the playback engine stopped before the queue ended")
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SKYLARK_LOG")
                // lofty and symphonia warn of harmless oddities of the files they read (an ID3v2
                // tag in a FLAC file); what matters of them is in the scan report or the error.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("warn,lofty=error,symphonia=error")
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(cli) {
        // A closed pipe (`skylark tracks | head`) is not an error worth reporting.
        if e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        }) {
            std::process::exit(0);
        }
        eprintln!("skylark: {e:#}");
        std::process::exit(1);
    }
}

/// Skylark's data folder: `$SKYLARK_DATA_DIR`, else the platform's data directory.
fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SKYLARK_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("app", "Skylark", "Skylark")
        .map(|d| d.data_dir().to_path_buf())
        .context("cannot find a home folder for the library; pass --db or set SKYLARK_DATA_DIR")
}

/// The library database: `--db`, else `catalog.db` in Skylark's data folder.
fn db_path(db: Option<PathBuf>) -> Result<PathBuf> {
    match db {
        Some(db) => Ok(db),
        None => Ok(data_dir()?.join("catalog.db")),
    }
}

fn open(db: Option<PathBuf>) -> Result<Catalog> {
    let db = db_path(db)?;
    let covers = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("covers");
    Catalog::open(&db, &covers).with_context(|| format!("opening the library {}", db.display()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        // `play` opens the library only for track ids: it plays the files it is given.
        Command::Play {
            files,
            out,
            rate,
            format,
        } => play(
            &mut std::io::stdout().lock(),
            cli.db,
            files,
            out,
            rate,
            format,
        ),
        Command::Library(command) => library(cli.db, command),
    }
}

fn library(db: Option<PathBuf>, command: LibraryCommand) -> Result<()> {
    let db = db_path(db)?;
    let mut catalog = open(Some(db.clone()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match command {
        LibraryCommand::Scan { dirs, json } => {
            let report = scan(&mut catalog, &dirs)?;
            if json {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            } else {
                print_report(&mut out, &report)?;
            }
        }
        LibraryCommand::Watch { dirs, json } => watch(catalog, &dirs, json)?,
        LibraryCommand::Tracks {
            json,
            sort,
            desc,
            limit,
            offline,
        } => {
            let mut query = TrackQuery {
                sort: sort.into(),
                descending: desc,
                after: None,
                limit: 1000,
                playable_offline: offline,
            };
            let mut left = limit.unwrap_or(u64::MAX);
            while left > 0 {
                query.limit = left.min(1000) as u32;
                let page = catalog.tracks(&query)?;
                for track in &page.tracks {
                    print_track(&mut out, track, json)?;
                }
                left -= page.tracks.len() as u64;
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => break,
                }
            }
        }
        LibraryCommand::Search { query, json, limit } => {
            let results = catalog.search(&query, limit)?;
            if json {
                serde_json::to_writer(&mut out, &results)?;
                writeln!(out)?;
            } else {
                for a in &results.artists {
                    writeln!(out, "artist\t{}\t{}", a.id, a.name)?;
                }
                for a in &results.albums {
                    writeln!(out, "album\t{}\t{}\t{}", a.id, a.album_artist, a.title)?;
                }
                for t in &results.tracks {
                    writeln!(
                        out,
                        "track\t{}\t{}\t{}\t{}",
                        t.id, t.artist, t.album, t.title
                    )?;
                }
            }
        }
        LibraryCommand::Albums { json } => {
            for a in catalog.albums()? {
                if json {
                    json_line(&mut out, &a)?;
                } else {
                    let year = a.year.map(|y| y.to_string()).unwrap_or_default();
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{} tracks",
                        a.id, a.album_artist, a.title, year, a.track_count
                    )?;
                }
            }
        }
        LibraryCommand::Artists { json, all } => {
            let artists = if all {
                catalog.artists()?
            } else {
                catalog.album_artists()?
            };
            for a in artists {
                if json {
                    json_line(&mut out, &a)?;
                } else {
                    writeln!(
                        out,
                        "{}\t{}\t{} albums\t{} tracks",
                        a.id, a.name, a.album_count, a.track_count
                    )?;
                }
            }
        }
        LibraryCommand::Genres { json } => {
            for g in catalog.genres()? {
                if json {
                    json_line(&mut out, &g)?;
                } else {
                    writeln!(out, "{}\t{}\t{} tracks", g.id, g.name, g.track_count)?;
                }
            }
        }
        LibraryCommand::Roots { json } => {
            for r in catalog.roots()? {
                if json {
                    json_line(&mut out, &r)?;
                } else {
                    let state = if r.reachable { "" } else { "\t(unreachable)" };
                    writeln!(out, "{}\t{}{state}", r.id, r.path.display())?;
                }
            }
        }
        LibraryCommand::Recent { json, limit } => {
            for t in catalog.recently_added(limit)? {
                print_track(&mut out, &t, json)?;
            }
        }
        LibraryCommand::Top { json, limit } => {
            for t in catalog.most_played(limit)? {
                print_track(&mut out, &t, json)?;
            }
        }
        LibraryCommand::Played { track } => {
            catalog.record_play(TrackId(track), SystemTime::now())?
        }
        LibraryCommand::Rate { track, stars } => {
            let rating = if stars == 0 {
                None
            } else {
                Some(Rating::from_stars(stars)?)
            };
            catalog.set_rating(TrackId(track), rating, SystemTime::now())?;
        }
        LibraryCommand::Love { track, off } => {
            catalog.set_loved(TrackId(track), !off, SystemTime::now())?
        }
        LibraryCommand::Playlist(command) => playlist(&mut catalog, &mut out, command)?,
        LibraryCommand::Locker(command) => locker::locker(&db, &mut catalog, &mut out, command)?,
        LibraryCommand::Upload {
            dry_run,
            json,
            parallel,
            limit_kbps,
            folders,
            playlists,
            queue,
        } => {
            let args = locker::UploadArgs {
                dry_run,
                json,
                parallel,
                limit: limit_kbps.map(|k| k.saturating_mul(1000)),
                folders: folders
                    .iter()
                    .map(|f| std::fs::canonicalize(f).with_context(|| format!("{}", f.display())))
                    .collect::<Result<_>>()?,
                playlists: playlists
                    .iter()
                    .map(|name| find_playlist(&catalog, name).map(|p| p.id))
                    .collect::<Result<_>>()?,
                show_queue: queue,
            };
            locker::upload(&db, &mut catalog, &mut out, &args)?;
        }
        LibraryCommand::Sync { json } => locker::sync(&db, &mut catalog, &mut out, json)?,
        LibraryCommand::Download {
            tracks,
            albums,
            playlists,
            unpin,
            cache_cap_mb,
            json,
        } => {
            let mut targets: Vec<PinTarget> = tracks
                .into_iter()
                .map(|t| PinTarget::Track(TrackId(t)))
                .chain(albums.into_iter().map(|a| PinTarget::Album(AlbumId(a))))
                .collect();
            for name in playlists {
                targets.push(PinTarget::Playlist(find_playlist(&catalog, &name)?.id));
            }
            let options = locker::DownloadOptions {
                unpin,
                cache_cap_bytes: cache_cap_mb.saturating_mul(1_000_000),
                json,
            };
            locker::download(&db, &mut catalog, &mut out, &targets, &options)?;
        }
        LibraryCommand::Import(command) => import(&mut catalog, &mut out, command)?,
        LibraryCommand::Export {
            dir,
            relative,
            absolute,
            copy,
            with_locker,
            json,
        } => {
            // Relative paths when the music is copied along (the folder then moves as a
            // whole), absolute ones otherwise, unless asked.
            let style = if absolute {
                PathStyle::Absolute
            } else if relative || copy {
                PathStyle::Relative
            } else {
                PathStyle::Absolute
            };
            let client = with_locker.then(|| locker::client(&db)).transpose()?;
            export(
                &catalog,
                &mut out,
                &dir,
                ExportOptions { style, copy },
                client.as_ref(),
                json,
            )?;
        }
        LibraryCommand::Stats { json } => {
            let s = catalog.stats()?;
            if json {
                json_line(&mut out, &s)?;
            } else {
                writeln!(out, "tracks        {}", s.tracks)?;
                writeln!(out, "albums        {}", s.albums)?;
                writeln!(out, "album artists {}", s.album_artists)?;
                writeln!(out, "artists       {}", s.artists)?;
                writeln!(out, "genres        {}", s.genres)?;
                writeln!(out, "playlists     {}", s.playlists)?;
                writeln!(out, "playing time  {}", clock(s.duration))?;
                writeln!(out, "size          {:.1} GB", s.bytes as f64 / 1e9)?;
                writeln!(out, "missing       {}", s.missing)?;
                writeln!(out, "plays         {}", s.plays)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn scan(catalog: &mut Catalog, dirs: &[PathBuf]) -> Result<ScanReport> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos}/{len} files, {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let progress = |p: &ScanProgress| {
        if let Some(bar) = &bar {
            bar.set_length(p.discovered);
            bar.set_position(p.processed);
            let current = p
                .current
                .as_deref()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            bar.set_message(format!("{} failed  {current}", p.failed));
        }
    };
    let report = catalog.scan(dirs, &ScanOptions::at(SystemTime::now()), &progress)?;
    // The library is complete; now the artwork for lists and grids.
    let thumbnails = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message("making cover thumbnails");
        }
    };
    catalog.make_thumbnails(&thumbnails)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(report)
}

fn watch(catalog: Catalog, dirs: &[PathBuf], json: bool) -> Result<()> {
    let mut catalog = catalog;
    let report = scan(&mut catalog, dirs)?;
    print_watch_report(&report, json);
    let roots: Vec<PathBuf> = catalog
        .roots()?
        .into_iter()
        .filter(|r| r.reachable)
        .map(|r| r.path)
        .filter(|r| {
            dirs.is_empty()
                || dirs.iter().any(|d| {
                    std::fs::canonicalize(d).is_ok_and(|d| d.starts_with(r) || r.starts_with(&d))
                })
        })
        .collect();
    if roots.is_empty() {
        bail!("no reachable folder to watch");
    }
    eprintln!("watching {} folder(s); press Ctrl-C to stop", roots.len());
    let _watcher = skylark_catalog::watch::Watcher::start(
        catalog,
        &roots,
        Duration::from_millis(500),
        move |result| match result {
            Ok(report) => print_watch_report(&report, json),
            Err(e) => eprintln!("skylark: rescan failed: {e:#}"),
        },
    )?;
    loop {
        std::thread::park();
    }
}

fn print_watch_report(report: &ScanReport, json: bool) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = if json {
        serde_json::to_writer(&mut out, report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        print_report(&mut out, report)
    };
    let _ = out.flush();
}

fn print_report(out: &mut impl Write, r: &ScanReport) -> std::io::Result<()> {
    writeln!(
        out,
        "{} files: {} added, {} updated, {} moved, {} removed, {} unchanged, {} failed ({:.1} s)",
        r.scanned,
        r.added,
        r.updated,
        r.moved,
        r.removed,
        r.unchanged,
        r.failed.len(),
        r.elapsed.as_secs_f64()
    )?;
    for f in &r.failed {
        writeln!(out, "  failed: {}: {}", f.path.display(), f.reason)?;
    }
    for root in &r.missing_roots {
        writeln!(
            out,
            "  unreachable: {} (its tracks are kept and shown as missing)",
            root.display()
        )?;
    }
    if r.cancelled {
        writeln!(out, "  cancelled before the end")?;
    }
    Ok(())
}

fn json_line(out: &mut impl Write, value: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn print_track(out: &mut impl Write, t: &Track, json: bool) -> Result<()> {
    if json {
        return json_line(out, t);
    }
    writeln!(
        out,
        "{}\t{}\t{}\t{}\t{}",
        t.id,
        t.artist,
        t.album,
        t.title,
        clock(t.duration)
    )?;
    Ok(())
}

fn import(catalog: &mut Catalog, out: &mut impl Write, command: ImportCommand) -> Result<()> {
    let (plan, args) = match command {
        ImportCommand::Itunes { file, args } => {
            let mappings = parse_mappings(&args.mappings)?;
            let plan = catalog
                .plan_itunes_import(&file, &mappings)
                .with_context(|| format!("reading {}", file.display()))?;
            (plan, args)
        }
        ImportCommand::M3u { files, args } => {
            let mappings = parse_mappings(&args.mappings)?;
            (catalog.plan_m3u_import(&files, &mappings)?, args)
        }
        ImportCommand::Stats { file, args } => {
            let mappings = parse_mappings(&args.mappings)?;
            let plan = catalog
                .plan_stats_import(&file, &mappings)
                .with_context(|| format!("reading {}", file.display()))?;
            (plan, args)
        }
        ImportCommand::Undo { id, json } => {
            let report = catalog.undo_import(id.map(ImportId), SystemTime::now())?;
            if json {
                json_line(out, &report)?;
            } else {
                writeln!(
                    out,
                    "undid import {}: {} tracks restored, {} playlists deleted, {} restored",
                    report.import,
                    report.tracks_restored,
                    report.playlists_deleted,
                    report.playlists_restored
                )?;
            }
            return Ok(());
        }
        ImportCommand::List { json } => {
            for record in catalog.imports()? {
                if json {
                    json_line(out, &record)?;
                } else {
                    let state = if record.undone.is_some() {
                        "\tundone"
                    } else {
                        ""
                    };
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{} tracks\t{} playlists{state}",
                        record.id,
                        record.kind.as_str(),
                        record.source,
                        record.tracks_changed,
                        record.playlists_written
                    )?;
                }
            }
            return Ok(());
        }
    };
    let report = if args.dry_run {
        plan.report().clone()
    } else {
        catalog.apply_import(plan, SystemTime::now())?
    };
    if args.json {
        json_line(out, &report)?;
    } else {
        print_import(out, &report)?;
    }
    Ok(())
}

fn parse_mappings(specs: &[String]) -> Result<Vec<RootMapping>> {
    specs
        .iter()
        .map(|s| RootMapping::parse(s).with_context(|| format!("--map {s}")))
        .collect()
}

/// How many unmatched entries of each reason the text report lists.
const UNMATCHED_SHOWN: usize = 10;

fn print_import(out: &mut impl Write, r: &ImportReport) -> Result<()> {
    let what = match r.kind {
        ImportKind::Itunes => "library",
        ImportKind::M3u => "playlist files",
        ImportKind::Stats => "stats file",
    };
    let t = &r.tracks;
    let matched = t.in_source - t.unmatched;
    let mut how = vec![format!("{} by location", t.by_location)];
    if t.by_mapping > 0 {
        how.push(format!("{} by --map", t.by_mapping));
    }
    if t.by_audio_id > 0 {
        how.push(format!("{} by audio id", t.by_audio_id));
    }
    how.push(format!("{} by tags", t.by_tags));
    writeln!(out, "{}", r.source)?;
    writeln!(
        out,
        "entries: {} in the {what}; {matched} matched ({}); {} not matched",
        t.in_source,
        how.join(", "),
        t.unmatched
    )?;
    let c = &r.changes;
    if r.kind != ImportKind::M3u {
        writeln!(
            out,
            "changes: {} tracks: {} ratings, {} play counts, {} last played, {} dates added, {} loved",
            c.tracks, c.ratings, c.play_counts, c.last_played, c.added, c.loved
        )?;
    }
    for p in &r.playlists {
        let action = match p.action {
            PlaylistAction::Create => "new     ",
            PlaylistAction::Replace => "replace ",
            PlaylistAction::Unchanged => "same    ",
        };
        let smart = if p.smart {
            ", a smart playlist's snapshot"
        } else {
            ""
        };
        let missing = if p.missing_entries > 0 {
            format!(", {} entries not matched", p.missing_entries)
        } else {
            String::new()
        };
        writeln!(
            out,
            "playlist {action}{} ({} entries{missing}{smart})",
            p.name, p.entries
        )?;
    }
    if !r.skipped_playlists.is_empty() {
        let skipped: Vec<String> = r
            .skipped_playlists
            .iter()
            .map(|s| {
                let why = match s.reason {
                    SkipReason::BuiltIn => "built in",
                    SkipReason::Folder => "folder",
                    SkipReason::NoAudio => "videos only",
                };
                format!("{} ({why})", s.name)
            })
            .collect();
        writeln!(out, "not imported: {}", skipped.join(", "))?;
    }
    // Unmatched entries, grouped by reason.
    let mut groups: Vec<(String, Vec<&skylark_catalog::import::UnmatchedTrack>)> = Vec::new();
    for u in &r.unmatched {
        let code = serde_json::to_value(&u.reason)?
            .get("code")
            .and_then(|c| c.as_str())
            .unwrap_or("other")
            .to_owned();
        match groups.iter_mut().find(|(c, _)| *c == code) {
            Some((_, list)) => list.push(u),
            None => groups.push((code, vec![u])),
        }
    }
    for (code, list) in &groups {
        writeln!(
            out,
            "not matched, {} ({}):",
            code.replace('_', " "),
            list.len()
        )?;
        for u in list.iter().take(UNMATCHED_SHOWN) {
            let name = [u.artist.as_str(), u.title.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" - ");
            writeln!(out, "  {}\t{name}: {}", u.source_id, u.reason)?;
        }
        if list.len() > UNMATCHED_SHOWN {
            writeln!(
                out,
                "  … and {} more (--json lists every one)",
                list.len() - UNMATCHED_SHOWN
            )?;
        }
    }
    for m in &r.proposed_mappings {
        writeln!(
            out,
            "proposed: --map '{}={}' would match {} more entries by location",
            m.from, m.to, m.tracks
        )?;
    }
    match (r.applied, r.import) {
        (false, _) => writeln!(
            out,
            "dry run: nothing was written; run again without --dry-run to import"
        )?,
        (true, Some(id)) => writeln!(
            out,
            "imported as import {id}; `skylark import undo {id}` takes it back"
        )?,
        (true, None) => writeln!(out, "nothing to change: the library already has all of it")?,
    }
    Ok(())
}

fn export(
    catalog: &Catalog,
    out: &mut impl Write,
    dir: &Path,
    options: ExportOptions,
    client: Option<&skylark_locker_client::Client>,
    json: bool,
) -> Result<()> {
    let bar = (options.copy && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} files copied")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let fetch = |blob: &str, into: &Path| -> std::result::Result<PathBuf, String> {
        let Some(client) = client else {
            return Err("not signed in to a locker".to_owned());
        };
        locker::fetch(client, into, blob)
            .map(|(file, _)| into.join(file))
            .map_err(|e| format!("{e:#}"))
    };
    let fetch: Option<skylark_catalog::export::FetchBlob<'_>> = client
        .is_some()
        .then_some(&fetch as skylark_catalog::export::FetchBlob<'_>);
    let report = catalog
        .export_library(dir, &options, fetch, &progress)
        .with_context(|| format!("exporting to {}", dir.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if json {
        return json_line(out, &report);
    }
    writeln!(
        out,
        "wrote {} playlists and stats.jsonl ({} tracks) to {}",
        report.playlists.len(),
        report.tracks,
        report.dir.display()
    )?;
    if options.copy {
        writeln!(
            out,
            "copied {} files ({:.1} MB); {} were there already",
            report.copied,
            report.bytes_copied as f64 / 1e6,
            report.already_copied
        )?;
    }
    for n in &report.not_copied {
        writeln!(out, "  not copied: {}: {}", n.path.display(), n.reason)?;
    }
    if report.from_locker > 0 {
        writeln!(
            out,
            "{} tracks only in the locker were copied into {}",
            report.from_locker,
            dir.join("music")
                .join(skylark_catalog::export::LOCKER_DIR)
                .display()
        )?;
    }
    if report.locker_only > 0 {
        writeln!(
            out,
            "{} tracks are only in the locker: they are in stats.jsonl without a path \
             (export with --copy --with-locker to download them too)",
            report.locker_only
        )?;
    }
    Ok(())
}

fn find_playlist(catalog: &Catalog, name: &str) -> Result<Playlist> {
    catalog
        .playlist_by_name(name)?
        .with_context(|| format!("no playlist named \"{name}\""))
}

fn playlist(catalog: &mut Catalog, out: &mut impl Write, command: PlaylistCommand) -> Result<()> {
    let now = SystemTime::now();
    match command {
        PlaylistCommand::Create { name } => {
            if catalog.playlist_by_name(&name)?.is_some() {
                bail!("a playlist named \"{}\" already exists", name.trim());
            }
            let id = catalog.create_playlist(&name, now)?;
            writeln!(out, "{id}")?;
        }
        PlaylistCommand::Ls { name: None, json } => {
            for p in catalog.playlists()? {
                if json {
                    json_line(out, &p)?;
                } else {
                    writeln!(
                        out,
                        "{}\t{}\t{} tracks\t{}",
                        p.id,
                        p.name,
                        p.item_count,
                        clock(p.duration)
                    )?;
                }
            }
        }
        PlaylistCommand::Ls {
            name: Some(name),
            json,
        } => {
            let p = find_playlist(catalog, &name)?;
            for (position, item) in catalog.playlist_items(p.id)?.iter().enumerate() {
                if json {
                    json_line(
                        out,
                        &serde_json::json!({ "item": item.id, "position": position, "track": item.track }),
                    )?;
                } else {
                    let t = &item.track;
                    writeln!(
                        out,
                        "{position}\t{}\t{}\t{}\t{}",
                        item.id, t.id, t.artist, t.title
                    )?;
                }
            }
        }
        PlaylistCommand::Add { name, tracks, at } => {
            let p = find_playlist(catalog, &name)?;
            let ids: Vec<TrackId> = tracks.into_iter().map(TrackId).collect();
            catalog.add_to_playlist(p.id, &ids, at, now)?;
        }
        PlaylistCommand::Rm { name, items } => {
            let p = find_playlist(catalog, &name)?;
            let ids: Vec<PlaylistItemId> = items.into_iter().map(PlaylistItemId).collect();
            catalog.remove_from_playlist(p.id, &ids, now)?;
        }
        PlaylistCommand::Mv { name, item, to } => {
            let p = find_playlist(catalog, &name)?;
            catalog.move_playlist_item(p.id, PlaylistItemId(item), to, now)?;
        }
        PlaylistCommand::Rename { name, new_name } => {
            let p = find_playlist(catalog, &name)?;
            catalog.rename_playlist(p.id, &new_name, now)?;
        }
        PlaylistCommand::Delete { name } => {
            let p = find_playlist(catalog, &name)?;
            catalog.delete_playlist(p.id, SystemTime::now())?;
        }
        PlaylistCommand::Export {
            name,
            file,
            absolute,
        } => {
            let p = find_playlist(catalog, &name)?;
            let style = if absolute {
                PathStyle::Absolute
            } else {
                PathStyle::Relative
            };
            let result = catalog.export_m3u(p.id, &file, style)?;
            writeln!(
                out,
                "wrote {} entries to {}",
                result.written,
                file.display()
            )?;
            if result.skipped > 0 {
                writeln!(out, "left out {} tracks with no local file", result.skipped)?;
            }
        }
        PlaylistCommand::Import { file, name, json } => {
            let result = catalog.import_m3u(&file, name.as_deref(), now)?;
            if json {
                json_line(out, &result)?;
            } else {
                writeln!(
                    out,
                    "playlist {}: {} entries added",
                    result.playlist, result.added
                )?;
                for entry in &result.unresolved {
                    writeln!(out, "  not in the library: {entry}")?;
                }
            }
        }
    }
    Ok(())
}
