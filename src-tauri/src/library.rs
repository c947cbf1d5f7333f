//! Library commands: folders and scans, browsing, search, playlists, ratings. Each calls one
//! catalog function; scans run on their own thread with their own connection so browsing never
//! waits for them.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use skylark_catalog::m3u::{M3uImport, PathStyle};
use skylark_catalog::playlists::{Playlist, PlaylistItem};
use skylark_catalog::search::SearchResults;
use skylark_catalog::stats::LibraryStats;
use skylark_catalog::{
    Album, AlbumId, Artist, ArtistId, Catalog, Genre, GenreId, Lyrics, PlaylistId, PlaylistItemId,
    Rating, Root, RootId, ScanOptions, ScanProgress, ScanReport, Track, TrackId, TrackSort,
};
use tauri::{AppHandle, Emitter, State};

use crate::cloud::{LyricsPlaces, off_runtime, song_lyrics};
use crate::error::{AppError, CmdResult, ErrorKind};
use crate::state::AppState;

/// How often scan progress reaches the UI at most.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// What the UI needs to know at start.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    /// The app's version.
    pub version: &'static str,
    /// The data folder.
    pub data_dir: String,
    /// The cover cache, which the asset protocol serves.
    pub cover_dir: String,
    /// The library's folders.
    pub roots: Vec<Root>,
    /// Tracks in the library.
    pub track_count: u64,
    /// Whether the import wizard has been through (or skipped).
    pub wizard_done: bool,
    /// Whether a scan is running.
    pub scanning: bool,
}

/// Describes the app and the library.
#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> CmdResult<AppInfo> {
    let catalog = state.catalog()?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        data_dir: state.paths.data_dir.to_string_lossy().into_owned(),
        cover_dir: state.paths.covers.to_string_lossy().into_owned(),
        roots: catalog.roots()?,
        track_count: catalog.track_count()?,
        wizard_done: state.settings()?.wizard_done,
        scanning: state.scan_running(),
    })
}

/// The user's settings.
#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CmdResult<crate::settings::Settings> {
    state.settings()
}

/// Marks the import wizard done (or undone, to run it again from Settings).
#[tauri::command]
pub async fn set_wizard_done(state: State<'_, AppState>, done: bool) -> CmdResult<()> {
    state.update_settings(|s| s.wizard_done = done)
}

/// The library's folders.
#[tauri::command]
pub async fn roots(state: State<'_, AppState>) -> CmdResult<Vec<Root>> {
    Ok(state.catalog()?.roots()?)
}

/// Removes a folder and its tracks from the library (the files stay where they are).
#[tauri::command]
pub async fn remove_root(app: AppHandle, state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    state.catalog()?.remove_root(RootId(id))?;
    state.restart_watcher(&app);
    let _ = app.emit("library-changed", ());
    Ok(())
}

/// A scan's end, as the UI receives it in the `scan-finished` event.
#[derive(Debug, Clone, Serialize)]
pub struct ScanFinished {
    /// What the scan did, when it ran.
    pub report: Option<ScanReport>,
    /// Why it could not run.
    pub error: Option<AppError>,
}

/// Scans `paths` (new folders become library folders; none rescans every folder). Returns at
/// once; `scan-progress` events follow, then one `scan-finished`.
#[tauri::command]
pub async fn scan(app: AppHandle, state: State<'_, AppState>, paths: Vec<String>) -> CmdResult<()> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    for path in &paths {
        if !path.is_dir() {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                format!("{} is not a folder that can be read", path.display()),
            ));
        }
    }
    let options = ScanOptions::at(SystemTime::now());
    state.begin_scan(options.cancel.clone())?;
    let db = state.paths.db.clone();
    let covers = state.paths.covers.clone();
    let handle = app.clone();
    std::thread::Builder::new()
        .name("skylark-scan".to_owned())
        .spawn(move || {
            let result = run_scan(&handle, &db, &covers, &paths, &options);
            let finished = match result {
                Ok(report) => ScanFinished {
                    report: Some(report),
                    error: None,
                },
                Err(error) => ScanFinished {
                    report: None,
                    error: Some(error),
                },
            };
            let state = tauri::Manager::state::<AppState>(&handle);
            state.end_scan();
            state.restart_watcher(&handle);
            state.cloud.hash_soon();
            let _ = handle.emit("scan-finished", finished);
            let _ = handle.emit("library-changed", ());
        })
        .map_err(|e| AppError::new(ErrorKind::Internal, format!("cannot start the scan: {e}")))?;
    Ok(())
}

