//! M3U and M3U8 playlists: import (resolving each entry to a track in the catalog) and export.
//!
//! Entries may be absolute paths, paths relative to the playlist file, `file://` URLs, or
//! Windows-style relative paths written by foobar2000 or MusicBee (with a UTF-8 byte order mark,
//! CRLF line ends and `#EXTINF` lines). `.m3u` files that are not valid UTF-8 are read as Latin-1,
//! as the original format was. A `#PLAYLIST:` line names the playlist; a library export writes
//! one, so a name that cannot be a file name ("Road / Summer") survives an export and import.

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::error::{Error, Result, io_error};
use crate::import::matching::Library;
use crate::model::PlaylistId;
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
pub(crate) fn normalize(path: &Path) -> PathBuf {
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
pub(crate) fn percent_decode(s: &str) -> Vec<u8> {
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

/// A playlist file as read.
#[derive(Debug)]
pub(crate) struct M3uFile {
    /// The name a `#PLAYLIST:` line gives, if any.
    pub name: Option<String>,
    /// The folder relative entries are resolved against: the file's own.
    pub base: PathBuf,
    /// The entries, as written, in order.
    pub entries: Vec<M3uEntry>,
}

/// One entry of a playlist file.
#[derive(Debug)]
pub(crate) struct M3uEntry {
    /// Its line number, from 1.
    pub line_no: usize,
    /// The line as written.
    pub line: Vec<u8>,
    /// The title of the `#EXTINF` line before it ("Artist - Title"), if any.
    pub title: Option<String>,
    /// The duration that `#EXTINF` line gives, in whole seconds (none for `-1`, "unknown").
    pub seconds: Option<u64>,
}

/// Reads a playlist file: entries, `#EXTINF` titles and the `#PLAYLIST` name.
pub(crate) fn read_file(file: &Path) -> Result<M3uFile> {
    let bytes = std::fs::read(file).map_err(io_error(file))?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let base = std::path::absolute(file)
        .map_err(io_error(file))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut out = M3uFile {
        name: None,
        base,
        entries: Vec::new(),
    };
    let mut title = None;
    let mut seconds = None;
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if let Some(directive) = line.strip_prefix(b"#") {
            let text = String::from_utf8_lossy(directive);
            if let Some(name) = text.strip_prefix("PLAYLIST:") {
                out.name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
            } else if let Some(info) = text.strip_prefix("EXTINF:") {
                // "#EXTINF:215,Artist - Title": the title follows the first comma. Extended
                // players put attributes between (`215 tvg-id="x",…`); the length comes first.
                let (length, text) = split_extinf(info);
                title = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
                seconds = length
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<f64>().ok())
                    .filter(|n| *n >= 0.0 && n.is_finite())
                    .map(|n| n.round() as u64);
            }
            continue;
        }
        out.entries.push(M3uEntry {
            line_no: index + 1,
            line: line.to_vec(),
            title: title.take(),
            seconds: seconds.take(),
        });
    }
    Ok(out)
}

/// An `#EXTINF` line's text (after the colon) as its length and attributes, and its title: they
/// part at the first comma outside double quotes (attribute values may hold commas).
fn split_extinf(info: &str) -> (&str, &str) {
    let mut quoted = false;
    for (at, c) in info.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => return (&info[..at], &info[at + 1..]),
            _ => {}
        }
    }
    (info, "")
}

/// An entry as the path it names, before it is joined to the playlist's folder: a `file://` URL
/// decoded, backslashes made slashes. This is the form a root remapping applies to
/// (`D:/Music/a.flac`, written by a player on another computer).
pub(crate) fn as_written(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    if let Some(rest) = text.strip_prefix("file://") {
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        let decoded = String::from_utf8_lossy(&percent_decode(rest)).into_owned();
        return strip_drive_slash(&decoded).to_owned();
    }
    text.replace('\\', "/")
}

/// `/C:/Music` (a Windows file URL's path) as `C:/Music`.
pub(crate) fn strip_drive_slash(path: &str) -> &str {
    let b = path.as_bytes();
    if b.len() >= 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':' {
        &path[1..]
    } else {
        path
    }
}

/// The candidate paths an entry line may mean, most likely first.
pub(crate) fn candidates(line: &[u8], base: &Path) -> Vec<PathBuf> {
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
    /// Imports the playlist file `file` as a new playlist named `name` (or the name its
    /// `#PLAYLIST:` line gives, or the file's name). [`Catalog::plan_m3u_import`] is the
    /// journaled import that can be undone and replaces what an earlier import of it made.
    pub fn import_m3u(
        &mut self,
        file: &Path,
        name: Option<&str>,
        now: SystemTime,
    ) -> Result<M3uImport> {
        let list = read_file(file)?;
        let library = Library::load(self.conn())?;
        let (tracks, unresolved) = crate::import::m3u::resolve_list(&library, &list);
        let name = name
            .map(str::to_owned)
            .or(list.name)
            .unwrap_or_else(|| playlist_name_of(file));
        let playlist = self.create_playlist(&name, now)?;
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
        let entries: Vec<(Option<&Path>, &crate::Track)> = items
            .iter()
            .map(|i| (i.track.path.as_deref(), &i.track))
            .collect();
        write_playlist(file, None, &entries, style)
    }
}

/// The playlist name a file stands for when it names none: its name without the extension.
pub(crate) fn playlist_name_of(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "Imported playlist".to_owned())
}

/// Writes a playlist to `file` as M3U8, with a `#PLAYLIST:` line when `name` is given: each
/// entry is the path to write for a track (`None` leaves it out: the track has no local file)
/// and the track, for its `#EXTINF` line. The file is replaced atomically.
pub(crate) fn write_playlist(
    file: &Path,
    name: Option<&str>,
    entries: &[(Option<&Path>, &crate::Track)],
    style: PathStyle,
) -> Result<M3uExport> {
    let absolute = std::path::absolute(file).map_err(io_error(file))?;
    let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut out: Vec<u8> = b"#EXTM3U\n".to_vec();
    if let Some(name) = name {
        let _ = writeln!(out, "#PLAYLIST:{}", name.replace(['\n', '\r'], " "));
    }
    let mut written = 0;
    let mut skipped = 0;
    for (path, track) in entries {
        let Some(path) = path else {
            skipped += 1;
            continue;
        };
        let shown = match style {
            PathStyle::Relative => {
                paths::relative_to(path, &dir).unwrap_or_else(|| path.to_path_buf())
            }
            PathStyle::Absolute => path.to_path_buf(),
        };
        let title = format!("{} - {}", track.artist, track.title).replace(['\n', '\r'], " ");
        let _ = writeln!(out, "#EXTINF:{},{title}", track.duration.as_secs());
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

    #[test]
    fn extinf_lines_give_the_title_and_length_of_the_entry_after_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.m3u8");
        std::fs::write(
            &file,
            "#EXTM3U\n#EXTINF:215,Björk - Jóga\na.ogg\nb.ogg\n#EXTINF:-1,Radio\nc.mp3\n\
             #EXTINF:61.6 tvg-id=\"x\" group-title=\"y, z\",A - B\nd.mp3\n#EXTINF:abc\ne.mp3\n",
        )
        .unwrap();
        let list = read_file(&file).unwrap();
        let seen: Vec<(Option<&str>, Option<u64>)> = list
            .entries
            .iter()
            .map(|e| (e.title.as_deref(), e.seconds))
            .collect();
        assert_eq!(
            seen,
            [
                (Some("Björk - Jóga"), Some(215)),
                (None, None),
                (Some("Radio"), None),
                (Some("A - B"), Some(62)),
                (None, None),
            ]
        );
    }
}
