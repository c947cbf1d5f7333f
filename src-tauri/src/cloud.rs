//! The locker in the app: signing in and out, syncing in the background (when the app starts,
//! every few minutes, after signing in and when asked), and the sources the player gets for
//! tracks with no file on this computer (an offline copy, else a stream that opens when the
//! player reaches it).
//!
//! Syncing runs on a thread of its own with a catalog connection of its own, so browsing and
//! playing never wait for the network; the UI hears `cloud-status` when a sync ends and
//! `library-changed` when it brought something.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use skylark_catalog::{
    AlbumId, Catalog, Lyrics, PinTarget, PlaylistId, Track, TrackId, read_lyrics,
};
use skylark_locker_client::{
    Bandwidth, Client, CredentialStore, DEFAULT_CACHE_CAP_BYTES, LibraryProgress, LibraryUpload,
    LibraryUploadReport, StreamOptions, StreamedCopies, SyncReport, TransferControl,
    hash_in_background,
};
use skylark_player::Source;
use skylark_tags::{FileHash, lrc_lyrics, read_tag_lyrics};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::error::{AppError, CmdResult, ErrorKind, chain};
use crate::state::{AppState, Paths};

/// How often the app syncs on its own while signed in.
const SYNC_EVERY: Duration = Duration::from_secs(300);

/// What the UI shows of the locker.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CloudStatus {
    /// The locker signed in to.
    pub server: Option<String>,
    /// The account.
    pub user: Option<String>,
    /// Whether a sync is running.
    pub syncing: bool,
    /// When the last sync ended well, Unix ms.
    pub last_sync_ms: Option<i64>,
    /// Why the last sync failed, if it did.
    pub last_error: Option<String>,
    /// What the last sync did.
    pub last_report: Option<SyncReport>,
    /// Changes made here that wait to be pushed.
    pub pending_changes: u64,
    /// The upload running or last run.
    pub upload: Option<UploadStatus>,
}

/// An upload of the library to the locker, as the UI shows it.
#[derive(Debug, Clone, Serialize)]
pub struct UploadStatus {
    /// Whether it is running.
    pub running: bool,
    /// How far it has got.
    pub progress: Option<LibraryProgress>,
    /// What it did, once it ended.
    pub report: Option<LibraryUploadReport>,
    /// Why it stopped, if it failed as a whole.
    pub error: Option<String>,
}

#[derive(Default)]
struct Shared {
    client: Option<Client>,
    status: CloudStatus,
    /// A sync was asked for and has not started yet.
    wanted: bool,
    /// Pauses the running upload.
    upload_control: Option<TransferControl>,
    /// The running upload's bandwidth limit, which the user may change while it runs.
    upload_bandwidth: Option<Bandwidth>,
    /// Hashing the files that have no kept hashes was asked for.
    hash_wanted: bool,
}

/// The locker side of the app.
pub struct Cloud {
    store: CredentialStore,
    shared: Arc<(Mutex<Shared>, Condvar)>,
    /// Locker songs streamed for playing, kept as offline copies once whole.
    streamed: Mutex<StreamedCopies>,
}

