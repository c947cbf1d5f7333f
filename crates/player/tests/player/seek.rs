//! Seeking in a decoder: sample-accurate for FLAC, WAV and AIFF.

use std::path::Path;
use std::time::Duration;

use skylark_player::{Decoder, Source};

use crate::fixtures::{decode, run};

/// A two-second stereo sweep, so every frame differs from its neighbours.
fn sweep(path: &Path) {
    run(
        "sox",
        &[
            "-V1",
            "-R",
            "-D",
            "-r",
            "44100",
            "-c",
            "2",
            "-n",
            "-b",
            "16",
            path.to_str().unwrap(),
            "synth",
            "2",
            "sine",
            "100-5000",
            "vol",
            "0.5",
        ],
    );
}

#[test]
fn seek_is_sample_accurate_for_flac_wav_and_aiff() {
    let dir = tempfile::tempdir().unwrap();
    for extension in ["wav", "flac", "aiff"] {
        let path = dir.path().join(format!("sweep.{extension}"));
        sweep(&path);
        let whole = decode(&path).unwrap();
        for target in [
            Duration::ZERO,
            Duration::from_millis(1),
            Duration::from_micros(1_234_567),
        ] {
            let mut decoder = Decoder::open(Source::path(&path)).unwrap();
            // Decode a little first: a seek must work mid-stream, not only from the start.
            decoder.next_block().unwrap();
            decoder.seek(target).unwrap();
            let mut seeked = Vec::new();
            while seeked.len() < 8_192 {
                let Some(block) = decoder.next_block().unwrap() else {
                    break;
                };
                seeked.extend_from_slice(block.samples);
            }
            let frame = (target.as_nanos() * 44_100 / 1_000_000_000) as usize;
            let expected = &whole.samples[frame * 2..frame * 2 + 8_192];
            if seeked[..8_192] != *expected {
                let found = (0..whole.samples.len() / 2 - 4096)
                    .find(|&f| whole.samples[f * 2..f * 2 + 8_192] == seeked[..8_192]);
                panic!("{extension} at {target:?}: expected frame {frame}, got {found:?}");
            }
        }
    }
}

#[test]
fn seek_past_the_end_leaves_the_decoder_finished() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweep.flac");
    sweep(&path);
    let mut decoder = Decoder::open(Source::path(&path)).unwrap();
    // Either the demuxer refuses, or the decoder has nothing more to give.
    if decoder.seek(Duration::from_secs(10)).is_ok() {
        assert!(decoder.next_block().unwrap_or(None).is_none());
    }
}
