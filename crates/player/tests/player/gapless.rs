//! A continuous sweep split into three tracks plays back as the sweep.

use std::path::{Path, PathBuf};

use crate::fixtures::{channel, decode, render_paths, run};

const RATE: u32 = 44_100;
/// Three seconds of sweep.
const TOTAL_FRAMES: usize = 132_300;
/// Split points that fall on no codec's frame grid: not multiples of FLAC's 4096, MP3's 1152
/// (or 576), nor AAC's 1024.
const SPLITS: [usize; 2] = [37_011, 91_111];

/// Writes the unsplit sweep and its three parts as WAV; returns (whole, parts).
fn sweep(dir: &Path) -> (PathBuf, Vec<PathBuf>) {
    let whole = dir.join("sweep.wav");
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
            whole.to_str().unwrap(),
            "synth",
            &format!("{TOTAL_FRAMES}s"),
            "sine",
            "100-2000",
            "vol",
            "0.5",
        ],
    );
    let bounds = [0, SPLITS[0], SPLITS[1], TOTAL_FRAMES];
    let parts = (0..3)
        .map(|i| {
            let part = dir.join(format!("part{i}.wav"));
            let (start, len) = (bounds[i], bounds[i + 1] - bounds[i]);
            run(
                "sox",
                &[
                    whole.to_str().unwrap(),
                    part.to_str().unwrap(),
                    "trim",
                    &format!("{start}s"),
                    &format!("{len}s"),
                ],
            );
            part
        })
        .collect();
    (whole, parts)
}

fn encode(wav: &Path, extension: &str) -> PathBuf {
    let out = wav.with_extension(extension);
    let (wav_str, out_str) = (wav.to_str().unwrap(), out.to_str().unwrap());
    match extension {
        "flac" => run("flac", &["--silent", "--force", "-o", out_str, wav_str]),
        // LAME writes its Info tag with the encoder delay and padding by default.
        "mp3" => run("lame", &["--quiet", "-b", "192", wav_str, out_str]),
        // ffmpeg's MP4 muxer records the AAC priming in the edit list.
        "m4a" => run(
            "ffmpeg",
            &[
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                wav_str,
                "-c:a",
                "aac",
                "-b:a",
                "192k",
                out_str,
            ],
        ),
        other => panic!("no encoder for {other}"),
    }
    out
}

#[test]
fn flac_join_is_bit_exact_against_the_unsplit_decode() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, parts) = sweep(dir.path());
    let whole_flac = encode(&whole, "flac");
    let encoded: Vec<PathBuf> = parts.iter().map(|p| encode(p, "flac")).collect();
    let unsplit = decode(&whole_flac).unwrap().samples;
    let refs: Vec<&Path> = encoded.iter().map(PathBuf::as_path).collect();
    let (report, rendered) = render_paths(&refs, None);
    assert_eq!(report.spec.sample_rate, RATE);
    assert_eq!(report.frames_written, TOTAL_FRAMES as u64);
    assert_eq!(rendered.len(), unsplit.len());
    assert!(
        rendered == unsplit,
        "the rendered parts differ from the unsplit decode"
    );
}

/// Mean of the squared first difference over `signal[range]`.
fn difference_energy(signal: &[f32], range: std::ops::Range<usize>) -> f64 {
    let n = range.len() as f64;
    range
        .map(|i| {
            let d = f64::from(signal[i]) - f64::from(signal[i - 1]);
            d * d
        })
        .sum::<f64>()
        / n
}

/// The reference decode: ffmpeg, which honours the LAME header and the MP4 edit list, as f32
/// stereo frames.
fn ffmpeg_decode(path: &Path) -> Vec<f32> {
    let raw = path.with_extension("f32");
    run(
        "ffmpeg",
        &[
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            path.to_str().unwrap(),
            "-f",
            "f32le",
            "-ac",
            "2",
            raw.to_str().unwrap(),
        ],
    );
    std::fs::read(&raw)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Mean squared difference of `a` and `b` over `range`.
fn error_energy(a: &[f32], b: &[f32], range: std::ops::Range<usize>) -> f64 {
    let n = range.len() as f64;
    range
        .map(|i| {
            let d = f64::from(a[i]) - f64::from(b[i]);
            d * d
        })
        .sum::<f64>()
        / n
}

fn assert_lossy_joins_are_seamless(extension: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (whole, parts) = sweep(dir.path());
    let encoded: Vec<PathBuf> = parts.iter().map(|p| encode(p, extension)).collect();
    let refs: Vec<&Path> = encoded.iter().map(PathBuf::as_path).collect();
    let (report, rendered) = render_paths(&refs, None);
    let lengths = [SPLITS[0], SPLITS[1] - SPLITS[0], TOTAL_FRAMES - SPLITS[1]];
    for (track, expected) in report.tracks.iter().zip(lengths) {
        assert_eq!(
            track.frames_decoded, expected as u64,
            "{extension}: {}",
            track.name
        );
    }
    assert_eq!(report.frames_written, TOTAL_FRAMES as u64, "{extension}");

    // Each part is encoded on its own, so every lossy codec errs more near a track's edges than
    // mid-track: that is the codec's own error, and no player can remove it. The yardstick is
    // therefore the reference decoder (ffmpeg) on the same files, concatenated.
    // ffmpeg's command line trims the AAC priming but keeps the end padding when the edit list
    // is in milliseconds, so each part is cut to its known length (the sweep was split there).
    let reference: Vec<f32> = encoded
        .iter()
        .zip(lengths)
        .flat_map(|(p, frames)| {
            let mut part = ffmpeg_decode(p);
            assert!(
                part.len() >= frames * 2,
                "{extension}: ffmpeg decoded too little"
            );
            part.truncate(frames * 2);
            part
        })
        .collect();
    let original = decode(&whole).unwrap().samples;
    let (ours, theirs, source) = (
        channel(&rendered, 2, 0),
        channel(&reference, 2, 0),
        channel(&original, 2, 0),
    );
    for join in SPLITS {
        // A gap, a dropped stretch or leftover padding at the join is a step in the waveform: a
        // burst of first-difference energy, and a burst of error against the original sweep.
        let window = join - 16..join + 16;
        let our_step = difference_energy(&ours, window.clone());
        let their_step = difference_energy(&theirs, window.clone());
        assert!(
            our_step <= their_step * 1.25,
            "{extension}: join at {join}: step energy {our_step:.3e}, ffmpeg {their_step:.3e}"
        );
        let wide = join - 256..join + 256;
        let our_error = error_energy(&ours, &source, wide.clone());
        let their_error = error_energy(&theirs, &source, wide);
        assert!(
            our_error <= their_error * 1.25 + 1e-7,
            "{extension}: join at {join}: error {our_error:.3e}, ffmpeg {their_error:.3e}"
        );
    }
}

#[test]
fn mp3_joins_have_the_right_length_and_no_discontinuity() {
    assert_lossy_joins_are_seamless("mp3");
}

#[test]
fn aac_joins_have_the_right_length_and_no_discontinuity() {
    assert_lossy_joins_are_seamless("m4a");
}
