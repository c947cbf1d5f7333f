//! The app's state, shared by every command: where its files are, the catalog connection the UI
//! browses with, the settings, the running scan, the folder watcher and the player.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use skylark_catalog::Catalog;
use skylark_catalog::watch::Watcher;
use tauri::{AppHandle, Emitter};

use crate::cloud::Cloud;
use crate::error::{AppError, CmdResult, ErrorKind};
use crate::playback::PlayerHost;
use crate::settings::{Settings, SettingsFile};

/// How long the watcher waits for a burst of changes to settle before it rescans.
const WATCH_DEBOUNCE: Duration = Duration::from_secs(2);

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The data folder: `$SKYLARK_DATA_DIR`, else the platform's data directory.
    pub data_dir: PathBuf,
    /// The catalog database.
    pub db: PathBuf,
    /// The cover cache.
    pub covers: PathBuf,
}

impl Paths {
    /// The same folder the `skylark` command uses, so both see one library.
    pub fn resolve() -> Result<Self, AppError> {
        let data_dir = match std::env::var_os("SKYLARK_DATA_DIR").filter(|d| !d.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => directories::ProjectDirs::from("app", "Skylark", "Skylark")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or_else(|| {
                    AppError::new(
                        ErrorKind::Io,
                        "cannot find a home folder for the library; set SKYLARK_DATA_DIR",
                    )
                })?,
        };
        std::fs::create_dir_all(&data_dir).map_err(|e| {
            AppError::new(
                ErrorKind::Io,
                format!("cannot create the data folder {}: {e}", data_dir.display()),
            )
        })?;
        Ok(Self {
            db: data_dir.join("catalog.db"),
            covers: data_dir.join("covers"),
            data_dir,
        })
    }
}

/// Everything commands share.
pub struct AppState {
    /// Where files are.
    pub paths: Paths,
    catalog: Mutex<Catalog>,
    settings: Mutex<Settings>,
    settings_file: SettingsFile,
    scan: Mutex<Option<Arc<AtomicBool>>>,
    watcher: Mutex<Option<Watcher>>,
    /// The playback engine and what it last reported.
    pub player: PlayerHost,
    /// The locker: sign-in, background sync, streams.
    pub cloud: Cloud,
}

fn poisoned(what: &str) -> AppError {
    AppError::new(
        ErrorKind::Internal,
        format!("the {what} is unavailable after an earlier failure; restart Skylark"),
    )
}

impl AppState {
    /// Opens the catalog and reads the settings in `paths`.
    pub fn open(paths: Paths, player: PlayerHost) -> Result<Self, AppError> {
        let catalog = Catalog::open(&paths.db, &paths.covers)?;
        let settings_file = SettingsFile::in_dir(&paths.data_dir);
        let settings = settings_file.load();
        let cloud = Cloud::open(&paths);
        Ok(Self {
            cloud,
            paths,
            catalog: Mutex::new(catalog),
            settings: Mutex::new(settings),
            settings_file,
            scan: Mutex::new(None),
            watcher: Mutex::new(None),
            player,
        })
    }

    /// The catalog, for one command's work.
    pub fn catalog(&self) -> CmdResult<MutexGuard<'_, Catalog>> {
        self.catalog.lock().map_err(|_| poisoned("library"))
    }

    /// A copy of the settings.
    pub fn settings(&self) -> CmdResult<Settings> {
        Ok(self
            .settings
            .lock()
            .map_err(|_| poisoned("settings"))?
            .clone())
    }

    /// Changes the settings and saves them.
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> CmdResult<()> {
        let mut settings = self.settings.lock().map_err(|_| poisoned("settings"))?;
        change(&mut settings);
        self.settings_file.save(&settings).map_err(|e| {
            AppError::new(
                ErrorKind::Io,
                format!(
                    "cannot save settings in {}: {e}",
                    self.paths.data_dir.display()
                ),
            )
        })
    }

    /// Claims the scan slot; fails when a scan is already running.
    pub fn begin_scan(&self, cancel: Arc<AtomicBool>) -> CmdResult<()> {
        let mut slot = self.scan.lock().map_err(|_| poisoned("scanner"))?;
        if slot.is_some() {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                "a scan is already running; wait for it or cancel it",
            ));
        }
        *slot = Some(cancel);
        Ok(())
    }

    /// Frees the scan slot.
    pub fn end_scan(&self) {
        *self.scan.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Whether a scan is running.
    pub fn scan_running(&self) -> bool {
        self.scan.lock().map(|s| s.is_some()).unwrap_or(false)
    }

    /// The running scan's cancel flag.
    pub fn scan_cancel(&self) -> Option<Arc<AtomicBool>> {
        self.scan.lock().ok().and_then(|s| s.clone())
    }

    /// (Re)starts watching every reachable library folder, so changes on disk reach the library
    /// without a manual rescan. Failure to watch is logged, not fatal: rescans still work.
    pub fn restart_watcher(&self, app: &AppHandle) {
        let mut slot = self.watcher.lock().unwrap_or_else(|p| p.into_inner());
        *slot = None;
        let roots: Vec<PathBuf> = match self.catalog().and_then(|c| Ok(c.roots()?)) {
            Ok(roots) => roots
                .into_iter()
                .filter(|r| r.reachable)
                .map(|r| r.path)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list folders to watch");
                return;
            }
        };
        if roots.is_empty() {
            return;
        }
        let catalog = match Catalog::open(&self.paths.db, &self.paths.covers) {
            Ok(catalog) => catalog,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the library for the watcher");
                return;
            }
        };
        let handle = app.clone();
        match Watcher::start(
            catalog,
            &roots,
            WATCH_DEBOUNCE,
            move |result| match result {
                Ok(report) => {
                    if report.added + report.updated + report.moved + report.removed > 0 {
                        let _ = handle.emit("library-changed", ());
                    }
                }
                Err(e) => tracing::warn!(error = %e, "rescan after a change failed"),
            },
        ) {
            Ok(watcher) => *slot = Some(watcher),
            Err(e) => tracing::warn!(error = %e, "cannot watch the library folders"),
        }
    }
}