impl Cloud {
    /// The sign-in saved in the data folder, if any; the token in the OS keychain unless
    /// `SKYLARK_KEYCHAIN=off`.
    pub fn open(paths: &Paths) -> Self {
        let store = CredentialStore::for_data_dir(&paths.data_dir);
        let mut shared = Shared::default();
        match store.load() {
            Ok(Some(credentials)) => {
                shared.status.server = Some(credentials.server.clone());
                shared.status.user = Some(credentials.username.clone());
                match Client::with_credentials(credentials) {
                    Ok(client) => {
                        shared.client = Some(client);
                        shared.wanted = true;
                    }
                    Err(e) => shared.status.last_error = Some(e.to_string()),
                }
            }
            Ok(None) => {}
            Err(e) => shared.status.last_error = Some(e.to_string()),
        }
        Self {
            store,
            shared: Arc::new((Mutex::new(shared), Condvar::new())),
            streamed: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The signed-in locker's client, if signed in.
    pub fn client(&self) -> Option<Client> {
        self.lock().client.clone()
    }

    /// Asks the sync thread to sync now.
    pub fn sync_soon(&self) {
        self.lock().wanted = true;
        self.shared.1.notify_all();
    }

    /// Starts the thread that syncs: when asked, and every [`SYNC_EVERY`] while signed in.
    pub fn start(&self, app: &AppHandle, paths: &Paths) {
        let shared = Arc::clone(&self.shared);
        let app = app.clone();
        let sync_paths = paths.clone();
        let spawned = std::thread::Builder::new()
            .name("skylark-sync".to_owned())
            .spawn(move || sync_loop(&shared, &app, &sync_paths));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start syncing with the locker");
        }
        let shared = Arc::clone(&self.shared);
        let hash_paths = paths.clone();
        let spawned = std::thread::Builder::new()
            .name("skylark-hash".to_owned())
            .spawn(move || hash_loop(&shared, &hash_paths));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start hashing the library");
        }
    }

    /// Asks for the files with no kept hashes to be hashed in the background (after a scan, for
    /// instance), so that an upload has only to ask the locker.
    pub fn hash_soon(&self) {
        self.lock().hash_wanted = true;
        self.shared.1.notify_all();
    }

    /// Keeps the streams that arrived whole as offline copies, within the cache's cap, and
    /// forgets those that ended short. Returns how many were kept.
    pub fn keep_streamed(&self, catalog: &mut Catalog) -> CmdResult<u64> {
        let mut streamed = self.streamed.lock().unwrap_or_else(PoisonError::into_inner);
        if streamed.pending() == 0 {
            return Ok(0);
        }
        streamed
            .settle(catalog, DEFAULT_CACHE_CAP_BYTES)
            .map_err(|e| AppError::new(ErrorKind::Io, format!("cannot keep a streamed song: {e}")))
    }

    /// The player's source for `track`, which has no file here: its offline copy, else a stream
    /// of its locker copy that opens when the player reaches it (and is kept as an offline copy
    /// once whole: [`Cloud::keep_streamed`]). `None` when it has neither, or no locker is signed
    /// in to.
    pub fn source(&self, catalog: &Catalog, track: &Track) -> CmdResult<Option<Source>> {
        if let Some(copy) = catalog.offline_copy(track.id)? {
            let path = catalog.offline_dir().join(&copy.file);
            if path.exists() {
                return Ok(Some(Source::path(path)));
            }
        }
        let Some(blob) = catalog.locker_blob(track.id)? else {
            return Ok(None);
        };
        let Some(client) = self.lock().client.clone() else {
            return Ok(None);
        };
        let stream = self
            .streamed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .open(&client, catalog, track.id, &blob)
            .map_err(|e| AppError::new(ErrorKind::Internal, e.to_string()))?;
        Ok(Some(Source::from_reader(
            format!("{} (locker)", track.title),
            stream,
            skylark_tags::Codec::from_name(&track.codec).extension(),
        )))
    }
}

/// How far ahead a read of a locker song's tags fetches: tags are small, and lofty seeks to
/// those at the end of a file itself.
const TAG_READ_AHEAD: u64 = 256 * 1024;

/// Where a track's lyrics may be, as the catalog knows it.
#[derive(Debug, Default)]
pub struct LyricsPlaces {
    /// Its own file on this computer (with perhaps an LRC file beside it).
    pub original: Option<PathBuf>,
    /// The LRC text a device published with it.
    pub published: Option<String>,
    /// Its offline copy.
    pub offline: Option<PathBuf>,
    /// Its locker copy.
    pub blob: Option<String>,
}

