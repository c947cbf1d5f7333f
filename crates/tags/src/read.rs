//! Reading a file or byte buffer into a [`FileInfo`], and mapping lofty's generic tag to [`Tags`].

use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use lofty::ape::{APE_PICTURE_TYPES, ApeFile, ApeTag};
use lofty::config::ParseOptions;
use lofty::file::{AudioFile, FileType, TaggedFile};
use lofty::mp4::{AtomData, AtomIdent, Mp4Codec, Mp4File};
use lofty::mpeg::Layer;
use lofty::mpeg::MpegFile;
use lofty::picture::PictureType;
use lofty::prelude::*;
use lofty::probe::Probe;
use lofty::tag::{ItemValue, Tag};
use lofty::wavpack::WavPackFile;

use crate::integrity;
use crate::positioned::{PositionedFile, TAG_BUFFER};
use crate::{
    AudioProperties, Codec, Error, FileInfo, MusicBrainzIds, Picture, ReadOptions, ReplayGain,
    Result, SortNames, Tags,
};

/// Reads the tags, properties and (optionally) the front cover of the file at `path`.
///
/// The format is detected from the content, falling back to the extension, so a FLAC file named
/// `.mp3` reads as FLAC. Truncated files are reported as [`Error::Corrupt`].
pub fn read_path(path: &Path, options: ReadOptions) -> Result<FileInfo> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let len = file
        .metadata()
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    let hint = FileType::from_path(path);
    // Read at positions: lofty and the truncation check seek some thirty times per file, and
    // each seek of a `BufReader<File>` is a system call that also drops what was buffered.
    let reader = PositionedFile::new(file, len, TAG_BUFFER, false);
    read_guarded(reader, len, hint, path, options)
}

/// Reads an in-memory file (an upload, say). `name_hint` is a file name whose extension helps
/// detection when the content is ambiguous.
pub fn read_bytes(bytes: &[u8], name_hint: Option<&str>, options: ReadOptions) -> Result<FileInfo> {
    let hint = name_hint.and_then(|n| FileType::from_path(Path::new(n)));
    let path = PathBuf::from(name_hint.unwrap_or_default());
    read_guarded(Cursor::new(bytes), bytes.len() as u64, hint, &path, options)
}

fn read_guarded<R: Read + Seek>(
    reader: R,
    len: u64,
    hint: Option<FileType>,
    path: &Path,
    options: ReadOptions,
) -> Result<FileInfo> {
    if len == 0 {
        return Err(Error::Empty {
            path: path.to_owned(),
        });
    }
    // lofty is not expected to panic, but a library scan must survive a file that makes it.
    catch_unwind(AssertUnwindSafe(|| {
        read_inner(reader, len, hint, path, options)
    }))
    .unwrap_or_else(|_| {
        Err(Error::Panicked {
            path: path.to_owned(),
        })
    })
}

