//! `skylark`: the headless command line over Skylark's library.
//!
//! Glue only: each subcommand parses its arguments, calls one catalog function and prints the
//! result, as text for people or as JSON for scripts (`--json`). The command names, flags and JSON
//! shapes are a public interface: keep them stable.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use skylark_catalog::m3u::PathStyle;
use skylark_catalog::playlists::Playlist;
use skylark_catalog::{
    Catalog, PlaylistItemId, Rating, ScanOptions, ScanProgress, ScanReport, Track, TrackId,
    TrackQuery, TrackSort,
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
    /// Play files one after another, gaplessly, on the default audio device; with --out, render
    /// them to a WAV file instead.
    Play {
        /// Audio files, in play order.
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
    /// Create, edit, list, import and export playlists.
    #[command(subcommand)]
    Playlist(PlaylistCommand),
    /// Library totals.
    Stats {
        /// Print as JSON.
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
    files: Vec<PathBuf>,
    wav: Option<PathBuf>,
    rate: Option<u32>,
    format: WavFormatArg,
) -> Result<()> {
    let Some(wav) = wav else {
        if rate.is_some() {
            bail!("--rate applies to --out; a device plays at its own rate");
        }
        return play_on_device(out, files);
    };
    let format = match format {
        WavFormatArg::F32 => skylark_player::WavSampleFormat::F32,
        WavFormatArg::S16 => skylark_player::WavSampleFormat::S16,
    };
    let mut sink = skylark_player::WavSink::new(&wav, format);
    let report = skylark_player::render(
        files.into_iter().map(skylark_player::Source::path),
        &mut sink,
        &skylark_player::RenderOptions { sample_rate: rate },
    )
    .with_context(|| format!("rendering to {}", wav.display()))?;
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

/// Plays `files` gaplessly on the default output device until the queue ends, printing each
/// track as it starts. A file that cannot be played is reported on stderr and skipped; the
/// command fails only if none could be played.
fn play_on_device(out: &mut impl Write, files: Vec<PathBuf>) -> Result<()> {
    use skylark_player::{DeviceOutput, Player, PlayerCmd, PlayerEvent, Source};

    let total = files.len();
    let device = DeviceOutput::open_default().context("opening the default audio device")?;
    let device_name = device.name().to_owned();
    let player = Player::spawn(device).with_context(|| format!("playing on {device_name}"))?;
    let events = player.subscribe().context("starting playback")?;
    player
        .send(PlayerCmd::Load(
            // Each source carries its position in the list, for the "[n/total]" line.
            (0_i64..)
                .zip(files)
                .map(|(i, f)| Source::path(f).with_key(i))
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
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
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

fn open(db: Option<PathBuf>) -> Result<Catalog> {
    let db = match db {
        Some(db) => db,
        None => data_dir()?.join("catalog.db"),
    };
    let covers = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("covers");
    Catalog::open(&db, &covers).with_context(|| format!("opening the library {}", db.display()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        // `play` needs no library: it plays the files it is given.
        Command::Play {
            files,
            out,
            rate,
            format,
        } => play(&mut std::io::stdout().lock(), files, out, rate, format),
        Command::Library(command) => library(cli.db, command),
    }
}

fn library(db: Option<PathBuf>, command: LibraryCommand) -> Result<()> {
    let mut catalog = open(db)?;
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
        } => {
            let mut query = TrackQuery {
                sort: sort.into(),
                descending: desc,
                after: None,
                limit: 1000,
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
            catalog.set_rating(TrackId(track), rating)?;
        }
        LibraryCommand::Playlist(command) => playlist(&mut catalog, &mut out, command)?,
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
            catalog.delete_playlist(p.id)?;
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
