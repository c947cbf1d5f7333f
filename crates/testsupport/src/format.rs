//! The audio formats a fixture can be written in, and what each one is called on disk.

use lofty::file::FileType;
use lofty::tag::TagType;

/// An audio format Skylark reads, as the fixture generator writes it.
///
/// Container and codec together: [`Format::M4aAac`] and [`Format::M4aAlac`] share the `.m4a`
/// extension and differ only in codec, as they do in a real library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// MPEG-1 Layer III from `lame`, with its LAME/Info header; tagged with ID3v2.4.
    Mp3,
    /// FLAC from `flac`; tagged with Vorbis comments and PICTURE blocks.
    Flac,
    /// Vorbis in Ogg from `oggenc`; tagged with Vorbis comments.
    OggVorbis,
    /// Opus in Ogg from `opusenc`; tagged with Vorbis comments (OpusTags).
    Opus,
    /// AAC-LC in MP4 from ffmpeg; tagged with an iTunes-style `ilst`.
    M4aAac,
    /// Apple Lossless in MP4 from ffmpeg; tagged with an iTunes-style `ilst`.
    M4aAlac,
    /// PCM in RIFF WAVE from `sox`; tagged with an ID3v2.4 chunk.
    Wav,
    /// PCM in AIFF from `sox`; tagged with an ID3v2.4 chunk.
    Aiff,
    /// WavPack (lossless) from `wavpack`; tagged with APEv2.
    WavPack,
    /// Monkey's Audio container built by this crate (the frames are not decodable, see
    /// [`write_audio`](crate::write_audio)); tagged with APEv2.
    Ape,
}

impl Format {
    /// Every format, in declaration order, for tests that cover them all.
    pub const ALL: [Format; 10] = [
        Format::Mp3,
        Format::Flac,
        Format::OggVorbis,
        Format::Opus,
        Format::M4aAac,
        Format::M4aAlac,
        Format::Wav,
        Format::Aiff,
        Format::WavPack,
        Format::Ape,
    ];

    /// The usual file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
            Format::OggVorbis => "ogg",
            Format::Opus => "opus",
            Format::M4aAac | Format::M4aAlac => "m4a",
            Format::Wav => "wav",
            Format::Aiff => "aiff",
            Format::WavPack => "wv",
            Format::Ape => "ape",
        }
    }

    /// A short lowercase name of the codec inside the container (`"pcm"` for WAV and AIFF).
    pub fn codec_name(self) -> &'static str {
        match self {
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
            Format::OggVorbis => "vorbis",
            Format::Opus => "opus",
            Format::M4aAac => "aac",
            Format::M4aAlac => "alac",
            Format::Wav | Format::Aiff => "pcm",
            Format::WavPack => "wavpack",
            Format::Ape => "ape",
        }
    }

    /// The native tag type this crate writes for the format (lofty's primary tag type for it).
    pub fn tag_type(self) -> TagType {
        self.file_type().primary_tag_type()
    }

    /// The lofty file type a reader detects for files of this format.
    pub fn file_type(self) -> FileType {
        match self {
            Format::Mp3 => FileType::Mpeg,
            Format::Flac => FileType::Flac,
            Format::OggVorbis => FileType::Vorbis,
            Format::Opus => FileType::Opus,
            Format::M4aAac | Format::M4aAlac => FileType::Mp4,
            Format::Wav => FileType::Wav,
            Format::Aiff => FileType::Aiff,
            Format::WavPack => FileType::WavPack,
            Format::Ape => FileType::Ape,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_listed_once() {
        let mut all = Format::ALL.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), Format::ALL.len());
    }

    #[test]
    fn native_tag_types() {
        let check = |format: Format, expected: TagType| assert_eq!(format.tag_type(), expected);
        check(Format::Mp3, TagType::Id3v2);
        check(Format::Wav, TagType::Id3v2);
        check(Format::Aiff, TagType::Id3v2);
        check(Format::Flac, TagType::VorbisComments);
        check(Format::OggVorbis, TagType::VorbisComments);
        check(Format::Opus, TagType::VorbisComments);
        check(Format::M4aAac, TagType::Mp4Ilst);
        check(Format::M4aAlac, TagType::Mp4Ilst);
        check(Format::WavPack, TagType::Ape);
        check(Format::Ape, TagType::Ape);
    }
}