fn read_inner<R: Read + Seek>(
    reader: R,
    len: u64,
    hint: Option<FileType>,
    path: &Path,
    options: ReadOptions,
) -> Result<FileInfo> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let corrupt = |e: lofty::error::FileParseError| lofty_error(path, e);
    let parse_options = ParseOptions::new().read_cover_art(options.cover);

    let mut probe = Probe::new(reader).options(parse_options);
    if let Some(hint) = hint {
        probe = probe.set_file_type(hint);
    }
    let probe = probe.guess_file_type().map_err(io)?;
    let Some(file_type) = probe.file_type() else {
        return Err(Error::NotAudio {
            path: path.to_owned(),
        });
    };
    let mut reader = probe.into_inner();
    reader.rewind().map_err(io)?;

    // lofty's generic tag has no key for APEv2 pictures, so APE and WavPack covers are read from
    // the format's own tag.
    let mut ape_picture = None;
    // lofty's generic tag drops MP4 freeform atoms it has no key for, iTunes' Sound Check among
    // them, so it is read from the concrete tag.
    let mut mp4_sound_check = None;
    let (tagged, codec) = match file_type {
        FileType::Ape if options.cover => {
            let ape = ApeFile::read_from(&mut reader, parse_options).map_err(corrupt)?;
            ape_picture = ape.ape().and_then(ape_cover);
            (TaggedFile::from(ape), Codec::Ape)
        }
        FileType::WavPack if options.cover => {
            let wv = WavPackFile::read_from(&mut reader, parse_options).map_err(corrupt)?;
            ape_picture = wv.ape().and_then(ape_cover);
            (TaggedFile::from(wv), Codec::WavPack)
        }
        FileType::Mp4 => {
            let mp4 = Mp4File::read_from(&mut reader, parse_options).map_err(corrupt)?;
            let codec = match mp4.properties().codec() {
                Some(Mp4Codec::AAC) => Codec::Aac,
                Some(Mp4Codec::ALAC) => Codec::Alac,
                Some(Mp4Codec::MP3) => Codec::Mp3,
                Some(Mp4Codec::FLAC) => Codec::Flac,
                _ => Codec::Unknown,
            };
            mp4_sound_check = mp4.ilst().and_then(|ilst| {
                ilst.get(&AtomIdent::Freeform {
                    mean: "com.apple.iTunes".into(),
                    name: "iTunNORM".into(),
                })
                .and_then(|atom| {
                    atom.data().find_map(|data| match data {
                        AtomData::UTF8(text) | AtomData::UTF16(text) => Some(text.clone()),
                        _ => None,
                    })
                })
            });
            (TaggedFile::from(mp4), codec)
        }
        FileType::Mpeg => {
            let mpeg = MpegFile::read_from(&mut reader, parse_options).map_err(corrupt)?;
            let codec = match mpeg.properties().layer() {
                Layer::Layer3 => Codec::Mp3,
                _ => Codec::Mp2,
            };
            (TaggedFile::from(mpeg), codec)
        }
        other => {
            let tagged = Probe::with_file_type(&mut reader, other)
                .options(parse_options)
                .read()
                .map_err(corrupt)?;
            (tagged, codec_of(other))
        }
    };

    reader.rewind().map_err(io)?;
    integrity::check(&mut reader, file_type, len).map_err(|problem| match problem {
        integrity::Problem::Io(source) => io(source),
        integrity::Problem::NotAudio => Error::NotAudio {
            path: path.to_owned(),
        },
        integrity::Problem::Truncated(message) => Error::Corrupt {
            path: path.to_owned(),
            message,
        },
    })?;

    let props = tagged.properties();
    let properties = AudioProperties {
        duration: props.duration(),
        sample_rate: props.sample_rate().filter(|&r| r > 0),
        channels: props.channels().filter(|&c| c > 0),
        bit_depth: props.bit_depth().filter(|&b| b > 0 && codec.is_lossless()),
        bitrate_kbps: props
            .audio_bitrate()
            .or(props.overall_bitrate())
            .filter(|&b| b > 0),
        codec,
    };
    if properties.sample_rate.is_none() && properties.duration.is_zero() {
        return Err(Error::Corrupt {
            path: path.to_owned(),
            message: "no audio stream found".to_owned(),
        });
    }

    let ordered = ordered_tags(&tagged);
    let mut tags = tags_from(&ordered);
    if tags.replay_gain.track_gain_db.is_none() {
        let text = mp4_sound_check.or_else(|| comment_sound_check(&ordered));
        if let Some((gain, peak)) = text.as_deref().and_then(sound_check) {
            tags.replay_gain.track_gain_db = Some(gain);
            tags.replay_gain.track_peak = tags.replay_gain.track_peak.or(peak);
        }
    }
    let cover = if options.cover {
        cover_from(&ordered).or(ape_picture)
    } else {
        None
    };
    Ok(FileInfo {
        tags,
        properties,
        cover,
    })
}

