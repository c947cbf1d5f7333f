//! The catalog's row types and id newtypes, as the rest of the app sees them.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }
    };
}

id_type!(
    /// A track's row id in this catalog.
    TrackId
);
id_type!(
    /// An album's row id.
    AlbumId
);
id_type!(
    /// An artist's row id.
    ArtistId
);
id_type!(
    /// A genre's row id.
    GenreId
);
id_type!(
    /// A playlist's row id.
    PlaylistId
);
id_type!(
    /// A playlist entry's id: stable across moves, distinct for each occurrence of a track.
    PlaylistItemId
);
id_type!(
    /// A library root's row id.
    RootId
);
id_type!(
    /// An applied import's id in the import journal ([`crate::import`]).
    ImportId
);

/// Where a track can be played from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    /// At least one of its files is in a reachable root; the locker has no copy.
    Local,
    /// Only the locker has it (streamed to play): no file here, or none reachable now.
    Locker,
    /// On this disk and in the locker.
    Both,
    /// No file here (or none reachable), but an offline copy of its locker file.
    Downloaded,
    /// Nowhere it can be played from: its files are all in roots that are unreachable now (an
    /// unplugged drive), and the locker has no copy.
    Missing,
}

/// A star rating, stored as 0–100 (20 per star) so half stars and other players' scales fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Rating(u8);

impl Rating {
    /// A rating from 0 to 100.
    pub fn try_new(value: u8) -> crate::Result<Self> {
        if value > 100 {
            return Err(crate::Error::InvalidInput(format!(
                "a rating is 0 to 100, not {value}"
            )));
        }
        Ok(Self(value))
    }

    /// A rating of `stars` (0 to 5).
    pub fn from_stars(stars: u8) -> crate::Result<Self> {
        if stars > 5 {
            return Err(crate::Error::InvalidInput(format!(
                "a rating is 0 to 5 stars, not {stars}"
            )));
        }
        Ok(Self(stars * 20))
    }

    /// The value from 0 to 100.
    pub fn value(self) -> u8 {
        self.0
    }
}

/// One track of the catalog with what lists and the player need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Track {
    /// Row id.
    pub id: TrackId,
    /// Stable identifier shared with other devices once synced.
    pub uid: String,
    /// The path of its local file (the first, when there are several copies).
    #[serde(serialize_with = "crate::paths::serialize_lossy_opt")]
    pub path: Option<PathBuf>,
    /// Title.
    pub title: String,
    /// Artists for display ("A, B").
    pub artist: String,
    /// Artists, in tag order.
    pub artists: Vec<String>,
    /// Album title.
    pub album: String,
    /// Album id.
    pub album_id: AlbumId,
    /// Album artist.
    pub album_artist: String,
    /// Track number on its disc.
    pub track_no: Option<u32>,
    /// Tracks on the disc.
    pub track_total: Option<u32>,
    /// Disc number.
    pub disc_no: Option<u32>,
    /// Discs in the release.
    pub disc_total: Option<u32>,
    /// Year.
    pub year: Option<i32>,
    /// The date as tagged.
    pub date: Option<String>,
    /// Genres for display ("Rock, Pop").
    pub genre: String,
    /// Composer(s) for display.
    pub composer: Option<String>,
    /// Playing time.
    #[serde(rename = "duration_ms", serialize_with = "as_millis")]
    pub duration: Duration,
    /// Sample rate in Hz.
    pub sample_rate: Option<u32>,
    /// Channels.
    pub channels: Option<u8>,
    /// Bits per sample (lossless formats).
    pub bit_depth: Option<u8>,
    /// Bitrate in kbit/s.
    pub bitrate_kbps: Option<u32>,
    /// Codec name ("flac", "aac").
    pub codec: String,
    /// Whether a cover is known.
    pub has_cover: bool,
    /// The cover's hash in the cover cache.
    pub cover_hash: Option<String>,
    /// ReplayGain track gain in dB.
    pub rg_track_gain: Option<f32>,
    /// ReplayGain track peak.
    pub rg_track_peak: Option<f32>,
    /// ReplayGain album gain in dB.
    pub rg_album_gain: Option<f32>,
    /// ReplayGain album peak.
    pub rg_album_peak: Option<f32>,
    /// MusicBrainz recording id.
    pub mb_recording_id: Option<String>,
    /// MusicBrainz release id.
    pub mb_release_id: Option<String>,
    /// Times played.
    pub play_count: u32,
    /// When it was last played.
    #[serde(serialize_with = "as_opt_millis")]
    pub last_played: Option<SystemTime>,
    /// Rating, 0–100.
    pub rating: Option<Rating>,
    /// Marked as loved (a favourite), apart from the rating.
    pub loved: bool,
    /// When it entered the catalog (or, once imported, when the user first added it to the
    /// player the history came from).
    #[serde(serialize_with = "as_unix_millis")]
    pub added: SystemTime,
    /// Where it can be played from.
    pub availability: Availability,
}

/// An album with its summary figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Album {
    /// Row id.
    pub id: AlbumId,
    /// Title.
    pub title: String,
    /// Album artist.
    pub album_artist: String,
    /// Album artist id.
    pub album_artist_id: ArtistId,
    /// The latest year among its tracks.
    pub year: Option<i32>,
    /// Number of tracks.
    pub track_count: u32,
    /// Total playing time.
    #[serde(rename = "duration_ms", serialize_with = "as_millis")]
    pub duration: Duration,
    /// The cover hash of its first track with a cover.
    pub cover_hash: Option<String>,
    /// Whether it is a compilation.
    pub compilation: bool,
}

/// An artist with the size of their catalog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Artist {
    /// Row id.
    pub id: ArtistId,
    /// Name.
    pub name: String,
    /// Albums they are the album artist of.
    pub album_count: u32,
    /// Tracks they appear on as a track artist.
    pub track_count: u32,
}

/// A genre with its track count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Genre {
    /// Row id.
    pub id: GenreId,
    /// Name.
    pub name: String,
    /// Tracks tagged with it.
    pub track_count: u32,
}

/// Milliseconds since the Unix epoch, as stored in the database.
pub(crate) fn to_millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// The time `ms` milliseconds after the Unix epoch.
pub(crate) fn from_millis(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn as_unix_millis<S: serde::Serializer>(
    t: &SystemTime,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_i64(to_millis(*t))
}

pub(crate) fn as_opt_millis<S: serde::Serializer>(
    t: &Option<SystemTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_i64(to_millis(*t)),
        None => s.serialize_none(),
    }
}

/// A new random identifier: 128 bits as 32 lowercase hex digits.
pub(crate) fn new_uid() -> String {
    let mut bytes = [0u8; 16];
    // The OS random source failing is not something a music library can recover from sensibly;
    // fall back to hashing the time and a counter so ids stay unique within this process.
    if getrandom::fill(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = format!(
            "{:?}{}",
            SystemTime::now(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        bytes.copy_from_slice(&blake3::hash(seed.as_bytes()).as_bytes()[..16]);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}
