//! What a fixture's tag says ([`TagSpec`]), and writing it into a file with lofty as the format's
//! native tag type.
//!
//! Most formats go through lofty's generic [`Tag`], which already writes multi-valued items the
//! native way (separate Vorbis comment fields; one ID3v2.4 text frame with NUL-separated values).
//! Two do not, so they are converted to their concrete tag first:
//!
//! - MP4: the generic path writes one `©ART` atom *per artist*; readers that look at the first
//!   atom only would lose the rest. [`Ilst::insert`] merges them into one atom with several
//!   `data` children, which is how iTunes-style multi-values are stored.
//! - APEv2: the generic path writes one item per value with the same key (APEv2 keys are meant
//!   to be unique) and drops pictures. [`ApeTag`]'s conversion joins values with NUL, as the
//!   APEv2 spec says, and stores the cover as a `Cover Art (Front)` binary item.

use crate::Cover;

use lofty::ape::ApeTag;
use lofty::config::WriteOptions;
use lofty::mp4::{Atom, AtomData, AtomIdent, Ilst};
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::probe::Probe;
use lofty::tag::{ItemKey, ItemValue, Tag, TagExt, TagItem, TagType};

use std::io;
use std::path::Path;

/// Tags to write with lofty after encoding (all optional).
///
/// Each field maps to the standard key of the native tag type; the mapping is lofty's
/// (see [`ItemKey`]), so what a test writes is what a lofty-based reader reads back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TagSpec {
    /// The track title.
    pub title: Option<String>,
    /// Track artists, written as separate values of one multi-valued field: the artist field, or
    /// the artists field (`ARTISTS`) when [`TagSpec::artist_credit`] is given.
    pub artists: Vec<String>,
    /// The artist credit as printed ("A feat. B"), written as the artist field with the artists
    /// listed apart in the `ARTISTS` field (ID3v2 `TXXX:ARTISTS`, MP4
    /// `----:com.apple.iTunes:ARTISTS`, Vorbis and APE `ARTISTS`), as MusicBrainz Picard does.
    pub artist_credit: Option<String>,
    /// The album title.
    pub album: Option<String>,
    /// The album artist.
    pub album_artist: Option<String>,
    /// Track number and optional track total.
    pub track: Option<(u32, Option<u32>)>,
    /// Disc number and optional disc total.
    pub disc: Option<(u32, Option<u32>)>,
    /// The recording date, as `"1997"` or `"1997-06-16"` (ID3v2 `TDRC`, Vorbis `DATE`, MP4
    /// `©day`, APE `Year`).
    pub date: Option<String>,
    /// Genres, written as separate values of one multi-valued field.
    pub genres: Vec<String>,
    /// Marks the track as part of a compilation: ID3v2 `TCMP=1`, MP4 `cpil`, Vorbis
    /// `COMPILATION=1`, APE `Compilation=1`. `false` writes nothing.
    pub compilation: bool,
    /// The composer.
    pub composer: Option<String>,
    /// ReplayGain values, written as the standard `REPLAYGAIN_*` keys.
    pub replaygain: Option<ReplayGainSpec>,
    /// Opus loudness gains (track, album) in Q7.8 dB to -23 LUFS, written as Vorbis comments
    /// `R128_TRACK_GAIN` and `R128_ALBUM_GAIN` (RFC 7845 §5.2.1); other tag types cannot hold them.
    pub r128_gains: Option<(i16, i16)>,
    /// iTunes Sound Check, the text of an `iTunNORM` value (ten hexadecimal words), written as an
    /// ID3v2 `COMM` frame described `iTunNORM` or an MP4 `----:com.apple.iTunes:iTunNORM` atom, as
    /// iTunes writes it; other tag types cannot hold it.
    pub sound_check: Option<String>,
    /// Unsynchronised lyrics (which may be LRC text): ID3v2 `USLT`, Vorbis `LYRICS`, MP4 `©lyr`,
    /// APE `Lyrics`.
    pub lyrics: Option<String>,
    /// The MusicBrainz recording id: ID3v2 `UFID` owned by `http://musicbrainz.org`, Vorbis and
    /// APE `MUSICBRAINZ_TRACKID`, MP4 `----:com.apple.iTunes:MusicBrainz Track Id`.
    pub musicbrainz_recording_id: Option<String>,
    /// The MusicBrainz release id: ID3v2 `TXXX:MusicBrainz Album Id`, Vorbis and APE
    /// `MUSICBRAINZ_ALBUMID`, MP4 `----:com.apple.iTunes:MusicBrainz Album Id`.
    pub musicbrainz_release_id: Option<String>,
    /// An embedded front cover.
    pub cover: Option<Cover>,
}

