//! Bringing a listening history in and taking everything out: the commands behind the wizard's
//! iTunes step and Settings' import and export.
//!
//! An import is two calls, as in the catalog: [`plan_import`] reads the source and keeps the
//! plan here, returning its report for the user to read (a dry run: nothing is written), and
//! [`apply_import`] writes that plan in one transaction once the user confirms. Reading a large
//! library XML, and above all an export that copies the music, take their own catalog
//! connection on a blocking thread, so browsing and playback carry on meanwhile.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use skylark_catalog::Catalog;
use skylark_catalog::ImportId;
use skylark_catalog::export::{ExportOptions, ExportReport, FetchBlob};
use skylark_catalog::import::{ImportPlan, ImportRecord, ImportReport, RootMapping, UndoReport};
use skylark_catalog::m3u::PathStyle;
use tauri::{AppHandle, Emitter, State};

use crate::error::{AppError, CmdResult, ErrorKind};
use crate::state::{AppState, Paths};

/// How often an export reports its copying progress, at most.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(150);

/// The import plan waiting for the user's confirmation, if any.
#[derive(Default)]
pub struct PendingImport(Mutex<Option<ImportPlan>>);

impl PendingImport {
    fn put(&self, plan: Option<ImportPlan>) -> CmdResult<()> {
        *self.0.lock().map_err(|_| poisoned())? = plan;
        Ok(())
    }

    fn take(&self) -> CmdResult<Option<ImportPlan>> {
        Ok(self.0.lock().map_err(|_| poisoned())?.take())
    }
}

fn poisoned() -> AppError {
    AppError::new(
        ErrorKind::Internal,
        "the pending import is unavailable after an earlier failure; plan it again",
    )
}

/// What an import reads.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportSource {
    /// An iTunes or Music library XML.
    Itunes,
    /// M3U/M3U8 playlist files.
    M3u,
    /// A `stats.jsonl` from a Skylark export.
    Stats,
}

/// A root mapping the user confirmed: locations under `from` are looked for under `to`.
#[derive(Debug, Clone, Deserialize)]
pub struct MappingInput {
    /// The folder as the source names it.
    pub from: String,
    /// The folder it is now.
    pub to: String,
}

/// The iTunes or Music library XML files found in the usual places under the home folder.
#[tauri::command]
pub async fn itunes_libraries() -> CmdResult<Vec<String>> {
    let Some(home) = directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf()) else {
        return Ok(Vec::new());
    };
    Ok(skylark_catalog::import::itunes_library_locations(&home)
        .into_iter()
        .map(|path| path.to_string_lossy().into_owned())
        .collect())
}

/// Reads `paths` as `source` and matches them to the library under `mappings`: the report of
/// what importing would do. The plan is kept until [`apply_import`] or [`discard_import`]; a
/// new plan replaces it.
#[tauri::command]
pub async fn plan_import(
    state: State<'_, AppState>,
    pending: State<'_, PendingImport>,
    source: ImportSource,
    paths: Vec<String>,
    mappings: Vec<MappingInput>,
) -> CmdResult<ImportReport> {
    let mappings = mappings
        .iter()
        .map(|m| RootMapping::try_new(&m.from, &m.to))
        .collect::<Result<Vec<_>, _>>()?;
    let files: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let Some(first) = files.first().cloned() else {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "choose a file to import",
        ));
    };
    if !matches!(source, ImportSource::M3u) && files.len() > 1 {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "an iTunes library or a stats file is imported one at a time",
        ));
    }
    let db = state.paths.clone();
    let plan = blocking(move || {
        let catalog = open(&db)?;
        let plan = match source {
            ImportSource::Itunes => catalog.plan_itunes_import(&first, &mappings)?,
            ImportSource::M3u => catalog.plan_m3u_import(&files, &mappings)?,
            ImportSource::Stats => catalog.plan_stats_import(&first, &mappings)?,
        };
        Ok(plan)
    })
    .await?;
    let report = plan.report().clone();
    pending.put(Some(plan))?;
    Ok(report)
}