pub(crate) fn lofty_error(path: &Path, e: lofty::error::FileParseError) -> Error {
    if e.is_unknown_format() {
        return Error::NotAudio {
            path: path.to_owned(),
        };
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() != std::io::ErrorKind::UnexpectedEof
        {
            return Error::Io {
                path: path.to_owned(),
                source: std::io::Error::new(io.kind(), io.to_string()),
            };
        }
        source = s.source();
    }
    Error::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

fn codec_of(file_type: FileType) -> Codec {
    match file_type {
        FileType::Flac => Codec::Flac,
        FileType::Vorbis => Codec::Vorbis,
        FileType::Opus => Codec::Opus,
        FileType::Speex => Codec::Speex,
        FileType::Aac => Codec::Aac,
        FileType::Wav | FileType::Aiff => Codec::Pcm,
        FileType::WavPack => Codec::WavPack,
        FileType::Ape => Codec::Ape,
        FileType::Mpc => Codec::Musepack,
        FileType::Mpeg => Codec::Mp3,
        _ => Codec::Unknown,
    }
}

/// The file's tags, primary first: fields missing from the primary tag are taken from the others
/// (an MP3 may carry ID3v2, APE and ID3v1 at once).
fn ordered_tags(tagged: &TaggedFile) -> Vec<&Tag> {
    let primary = tagged.primary_tag_type();
    let mut tags: Vec<&Tag> = tagged.tags().iter().collect();
    tags.sort_by_key(|t| t.tag_type() != primary);
    tags
}

fn first_string(tags: &[&Tag], key: ItemKey) -> Option<String> {
    tags.iter().find_map(|t| t.get_strings(key).find_map(clean))
}

/// All values of `key` from the first tag that has any, with NUL-separated values split (ID3v2.4
/// stores multiple values in one frame separated by NUL).
fn all_strings(tags: &[&Tag], key: ItemKey) -> Vec<String> {
    for tag in tags {
        let values: Vec<String> = tag
            .get_strings(key)
            .flat_map(|s| s.split('\0'))
            .filter_map(clean)
            .collect();
        if !values.is_empty() {
            return dedup(values);
        }
    }
    Vec::new()
}

fn dedup(values: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        if !out.iter().any(|o| o == &v) {
            out.push(v);
        }
    }
    out
}

fn clean(s: &str) -> Option<String> {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!t.is_empty()).then(|| t.to_owned())
}

fn first_number(tags: &[&Tag], get: impl Fn(&Tag) -> Option<u32>) -> Option<u32> {
    tags.iter().find_map(|t| get(t)).filter(|&n| n > 0)
}

fn tags_from(tags: &[&Tag]) -> Tags {
    let listed = all_strings(tags, ItemKey::TrackArtists);
    let mut credited = all_strings(tags, ItemKey::TrackArtist);
    let (artists, artist_credit) = if listed.is_empty() {
        (credited, None)
    } else {
        let credit = (credited.len() == 1).then(|| credited.remove(0));
        let listed = match (listed.as_slice(), &credit) {
            ([one], Some(credit)) => split_slash_joined(one, credit),
            _ => listed,
        };
        (listed, credit)
    };
    let date = first_string(tags, ItemKey::RecordingDate)
        .or_else(|| first_string(tags, ItemKey::Year))
        .or_else(|| first_string(tags, ItemKey::ReleaseDate))
        .or_else(|| first_string(tags, ItemKey::OriginalReleaseDate));
    let year = date.as_deref().and_then(year_of);
    // One value may hold several genres joined with ";" (foobar2000, MusicBee and Mp3tag write
    // them so where a format holds one value): "Rock; Pop" is two. A "/" is not split: it is part
    // of names such as iTunes' "Hip-Hop/Rap".
    let genres = dedup(
        all_strings(tags, ItemKey::Genre)
            .iter()
            .flat_map(|g| g.split(';'))
            .filter_map(clean)
            .map(|g| resolve_genre(&g))
            .collect(),
    );
    let compilation = tags
        .iter()
        .any(|t| t.get_strings(ItemKey::FlagCompilation).any(is_truthy));
    // A ReplayGain gain, else the Opus R128 one.
    let gain = |replay_gain: ItemKey, r128: ItemKey| {
        first_string(tags, replay_gain)
            .and_then(|s| leading_float(&s))
            .or_else(|| first_string(tags, r128).and_then(|s| r128_gain(&s)))
    };
    Tags {
        title: first_string(tags, ItemKey::TrackTitle),
        artists,
        artist_credit,
        album: first_string(tags, ItemKey::AlbumTitle),
        album_artist: first_string(tags, ItemKey::AlbumArtist),
        track_no: first_number(tags, |t| t.track()),
        track_total: first_number(tags, |t| t.track_total()),
        disc_no: first_number(tags, |t| t.disk()),
        disc_total: first_number(tags, |t| t.disk_total()),
        date,
        year,
        genres,
        compilation,
        composers: all_strings(tags, ItemKey::Composer),
        replay_gain: ReplayGain {
            track_gain_db: gain(ItemKey::ReplayGainTrackGain, ItemKey::R128TrackGain),
            track_peak: first_string(tags, ItemKey::ReplayGainTrackPeak)
                .and_then(|s| leading_float(&s)),
            album_gain_db: gain(ItemKey::ReplayGainAlbumGain, ItemKey::R128AlbumGain),
            album_peak: first_string(tags, ItemKey::ReplayGainAlbumPeak)
                .and_then(|s| leading_float(&s)),
        },
        musicbrainz: MusicBrainzIds {
            recording_id: first_string(tags, ItemKey::MusicBrainzRecordingId),
            track_id: first_string(tags, ItemKey::MusicBrainzTrackId),
            release_id: first_string(tags, ItemKey::MusicBrainzReleaseId),
            release_group_id: first_string(tags, ItemKey::MusicBrainzReleaseGroupId),
            artist_id: first_string(tags, ItemKey::MusicBrainzArtistId),
            release_artist_id: first_string(tags, ItemKey::MusicBrainzReleaseArtistId),
        },
        sort: SortNames {
            title: first_string(tags, ItemKey::TrackTitleSortOrder),
            artist: first_string(tags, ItemKey::TrackArtistSortOrder),
            album: first_string(tags, ItemKey::AlbumTitleSortOrder),
            album_artist: first_string(tags, ItemKey::AlbumArtistSortOrder),
        },
    }
}