/// ReplayGain values, written as `REPLAYGAIN_TRACK_GAIN`, `REPLAYGAIN_TRACK_PEAK`,
/// `REPLAYGAIN_ALBUM_GAIN` and `REPLAYGAIN_ALBUM_PEAK` (ID3v2 `TXXX`, MP4
/// `----:com.apple.iTunes:replaygain_*`).
///
/// Gains are written as text with two decimals and a unit (`"-6.50 dB"`), peaks with six
/// decimals (`"0.988547"`), the way ReplayGain scanners write them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplayGainSpec {
    /// Track gain in dB.
    pub track_gain_db: f64,
    /// Track peak as a linear sample value (1.0 is full scale).
    pub track_peak: f64,
    /// Album gain in dB.
    pub album_gain_db: f64,
    /// Album peak as a linear sample value.
    pub album_peak: f64,
}

impl TagSpec {
    /// Whether the spec asks for no tag at all.
    pub(crate) fn is_empty(&self) -> bool {
        *self == TagSpec::default()
    }
}

/// Writes tags only, replacing the file's existing primary tag (lofty's primary tag type for the
/// detected format) as a whole; used to retag an existing file in rescan tests.
///
/// Fields left empty in `tags` are absent afterwards, and an empty spec removes the primary tag.
/// Other tag types in the file (an ID3v1 tag in an MP3, say) are left alone.
///
/// # Errors
///
/// The file cannot be read, its format is not recognised, or the tag cannot be written.
pub fn write_tags(path: &Path, tags: &TagSpec) -> io::Result<()> {
    let file_type = Probe::open(path)
        .map_err(|e| lofty_error(path, "opening", e))?
        .guess_file_type()?
        .file_type()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not an audio format lofty knows", path.display()),
            )
        })?;
    write_tag_as(path, file_type.primary_tag_type(), tags)
}

/// Replaces the `tag_type` tag of the file at `path` with one saying `spec`.
pub(crate) fn write_tag_as(path: &Path, tag_type: TagType, spec: &TagSpec) -> io::Result<()> {
    let options = WriteOptions::default();
    let saved = if spec.is_empty() {
        tag_type.remove_from_path(path, options)
    } else {
        let tag = generic_tag(tag_type, spec)?;
        match tag_type {
            TagType::Mp4Ilst => {
                let mut ilst = Ilst::default();
                for atom in Ilst::from(tag) {
                    ilst.insert(atom);
                }
                if let Some(text) = &spec.sound_check {
                    // lofty's generic tag has no key for it: a freeform atom of the concrete tag.
                    ilst.insert(Atom::new(
                        AtomIdent::Freeform {
                            mean: "com.apple.iTunes".into(),
                            name: "iTunNORM".into(),
                        },
                        AtomData::UTF8(text.clone()),
                    ));
                }
                ilst.save_to_path(path, options)
            }
            TagType::Ape => ApeTag::from(tag).save_to_path(path, options),
            _ => tag.save_to_path(path, options),
        }
    };
    saved.map_err(|e| lofty_error(path, "writing tags to", e))
}