fn run_scan(
    app: &AppHandle,
    db: &std::path::Path,
    covers: &std::path::Path,
    paths: &[PathBuf],
    options: &ScanOptions,
) -> CmdResult<ScanReport> {
    let mut catalog = Catalog::open(db, covers)?;
    let last = Mutex::new(Instant::now() - PROGRESS_INTERVAL);
    let report = catalog.scan(paths, options, &|progress: &ScanProgress| {
        let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= PROGRESS_INTERVAL
            || progress.walk_done && progress.processed == progress.discovered
        {
            *last = Instant::now();
            let _ = app.emit("scan-progress", progress);
        }
    })?;
    catalog.make_thumbnails(&|_, _| {})?;
    Ok(report)
}

/// Stops a running scan after its current batch (what it read so far is kept).
#[tauri::command]
pub async fn cancel_scan(state: State<'_, AppState>) -> CmdResult<()> {
    if let Some(cancel) = state.scan_cancel() {
        cancel.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// Every track id in the order `sort` gives; the Songs table fetches rows by position from it.
///
/// The ids go out as raw bytes, one 8-byte float per id in this machine's byte order, which the UI
/// reads as a `Float64Array` (`ui/src/lib/api.ts`): with 100,000 tracks that is 800 KB copied once,
/// where JSON was 700 KB to write, then to parse into an array of 100,000 values, all of it
/// garbage for the web process to collect at every sort. Floats, because JavaScript numbers are:
/// every id up to 2^53 is exact, and SQLite's row ids stay far below that.
#[tauri::command]
pub async fn track_ids(
    state: State<'_, AppState>,
    sort: TrackSort,
    descending: bool,
) -> CmdResult<tauri::ipc::Response> {
    let ids = state.catalog()?.track_ids(sort, descending)?;
    Ok(tauri::ipc::Response::new(ids_as_floats(&ids)))
}

/// `ids` as consecutive native-endian `f64`s.
fn ids_as_floats(ids: &[TrackId]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(ids.len() * 8);
    for id in ids {
        // Exact for every id below 2^53 (see `track_ids`).
        bytes.extend_from_slice(&(id.0 as f64).to_ne_bytes());
    }
    bytes
}

/// The tracks with these ids, in the order asked (missing ids are left out).
#[tauri::command]
pub async fn tracks(state: State<'_, AppState>, ids: Vec<i64>) -> CmdResult<Vec<Track>> {
    if ids.len() > 10_000 {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "at most 10000 tracks can be fetched at once",
        ));
    }
    let ids: Vec<TrackId> = ids.into_iter().map(TrackId).collect();
    Ok(state.catalog()?.tracks_by_id(&ids)?)
}

/// The lyrics of the track `id`: from its file on this computer, an LRC file beside it, else its
/// tags; elsewhere the LRC text a device published with it, else the tags of its offline copy or
/// of the locker's copy. `None` when it has none. Files are read off the catalog's lock.
#[tauri::command]
pub async fn track_lyrics(state: State<'_, AppState>, id: i64) -> CmdResult<Option<Lyrics>> {
    let (found, title) = {
        let catalog = state.catalog()?;
        let track = catalog.track(TrackId(id))?;
        (LyricsPlaces::of(&catalog, &track)?, track.title)
    };
    let client = state.cloud.client();
    // Off the app's pool: the locker client, which a song only in the locker needs, runs its own
    // runtime.
    off_runtime(move || song_lyrics(found, client, &title)).await?
}

