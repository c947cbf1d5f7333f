//! Every format decodes to the right number of frames, and a sine keeps its pitch and level.

use skylark_player::{Decoder, Source};
use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

use crate::fixtures::{channel, decode, frequency, middle, sine_amplitude};

/// The formats the player decodes (WavPack and APE are not in symphonia 0.6).
const PLAYABLE: [Format; 8] = [
    Format::Mp3,
    Format::Flac,
    Format::OggVorbis,
    Format::Opus,
    Format::M4aAac,
    Format::M4aAlac,
    Format::Wav,
    Format::Aiff,
];

/// The frame count a format must decode to for `tone`, and how far off a lossy codec may be.
fn expected_frames(format: Format, tone: &Tone) -> (u64, u64) {
    match format {
        // Opus always runs at 48 kHz (RFC 7845 §5.1: the input rate is only informational);
        // opusenc resamples and stores the exact length through the end granule position.
        Format::Opus => (
            tone.total_frames() * 48_000 / u64::from(tone.sample_rate),
            0,
        ),
        // Lossy formats whose containers record delay and padding (LAME header, Ogg granule
        // positions, MP4 edit list) come back exact once trimmed.
        _ => (tone.total_frames(), 0),
    }
}

#[test]
fn every_format_decodes_to_its_length_pitch_and_level() {
    let dir = tempfile::tempdir().unwrap();
    let tone = Tone {
        seconds: 1.0,
        frequency: 1000.0,
        ..Tone::default()
    };
    for format in PLAYABLE {
        let path = dir.path().join(format!("tone.{}", format.extension()));
        write_audio(&path, format, &tone, &TagSpec::default()).unwrap();
        let decoded = decode(&path).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let (expected, tolerance) = expected_frames(format, &tone);
        let frames = decoded.frames() as u64;
        assert!(
            frames.abs_diff(expected) <= tolerance,
            "{format:?}: {frames} frames, expected {expected} ± {tolerance}"
        );
        assert_eq!(decoded.channels, 2, "{format:?}");
        assert_eq!(decoded.packets_skipped, 0, "{format:?}");

        let left = channel(&decoded.samples, decoded.channels, 0);
        let hz = frequency(middle(&left), decoded.sample_rate);
        assert!((hz - 1000.0).abs() < 1.0, "{format:?}: {hz} Hz");
        // Half scale, as the fixture writes it: exact for lossless formats; lossy encoders move
        // a pure tone's level a little (LAME at its default 128 kbit/s by about -0.45 dB).
        let amplitude = sine_amplitude(middle(&left));
        let lossless = matches!(
            format,
            Format::Flac | Format::M4aAlac | Format::Wav | Format::Aiff
        );
        let tolerance_db = if lossless { 0.01 } else { 0.6 };
        let level_db = 20.0 * (amplitude / 0.5).log10();
        assert!(
            level_db.abs() < tolerance_db,
            "{format:?}: level {level_db:.2} dB"
        );
    }
}

#[test]
fn lossless_formats_decode_bit_exact_to_the_pcm() {
    let dir = tempfile::tempdir().unwrap();
    let tone = Tone::default();
    let wav = dir.path().join("tone.wav");
    write_audio(&wav, Format::Wav, &tone, &TagSpec::default()).unwrap();
    let reference = decode(&wav).unwrap().samples;
    // The WAV itself against hound's reading of the 16-bit integers.
    let integers: Vec<f32> = hound::WavReader::open(&wav)
        .unwrap()
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32_768.0)
        .collect();
    assert_eq!(reference, integers);
    for format in [Format::Flac, Format::M4aAlac, Format::Aiff] {
        let path = dir.path().join(format!("tone.{}", format.extension()));
        write_audio(&path, format, &tone, &TagSpec::default()).unwrap();
        assert_eq!(decode(&path).unwrap().samples, reference, "{format:?}");
    }
}

#[test]
fn containers_that_declare_a_length_give_it_up_front_and_it_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let tone = Tone {
        seconds: 0.73,
        ..Tone::default()
    };
    for format in PLAYABLE {
        let path = dir.path().join(format!("tone.{}", format.extension()));
        write_audio(&path, format, &tone, &TagSpec::default()).unwrap();
        let declared = Decoder::open(Source::path(&path))
            .unwrap()
            .declared_frames();
        match format {
            // symphonia trims these itself; only decoding them counts their frames.
            Format::Mp3 | Format::OggVorbis | Format::Opus => {
                assert_eq!(declared, None, "{format:?}");
            }
            _ => {
                let decoded = decode(&path).unwrap().frames() as u64;
                assert_eq!(declared, Some(decoded), "{format:?}");
                assert_eq!(decoded, tone.total_frames(), "{format:?}");
            }
        }
    }
}