/// Builds the lofty tag for `spec`, failing if `tag_type` cannot store one of its fields.
fn generic_tag(tag_type: TagType, spec: &TagSpec) -> io::Result<Tag> {
    let mut items: Vec<(ItemKey, String)> = Vec::new();
    let mut one = |key: ItemKey, value: &Option<String>| {
        if let Some(value) = value {
            items.push((key, value.clone()));
        }
    };
    one(ItemKey::TrackTitle, &spec.title);
    one(ItemKey::AlbumTitle, &spec.album);
    one(ItemKey::AlbumArtist, &spec.album_artist);
    one(ItemKey::RecordingDate, &spec.date);
    one(ItemKey::Composer, &spec.composer);
    one(
        ItemKey::MusicBrainzRecordingId,
        &spec.musicbrainz_recording_id,
    );
    one(ItemKey::MusicBrainzReleaseId, &spec.musicbrainz_release_id);
    let artists_key = if spec.artist_credit.is_some() {
        ItemKey::TrackArtists
    } else {
        ItemKey::TrackArtist
    };
    one(ItemKey::TrackArtist, &spec.artist_credit);
    for artist in &spec.artists {
        items.push((artists_key, artist.clone()));
    }
    for genre in &spec.genres {
        items.push((ItemKey::Genre, genre.clone()));
    }
    let mut pair = |number_key, total_key, pair: Option<(u32, Option<u32>)>| {
        if let Some((number, total)) = pair {
            items.push((number_key, number.to_string()));
            if let Some(total) = total {
                items.push((total_key, total.to_string()));
            }
        }
    };
    pair(ItemKey::TrackNumber, ItemKey::TrackTotal, spec.track);
    pair(ItemKey::DiscNumber, ItemKey::DiscTotal, spec.disc);
    if spec.compilation {
        items.push((ItemKey::FlagCompilation, "1".to_owned()));
    }
    if let Some(rg) = spec.replaygain {
        let gain = |db: f64| format!("{db:.2} dB");
        let peak = |linear: f64| format!("{linear:.6}");
        items.push((ItemKey::ReplayGainTrackGain, gain(rg.track_gain_db)));
        items.push((ItemKey::ReplayGainTrackPeak, peak(rg.track_peak)));
        items.push((ItemKey::ReplayGainAlbumGain, gain(rg.album_gain_db)));
        items.push((ItemKey::ReplayGainAlbumPeak, peak(rg.album_peak)));
    }

    if let Some(lyrics) = &spec.lyrics {
        // lofty stores ID3v2 lyrics only as `USLT`, its "unsynchronised" key.
        let key = if tag_type == TagType::Id3v2 {
            ItemKey::UnsyncLyrics
        } else {
            ItemKey::Lyrics
        };
        items.push((key, lyrics.clone()));
    }
    if let Some((track, album)) = spec.r128_gains {
        items.push((ItemKey::R128TrackGain, track.to_string()));
        items.push((ItemKey::R128AlbumGain, album.to_string()));
    }

    let mut tag = Tag::new(tag_type);
    match (&spec.sound_check, tag_type) {
        (Some(text), TagType::Id3v2) => {
            let mut item = TagItem::new(ItemKey::Comment, ItemValue::Text(text.clone()));
            item.set_lang(*b"eng");
            item.set_description("iTunNORM".to_owned());
            tag.push(item);
        }
        // Written with the concrete tag in `write_tag_as`.
        (Some(_), TagType::Mp4Ilst) | (None, _) => {}
        (Some(_), other) => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("iTunes Sound Check goes in ID3v2 or MP4 tags, not {other:?}"),
            ));
        }
    }
    for (key, value) in items {
        if !tag.push(TagItem::new(key, ItemValue::Text(value))) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("lofty cannot store {key:?} in a {tag_type:?} tag"),
            ));
        }
    }
    if let Some(cover) = &spec.cover {
        tag.push_picture(
            Picture::unchecked(cover.bytes.clone())
                .pic_type(PictureType::CoverFront)
                .mime_type(MimeType::from_str(cover.mime))
                .build(),
        );
    }
    Ok(tag)
}

fn lofty_error(path: &Path, doing: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{doing} {}: {e}", path.display()))
}
