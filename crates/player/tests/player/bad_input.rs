//! Broken files give typed errors, never panics; a corrupt packet is skipped and decoding goes on.

use std::path::Path;

use skylark_player::{Error, RenderOptions, Source, WavSampleFormat, WavSink, render};
use skylark_testsupport::{
    Format, TagSpec, Tone, write_audio, write_random_bytes, write_truncated, write_zero_byte,
};

use crate::fixtures::decode;

#[test]
fn zero_byte_file_is_not_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.flac");
    write_zero_byte(&path).unwrap();
    let error = decode(&path).err().unwrap();
    assert!(
        matches!(error, Error::UnrecognisedFormat { .. }),
        "{error:?}"
    );
}

#[test]
fn random_bytes_named_flac_are_not_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("noise.flac");
    write_random_bytes(&path, 64 * 1024, 7).unwrap();
    let error = decode(&path).err().unwrap();
    assert!(
        matches!(error, Error::UnrecognisedFormat { .. }),
        "{error:?}"
    );
}

#[test]
fn formats_the_library_lists_but_cannot_play_say_so() {
    let dir = tempfile::tempdir().unwrap();
    for (format, name) in [
        (Format::WavPack, "WavPack"),
        (Format::Ape, "Monkey's Audio"),
    ] {
        let path = dir.path().join(format!("song.{}", format.extension()));
        write_audio(&path, format, &Tone::default(), &TagSpec::default()).unwrap();
        // Also behind an ID3v2 tag (with a footer), as some taggers write one before anything.
        let mut tagged = b"ID3\x04\x00\x10\x00\x00\x00\x05hello".to_vec();
        tagged.extend_from_slice(b"3DI\x04\x00\x10\x00\x00\x00\x05");
        tagged.extend(std::fs::read(&path).unwrap());
        let prefixed = dir.path().join(format!("tagged.{}", format.extension()));
        std::fs::write(&prefixed, tagged).unwrap();
        for file in [&path, &prefixed] {
            let error = decode(file).err().unwrap();
            assert!(
                matches!(error, Error::UnplayableFormat { format, .. } if format == name),
                "{error:?}"
            );
            assert!(error.to_string().contains(&format!("is a {name} file")));
        }
    }
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let error = decode(Path::new("/nonexistent/skylark.flac"))
        .err()
        .unwrap();
    assert!(matches!(error, Error::Io { .. }), "{error:?}");
    assert!(error.to_string().contains("/nonexistent/skylark.flac"));
}

#[test]
fn truncated_files_give_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    for format in [
        Format::Flac,
        Format::Mp3,
        Format::M4aAac,
        Format::OggVorbis,
        Format::Wav,
    ] {
        for keep in [0.002, 0.5] {
            let path = dir.path().join(format!("cut{keep}.{}", format.extension()));
            write_truncated(&path, format, keep).unwrap();
            match decode(&path) {
                Err(
                    Error::Truncated { .. }
                    | Error::UnrecognisedFormat { .. }
                    | Error::NoAudioTrack { .. }
                    | Error::Decode { .. },
                ) => {}
                Err(other) => panic!("{format:?} cut at {keep}: unexpected {other:?}"),
                Ok(decoded) => panic!(
                    "{format:?} cut at {keep}: decoded {} frames without an error",
                    decoded.frames()
                ),
            }
        }
    }
}

#[test]
fn a_failed_render_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("noise.flac");
    write_random_bytes(&bad, 4096, 1).unwrap();
    let out = dir.path().join("out.wav");
    let mut sink = WavSink::new(&out, WavSampleFormat::F32);
    assert!(render([Source::path(&bad)], &mut sink, &RenderOptions::default()).is_err());
    drop(sink);
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "a temporary file was left"
    );
}

/// Overwrites `len` bytes in the middle of the file with a fixed pattern.
fn corrupt_middle(path: &Path, len: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let start = bytes.len() / 2;
    for (i, b) in bytes[start..start + len].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0xA5;
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_corrupt_packet_mid_stream_is_skipped_and_decoding_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let tone = Tone {
        seconds: 4.0,
        ..Tone::default()
    };
    for (format, lost_at_most) in [
        // FLAC frames hold 4096 frames; the damage may span two of them.
        (Format::Flac, 2 * 4096),
        // MP3 frames are 1152; the bit reservoir makes the next frame's decode fail too.
        (Format::Mp3, 4 * 1152),
    ] {
        let path = dir.path().join(format!("damaged.{}", format.extension()));
        write_audio(&path, format, &tone, &TagSpec::default()).unwrap();
        corrupt_middle(&path, 300);
        let decoded = decode(&path).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let expected = tone.total_frames() as usize;
        let frames = decoded.frames();
        assert!(
            frames <= expected && expected - frames <= lost_at_most,
            "{format:?}: {frames} frames of {expected}"
        );
        assert!(
            decoded.packets_skipped >= 1 || frames < expected,
            "{format:?}"
        );
    }
}