impl LyricsPlaces {
    /// Where `track`'s lyrics may be, as `catalog` knows it.
    ///
    /// # Errors
    ///
    /// The catalog cannot be read.
    pub fn of(catalog: &Catalog, track: &Track) -> skylark_catalog::Result<LyricsPlaces> {
        Ok(LyricsPlaces {
            original: track.path.clone().filter(|path| path.is_file()),
            published: catalog.published_lyrics(track.id)?,
            offline: catalog.offline_file(track.id)?,
            blob: catalog.locker_blob(track.id)?,
        })
    }
}

/// The lyrics of `track`, in the desktop's order: its own file on this computer (an LRC file
/// beside it, else its tags); else the LRC text a device published with it (from the LRC file
/// beside its file there); else the tags of its offline copy, or of its locker copy through
/// `client` over ranged requests (only the parts of the file that hold tags travel). Blocks, and
/// the client may not run on one of the app's async threads ([`off_runtime`]).
///
/// # Errors
///
/// [`ErrorKind::NotFound`] when there is no file to read (not here, and not in the locker or no
/// locker signed in); [`ErrorKind::Io`] when the file cannot be fetched or read.
pub fn song_lyrics(
    found: LyricsPlaces,
    client: Option<Client>,
    title: &str,
) -> CmdResult<Option<Lyrics>> {
    let unreadable = |e: &dyn std::error::Error| {
        AppError::new(
            ErrorKind::Io,
            format!("Cannot read the lyrics: {}", chain(e)),
        )
    };
    if let Some(file) = &found.original {
        return read_lyrics(file).map_err(|e| unreadable(&e));
    }
    if let Some(lyrics) = found.published.as_deref().and_then(lrc_lyrics) {
        return Ok(Some(lyrics));
    }
    if let Some(file) = &found.offline {
        return read_lyrics(file).map_err(|e| unreadable(&e));
    }
    let not_here = |why: &str| {
        AppError::new(
            ErrorKind::NotFound,
            format!("“{title}” has no file on this computer{why}"),
        )
    };
    let Some(blob) = found.blob else {
        return Err(not_here(
            " (its drive may be unplugged), so its lyrics cannot be read",
        ));
    };
    let Some(client) = client else {
        return Err(not_here(
            ", and no locker is signed in: sign in to read its lyrics from there",
        ));
    };
    let hash: FileHash = blob.parse().map_err(|e| unreadable(&e))?;
    let options = StreamOptions {
        read_ahead_bytes: TAG_READ_AHEAD,
        ..StreamOptions::default()
    };
    let source = client
        .open_blob(&hash, options)
        .map_err(|e| unreadable(&e))?;
    read_tag_lyrics(source, Path::new(title)).map_err(|e| unreadable(&e))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Hashes, while signed in to a locker and not uploading, the files that have no kept hashes, at
/// about half of one core (`hash_in_background`); an upload starting stops it, keeping what it
/// did, and the upload hashes the rest itself.
fn hash_loop(shared: &(Mutex<Shared>, Condvar), paths: &Paths) {
    let lock = || shared.0.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        {
            let mut guard = lock();
            while !(guard.hash_wanted && guard.client.is_some() && guard.upload_control.is_none()) {
                guard = shared.1.wait(guard).unwrap_or_else(PoisonError::into_inner);
            }
            guard.hash_wanted = false;
        }
        let mut catalog = match Catalog::open(&paths.db, &paths.covers) {
            Ok(catalog) => catalog,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the library to hash it");
                continue;
            }
        };
        let stop = || {
            let guard = lock();
            guard.upload_control.is_some() || guard.client.is_none()
        };
        match hash_in_background(&mut catalog, &stop, &std::thread::sleep) {
            Ok(report) if report.hashed > 0 || !report.failed.is_empty() => tracing::info!(
                hashed = report.hashed,
                failed = report.failed.len(),
                left = report.left,
                "hashed the library ahead of an upload"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "hashing the library failed"),
        }
    }
}