fn cover_from(tags: &[&Tag]) -> Option<Picture> {
    let pictures = || tags.iter().flat_map(|t| t.pictures().iter());
    let chosen = pictures()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pictures().next())?;
    if chosen.data().is_empty() {
        return None;
    }
    Some(Picture {
        mime: chosen.mime_type().map(|m| m.as_str().to_owned()),
        data: chosen.data().to_vec(),
    })
}

/// The front cover (or, failing that, any picture) of an APEv2 tag.
fn ape_cover(tag: &ApeTag) -> Option<Picture> {
    let front = "Cover Art (Front)";
    std::iter::once(front)
        .chain(APE_PICTURE_TYPES.iter().copied().filter(|k| *k != front))
        .find_map(|key| match tag.get(key)?.value() {
            ItemValue::Binary(bytes) => lofty::picture::Picture::from_ape_bytes(key, bytes).ok(),
            _ => None,
        })
        .filter(|p| !p.data().is_empty())
        .map(|p| Picture {
            mime: p.mime_type().map(|m| m.as_str().to_owned()),
            data: p.into_data(),
        })
}

fn is_truthy(v: &str) -> bool {
    let v = v.trim();
    v == "1" || v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes")
}

/// The year from a date written as "1997", "1997-06-16", "1997/06" or "19970616".
/// The artists of a single `ARTISTS` value that joins them with "/", as ID3v2.3 tags must (they
/// have no other way to hold several values; MusicBrainz Picard joins them so): split where the
/// credit shows the parts apart, so "Björk/Thom Yorke" credited "Björk & Thom Yorke" is two
/// artists, while "AC/DC" credited "AC/DC" stays one, and "AC/DC/Slash" credited "AC/DC feat.
/// Slash" is AC/DC and Slash. Left whole unless every part is in the credit.
fn split_slash_joined(value: &str, credit: &str) -> Vec<String> {
    let credit = credit.to_lowercase();
    let mut parts = value.split('/');
    let mut artists: Vec<String> = Vec::new();
    let mut current = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let joined = format!("{current}/{part}");
        if credit.contains(&joined.to_lowercase()) {
            current = joined;
        } else {
            artists.push(current);
            current = part.to_owned();
        }
    }
    artists.push(current);
    let artists: Vec<String> = artists.iter().filter_map(|a| clean(a)).collect();
    if artists.len() > 1 && artists.iter().all(|a| credit.contains(&a.to_lowercase())) {
        artists
    } else {
        vec![value.to_owned()]
    }
}

