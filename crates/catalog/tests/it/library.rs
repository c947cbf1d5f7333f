//! A generated music library and a catalog over it, shared by the test modules.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use skylark_catalog::{Catalog, ScanOptions, ScanReport, Track, TrackQuery, TrackSort};
use skylark_testsupport::{Format, TagSpec, Tone, cover_jpeg, cover_png, write_audio};

/// A fixed clock for tests: 2026-01-01 plus `secs`.
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600 + secs)
}

/// A temporary folder with a music root, a database and a cover cache.
pub struct Lib {
    pub dir: tempfile::TempDir,
    pub music: PathBuf,
    pub catalog: Catalog,
}

impl Lib {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("Music");
        std::fs::create_dir_all(&music).unwrap();
        let music = std::fs::canonicalize(music).unwrap();
        let catalog = Catalog::open(
            &dir.path().join("data/catalog.db"),
            &dir.path().join("data/covers"),
        )
        .unwrap();
        Self {
            dir,
            music,
            catalog,
        }
    }

    /// Writes a tagged audio file under the music root.
    pub fn add(&self, rel: &str, format: Format, tags: TagSpec) -> PathBuf {
        self.add_tone(rel, format, &Tone::default(), tags)
    }

    pub fn add_tone(&self, rel: &str, format: Format, tone: &Tone, tags: TagSpec) -> PathBuf {
        let path = self.music.join(rel);
        write_audio(&path, format, tone, &tags).unwrap();
        path
    }

    /// Makes the catalog what an older version left: runs `sql` on its database (which should
    /// set `user_version`), then opens it again, which migrates it.
    pub fn reopen_after(&mut self, sql: &str) {
        let db = self.dir.path().join("data/catalog.db");
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        self.catalog = Catalog::open(&db, &self.dir.path().join("data/covers")).unwrap();
    }

    pub fn scan(&mut self) -> ScanReport {
        self.scan_at(0)
    }

    pub fn scan_at(&mut self, secs: u64) -> ScanReport {
        let music = self.music.clone();
        self.catalog
            .scan(&[music], &ScanOptions::at(at(secs)), &|_| {})
            .unwrap()
    }

    /// Every track, by title.
    pub fn tracks(&self) -> Vec<Track> {
        let query = TrackQuery {
            sort: TrackSort::Title,
            descending: false,
            after: None,
            limit: 10_000,
            playable_offline: false,
        };
        self.catalog.tracks(&query).unwrap().tracks
    }

    pub fn track(&self, title: &str) -> Track {
        let matching: Vec<Track> = self
            .tracks()
            .into_iter()
            .filter(|t| t.title == title)
            .collect();
        assert_eq!(matching.len(), 1, "tracks titled {title:?}: {matching:#?}");
        matching.into_iter().next().unwrap()
    }
}

/// A scan's (updated, unchanged, added, removed) counts.
pub fn changes(report: &ScanReport) -> (u64, u64, u64, u64) {
    (
        report.updated,
        report.unchanged,
        report.added,
        report.removed,
    )
}

pub fn tags(title: &str, artist: &str, album: &str, track: u32) -> TagSpec {
    TagSpec {
        title: Some(title.to_owned()),
        artists: vec![artist.to_owned()],
        album: Some(album.to_owned()),
        track: Some((track, None)),
        ..TagSpec::default()
    }
}

/// The standard test library: every format, a multi-disc album, a compilation, unicode names,
/// untagged files, embedded and folder covers.
pub fn standard(lib: &Lib) {
    let beatles = |title: &str, n: u32| TagSpec {
        album_artist: Some("The Beatles".to_owned()),
        date: Some("1969-09-26".to_owned()),
        genres: vec!["Rock".to_owned()],
        cover: Some(cover_jpeg(600, 600, [200, 180, 20])),
        ..tags(title, "The Beatles", "Abbey Road", n)
    };
    lib.add(
        "The Beatles/Abbey Road/01 Come Together.mp3",
        Format::Mp3,
        beatles("Come Together", 1),
    );
    lib.add(
        "The Beatles/Abbey Road/02 Something.flac",
        Format::Flac,
        beatles("Something", 2),
    );
    lib.add(
        "The Beatles/Abbey Road/03 Maxwell.m4a",
        Format::M4aAac,
        beatles("Maxwell's Silver Hammer", 3),
    );

    let disc = |title: &str, disc: u32, n: u32| TagSpec {
        disc: Some((disc, Some(2))),
        date: Some("1997".to_owned()),
        genres: vec!["Electronic".to_owned(), "Art Pop".to_owned()],
        ..tags(title, "Björk", "Homogenic", n)
    };
    lib.add(
        "Björk/Homogenic/2-01 Jóga.ogg",
        Format::OggVorbis,
        disc("Jóga", 2, 1),
    );
    lib.add(
        "Björk/Homogenic/1-02 Hunter.opus",
        Format::Opus,
        disc("Hunter", 1, 2),
    );
    lib.add(
        "Björk/Homogenic/1-01 Bachelorette.wv",
        Format::WavPack,
        disc("Bachelorette", 1, 1),
    );
    lib.add(
        "Björk/Homogenic/2-02 Pluto.aiff",
        Format::Aiff,
        disc("Pluto", 2, 2),
    );

    let comp = |title: &str, artist: &str, n: u32| TagSpec {
        compilation: true,
        date: Some("2003".to_owned()),
        ..tags(title, artist, "Lost in Translation", n)
    };
    lib.add(
        "Compilations/Lost in Translation/01.flac",
        Format::Flac,
        comp("Intro", "Kevin Shields", 1),
    );
    lib.add(
        "Compilations/Lost in Translation/02.m4a",
        Format::M4aAlac,
        comp("Tommib", "Squarepusher", 2),
    );

    lib.add(
        "Sigur Rós/Takk/03 Hoppípolla.ape",
        Format::Ape,
        TagSpec {
            genres: vec!["Post-Rock".to_owned()],
            ..tags("Hoppípolla", "Sigur Rós", "Takk...", 3)
        },
    );
    lib.add(
        "Sigur Rós/Takk/04 Með blóðnasir.wav",
        Format::Wav,
        tags("Með blóðnasir", "Sigur Rós", "Takk...", 4),
    );

    // No tags at all, with a folder cover.
    lib.add(
        "Unsorted Tapes/03 - Lost Song.mp3",
        Format::Mp3,
        TagSpec::default(),
    );
    lib.add(
        "Unsorted Tapes/Untitled.flac",
        Format::Flac,
        TagSpec::default(),
    );
    let cover = cover_png(300, 300, [0, 0, 250]);
    std::fs::write(lib.music.join("Unsorted Tapes/Folder.png"), cover.bytes).unwrap();
}