fn sync_loop(shared: &(Mutex<Shared>, Condvar), app: &AppHandle, paths: &Paths) {
    let mut catalog: Option<Catalog> = None;
    loop {
        let client = {
            let mut guard = shared.0.lock().unwrap_or_else(PoisonError::into_inner);
            while !guard.wanted {
                let (next, timeout) = shared
                    .1
                    .wait_timeout(guard, SYNC_EVERY)
                    .unwrap_or_else(PoisonError::into_inner);
                guard = next;
                if timeout.timed_out() && guard.client.is_some() {
                    guard.wanted = true;
                }
            }
            guard.wanted = false;
            let Some(client) = guard.client.clone() else {
                continue;
            };
            guard.status.syncing = true;
            client
        };
        let _ = app.emit("cloud-status", ());
        let opened = match &mut catalog {
            Some(catalog) => Ok(catalog),
            None => Catalog::open(&paths.db, &paths.covers)
                .map(|opened| catalog.insert(opened))
                .map_err(|e| e.to_string()),
        };
        // What pinned albums and playlists gained (on this device or another) is downloaded
        // once the change feed has brought it.
        let result = opened.and_then(|catalog| {
            if let Some(state) = app.try_state::<AppState>()
                && let Err(e) = state.cloud.keep_streamed(catalog)
            {
                tracing::warn!(error = %e.message, "cannot keep what was streamed");
            }
            let report = client.sync(catalog).map_err(|e| e.to_string())?;
            let downloaded = download_wanted(&client, catalog)?;
            Ok((report, downloaded))
        });
        {
            let mut guard = shared.0.lock().unwrap_or_else(PoisonError::into_inner);
            guard.status.syncing = false;
            match result {
                Ok((report, downloaded)) => {
                    let changed = report.pulled.applied.ops > 0 || downloaded > 0;
                    // After each sync (at start, after signing in, every few minutes), whatever
                    // new files the library has are hashed ahead of an upload.
                    guard.hash_wanted = true;
                    shared.1.notify_all();
                    guard.status.last_sync_ms = Some(now_ms());
                    guard.status.last_error = None;
                    guard.status.last_report = Some(report);
                    if changed {
                        let _ = app.emit("library-changed", ());
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "syncing with the locker failed");
                    guard.status.last_error = Some(e);
                }
            }
        }
        let _ = app.emit("cloud-status", ());
    }
}

/// What the UI shows of the locker.
#[tauri::command]
pub async fn cloud_status(state: State<'_, AppState>) -> CmdResult<CloudStatus> {
    let pending = state.catalog()?.pending_op_count()?;
    let mut status = state.cloud.lock().status.clone();
    status.pending_changes = pending;
    Ok(status)
}

/// Signs in to the locker at `server` as `user`, keeps the sign-in, and syncs.
#[tauri::command]
pub async fn cloud_sign_in(
    state: State<'_, AppState>,
    server: String,
    user: String,
    password: String,
) -> CmdResult<CloudStatus> {
    let device = format!("Skylark on {}", host_name());
    let signed = off_runtime(move || Client::sign_in(&server, &user, &password, &device)).await?;
    let (client, answer) = signed.map_err(|e| {
        let kind = if e.is_unauthorized() {
            ErrorKind::InvalidInput
        } else {
            ErrorKind::Io
        };
        AppError::new(kind, format!("cannot sign in: {e}"))
    })?;
    state
        .cloud
        .store
        .save(client.credentials())
        .map_err(|e| AppError::new(ErrorKind::Io, format!("cannot keep the sign-in: {e}")))?;
    {
        let mut shared = state.cloud.lock();
        shared.status = CloudStatus {
            server: Some(client.credentials().server.clone()),
            user: Some(answer.user.name.clone()),
            ..CloudStatus::default()
        };
        shared.client = Some(client);
    }
    state.cloud.sync_soon();
    cloud_status(state).await
}

