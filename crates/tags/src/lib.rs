//! Reading one audio file: its tags, audio properties and front cover, and the two hashes that
//! identify it ([`AudioId`], [`FileHash`]).
//!
//! This crate wraps [lofty] behind a small, owned data model ([`FileInfo`]) that the catalog and the
//! locker share. It knows nothing of databases or the network. The audio id demuxes the file with
//! symphonia's format readers (see [`audio_id_path`]); nothing here decodes audio.
//!
//! **Architecture Invariant:** reading never panics into the caller. lofty is robust, but a music
//! library holds files written by every tool ever made, so each read runs under
//! [`std::panic::catch_unwind`] and a panic comes back as [`Error::Panicked`]. The same holds for
//! demuxing.
//!
//! **Architecture Invariant:** nothing here writes to a file.

mod codec;
mod error;
mod ids;
mod integrity;
mod lyrics;
mod positioned;
mod read;

pub use codec::Codec;
pub use error::{Error, Result};
pub use ids::{
    AudioId, FileHash, FileIds, ParseIdError, audio_id_path, audio_id_reader, file_hash_path,
    file_hash_reader, file_ids_path,
};
pub use lyrics::{
    LyricLine, Lyrics, LyricsSource, lrc_lyrics, read_lrc_file, read_lyrics, read_tag_lyrics,
};
pub use read::{read_bytes, read_path};

use std::time::Duration;

/// Everything Skylark reads from one audio file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    /// The textual and numeric tags. Empty fields when the file has no tag at all.
    pub tags: Tags,
    /// Stream properties: duration, rate, channels, codec.
    pub properties: AudioProperties,
    /// The embedded front cover (or, failing that, the first embedded picture).
    pub cover: Option<Picture>,
}

/// The tags Skylark catalogs. Strings are trimmed; empty strings become `None` or are dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    /// Track title.
    pub title: Option<String>,
    /// Track artists, in tag order; a multi-valued tag gives several. Taken from the field that
    /// lists them one by one (`ARTISTS`, as MusicBrainz Picard writes it) where the file has one,
    /// else from the artist field.
    pub artists: Vec<String>,
    /// The artist credit as the file shows it ("Daft Punk feat. Pharrell Williams"): the artist
    /// field, when the artists are also listed one by one and it holds one value. `None` when
    /// [`Tags::artists`] is all the file says; they are then shown joined.
    pub artist_credit: Option<String>,
    /// Album title.
    pub album: Option<String>,
    /// Album artist (the first, when the tag holds several).
    pub album_artist: Option<String>,
    /// Track number within its disc.
    pub track_no: Option<u32>,
    /// Tracks on the disc.
    pub track_total: Option<u32>,
    /// Disc number.
    pub disc_no: Option<u32>,
    /// Discs in the release.
    pub disc_total: Option<u32>,
    /// The recording or release date as written ("1997", "1997-06-16").
    pub date: Option<String>,
    /// The year taken from [`Tags::date`].
    pub year: Option<i32>,
    /// Genres, in tag order, with ID3v1 numeric genres ("(17)") resolved to names.
    pub genres: Vec<String>,
    /// The compilation flag (TCMP, cpil, COMPILATION).
    pub compilation: bool,
    /// Composers, in tag order.
    pub composers: Vec<String>,
    /// ReplayGain values.
    pub replay_gain: ReplayGain,
    /// MusicBrainz identifiers.
    pub musicbrainz: MusicBrainzIds,
    /// Explicit sort names from the tag (TSOT, TSOP, TSOA, TSO2 and their equivalents).
    pub sort: SortNames,
}

/// ReplayGain 2.0 values as tagged (gains in dB, peaks as linear sample amplitude).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReplayGain {
    /// Track gain in dB.
    pub track_gain_db: Option<f32>,
    /// Track peak, 1.0 = full scale.
    pub track_peak: Option<f32>,
    /// Album gain in dB.
    pub album_gain_db: Option<f32>,
    /// Album peak, 1.0 = full scale.
    pub album_peak: Option<f32>,
}

/// MusicBrainz identifiers (UUID strings) present in the tag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MusicBrainzIds {
    /// Recording id.
    pub recording_id: Option<String>,
    /// Release track id.
    pub track_id: Option<String>,
    /// Release (album) id.
    pub release_id: Option<String>,
    /// Release group id.
    pub release_group_id: Option<String>,
    /// Track artist id.
    pub artist_id: Option<String>,
    /// Release artist id.
    pub release_artist_id: Option<String>,
}

/// Sort names written in the tag, used instead of derived ones when present.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SortNames {
    /// Title sort order.
    pub title: Option<String>,
    /// Artist sort order.
    pub artist: Option<String>,
    /// Album sort order.
    pub album: Option<String>,
    /// Album artist sort order.
    pub album_artist: Option<String>,
}

/// Properties of the audio stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AudioProperties {
    /// Playing time.
    pub duration: Duration,
    /// Sample rate in Hz, when known.
    pub sample_rate: Option<u32>,
    /// Channel count, when known.
    pub channels: Option<u8>,
    /// Bits per sample for lossless and PCM formats.
    pub bit_depth: Option<u8>,
    /// Audio bitrate in kbit/s.
    pub bitrate_kbps: Option<u32>,
    /// The codec of the audio stream.
    pub codec: Codec,
}

/// An embedded picture.
#[derive(Clone, PartialEq, Eq)]
pub struct Picture {
    /// The MIME type the tag declares, if any ("image/jpeg").
    pub mime: Option<String>,
    /// The encoded image bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Picture")
            .field("mime", &self.mime)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// What to read: skipping pictures saves memory and time when covers are not wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Read the embedded front cover.
    pub cover: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self { cover: true }
    }
}
