//! Every fixture format written by `skylark-testsupport` and read back with lofty: the tags a
//! test asks for are the tags a reader finds, the audio properties match the tone, and the
//! deliberately damaged files are damaged in the promised way.
//!
//! One integration binary with a module per area: `tags`, `properties`, `retag`, `damaged`.

use lofty::file::{AudioFile, TaggedFile, TaggedFileExt};
use lofty::probe::Probe;
use lofty::tag::{ItemKey, Tag};

use skylark_testsupport::{
    Cover, Format, ReplayGainSpec, TagSpec, Tone, cover_jpeg, cover_png, write_audio,
};

use std::error::Error;
use std::path::{Path, PathBuf};

type TestResult = Result<(), Box<dyn Error>>;

/// A scratch directory and a file name inside a subdirectory that does not exist yet, so every
/// test also checks that parent directories are created.
fn scratch(format: Format) -> Result<(tempfile::TempDir, PathBuf), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir
        .path()
        .join("Artist/Album")
        .join(format!("03 Track.{}", format.extension()));
    Ok((dir, path))
}

fn read(path: &Path) -> Result<TaggedFile, Box<dyn Error>> {
    Ok(Probe::open(path)?.guess_file_type()?.read()?)
}

fn strings(tag: &Tag, key: ItemKey) -> Vec<&str> {
    tag.get_strings(key).collect()
}

/// The items a test can have written: all but the Ogg vendor string.
///
/// Every Ogg comment header carries the encoder library's vendor string ("Xiph.Org libVorbis
/// I 20200704", "libopus 1.3.1, ..."), lofty keeps it when rewriting the tag and reports it as
/// [`ItemKey::EncoderSoftware`]. It is part of the stream, not a tag a test sets.
fn written_items(tag: &Tag) -> Vec<&lofty::tag::TagItem> {
    tag.items()
        .filter(|item| item.key() != ItemKey::EncoderSoftware)
        .collect()
}

/// Generates one `#[test]` per format calling `$check(Format::X)`, so a failure names its format.
macro_rules! per_format {
    ($check:path) => {
        #[test]
        fn mp3() -> crate::TestResult {
            $check(skylark_testsupport::Format::Mp3)
        }
        #[test]
        fn flac() -> crate::TestResult {
            $check(skylark_testsupport::Format::Flac)
        }
        #[test]
        fn ogg_vorbis() -> crate::TestResult {
            $check(skylark_testsupport::Format::OggVorbis)
        }
        #[test]
        fn opus() -> crate::TestResult {
            $check(skylark_testsupport::Format::Opus)
        }
        #[test]
        fn m4a_aac() -> crate::TestResult {
            $check(skylark_testsupport::Format::M4aAac)
        }
        #[test]
        fn m4a_alac() -> crate::TestResult {
            $check(skylark_testsupport::Format::M4aAlac)
        }
        #[test]
        fn wav() -> crate::TestResult {
            $check(skylark_testsupport::Format::Wav)
        }
        #[test]
        fn aiff() -> crate::TestResult {
            $check(skylark_testsupport::Format::Aiff)
        }
        #[test]
        fn wavpack() -> crate::TestResult {
            $check(skylark_testsupport::Format::WavPack)
        }
        #[test]
        fn ape() -> crate::TestResult {
            $check(skylark_testsupport::Format::Ape)
        }
    };
}

/// The front cover of `file`, wherever lofty keeps it for the format.
///
/// lofty's generic [`Tag`] has no pictures for APEv2 (its `Cover Art (Front)` item has no
/// [`ItemKey`]), so for APE and WavPack the picture is read from the concrete [`ApeTag`].
fn front_cover(path: &Path, format: Format) -> Result<Option<Cover>, Box<dyn Error>> {
    use lofty::ape::{ApeFile, ApeTag};
    use lofty::config::ParseOptions;
    use lofty::picture::Picture;
    use lofty::wavpack::WavPackFile;

    let ape_cover = |tag: Option<&ApeTag>| -> Result<Option<Cover>, Box<dyn Error>> {
        let Some(item) = tag.and_then(|t| t.get("Cover Art (Front)")) else {
            return Ok(None);
        };
        let Some(bytes) = item.value().binary() else {
            return Err("Cover Art (Front) is not a binary item".into());
        };
        let picture = Picture::from_ape_bytes("Cover Art (Front)", bytes)?;
        Ok(Some(cover_of(&picture)))
    };
    let mut file = std::fs::File::open(path)?;
    match format {
        Format::Ape => ape_cover(ApeFile::read_from(&mut file, ParseOptions::new())?.ape()),
        Format::WavPack => ape_cover(WavPackFile::read_from(&mut file, ParseOptions::new())?.ape()),
        _ => {
            let tagged = read(path)?;
            let Some(tag) = tagged.primary_tag() else {
                return Ok(None);
            };
            assert!(
                tag.pictures().len() <= 1,
                "{format:?}: more than one picture"
            );
            Ok(tag.pictures().first().map(cover_of))
        }
    }
}