/// Signs out: ends this device's session on the locker (when it can be reached) and forgets it.
#[tauri::command]
pub async fn cloud_sign_out(state: State<'_, AppState>) -> CmdResult<()> {
    let client = state.cloud.lock().client.take();
    state.cloud.lock().status = CloudStatus::default();
    if let Some(client) = client
        && let Err(e) = off_runtime(move || client.sign_out()).await?
    {
        tracing::warn!(error = %e, "the locker could not end the session");
    }
    state
        .cloud
        .store
        .clear()
        .map_err(|e| AppError::new(ErrorKind::Io, format!("cannot forget the sign-in: {e}")))
}

/// Syncs now (in the background; `cloud-status` tells when it ends).
#[tauri::command]
pub async fn cloud_sync(state: State<'_, AppState>) -> CmdResult<()> {
    if state.cloud.lock().client.is_none() {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "sign in to a locker first",
        ));
    }
    state.cloud.sync_soon();
    Ok(())
}

/// What "Upload my music" sends: everything, or the tracks under some music folders or on some
/// playlists; and how fast it may go.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UploadChoice {
    /// Only the tracks whose file is under one of these folders (none: every folder).
    #[serde(default)]
    pub folders: Vec<String>,
    /// Only the tracks on one of these playlists (none: every track).
    #[serde(default)]
    pub playlists: Vec<i64>,
    /// The most all uploads together may send, in kilobytes a second (none: no limit).
    #[serde(default)]
    pub limit_kbps: Option<u64>,
}

/// Uploads what `choice` names to the locker, in the background: scan and match, then the
/// files the locker lacks, resumably; progress comes as `cloud-status` events.
#[tauri::command]
pub async fn cloud_upload(
    app: AppHandle,
    state: State<'_, AppState>,
    choice: UploadChoice,
) -> CmdResult<()> {
    let control = TransferControl::new();
    // Always a limiter, at no limit when none is asked, so one can be set while it runs.
    let bandwidth = Bandwidth::new(choice.limit_kbps.unwrap_or(0).saturating_mul(1000));
    let client = {
        let mut shared = state.cloud.lock();
        if shared.upload_control.is_some() {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                "an upload is already running",
            ));
        }
        let Some(client) = shared.client.clone() else {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                "sign in to a locker first",
            ));
        };
        shared.upload_control = Some(control.clone());
        shared.upload_bandwidth = Some(bandwidth.clone());
        shared.status.upload = Some(UploadStatus {
            running: true,
            progress: None,
            report: None,
            error: None,
        });
        client
    };
    let shared = Arc::clone(&state.cloud.shared);
    let paths = state.paths.clone();
    let spawned = std::thread::Builder::new()
        .name("skylark-upload".to_owned())
        .spawn(move || {
            let options = LibraryUpload {
                control,
                bandwidth: Some(bandwidth),
                folders: choice.folders.iter().map(PathBuf::from).collect(),
                playlists: choice.playlists.iter().copied().map(PlaylistId).collect(),
                ..LibraryUpload::default()
            };
            let mut last_event = std::time::Instant::now();
            let result = Catalog::open(&paths.db, &paths.covers)
                .map_err(|e| e.to_string())
                .and_then(|mut catalog| {
                    client
                        .upload_library(&mut catalog, &options, &mut |progress| {
                            if let Some(upload) = shared
                                .0
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .status
                                .upload
                                .as_mut()
                            {
                                upload.progress = Some(progress);
                            }
                            if last_event.elapsed() >= Duration::from_millis(250) {
                                last_event = std::time::Instant::now();
                                let _ = app.emit("cloud-status", ());
                            }
                        })
                        .map_err(|e| e.to_string())
                });
            {
                let mut guard = shared.0.lock().unwrap_or_else(PoisonError::into_inner);
                guard.upload_control = None;
                guard.upload_bandwidth = None;
                if let Some(upload) = guard.status.upload.as_mut() {
                    upload.running = false;
                    match result {
                        Ok(report) => upload.report = Some(report),
                        Err(e) => upload.error = Some(e),
                    }
                }
            }
            let _ = app.emit("library-changed", ());
            let _ = app.emit("cloud-status", ());
        });
    if let Err(e) = spawned {
        state.cloud.lock().upload_control = None;
        return Err(AppError::new(
            ErrorKind::Internal,
            format!("cannot start uploading: {e}"),
        ));
    }
    Ok(())
}