/// Every album.
#[tauri::command]
pub async fn albums(state: State<'_, AppState>) -> CmdResult<Vec<Album>> {
    Ok(state.catalog()?.albums()?)
}

/// An album with its tracks, in disc and track order.
#[derive(Debug, Serialize)]
pub struct AlbumPage {
    /// The album.
    pub album: Album,
    /// Its tracks.
    pub tracks: Vec<Track>,
}

/// One album and its tracks.
#[tauri::command]
pub async fn album(state: State<'_, AppState>, id: i64) -> CmdResult<AlbumPage> {
    let catalog = state.catalog()?;
    Ok(AlbumPage {
        album: catalog.album(AlbumId(id))?,
        tracks: catalog.album_tracks(AlbumId(id))?,
    })
}

/// Every artist (track artists and album artists).
#[tauri::command]
pub async fn artists(state: State<'_, AppState>) -> CmdResult<Vec<Artist>> {
    Ok(state.catalog()?.artists()?)
}

/// An artist with their albums and the tracks they appear on.
#[derive(Debug, Serialize)]
pub struct ArtistPage {
    /// The artist.
    pub artist: Artist,
    /// Albums they are the album artist of.
    pub albums: Vec<Album>,
    /// Tracks they play on.
    pub tracks: Vec<Track>,
}

/// One artist's page.
#[tauri::command]
pub async fn artist(state: State<'_, AppState>, id: i64) -> CmdResult<ArtistPage> {
    let catalog = state.catalog()?;
    Ok(ArtistPage {
        artist: catalog.artist(ArtistId(id))?,
        albums: catalog.artist_albums(ArtistId(id))?,
        tracks: catalog.artist_tracks(ArtistId(id))?,
    })
}

/// Every genre.
#[tauri::command]
pub async fn genres(state: State<'_, AppState>) -> CmdResult<Vec<Genre>> {
    Ok(state.catalog()?.genres()?)
}

/// A genre's tracks.
#[tauri::command]
pub async fn genre_tracks(state: State<'_, AppState>, id: i64) -> CmdResult<Vec<Track>> {
    Ok(state.catalog()?.genre_tracks(GenreId(id))?)
}

/// The most recently added tracks.
#[tauri::command]
pub async fn recently_added(state: State<'_, AppState>, limit: u32) -> CmdResult<Vec<Track>> {
    Ok(state.catalog()?.recently_added(limit.min(5_000))?)
}

/// Artists, albums and tracks matching what the user typed.
#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    text: String,
    limit: u32,
) -> CmdResult<SearchResults> {
    Ok(state.catalog()?.search(&text, limit.clamp(1, 500))?)
}

/// Counts and totals of the library.
#[tauri::command]
pub async fn library_stats(state: State<'_, AppState>) -> CmdResult<LibraryStats> {
    Ok(state.catalog()?.stats()?)
}

/// Sets (or clears, with `None`) a track's rating, 0–100.
#[tauri::command]
pub async fn set_rating(state: State<'_, AppState>, id: i64, rating: Option<u8>) -> CmdResult<()> {
    let rating = rating.map(Rating::try_new).transpose()?;
    Ok(state
        .catalog()?
        .set_rating(TrackId(id), rating, SystemTime::now())?)
}

/// Every playlist.
#[tauri::command]
pub async fn playlists(state: State<'_, AppState>) -> CmdResult<Vec<Playlist>> {
    Ok(state.catalog()?.playlists()?)
}

/// A playlist with its entries in order.
#[derive(Debug, Serialize)]
pub struct PlaylistPage {
    /// The playlist.
    pub playlist: Playlist,
    /// Its entries.
    pub items: Vec<PlaylistItem>,
}

/// One playlist and its entries.
#[tauri::command]
pub async fn playlist(state: State<'_, AppState>, id: i64) -> CmdResult<PlaylistPage> {
    let catalog = state.catalog()?;
    Ok(PlaylistPage {
        playlist: catalog.playlist(PlaylistId(id))?,
        items: catalog.playlist_items(PlaylistId(id))?,
    })
}