fn cover_of(picture: &lofty::picture::Picture) -> Cover {
    let mime = match picture.mime_type().map(|m| m.as_str()) {
        Some("image/png") => "image/png",
        Some("image/jpeg") => "image/jpeg",
        _ => "unexpected",
    };
    Cover {
        mime,
        bytes: picture.data().to_vec(),
    }
}

mod tags {
    use super::*;

    fn full_spec() -> TagSpec {
        TagSpec {
            title: Some("Paranoid Android".to_owned()),
            artists: vec!["Alpha".to_owned(), "Beta & Gamma".to_owned()],
            artist_credit: None,
            album: Some("Okay Computer".to_owned()),
            album_artist: Some("Various Artists".to_owned()),
            track: Some((3, Some(12))),
            disc: Some((1, Some(2))),
            date: Some("1997".to_owned()),
            genres: vec!["Rock".to_owned(), "Jazz".to_owned()],
            compilation: true,
            composer: Some("Jónsi Birgisson".to_owned()),
            replaygain: Some(ReplayGainSpec {
                track_gain_db: -6.5,
                track_peak: 0.988547,
                album_gain_db: -7.25,
                album_peak: 1.0,
            }),
            musicbrainz_recording_id: Some("8f8d0ae9-5f5a-4bcd-9c2b-4b7f5d6b0f11".to_owned()),
            musicbrainz_release_id: Some("b84ee12a-09ef-421b-82de-0441a926375b".to_owned()),
            cover: Some(cover_png(32, 32, [10, 200, 90])),
            r128_gains: None,
            sound_check: None,
            lyrics: None,
        }
    }

    fn check(format: Format) -> TestResult {
        let (_dir, path) = scratch(format)?;
        let spec = full_spec();
        write_audio(&path, format, &Tone::default(), &spec)?;

        let file = read(&path)?;
        assert_eq!(file.file_type(), format.file_type());
        let types: Vec<_> = file.tags().iter().map(Tag::tag_type).collect();
        assert_eq!(types, [format.tag_type()], "only the tag the test wrote");
        let Some(tag) = file.primary_tag() else {
            return Err("no primary tag".into());
        };

        let expect = |key: ItemKey, values: &[&str]| {
            assert_eq!(strings(tag, key), values, "{format:?} {key:?}");
        };
        expect(ItemKey::TrackTitle, &["Paranoid Android"]);
        expect(ItemKey::TrackArtist, &["Alpha", "Beta & Gamma"]);
        expect(ItemKey::AlbumTitle, &["Okay Computer"]);
        expect(ItemKey::AlbumArtist, &["Various Artists"]);
        expect(ItemKey::TrackNumber, &["3"]);
        expect(ItemKey::TrackTotal, &["12"]);
        expect(ItemKey::DiscNumber, &["1"]);
        expect(ItemKey::DiscTotal, &["2"]);
        expect(ItemKey::RecordingDate, &["1997"]);
        expect(ItemKey::Genre, &["Rock", "Jazz"]);
        expect(ItemKey::FlagCompilation, &["1"]);
        expect(ItemKey::Composer, &["Jónsi Birgisson"]);
        expect(ItemKey::ReplayGainTrackGain, &["-6.50 dB"]);
        expect(ItemKey::ReplayGainTrackPeak, &["0.988547"]);
        expect(ItemKey::ReplayGainAlbumGain, &["-7.25 dB"]);
        expect(ItemKey::ReplayGainAlbumPeak, &["1.000000"]);
        expect(
            ItemKey::MusicBrainzRecordingId,
            &["8f8d0ae9-5f5a-4bcd-9c2b-4b7f5d6b0f11"],
        );
        expect(
            ItemKey::MusicBrainzReleaseId,
            &["b84ee12a-09ef-421b-82de-0441a926375b"],
        );
        let items = written_items(tag);
        assert_eq!(items.len(), 20, "{format:?}: {items:#?}");

        assert_eq!(front_cover(&path, format)?, spec.cover);
        Ok(())
    }