/// Changes the running upload's limit, in kilobytes a second (none: no limit).
#[tauri::command]
pub async fn cloud_upload_limit(
    state: State<'_, AppState>,
    limit_kbps: Option<u64>,
) -> CmdResult<()> {
    if let Some(bandwidth) = &state.cloud.lock().upload_bandwidth {
        bandwidth.set_rate(limit_kbps.unwrap_or(0).saturating_mul(1000));
    }
    Ok(())
}

/// Pauses the running upload; what it has not sent stays queued for the next one.
#[tauri::command]
pub async fn cloud_upload_pause(state: State<'_, AppState>) -> CmdResult<()> {
    if let Some(control) = &state.cloud.lock().upload_control {
        control.pause();
    }
    Ok(())
}

/// What "Download for Offline" keeps: a track, or an album or playlist with every track it has,
/// now and later.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Pin {
    /// One track.
    Track(i64),
    /// An album.
    Album(i64),
    /// A playlist.
    Playlist(i64),
}

impl From<Pin> for PinTarget {
    fn from(pin: Pin) -> PinTarget {
        match pin {
            Pin::Track(id) => PinTarget::Track(TrackId(id)),
            Pin::Album(id) => PinTarget::Album(AlbumId(id)),
            Pin::Playlist(id) => PinTarget::Playlist(PlaylistId(id)),
        }
    }
}

/// Takes `tracks` out of the locker, on every device (told at the next sync, started now): a
/// track with a file on this computer stays, as a local track. Returns how many were in it.
#[tauri::command]
pub async fn cloud_remove(
    app: AppHandle,
    state: State<'_, AppState>,
    tracks: Vec<i64>,
) -> CmdResult<u64> {
    let mut removed = 0;
    {
        let mut catalog = state.catalog()?;
        for track in tracks {
            removed += u64::from(catalog.remove_from_locker(TrackId(track), SystemTime::now())?);
        }
    }
    state.cloud.sync_soon();
    let _ = app.emit("library-changed", ());
    Ok(removed)
}

/// Whether `pin` is kept for offline.
#[tauri::command]
pub async fn offline_pinned(state: State<'_, AppState>, pin: Pin) -> CmdResult<bool> {
    Ok(state.catalog()?.is_pinned(pin.into())?)
}

/// Stops keeping `pin` for offline: its copies stay as cache, until the cache needs the room.
#[tauri::command]
pub async fn offline_unpin(app: AppHandle, state: State<'_, AppState>, pin: Pin) -> CmdResult<()> {
    state.catalog()?.unpin(pin.into())?;
    let _ = app.emit("library-changed", ());
    Ok(())
}

/// Keeps `pins` on this computer: pins them for offline and downloads every pinned track that
/// has no file here and no copy yet (its bytes checked against the locker's hash). Returns how
/// many were downloaded.
#[tauri::command]
pub async fn cloud_download(
    app: AppHandle,
    state: State<'_, AppState>,
    pins: Vec<Pin>,
) -> CmdResult<u64> {
    {
        let mut catalog = state.catalog()?;
        for pin in &pins {
            catalog.pin((*pin).into(), SystemTime::now())?;
        }
    }
    let Some(client) = state.cloud.lock().client.clone() else {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "sign in to a locker first",
        ));
    };
    let paths = state.paths.clone();
    let downloaded = off_runtime(move || -> Result<u64, String> {
        let mut catalog = Catalog::open(&paths.db, &paths.covers).map_err(|e| e.to_string())?;
        download_wanted(&client, &mut catalog)
    })
    .await?
    .map_err(|e| AppError::new(ErrorKind::Io, format!("cannot download for offline: {e}")))?;
    let _ = app.emit("library-changed", ());
    Ok(downloaded)
}

