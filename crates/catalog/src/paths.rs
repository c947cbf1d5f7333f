//! Storing paths exactly: file names are bytes on Unix and UTF-16 on Windows, and neither has to
//! be valid Unicode. The catalog keeps them as BLOBs so a non-UTF-8 name round-trips unchanged.

use std::path::{Path, PathBuf};

/// The bytes a path is stored as.
#[cfg(unix)]
pub fn to_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

/// The path stored as `bytes`.
#[cfg(unix)]
pub fn from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

/// The bytes a path is stored as: its UTF-16 code units, little-endian.
#[cfg(windows)]
pub fn to_bytes(path: &Path) -> Vec<u8> {
    use std::os::windows::ffi::OsStrExt;
    path.as_os_str()
        .encode_wide()
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// The path stored as `bytes`.
#[cfg(windows)]
pub fn from_bytes(bytes: &[u8]) -> PathBuf {
    use std::ffi::OsString;
    use std::os::windows::ffi::OsStringExt;
    let wide: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    PathBuf::from(OsString::from_wide(&wide))
}

/// `path` made relative to the folder `base` ("../Other/x.flac"), when both are absolute and share
/// a root; used by playlist export.
pub fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
    if !path.is_absolute() || !base.is_absolute() {
        return None;
    }
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    if path.first() != base.first() {
        return None; // Another drive on Windows.
    }
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for c in &path[common..] {
        out.push(c.as_os_str());
    }
    Some(out)
}

/// Serializes a path as a string; a name that is not valid Unicode shows with replacement
/// characters (the catalog itself keeps the exact bytes). For `#[serde(serialize_with)]`.
pub fn serialize_lossy<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// [`serialize_lossy`] for an optional path.
pub fn serialize_lossy_opt<S: serde::Serializer>(
    p: &Option<PathBuf>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => serialize_lossy(p, s),
        None => s.serialize_none(),
    }
}

/// [`serialize_lossy`] for a list of paths.
pub fn serialize_lossy_vec<S: serde::Serializer>(p: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(|p| p.to_string_lossy()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let check = |path: &str, base: &str, expect: Option<&str>| {
            assert_eq!(
                relative_to(Path::new(path), Path::new(base)),
                expect.map(PathBuf::from),
                "{path} from {base}"
            );
        };
        check("/m/a/b.flac", "/m/a", Some("b.flac"));
        check("/m/a/b.flac", "/m/p", Some("../a/b.flac"));
        check("/m/a/b.flac", "/x/y", Some("../../m/a/b.flac"));
        check("m/a.flac", "/m", None);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_round_trip() {
        use std::os::unix::ffi::OsStrExt;
        let raw = b"/music/caf\xe9/\xff.flac";
        let path = Path::new(std::ffi::OsStr::from_bytes(raw));
        assert_eq!(to_bytes(path), raw);
        assert_eq!(from_bytes(raw), path);
    }
}