/// Creates a playlist, with these tracks if any.
#[tauri::command]
pub async fn create_playlist(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    tracks: Vec<i64>,
) -> CmdResult<i64> {
    let mut catalog = state.catalog()?;
    let now = SystemTime::now();
    let id = catalog.create_playlist(&name, now)?;
    if !tracks.is_empty() {
        let tracks: Vec<TrackId> = tracks.into_iter().map(TrackId).collect();
        catalog.add_to_playlist(id, &tracks, None, now)?;
    }
    let _ = app.emit("playlists-changed", ());
    Ok(id.0)
}

/// Renames a playlist.
#[tauri::command]
pub async fn rename_playlist(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
    name: String,
) -> CmdResult<()> {
    state
        .catalog()?
        .rename_playlist(PlaylistId(id), &name, SystemTime::now())?;
    let _ = app.emit("playlists-changed", ());
    Ok(())
}

/// Deletes a playlist (its tracks stay in the library).
#[tauri::command]
pub async fn delete_playlist(app: AppHandle, state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    state
        .catalog()?
        .delete_playlist(PlaylistId(id), SystemTime::now())?;
    let _ = app.emit("playlists-changed", ());
    Ok(())
}

/// Adds tracks to a playlist at `index` (the end when `None`).
#[tauri::command]
pub async fn add_to_playlist(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
    tracks: Vec<i64>,
    index: Option<usize>,
) -> CmdResult<()> {
    let tracks: Vec<TrackId> = tracks.into_iter().map(TrackId).collect();
    state
        .catalog()?
        .add_to_playlist(PlaylistId(id), &tracks, index, SystemTime::now())?;
    let _ = app.emit("playlists-changed", ());
    Ok(())
}

/// Removes entries from a playlist.
#[tauri::command]
pub async fn remove_from_playlist(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
    items: Vec<i64>,
) -> CmdResult<()> {
    let items: Vec<PlaylistItemId> = items.into_iter().map(PlaylistItemId).collect();
    state
        .catalog()?
        .remove_from_playlist(PlaylistId(id), &items, SystemTime::now())?;
    let _ = app.emit("playlists-changed", ());
    Ok(())
}

/// Moves a playlist entry to `index`.
#[tauri::command]
pub async fn move_playlist_item(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
    item: i64,
    index: usize,
) -> CmdResult<()> {
    state.catalog()?.move_playlist_item(
        PlaylistId(id),
        PlaylistItemId(item),
        index,
        SystemTime::now(),
    )?;
    let _ = app.emit("playlists-changed", ());
    Ok(())
}

/// Imports an M3U or M3U8 file as a playlist named after it; the result lists the entries that
/// matched no track.
#[tauri::command]
pub async fn import_m3u(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> CmdResult<M3uImport> {
    let import =
        state
            .catalog()?
            .import_m3u(std::path::Path::new(&path), None, SystemTime::now())?;
    let _ = app.emit("playlists-changed", ());
    Ok(import)
}

/// Writes a playlist to an M3U8 file with absolute paths.
#[tauri::command]
pub async fn export_m3u(state: State<'_, AppState>, id: i64, path: String) -> CmdResult<()> {
    state.catalog()?.export_m3u(
        PlaylistId(id),
        std::path::Path::new(&path),
        PathStyle::Absolute,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_go_out_as_native_floats_in_order() {
        let ids = [
            TrackId(7),
            TrackId(1),
            TrackId(100_000),
            TrackId((1 << 53) - 1),
        ];
        let bytes = ids_as_floats(&ids);
        assert_eq!(bytes.len(), 32);
        let back: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|b| f64::from_ne_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(back, [7.0, 1.0, 100_000.0, 9_007_199_254_740_991.0]);
        assert!(ids_as_floats(&[]).is_empty());
    }
}
