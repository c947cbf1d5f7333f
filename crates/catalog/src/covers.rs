//! The cover cache: each distinct image stored once under its content hash, with thumbnails.
//!
//! Layout: `<dir>/<h0h1>/<hash>.<ext>` holds the original bytes, `<hash>-96.jpg` and
//! `<hash>-512.jpg` the thumbnails the UI shows in lists and grids. A scan only hashes a picture,
//! reads its header and writes the original; the thumbnails, which need the whole image decoded
//! and encoded again, are made afterwards ([`crate::Catalog::make_thumbnails`]), so a library is
//! browsable before its artwork is processed. Files are written to a
//! temporary name and renamed, so a killed process never leaves half an image under a real name.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use image::{DynamicImage, ImageFormat};

/// A cover in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverInfo {
    /// BLAKE3 of the original image bytes, lowercase hex.
    pub hash: String,
    /// The image's MIME type, from its content.
    pub mime: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the original in bytes.
    pub bytes: u64,
}

/// Which rendition of a cover to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverSize {
    /// The bytes as found in the file or folder.
    Original,
    /// A thumbnail at most 96 px on its longer side, for lists.
    Small,
    /// A thumbnail at most 512 px on its longer side, for grids and album pages.
    Large,
}

impl CoverSize {
    fn pixels(self) -> Option<u32> {
        match self {
            CoverSize::Original => None,
            CoverSize::Small => Some(96),
            CoverSize::Large => Some(512),
        }
    }
}

/// Folder images recognised as a cover, in order of preference.
const FOLDER_IMAGE_STEMS: [&str; 4] = ["cover", "folder", "front", "album"];
const FOLDER_IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Images larger than this are not decoded: a "cover" of hundreds of megapixels is either an error
/// or an attack, and decoding it would take unbounded memory.
const MAX_PIXELS: u64 = 64_000_000;
/// Embedded or folder images larger than this are ignored for the same reason.
const MAX_BYTES: usize = 50 * 1024 * 1024;

/// How many recently ingested pictures are kept to compare new ones against, and the size of the
/// largest kept (so they hold 16 MiB at most).
const RECENT_PICTURES: usize = 8;
const RECENT_MAX_BYTES: usize = 2 * 1024 * 1024;

/// The on-disk cover cache, safe to share between scan threads.
#[derive(Debug)]
pub struct CoverStore {
    dir: PathBuf,
    seen: Mutex<HashMap<String, Option<CoverInfo>>>,
    /// The pictures ingested last, with what each became. The tracks of an album usually embed
    /// the same picture, and a scan meets them one after another: comparing the bytes with a
    /// recent picture costs a small fraction of hashing them again.
    recent: Mutex<VecDeque<(Vec<u8>, Option<CoverInfo>)>>,
}

