//! M3U and M3U8 playlists: import (resolving each entry to a track in the catalog) and export.
//!
//! Entries may be absolute paths, paths relative to the playlist file, `file://` URLs, or
//! Windows-style relative paths written by foobar2000 or MusicBee. `.m3u` files that are not valid
//! UTF-8 are read as Latin-1, as the original format was.

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::error::{DbContext, Error, Result, io_error};
use crate::model::{PlaylistId, TrackId};
use crate::{Catalog, paths};

/// How exported entries name their files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    /// Relative to the playlist file's folder, when the file is on the same drive.
    Relative,
    /// Absolute paths.
    Absolute,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct M3uImport {
    /// The playlist created.
    pub playlist: PlaylistId,
    /// Entries added.
    pub added: usize,
    /// Entries that matched no track in the catalog, as written in the file.
    pub unresolved: Vec<String>,
}

/// The outcome of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct M3uExport {
    /// Entries written.
    pub written: usize,
    /// Entries left out because the track has no local file.
    pub skipped: usize,
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Decodes `%XX` escapes.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The candidate paths an entry line may mean, most likely first.
fn candidates(line: &[u8], base: &Path) -> Vec<PathBuf> {
    let text = String::from_utf8_lossy(line);
    if let Some(rest) = text.strip_prefix("file://") {
        // file:///music/a.flac or file://localhost/music/a.flac
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        return vec![paths::from_bytes(&percent_decode(rest))];
    }
    let mut raw = vec![line.to_vec()];
    if std::str::from_utf8(line).is_err() {
        // Latin-1, as .m3u files were before M3U8.
        raw.push(
            line.iter()
                .map(|&b| char::from(b))
                .collect::<String>()
                .into_bytes(),
        );
    }
    if line.contains(&b'\\') {
        raw.push(
            line.iter()
                .map(|&b| if b == b'\\' { b'/' } else { b })
                .collect(),
        );
    }
    raw.into_iter()
        .map(|r| {
            let p = paths::from_bytes(&r);
            normalize(&if p.is_absolute() { p } else { base.join(p) })
        })
        .collect()
}

impl Catalog {
    fn track_at(&self, path: &Path) -> Result<Option<TrackId>> {
        self.conn()
            .query_row(
                "SELECT track_id FROM files WHERE path = ?1",
                [paths::to_bytes(path)],
                |r| r.get(0).map(TrackId),
            )
            .optional()
            .ctx("looking up a file")
    }

    fn resolve_entry(&self, line: &[u8], base: &Path) -> Result<Option<TrackId>> {
        for candidate in candidates(line, base) {
            if let Some(id) = self.track_at(&candidate)? {
                return Ok(Some(id));
            }
            if let Ok(canonical) = std::fs::canonicalize(&candidate)
                && let Some(id) = self.track_at(&canonical)?
            {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Imports the playlist file `file` as a new playlist named `name` (or the file's name).
    pub fn import_m3u(
        &mut self,
        file: &Path,
        name: Option<&str>,
        now: SystemTime,
    ) -> Result<M3uImport> {
        let bytes = std::fs::read(file).map_err(io_error(file))?;
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
        let base = std::path::absolute(file)
            .map_err(io_error(file))?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut tracks = Vec::new();
        let mut unresolved = Vec::new();
        for line in bytes.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = line.trim_ascii();
            if line.is_empty() || line.starts_with(b"#") {
                continue;
            }
            match self.resolve_entry(line, &base)? {
                Some(id) => tracks.push(id),
                None => unresolved.push(String::from_utf8_lossy(line).into_owned()),
            }
        }
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "Imported playlist".to_owned());
        let playlist = self.create_playlist(name.unwrap_or(&stem), now)?;
        self.add_to_playlist(playlist, &tracks, None, now)?;
        Ok(M3uImport {
            playlist,
            added: tracks.len(),
            unresolved,
        })
    }

    /// Writes playlist `id` to `file` as extended M3U in UTF-8 (M3U8).
    pub fn export_m3u(&self, id: PlaylistId, file: &Path, style: PathStyle) -> Result<M3uExport> {
        let items = self.playlist_items(id)?;
        let absolute = std::path::absolute(file).map_err(io_error(file))?;
        let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut out: Vec<u8> = b"#EXTM3U\n".to_vec();
        let mut written = 0;
        let mut skipped = 0;
        for item in items {
            let Some(path) = &item.track.path else {
                skipped += 1;
                continue;
            };
            let shown = match style {
                PathStyle::Relative => {
                    paths::relative_to(path, &dir).unwrap_or_else(|| path.clone())
                }
                PathStyle::Absolute => path.clone(),
            };
            let title =
                format!("{} - {}", item.track.artist, item.track.title).replace(['\n', '\r'], " ");
            let _ = writeln!(out, "#EXTINF:{},{title}", item.track.duration.as_secs());
            out.extend_from_slice(&paths::to_bytes(&shown));
            out.push(b'\n');
            written += 1;
        }
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io_error(&dir))?;
        tmp.write_all(&out).map_err(io_error(file))?;
        tmp.persist(&absolute).map_err(|e| Error::Io {
            path: absolute.clone(),
            source: e.error,
        })?;
        Ok(M3uExport { written, skipped })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_candidates() {
        let base = Path::new("/lists");
        let check = |line: &[u8], expect: &str| {
            assert_eq!(
                candidates(line, base)[0],
                PathBuf::from(expect),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        };
        check(b"/music/a.flac", "/music/a.flac");
        check(b"../music/./a.flac", "/music/a.flac");
        check(
            b"file:///music/Sigur%20R%C3%B3s/a.flac",
            "/music/Sigur Rós/a.flac",
        );
        check(b"file://localhost/music/a.flac", "/music/a.flac");
        assert_eq!(
            candidates(b"..\\music\\a.flac", base).last().unwrap(),
            &PathBuf::from("/music/a.flac")
        );
        assert_eq!(
            candidates(b"/music/caf\xe9.mp3", base)[1],
            PathBuf::from("/music/café.mp3")
        );
    }
}
