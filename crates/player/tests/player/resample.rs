//! Rendering at another rate keeps pitch and level; at the same rate it changes nothing.

use std::path::Path;

use skylark_player::{RenderOptions, Source, WavSampleFormat, WavSink, render};

use crate::fixtures::{channel, decode, frequency, middle, render_paths, run, sine_amplitude};

fn tone(path: &Path, rate: u32, channels: u32) {
    run(
        "sox",
        &[
            "-V1",
            "-R",
            "-D",
            "-r",
            &rate.to_string(),
            "-c",
            &channels.to_string(),
            "-n",
            "-b",
            "16",
            path.to_str().unwrap(),
            "synth",
            &format!("{rate}s"),
            "sine",
            "1000",
            "vol",
            "0.5",
        ],
    );
}

#[test]
fn a_1khz_tone_resampled_44k1_to_48k_keeps_frequency_and_level() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("tone.wav");
    tone(&wav, 44_100, 2);
    let (report, rendered) = render_paths(&[&wav], Some(48_000));
    assert_eq!(report.spec.sample_rate, 48_000);
    // One second in, one second out.
    assert_eq!(report.frames_written, 48_000);
    let left = channel(&rendered, 2, 0);
    let hz = frequency(middle(&left), 48_000);
    assert!((hz - 1000.0).abs() < 0.5, "{hz} Hz");
    let amplitude = sine_amplitude(middle(&left));
    // 0.5 ± 0.1 dB.
    assert!(
        (amplitude / 0.5).log10().abs() * 20.0 < 0.1,
        "amplitude {amplitude}"
    );
}

#[test]
fn same_rate_render_is_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("tone.wav");
    tone(&wav, 44_100, 2);
    let decoded = decode(&wav).unwrap();
    let (_, rendered) = render_paths(&[&wav], Some(44_100));
    assert!(rendered == decoded.samples);

    // End to end through the WAV sink: 16-bit in, 16-bit out, the same integers.
    let out = dir.path().join("out.wav");
    let mut sink = WavSink::new(&out, WavSampleFormat::S16);
    render([Source::path(&wav)], &mut sink, &RenderOptions::default()).unwrap();
    let read = |p: &Path| -> Vec<i16> {
        hound::WavReader::open(p)
            .unwrap()
            .into_samples::<i16>()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(read(&out), read(&wav));
}

#[test]
fn mono_plays_on_both_channels_at_its_own_level() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("mono.wav");
    tone(&wav, 44_100, 1);
    let mono = decode(&wav).unwrap().samples;
    let (report, rendered) = render_paths(&[&wav], None);
    assert_eq!(report.spec.channels, 2);
    assert_eq!(channel(&rendered, 2, 0), mono);
    assert_eq!(channel(&rendered, 2, 1), mono);
}

#[test]
fn a_5_1_file_downmixes_to_stereo() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("surround.wav");
    tone(&wav, 44_100, 6);
    let (report, rendered) = render_paths(&[&wav], None);
    assert_eq!(report.frames_written, 44_100);
    // The same 0.5 sine on every channel: L + 0.7071·C + 0.7071·Ls (LFE dropped).
    let expected = 0.5 * (1.0 + 2.0 * std::f64::consts::FRAC_1_SQRT_2);
    let amplitude = sine_amplitude(middle(&channel(&rendered, 2, 0)));
    assert!(
        (amplitude - expected).abs() < 0.01,
        "amplitude {amplitude}, expected {expected}"
    );
}