/// Writes the planned import in one transaction; the report says what it changed.
#[tauri::command]
pub async fn apply_import(
    app: AppHandle,
    state: State<'_, AppState>,
    pending: State<'_, PendingImport>,
) -> CmdResult<ImportReport> {
    let Some(plan) = pending.take()? else {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "there is no import to apply: plan it first",
        ));
    };
    let report = state.catalog()?.apply_import(plan, SystemTime::now())?;
    let _ = app.emit("playlists-changed", ());
    let _ = app.emit("library-changed", ());
    Ok(report)
}

/// Forgets the planned import.
#[tauri::command]
pub async fn discard_import(pending: State<'_, PendingImport>) -> CmdResult<()> {
    pending.put(None)
}

/// Every import applied, newest first.
#[tauri::command]
pub async fn imports(state: State<'_, AppState>) -> CmdResult<Vec<ImportRecord>> {
    Ok(state.catalog()?.imports()?)
}

/// Undoes import `id` (by default the latest still in place) as a whole.
#[tauri::command]
pub async fn undo_import(
    app: AppHandle,
    state: State<'_, AppState>,
    id: Option<i64>,
) -> CmdResult<UndoReport> {
    let report = state
        .catalog()?
        .undo_import(id.map(ImportId), SystemTime::now())?;
    let _ = app.emit("playlists-changed", ());
    let _ = app.emit("library-changed", ());
    Ok(report)
}

/// An export's copying progress, as the "export-progress" event carries it.
#[derive(Debug, Clone, Copy, Serialize)]
struct ExportProgress {
    done: u64,
    total: u64,
}

/// Exports the library into `dir`: every playlist as M3U8 and every track's statistics in
/// `stats.jsonl`, with `copy` the music files too, and with `locker` (and `copy`) the songs only
/// in the locker, fetched from it. `relative` names files relative to `dir` (where they are
/// copied, or on the same drive), else by absolute path.
#[tauri::command]
pub async fn export_library(
    app: AppHandle,
    state: State<'_, AppState>,
    dir: String,
    copy: bool,
    relative: bool,
    locker: bool,
) -> CmdResult<ExportReport> {
    let client = if locker && copy {
        Some(state.cloud.client().ok_or_else(|| {
            AppError::new(
                ErrorKind::InvalidInput,
                "sign in to the locker to export the songs only there",
            )
        })?)
    } else {
        None
    };
    let db = state.paths.clone();
    let options = ExportOptions {
        style: if relative {
            PathStyle::Relative
        } else {
            PathStyle::Absolute
        },
        copy,
    };
    let work = move || -> CmdResult<ExportReport> {
        let catalog = open(&db)?;
        let last = Mutex::new(Instant::now() - PROGRESS_INTERVAL);
        let progress = |done: u64, total: u64| {
            let Ok(mut last) = last.lock() else { return };
            if done == total || last.elapsed() >= PROGRESS_INTERVAL {
                *last = Instant::now();
                let _ = app.emit("export-progress", ExportProgress { done, total });
            }
        };
        let fetch = |blob: &str, into: &Path| -> Result<PathBuf, String> {
            let Some(client) = &client else {
                return Err("not signed in to a locker".to_owned());
            };
            let hash = blob
                .parse()
                .map_err(|_| format!("{blob:?} does not name a locker copy"))?;
            let (file, _) = client
                .download_blob(&hash, into)
                .map_err(|e| e.to_string())?;
            Ok(into.join(file))
        };
        let fetch: Option<FetchBlob<'_>> = client.is_some().then_some(&fetch as FetchBlob<'_>);
        Ok(catalog.export_library(Path::new(&dir), &options, fetch, &progress)?)
    };
    if locker && copy {
        // The locker client blocks on its own runtime, which cannot run inside the app's.
        crate::cloud::off_runtime(work).await?
    } else {
        blocking(work).await
    }
}

/// A connection of its own, for work too long to hold the UI's.
fn open(paths: &Paths) -> CmdResult<Catalog> {
    Ok(Catalog::open(&paths.db, &paths.covers)?)
}

/// Runs `work` on a thread that may block.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> CmdResult<T> + Send + 'static,
) -> CmdResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| AppError::new(ErrorKind::Internal, format!("the work stopped: {e}")))?
}