impl CoverStore {
    /// A store rooted at `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            seen: Mutex::new(HashMap::new()),
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// Marks covers the catalog already holds, so a rescan does not decode them again.
    pub fn remember(&self, known: impl IntoIterator<Item = CoverInfo>) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        for info in known {
            seen.insert(info.hash.clone(), Some(info));
        }
    }

    /// The path of a rendition of the cover `hash` (it exists once the cover was ingested).
    pub fn path(&self, hash: &str, size: CoverSize, mime: &str) -> PathBuf {
        let shard = self.dir.join(hash.get(..2).unwrap_or("xx"));
        match size.pixels() {
            Some(px) => shard.join(format!("{hash}-{px}.jpg")),
            None => shard.join(format!("{hash}.{}", extension_for(mime))),
        }
    }

    /// Stores the image `data` (if not stored yet) and returns its description, or `None` when the
    /// bytes are not a decodable image.
    pub fn ingest(&self, data: Vec<u8>) -> Option<CoverInfo> {
        if data.is_empty() || data.len() > MAX_BYTES {
            return None;
        }
        if let Some(known) = self.recent_match(&data) {
            return known;
        }
        let hash = blake3::hash(&data).to_hex().to_string();
        let info = match self.lookup(&hash) {
            Some(known) => known,
            None => {
                let result = self.store(&hash, &data);
                if let Err(reason) = &result {
                    tracing::warn!(%hash, %reason, "cover image ignored");
                }
                let info = result.ok();
                self.seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(hash, info.clone());
                info
            }
        };
        self.remember_recent(data, info.clone());
        info
    }

    /// What a recently ingested picture with exactly these bytes became.
    fn recent_match(&self, data: &[u8]) -> Option<Option<CoverInfo>> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent
            .iter()
            .find(|(bytes, _)| bytes.as_slice() == data)
            .map(|(_, info)| info.clone())
    }

    /// Keeps `data` among the recent pictures, forgetting the oldest beyond [`RECENT_PICTURES`].
    fn remember_recent(&self, data: Vec<u8>, info: Option<CoverInfo>) {
        if data.len() > RECENT_MAX_BYTES {
            return;
        }
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.push_front((data, info));
        recent.truncate(RECENT_PICTURES);
    }

    /// Lets go of the recent pictures' bytes (at the end of a scan).
    pub(crate) fn forget_recent(&self) {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Stores the image file at `path`.
    pub fn ingest_file(&self, path: &Path) -> Option<CoverInfo> {
        match std::fs::read(path) {
            Ok(data) => self.ingest(data),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read folder image");
                None
            }
        }
    }

    fn lookup(&self, hash: &str) -> Option<Option<CoverInfo>> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(hash)
            .cloned()
    }

    /// Checks the image's format and size from its header and writes the original. Decoding the
    /// whole image is left to [`CoverStore::make_thumbnails`], so a scan is not held up by it.
    fn store(&self, hash: &str, data: &[u8]) -> Result<CoverInfo, String> {
        let format = image::guess_format(data).map_err(|e| e.to_string())?;
        let mime = format.to_mime_type();
        let (width, height) = image::ImageReader::with_format(std::io::Cursor::new(data), format)
            .into_dimensions()
            .map_err(|e| e.to_string())?;
        if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Err(format!("{width}x{height} is not a usable cover size"));
        }
        let original = self.path(hash, CoverSize::Original, mime);
        write_atomic(&original, data).map_err(|e| e.to_string())?;
        Ok(CoverInfo {
            hash: hash.to_owned(),
            mime,
            width,
            height,
            bytes: data.len() as u64,
        })
    }

    /// Makes the 96 and 512 px renditions of a stored cover, unless they exist.
    pub fn make_thumbnails(&self, info: &CoverInfo) -> Result<(), String> {
        let small = self.path(&info.hash, CoverSize::Small, info.mime);
        let large = self.path(&info.hash, CoverSize::Large, info.mime);
        if small.exists() && large.exists() {
            return Ok(());
        }
        let original = self.path(&info.hash, CoverSize::Original, info.mime);
        let data = std::fs::read(&original).map_err(|e| format!("{}: {e}", original.display()))?;
        let format = image::guess_format(&data).map_err(|e| e.to_string())?;
        let mut reader = image::ImageReader::with_format(std::io::Cursor::new(&data), format);
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(MAX_PIXELS * 4);
        reader.limits(limits);
        let img = reader.decode().map_err(|e| e.to_string())?;
        let small_bytes = thumbnail(&img, 96).map_err(|e| e.to_string())?;
        write_atomic(&small, &small_bytes).map_err(|e| e.to_string())?;
        // A JPEG that already fits is its own large rendition: re-encoding would only lose quality.
        let large_bytes =
            if format == ImageFormat::Jpeg && img.width() <= 512 && img.height() <= 512 {
                data
            } else {
                thumbnail(&img, 512).map_err(|e| e.to_string())?
            };
        write_atomic(&large, &large_bytes).map_err(|e| e.to_string())
    }
}