/// Downloads every pinned track that has no file here and no copy yet (its bytes checked
/// against the locker's hash). Returns how many were downloaded.
fn download_wanted(client: &Client, catalog: &mut Catalog) -> Result<u64, String> {
    let wanted = catalog.downloads_wanted().map_err(|e| e.to_string())?;
    if wanted.is_empty() {
        return Ok(0);
    }
    let dir = catalog.offline_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut downloaded = 0;
    for (track, blob) in wanted {
        let hash = blob
            .parse()
            .map_err(|_| format!("track {track} names a locker copy that is not a hash"))?;
        let (file, size) = client
            .download_blob(&hash, &dir)
            .map_err(|e| e.to_string())?;
        catalog
            .record_offline_copy(track, &file, size, &blob, SystemTime::now())
            .map_err(|e| e.to_string())?;
        downloaded += 1;
    }
    Ok(downloaded)
}

/// Runs `work` (a call of the locker client, which blocks and runs its own runtime, so may not
/// run on one of the app's) on a thread of its own, and waits for it without holding up the
/// app's async workers.
pub(crate) async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> CmdResult<T> {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("skylark-locker-call".to_owned())
        .spawn(move || {
            let _ = send.send(work());
        })
        .map_err(|e| AppError::new(ErrorKind::Internal, format!("cannot start a thread: {e}")))?;
    tauri::async_runtime::spawn_blocking(move || receive.recv())
        .await
        .map_err(|e| AppError::new(ErrorKind::Internal, e.to_string()))?
        .map_err(|_| {
            AppError::new(
                ErrorKind::Internal,
                "the locker call ended without an answer",
            )
        })
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "this computer".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

    fn texts(lyrics: Option<Lyrics>) -> Vec<String> {
        lyrics
            .map(|l| l.lines.into_iter().map(|line| line.text).collect())
            .unwrap_or_default()
    }

    /// The desktop's order: the song's own file (its LRC file, else its tags), then the LRC text
    /// published with it, then its offline copy's tags; with none of them and no locker, a clear
    /// error naming the song.
    #[test]
    fn lyrics_come_from_the_nearest_place_that_has_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, lyrics: &str| {
            let path = dir.path().join(name);
            let tags = TagSpec {
                lyrics: Some(lyrics.to_owned()),
                ..TagSpec::default()
            };
            write_audio(&path, Format::Flac, &Tone::default(), &tags).unwrap();
            path
        };
        let original = file("song.flac", "From the tags");
        let offline = file("copy.flac", "From the offline copy");
        let published = Some("[00:01.00]Published along".to_owned());
        let read = |places: LyricsPlaces| texts(song_lyrics(places, None, "Song").unwrap());

        let all = || LyricsPlaces {
            original: Some(original.clone()),
            published: published.clone(),
            offline: Some(offline.clone()),
            blob: None,
        };
        assert_eq!(read(all()), ["From the tags"]);
        std::fs::write(dir.path().join("song.lrc"), "[00:02.00]Beside the file\n").unwrap();
        assert_eq!(read(all()), ["Beside the file"]);
        let elsewhere = LyricsPlaces {
            original: None,
            ..all()
        };
        assert_eq!(read(elsewhere), ["Published along"]);
        let copy_only = LyricsPlaces {
            original: None,
            published: None,
            ..all()
        };
        assert_eq!(read(copy_only), ["From the offline copy"]);

        let nowhere = song_lyrics(
            LyricsPlaces {
                blob: Some("0".repeat(64)),
                ..LyricsPlaces::default()
            },
            None,
            "Song",
        )
        .unwrap_err();
        assert!(
            nowhere
                .message
                .contains("“Song” has no file on this computer")
        );
    }
}
