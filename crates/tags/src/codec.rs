//! The codec of an audio stream, with the stable names used in the catalog and on the wire.

use serde::{Deserialize, Serialize};

/// An audio codec Skylark recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Codec {
    /// MPEG-1/2 Layer III.
    Mp3,
    /// MPEG-1/2 Layer I or II.
    Mp2,
    /// Free Lossless Audio Codec.
    Flac,
    /// Ogg Vorbis.
    Vorbis,
    /// Ogg Opus.
    Opus,
    /// Ogg Speex.
    Speex,
    /// Advanced Audio Coding (MP4 or ADTS).
    Aac,
    /// Apple Lossless.
    Alac,
    /// Uncompressed PCM (WAV, AIFF).
    Pcm,
    /// WavPack.
    WavPack,
    /// Monkey's Audio.
    Ape,
    /// Musepack.
    Musepack,
    /// A container whose codec Skylark does not know.
    Unknown,
}

impl Codec {
    /// The stable lowercase name stored in the catalog ("flac", "aac", "pcm").
    pub fn as_str(self) -> &'static str {
        match self {
            Codec::Mp3 => "mp3",
            Codec::Mp2 => "mp2",
            Codec::Flac => "flac",
            Codec::Vorbis => "vorbis",
            Codec::Opus => "opus",
            Codec::Speex => "speex",
            Codec::Aac => "aac",
            Codec::Alac => "alac",
            Codec::Pcm => "pcm",
            Codec::WavPack => "wavpack",
            Codec::Ape => "ape",
            Codec::Musepack => "musepack",
            Codec::Unknown => "unknown",
        }
    }

    /// Parses a name produced by [`Codec::as_str`]; anything else is [`Codec::Unknown`].
    pub fn from_name(name: &str) -> Codec {
        [
            Codec::Mp3,
            Codec::Mp2,
            Codec::Flac,
            Codec::Vorbis,
            Codec::Opus,
            Codec::Speex,
            Codec::Aac,
            Codec::Alac,
            Codec::Pcm,
            Codec::WavPack,
            Codec::Ape,
            Codec::Musepack,
        ]
        .into_iter()
        .find(|c| c.as_str() == name)
        .unwrap_or(Codec::Unknown)
    }

    /// The extension of the codec's usual container, as a hint for a stream with no file name
    /// (`None` where one codec has several usual containers, as PCM in WAV or AIFF).
    pub fn extension(self) -> Option<&'static str> {
        Some(match self {
            Codec::Mp3 => "mp3",
            Codec::Mp2 => "mp2",
            Codec::Flac => "flac",
            Codec::Vorbis | Codec::Speex => "ogg",
            Codec::Opus => "opus",
            Codec::Aac | Codec::Alac => "m4a",
            Codec::WavPack => "wv",
            Codec::Ape => "ape",
            Codec::Musepack => "mpc",
            Codec::Pcm | Codec::Unknown => return None,
        })
    }

    /// Whether the codec is lossless (bit depth is then meaningful).
    pub fn is_lossless(self) -> bool {
        matches!(
            self,
            Codec::Flac | Codec::Alac | Codec::Pcm | Codec::WavPack | Codec::Ape
        )
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            "mp3", "flac", "vorbis", "opus", "aac", "alac", "pcm", "wavpack", "ape",
        ] {
            assert_eq!(Codec::from_name(name).as_str(), name);
        }
        assert_eq!(Codec::from_name("zzz"), Codec::Unknown);
    }
}
