//! Following changes to the library's folders: file system events, debounced, trigger rescans of
//! just the folders that changed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::Catalog;
use crate::error::Result;
use crate::scan::{ScanOptions, ScanReport, is_audio_path};

/// Watches folders and rescans what changes until dropped.
pub struct Watcher {
    debouncer: Option<Debouncer<notify::RecommendedWatcher, RecommendedCache>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

/// Whether a changed path can affect the catalog: audio files, folders, cover images, and paths
/// that no longer exist (a deleted file or folder), outside hidden folders of the roots.
fn relevant(roots: &[PathBuf], path: &Path) -> bool {
    let Some(inside) = roots.iter().find_map(|r| path.strip_prefix(r).ok()) else {
        return false;
    };
    if inside
        .components()
        .any(|c| c.as_os_str().as_encoded_bytes().first() == Some(&b'.'))
    {
        return false;
    }
    if !path.exists() {
        return path.extension().is_none() || is_audio_path(path);
    }
    path.is_dir()
        || is_audio_path(path)
        || path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            ["jpg", "jpeg", "png"]
                .iter()
                .any(|x| x.eq_ignore_ascii_case(e))
        })
}

/// The folders to rescan for a set of changed paths under `roots`: each path's folder, without
/// folders that lie inside another one in the set.
pub fn targets_for(roots: &[PathBuf], changed: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut dirs = BTreeSet::new();
    for path in changed {
        if !relevant(roots, &path) {
            continue;
        }
        let dir = if path.is_dir() {
            path
        } else {
            match path.parent() {
                Some(p) => p.to_path_buf(),
                None => continue,
            }
        };
        dirs.insert(dir);
    }
    let all: Vec<PathBuf> = dirs.iter().cloned().collect();
    dirs.into_iter()
        .filter(|d| !all.iter().any(|o| o != d && d.starts_with(o)))
        .collect()
}

impl Watcher {
    /// Starts watching `roots` recursively. After changes settle for `debounce`, the changed
    /// folders are rescanned with `catalog`, and `on_scan` is called with the result.
    pub fn start(
        mut catalog: Catalog,
        roots: &[PathBuf],
        debounce: Duration,
        mut on_scan: impl FnMut(Result<ScanReport>) + Send + 'static,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let mut debouncer = new_debouncer(debounce, None, tx)?;
        for root in roots {
            debouncer.watch(root, RecursiveMode::Recursive)?;
        }
        let roots = roots.to_vec();
        let thread = std::thread::Builder::new()
            .name("skylark-watch".to_owned())
            .spawn(move || {
                for result in rx {
                    let events = match result {
                        Ok(events) => events,
                        Err(errors) => {
                            for e in errors {
                                tracing::warn!(error = %e, "watch error");
                            }
                            continue;
                        }
                    };
                    let targets =
                        targets_for(&roots, events.into_iter().flat_map(|e| e.event.paths));
                    if targets.is_empty() {
                        continue;
                    }
                    tracing::debug!(?targets, "rescanning changed folders");
                    let options = ScanOptions::at(SystemTime::now());
                    on_scan(catalog.scan(&targets, &options, &|_| {}));
                }
            })
            .map_err(|e| crate::Error::Io {
                path: PathBuf::new(),
                source: e,
            })?;
        Ok(Self {
            debouncer: Some(debouncer),
            thread: Some(thread),
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Dropping the debouncer closes the channel, which ends the thread after its current scan.
        drop(self.debouncer.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_folders_without_nesting() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = a.join("b");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("x.flac"), b"").unwrap();
        std::fs::write(b.join("notes.txt"), b"").unwrap();
        let roots = [dir.path().to_path_buf()];
        let targets = targets_for(
            &roots,
            [
                b.join("x.flac"),
                b.join("notes.txt"),
                a.clone(),
                dir.path().join("gone.mp3"),
                dir.path().join(".hidden/x.mp3"),
            ],
        );
        assert_eq!(targets, vec![dir.path().to_path_buf()]);
        assert_eq!(targets_for(&roots, [b.join("x.flac")]), vec![b.clone()]);
        assert!(targets_for(&roots, [b.join("notes.txt")]).is_empty());
        assert!(targets_for(&roots, [PathBuf::from("/elsewhere/x.flac")]).is_empty());
    }
}