fn year_of(date: &str) -> Option<i32> {
    let digits: String = date
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .take(4)
        .collect();
    (digits.len() == 4)
        .then(|| digits.parse().ok())
        .flatten()
        .filter(|&y| y > 0)
}

/// Parses the number at the start of a ReplayGain value such as "-6.52 dB" or "+1.2".
fn leading_float(s: &str) -> Option<f32> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0)))
        .map_or(s.len(), |(i, _)| i);
    s[..end].parse::<f32>().ok().filter(|v| v.is_finite())
}

/// Converts an Opus `R128_TRACK_GAIN` or `R128_ALBUM_GAIN` value (RFC 7845 §5.2.1: a decimal
/// Q7.8 number of dB that brings the audio to -23 LUFS, on top of the header's output gain) to a
/// ReplayGain 2.0 gain, whose reference is 5 dB louder (-18 LUFS). Opus taggers such as rsgain
/// and opusgain write only these; ReplayGain values, where present, are preferred.
fn r128_gain(s: &str) -> Option<f32> {
    let q78: i16 = s.trim().parse().ok()?;
    Some(f32::from(q78) / 256.0 + 5.0)
}

/// The text of an ID3v2 `COMM` frame described `iTunNORM`, where iTunes keeps Sound Check in MP3,
/// AIFF and WAV files.
fn comment_sound_check(tags: &[&Tag]) -> Option<String> {
    tags.iter()
        .flat_map(|tag| tag.items())
        .filter(|item| item.key() == ItemKey::Comment)
        .find(|item| item.description().eq_ignore_ascii_case("iTunNORM"))
        .and_then(|item| item.value().text())
        .map(str::to_owned)
}

/// iTunes Sound Check (`iTunNORM`: ten hexadecimal words) as a ReplayGain track gain and peak, for
/// libraries that iTunes analysed and no ReplayGain scanner did. Its first two words are the
/// loudness of the left and right channels, in thousandths of the reference level, so the gain
/// is -10·log10(max/1000) dB; words seven and eight are the channels' peak samples on a 16-bit
/// scale. Players that read both (foobar2000, beets) treat the result as a ReplayGain gain.
fn sound_check(text: &str) -> Option<(f32, Option<f32>)> {
    let words: Vec<u32> = text
        .split_whitespace()
        .map(|word| u32::from_str_radix(word, 16))
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let level = words.get(..2)?.iter().copied().max()?;
    let gain = -10.0 * (f64::from(level) / 1000.0).log10();
    // Zero loudness (a silent track, or a broken tag) gives no usable gain.
    let gain = (gain.is_finite() && gain.abs() <= 60.0).then_some(gain as f32)?;
    let peak = words
        .get(6..8)
        .and_then(|peaks| peaks.iter().copied().max())
        .filter(|&peak| peak > 0)
        .map(|peak| (f64::from(peak) / 32_768.0) as f32);
    Some((gain, peak))
}

/// Resolves ID3v1-style numeric genres ("17", "(17)", "(17)Rock") to their names.
fn resolve_genre(g: &str) -> String {
    let inner = g
        .strip_prefix('(')
        .and_then(|rest| rest.split_once(')'))
        .map(|(n, tail)| (n, tail.trim()));
    match inner {
        Some((_, tail)) if !tail.is_empty() => tail.to_owned(),
        Some((n, _)) => genre_name(n).unwrap_or_else(|| g.to_owned()),
        None => genre_name(g).unwrap_or_else(|| g.to_owned()),
    }
}