    per_format!(check);

    #[test]
    fn a_full_date_and_a_jpeg_cover_survive() -> TestResult {
        for format in [Format::Mp3, Format::Flac, Format::M4aAac, Format::WavPack] {
            let (_dir, path) = scratch(format)?;
            let spec = TagSpec {
                date: Some("1997-06-16".to_owned()),
                cover: Some(cover_jpeg(40, 30, [250, 250, 0])),
                ..TagSpec::default()
            };
            write_audio(&path, format, &Tone::default(), &spec)?;
            let file = read(&path)?;
            let date = file
                .primary_tag()
                .and_then(|t| t.get_string(ItemKey::RecordingDate));
            assert_eq!(date, Some("1997-06-16"), "{format:?}");
            assert_eq!(front_cover(&path, format)?, spec.cover, "{format:?}");
        }
        Ok(())
    }

    #[test]
    fn an_empty_spec_leaves_the_file_untagged() -> TestResult {
        for format in Format::ALL {
            let (_dir, path) = scratch(format)?;
            write_audio(&path, format, &Tone::default(), &TagSpec::default())?;
            let file = read(&path)?;
            let items: Vec<_> = file.tags().iter().flat_map(written_items).collect();
            assert!(items.is_empty(), "{format:?}: {items:#?}");
            assert_eq!(front_cover(&path, format)?, None, "{format:?}");
        }
        Ok(())
    }
}

mod properties {
    use super::*;

    use std::time::Duration;

    fn check_tone(format: Format, tone: &Tone) -> TestResult {
        let (_dir, path) = scratch(format)?;
        write_audio(&path, format, tone, &TagSpec::default())?;
        let file = read(&path)?;
        let properties = file.properties();
        assert_eq!(
            properties.sample_rate(),
            Some(tone.sample_rate),
            "{format:?}"
        );
        assert_eq!(
            properties.channels().map(u16::from),
            Some(tone.channels),
            "{format:?}"
        );
        let expected = Duration::from_secs_f64(tone.seconds);
        let error = properties.duration().abs_diff(expected);
        assert!(
            error <= Duration::from_millis(50),
            "{format:?}: duration {:?}, expected {expected:?}",
            properties.duration()
        );
        if let Some(bits) = properties.bit_depth() {
            assert_eq!(u16::from(bits), tone.bits, "{format:?}");
        }
        Ok(())
    }

    fn check(format: Format) -> TestResult {
        check_tone(format, &Tone::default())
    }

    per_format!(check);

    /// Lossless formats store the bit depth too; lossy ones only the rate and channel count.
    #[test]
    fn a_mono_48k_24_bit_tone() -> TestResult {
        let tone = Tone {
            seconds: 2.5,
            sample_rate: 48_000,
            channels: 1,
            bits: 24,
            frequency: 1000.0,
        };
        for format in Format::ALL {
            check_tone(format, &tone)?;
        }
        Ok(())
    }

    #[test]
    fn the_same_request_gives_the_same_bytes() -> TestResult {
        for format in Format::ALL {
            let (dir, first) = scratch(format)?;
            let second = dir.path().join(format!("again.{}", format.extension()));
            let other = dir.path().join(format!("other.{}", format.extension()));
            let tone = Tone::default();
            write_audio(&first, format, &tone, &TagSpec::default())?;
            write_audio(&second, format, &tone, &TagSpec::default())?;
            let higher = Tone {
                frequency: 880.0,
                ..tone
            };
            write_audio(&other, format, &higher, &TagSpec::default())?;
            assert_eq!(
                std::fs::read(&first)?,
                std::fs::read(&second)?,
                "{format:?}"
            );
            assert_ne!(std::fs::read(&first)?, std::fs::read(&other)?, "{format:?}");
        }
        Ok(())
    }

    #[test]
    fn an_invalid_tone_is_an_error() {
        let tone = Tone {
            channels: 0,
            ..Tone::default()
        };
        let result = write_audio(
            Path::new("/nonexistent/never-written.flac"),
            Format::Flac,
            &tone,
            &TagSpec::default(),
        );
        let kind = result.err().map(|e| e.kind());
        assert_eq!(kind, Some(std::io::ErrorKind::InvalidInput));
    }
}

