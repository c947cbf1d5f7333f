//! Writes a synthetic catalog for the desktop app's benchmarks: `synthetic_library DATA_DIR N`
//! makes `DATA_DIR/catalog.db` with N tracks (10 per album, pronounceable names with accents,
//! ten genres) and a settings file that skips the import wizard. The tracks have no files: the
//! benchmarks measure browsing and search, not playback. Kept when it already has N tracks.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use skylark_catalog::Catalog;
use skylark_tags::{AudioProperties, Codec, FileInfo, Tags};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn word(rng: &mut Rng) -> String {
    const SYLLABLES: [&str; 32] = [
        "ka", "lo", "mi", "ra", "sen", "to", "vel", "an", "bri", "dor", "el", "fa", "gu", "hal",
        "is", "jo", "ku", "lin", "mor", "na", "ó", "pe", "ros", "sa", "tum", "ur", "vé", "wa",
        "yo", "zor", "ëm", "fin",
    ];
    let n = 2 + rng.below(2);
    let w: String = (0..n)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect();
    let mut chars = w.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => w,
    }
}

fn name(rng: &mut Rng, max_words: usize) -> String {
    let words = 1 + rng.below(max_words);
    (0..words).map(|_| word(rng)).collect::<Vec<_>>().join(" ")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(count)) = (args.next(), args.next()) else {
        return Err("usage: synthetic_library DATA_DIR TRACKS".into());
    };
    let dir = PathBuf::from(dir);
    let count: usize = count.parse()?;
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("settings.json"),
        br#"{"wizard_done": true, "volume": 0.8}"#,
    )?;
    let mut catalog = Catalog::open(&dir.join("catalog.db"), &dir.join("covers"))?;
    if catalog.track_count()? == count as u64 {
        return Ok(());
    }
    drop(catalog);
    for file in ["catalog.db", "catalog.db-wal", "catalog.db-shm"] {
        let _ = std::fs::remove_file(dir.join(file));
    }
    catalog = Catalog::open(&dir.join("catalog.db"), &dir.join("covers"))?;

    let mut rng = Rng(0x5eed_1234_abcd);
    let artists: Vec<String> = (0..count / 40 + 1).map(|_| name(&mut rng, 2)).collect();
    let genres = [
        "Rock",
        "Jazz",
        "Electronic",
        "Folk",
        "Hip-Hop",
        "Classical",
        "Pop",
        "Metal",
        "Soul",
        "Ambient",
    ];
    let mut batch = Vec::with_capacity(10_000);
    let mut written = 0;
    let mut album_no = 0;
    while written < count {
        let artist = &artists[rng.below(artists.len())];
        let album = name(&mut rng, 3);
        let year = 1950 + rng.below(75) as i32;
        let genre = genres[rng.below(genres.len())];
        for t in 1..=10u32 {
            if written == count {
                break;
            }
            written += 1;
            batch.push(FileInfo {
                tags: Tags {
                    title: Some(name(&mut rng, 4)),
                    artists: vec![artist.clone()],
                    album: Some(format!("{album} {album_no}")),
                    album_artist: Some(artist.clone()),
                    track_no: Some(t),
                    track_total: Some(10),
                    year: Some(year),
                    genres: vec![genre.to_owned()],
                    ..Tags::default()
                },
                properties: AudioProperties {
                    duration: Duration::from_secs(120 + rng.below(300) as u64),
                    sample_rate: Some(44_100),
                    channels: Some(2),
                    bit_depth: None,
                    bitrate_kbps: Some(256),
                    codec: Codec::Aac,
                },
                cover: None,
            });
        }
        album_no += 1;
        if batch.len() >= 10_000 {
            catalog.import_metadata(&batch, SystemTime::now())?;
            batch.clear();
        }
    }
    catalog.import_metadata(&batch, SystemTime::now())?;
    Ok(())
}