/// The folder image standing in for the cover of the audio files in `dir`: one in `dir`, else,
/// when `dir` is one disc of a multi-disc album ("CD1", "Disc 2"), one in the album folder above.
pub fn folder_image_for(dir: &Path) -> Option<PathBuf> {
    folder_image(dir).or_else(|| disc_folder_parent(dir).and_then(folder_image))
}

/// The album folder above `dir` when `dir` is one disc of a multi-disc album: its name is "cd",
/// "disc" or "disk", maybe a separator, and a number, maybe followed by a title ("CD1",
/// "Disc 2", "disk_03 - Bonus").
pub fn disc_folder_parent(dir: &Path) -> Option<&Path> {
    let name = dir.file_name()?.to_str()?.to_ascii_lowercase();
    let rest = ["disc", "disk", "cd"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))?
        .trim_start_matches([' ', '_', '-', '.']);
    let after_number = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let numbered = after_number.len() < rest.len()
        && after_number
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
    numbered.then(|| dir.parent()).flatten()
}

/// The folder image in `dir` (cover, folder, front or album, as JPEG or PNG), if there is one.
pub fn folder_image(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut best: Option<(usize, PathBuf)> = None;
    for entry in entries.flatten() {
        let path = entry.path();
        let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
            continue;
        };
        let stem = stem.to_string_lossy().to_lowercase();
        let ext = ext.to_string_lossy().to_lowercase();
        if !FOLDER_IMAGE_EXTENSIONS.contains(&ext.as_str()) {
            continue;
        }
        let Some(rank) = FOLDER_IMAGE_STEMS.iter().position(|s| *s == stem) else {
            continue;
        };
        if best.as_ref().is_none_or(|(r, _)| rank < *r) && path.is_file() {
            best = Some((rank, path));
        }
    }
    best.map(|(_, p)| p)
}

fn thumbnail(img: &DynamicImage, px: u32) -> image::ImageResult<Vec<u8>> {
    let scaled = if img.width() > px || img.height() > px {
        img.thumbnail(px, px)
    } else {
        img.clone()
    };
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    DynamicImage::ImageRgb8(scaled.to_rgb8()).write_with_encoder(encoder)?;
    Ok(out)
}

fn extension_for(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" => "bmp",
        _ => "jpg",
    }
}

fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 30, 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn stores_once_with_thumbnails() {
        let dir = tempfile::tempdir().unwrap();
        let store = CoverStore::new(dir.path());
        let data = png(1000, 800);
        let info = store.ingest(data.clone()).unwrap();
        assert_eq!(
            (info.width, info.height, info.mime),
            (1000, 800, "image/png")
        );
        let original = store.path(&info.hash, CoverSize::Original, info.mime);
        assert_eq!(std::fs::read(&original).unwrap(), data);
        assert!(!store.path(&info.hash, CoverSize::Small, info.mime).exists());
        store.make_thumbnails(&info).unwrap();
        for (size, w, h) in [(CoverSize::Small, 96, 77), (CoverSize::Large, 512, 410)] {
            let thumb = image::open(store.path(&info.hash, size, info.mime)).unwrap();
            assert_eq!((thumb.width(), thumb.height()), (w, h), "{size:?}");
        }
        assert_eq!(store.ingest(data), Some(info));
    }

    #[test]
    fn recent_pictures_are_told_apart_by_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let store = CoverStore::new(dir.path());
        let first = png(40, 30);
        // The same length and header, one byte different at the end (the IEND checksum): another
        // picture as far as the cache is concerned.
        let mut second = first.clone();
        *second.last_mut().unwrap() ^= 0xff;
        let a = store.ingest(first.clone()).unwrap();
        let b = store.ingest(second.clone()).unwrap();
        assert_ne!(a.hash, b.hash);
        assert_eq!(store.ingest(first.clone()), Some(a.clone()));
        assert_eq!(store.ingest(second.clone()), Some(b.clone()));
        for (info, data) in [(&a, &first), (&b, &second)] {
            let stored = std::fs::read(store.path(&info.hash, CoverSize::Original, info.mime));
            assert_eq!(&stored.unwrap(), data);
        }
        // The cache stays small, and a scan's end empties it without forgetting what is stored.
        for side in 1..=2 * RECENT_PICTURES as u32 {
            store.ingest(png(side, side)).unwrap();
        }
        assert_eq!(store.recent.lock().unwrap().len(), RECENT_PICTURES);
        store.forget_recent();
        assert!(store.recent.lock().unwrap().is_empty());
        assert_eq!(store.ingest(first), Some(a));
    }

    #[test]
    fn a_small_jpeg_is_its_own_large_rendition() {
        let dir = tempfile::tempdir().unwrap();
        let store = CoverStore::new(dir.path());
        let img = image::RgbImage::from_pixel(300, 200, image::Rgb([9, 9, 9]));
        let mut jpeg = std::io::Cursor::new(Vec::new());
        img.write_to(&mut jpeg, ImageFormat::Jpeg).unwrap();
        let info = store.ingest(jpeg.get_ref().clone()).unwrap();
        store.make_thumbnails(&info).unwrap();
        let large = std::fs::read(store.path(&info.hash, CoverSize::Large, info.mime)).unwrap();
        assert_eq!(&large, jpeg.get_ref());
    }

    #[test]
    fn small_images_are_not_upscaled() {
        let dir = tempfile::tempdir().unwrap();
        let store = CoverStore::new(dir.path());
        let info = store.ingest(png(50, 50)).unwrap();
        store.make_thumbnails(&info).unwrap();
        let thumb = image::open(store.path(&info.hash, CoverSize::Large, info.mime)).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (50, 50));
    }

    #[test]
    fn garbage_is_not_a_cover() {
        let dir = tempfile::tempdir().unwrap();
        let store = CoverStore::new(dir.path());
        assert_eq!(store.ingest(b"not an image at all".to_vec()), None);
        assert_eq!(store.ingest(Vec::new()), None);
        // A header that promises an image whose data is cut short: stored, but no thumbnails.
        let mut truncated = png(300, 300);
        truncated.truncate(60);
        if let Some(info) = store.ingest(truncated) {
            assert!(store.make_thumbnails(&info).is_err());
        }
    }

    #[test]
    fn discs_of_an_album_take_the_album_folder_image() {
        let dir = tempfile::tempdir().unwrap();
        let album = dir.path().join("Album");
        for disc in [
            "CD1",
            "Disc 2",
            "disk_03 - Bonus",
            "cd4",
            "Extras",
            "CDs",
            "Disc 1a",
        ] {
            std::fs::create_dir_all(album.join(disc)).unwrap();
        }
        std::fs::write(album.join("folder.jpg"), b"x").unwrap();
        for disc in ["CD1", "Disc 2", "disk_03 - Bonus", "cd4"] {
            assert_eq!(disc_folder_parent(&album.join(disc)), Some(album.as_path()));
            assert_eq!(
                folder_image_for(&album.join(disc)),
                Some(album.join("folder.jpg")),
                "{disc}"
            );
        }
        for other in ["Extras", "CDs", "Disc 1a"] {
            assert_eq!(folder_image_for(&album.join(other)), None, "{other}");
        }
        // A disc folder's own image comes first.
        std::fs::write(album.join("CD1/cover.png"), b"x").unwrap();
        assert_eq!(
            folder_image_for(&album.join("CD1")),
            Some(album.join("CD1/cover.png"))
        );
    }

    #[test]
    fn folder_images_by_preference() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(folder_image(dir.path()), None);
        std::fs::write(dir.path().join("Front.JPG"), b"x").unwrap();
        assert_eq!(folder_image(dir.path()), Some(dir.path().join("Front.JPG")));
        std::fs::write(dir.path().join("cover.png"), b"x").unwrap();
        std::fs::write(dir.path().join("back.jpg"), b"x").unwrap();
        assert_eq!(folder_image(dir.path()), Some(dir.path().join("cover.png")));
    }
}