mod retag {
    use super::*;

    use skylark_testsupport::write_tags;

    /// Rescan tests retag a file in place: the new tag must replace the old one entirely.
    fn check(format: Format) -> TestResult {
        let (_dir, path) = scratch(format)?;
        let before = TagSpec {
            title: Some("Before".to_owned()),
            artists: vec!["Old Artist".to_owned()],
            genres: vec!["Rock".to_owned()],
            compilation: true,
            cover: Some(cover_png(8, 8, [0, 0, 0])),
            ..TagSpec::default()
        };
        write_audio(&path, format, &Tone::default(), &before)?;
        let after = TagSpec {
            title: Some("After".to_owned()),
            artists: vec!["New A".to_owned(), "New B".to_owned()],
            ..TagSpec::default()
        };
        write_tags(&path, &after)?;

        let file = read(&path)?;
        let Some(tag) = file.primary_tag() else {
            return Err("no primary tag after retagging".into());
        };
        assert_eq!(strings(tag, ItemKey::TrackTitle), ["After"]);
        assert_eq!(strings(tag, ItemKey::TrackArtist), ["New A", "New B"]);
        let items = written_items(tag);
        assert_eq!(items.len(), 3, "{format:?}: {items:#?}");
        assert_eq!(front_cover(&path, format)?, None, "{format:?}");

        write_tags(&path, &TagSpec::default())?;
        let file = read(&path)?;
        let items: Vec<_> = file.tags().iter().flat_map(written_items).collect();
        assert!(items.is_empty(), "{format:?}: {items:#?}");
        Ok(())
    }

    per_format!(check);
}

mod damaged {
    use super::*;

    use skylark_testsupport::{
        write_broken_tags, write_random_bytes, write_truncated, write_zero_byte,
    };

    #[test]
    fn zero_byte() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("sub/empty.mp3");
        write_zero_byte(&path)?;
        assert_eq!(std::fs::metadata(&path)?.len(), 0);
        assert!(read(&path).is_err());
        Ok(())
    }

    #[test]
    fn random_bytes_are_deterministic() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (a, b, c) = (
            dir.path().join("a.flac"),
            dir.path().join("b.flac"),
            dir.path().join("c.flac"),
        );
        write_random_bytes(&a, 4096, 42)?;
        write_random_bytes(&b, 4096, 42)?;
        write_random_bytes(&c, 4096, 43)?;
        let a = std::fs::read(a)?;
        assert_eq!(a.len(), 4096);
        assert_eq!(a, std::fs::read(b)?);
        assert_ne!(a, std::fs::read(c)?);
        Ok(())
    }

    fn check_truncated(format: Format) -> TestResult {
        let dir = tempfile::tempdir()?;
        let whole = dir.path().join(format!("whole.{}", format.extension()));
        let half = dir.path().join(format!("half.{}", format.extension()));
        write_truncated(&whole, format, 1.0)?;
        write_truncated(&half, format, 0.5)?;
        let whole = std::fs::read(whole)?;
        let half = std::fs::read(half)?;
        assert_eq!(half.len(), whole.len() / 2, "{format:?}");
        assert_eq!(half, whole[..half.len()], "{format:?}");
        Ok(())
    }

    #[test]
    fn truncated_files_are_prefixes_of_a_two_second_file() -> TestResult {
        for format in Format::ALL {
            check_truncated(format)?;
        }
        let dir = tempfile::tempdir()?;
        let result = write_truncated(&dir.path().join("x.mp3"), Format::Mp3, 1.5);
        assert_eq!(
            result.err().map(|e| e.kind()),
            Some(std::io::ErrorKind::InvalidInput)
        );
        Ok(())
    }

    #[test]
    fn broken_tags_claim_more_than_the_file_holds() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("broken.mp3");
        write_broken_tags(&path)?;
        let bytes = std::fs::read(&path)?;
        assert_eq!(&bytes[..3], b"ID3");
        let size = bytes[6..10]
            .iter()
            .fold(0u64, |acc, &b| (acc << 7) | u64::from(b));
        assert!(size > bytes.len() as u64 * 100);
        // lofty must not panic on it, whatever it makes of it.
        let _ = read(&path);
        Ok(())
    }
}