fn genre_name(n: &str) -> Option<String> {
    let index: usize = n.trim().parse().ok()?;
    lofty::id3::v1::GENRES.get(index).map(|s| (*s).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_joined_artists_split_where_the_credit_parts_them() {
        let split = |value: &str, credit: &str| split_slash_joined(value, credit);
        assert_eq!(
            split("Björk/Thom Yorke", "Björk & Thom Yorke"),
            ["Björk", "Thom Yorke"]
        );
        assert_eq!(split("AC/DC", "AC/DC"), ["AC/DC"]);
        assert_eq!(
            split("AC/DC/Slash", "AC/DC feat. Slash"),
            ["AC/DC", "Slash"]
        );
        assert_eq!(
            split("Ac/Dc/slash", "AC/DC feat. Slash"),
            ["Ac/Dc", "slash"]
        );
        assert_eq!(
            split("Simon/Garfunkel", "Simon & Art Garfunkel"),
            ["Simon", "Garfunkel"]
        );
        // A part the credit does not show: left whole.
        assert_eq!(split("Alpha/Beta", "Alpha"), ["Alpha/Beta"]);
        assert_eq!(split("Alpha/", "Alpha"), ["Alpha/"]);
    }

    #[test]
    fn years_from_dates() {
        let check =
            |input: &str, expect: Option<i32>| assert_eq!(year_of(input), expect, "{input}");
        check("1997", Some(1997));
        check("1997-06-16", Some(1997));
        check("19970616", Some(1997));
        check(" 2001/03", Some(2001));
        check("97", None);
        check("", None);
        check("0000", None);
    }

    #[test]
    fn replay_gain_values() {
        let check =
            |input: &str, expect: Option<f32>| assert_eq!(leading_float(input), expect, "{input}");
        check("-6.52 dB", Some(-6.52));
        check("+1.20 dB", Some(1.2));
        check("0.988547", Some(0.988_547));
        check("dB", None);
        check("", None);
    }

    #[test]
    fn sound_check_becomes_a_track_gain_and_peak() {
        let (gain, peak) =
            sound_check(" 000003E8 000003E8 00002710 00002710 00024CA8 00024CA8 00007FFF 00004000 00024CA8 00024CA8").unwrap();
        assert!(gain.abs() < 1e-6, "{gain}");
        assert!((peak.unwrap() - 32_767.0 / 32_768.0).abs() < 1e-6);
        // The louder channel counts: 2000/1000 is twice the power, -3.01 dB.
        let (gain, peak) = sound_check("000003E8 000007D0").unwrap();
        assert!((gain + 3.0103).abs() < 1e-3, "{gain}");
        assert_eq!(peak, None);
        // Quieter than the reference: a positive gain.
        assert!((sound_check("00000064 00000064").unwrap().0 - 10.0).abs() < 1e-4);
        for broken in [
            "",
            "000003E8",
            "00000000 00000000",
            "nonsense words",
            "FFFFFFFF FFFFFFFF",
        ] {
            assert_eq!(sound_check(broken), None, "{broken:?}");
        }
    }

    #[test]
    fn r128_gains_become_replay_gain_values() {
        assert_eq!(r128_gain("-512"), Some(3.0));
        assert_eq!(r128_gain("0"), Some(5.0));
        assert_eq!(r128_gain(" 1280 "), Some(10.0));
        assert_eq!(r128_gain("-32768"), Some(-123.0));
        // Not a Q7.8 integer: a dB figure, or out of range.
        assert_eq!(r128_gain("-2.0 dB"), None);
        assert_eq!(r128_gain("40000"), None);
    }

    #[test]
    fn numeric_genres() {
        let check = |input: &str, expect: &str| assert_eq!(resolve_genre(input), expect, "{input}");
        check("17", "Rock");
        check("(17)", "Rock");
        check("(17)Rock & Roll", "Rock & Roll");
        check("Shoegaze", "Shoegaze");
        check("(999)", "(999)");
    }

    #[test]
    fn empty_buffer_is_empty_error() {
        let err = read_bytes(&[], Some("x.mp3"), ReadOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Empty { .. }), "{err}");
    }

    #[test]
    fn random_bytes_are_not_audio() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let bytes: Vec<u8> = (0..65_536)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        for name in [
            "x.mp3", "x.flac", "x.ogg", "x.m4a", "x.wav", "x.opus", "x.wv", "x.ape", "x.aiff",
        ] {
            let err = read_bytes(&bytes, Some(name), ReadOptions::default()).unwrap_err();
            assert!(
                matches!(err, Error::NotAudio { .. } | Error::Corrupt { .. }),
                "{name}: {err}"
            );
        }
    }
}
