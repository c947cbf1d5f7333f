//! The real cpal path, with no sound card: ALSA's default device is a `file` PCM over `null`.
//!
//! ALSA reads its configuration once per process, so the playing half runs in a child process
//! (this test binary again, running only `child_plays_a_queue_on_the_default_device`) with
//! `ALSA_CONFIG_PATH` naming the system alsa.conf plus an override of `pcm.!default`. The `null`
//! PCM does not pace time: the device asks for audio as fast as the engine can give it, and
//! fills with silence whenever the ring is empty, so the test strips silence before measuring.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use skylark_player::{DeviceOutput, Output, Player, PlayerCmd, PlayerEvent, Source};

use crate::fixtures::{frequency, run};

/// Set in the child: the tone to play.
const CHILD_TONE: &str = "SKYLARK_TEST_ALSA_TONE";

/// The system ALSA configuration the test configuration includes.
const SYSTEM_ALSA_CONF: &str = "/usr/share/alsa/alsa.conf";

#[test]
fn the_default_cpal_device_plays_a_tone_into_an_alsa_file() {
    let dir = tempfile::tempdir().unwrap();
    let tone = dir.path().join("tone.wav");
    run(
        "sox",
        &[
            "-V1",
            "-R",
            "-D",
            "-r",
            "44100",
            "-c",
            "1",
            "-n",
            "-b",
            "16",
            tone.to_str().unwrap(),
            "synth",
            "0.5",
            "sine",
            "1000",
            "vol",
            "0.5",
        ],
    );
    let capture = dir.path().join("capture.raw");
    let config = dir.path().join("asound.conf");
    std::fs::write(&config, alsa_config(&capture)).unwrap();

    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "device::child_plays_a_queue_on_the_default_device",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ALSA_CONFIG_PATH", &config)
        .env(CHILD_TONE, &tone)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let spec_line = stdout
        .lines()
        .find_map(|line| line.split_once("device spec: ").map(|(_, spec)| spec))
        .unwrap_or_else(|| panic!("no spec in the child's output:\n{stdout}"));
    let mut fields = spec_line
        .split_whitespace()
        .map(|f| f.parse::<u32>().unwrap());
    let (rate, channels) = (fields.next().unwrap(), fields.next().unwrap() as usize);

    // f32 little-endian, interleaved: cpal was asked for f32 and `format "raw"` writes the
    // stream's own samples.
    let bytes = std::fs::read(&capture).unwrap();
    let samples: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let left: Vec<f32> = samples.iter().step_by(channels).copied().collect();
    let sound = strip_silence(&left);
    // Half a second of tone, resampled to the device rate if it is not 44.1 kHz.
    let expected = rate as usize / 2;
    assert!(
        sound.len().abs_diff(expected) < expected / 50,
        "{} frames of sound, expected about {expected}",
        sound.len()
    );
    let hz = frequency(&sound[sound.len() / 5..sound.len() * 4 / 5], rate);
    assert!((hz - 1000.0).abs() < 2.0, "{hz} Hz");
}

/// The test's ALSA configuration: the system's, with the default PCM writing raw samples to
/// `capture` through the `null` PCM.
fn alsa_config(capture: &Path) -> String {
    format!(
        "<{SYSTEM_ALSA_CONF}>\n\
         pcm.!default {{\n\
         \ttype file\n\
         \tslave.pcm \"null\"\n\
         \tfile \"{}\"\n\
         \tformat \"raw\"\n\
         }}\n",
        capture.display()
    )
}

/// The signal without its runs of digital silence (underruns of an unpaced device).
fn strip_silence(signal: &[f32]) -> Vec<f32> {
    // A sine sampled at any rate has at most a couple of exact zeros in a row; an underrun
    // writes whole periods of them.
    const RUN: usize = 8;
    let mut kept = Vec::with_capacity(signal.len());
    let mut zeros = 0;
    for &sample in signal {
        if sample == 0.0 {
            zeros += 1;
            continue;
        }
        if zeros > 0 && zeros < RUN {
            kept.extend(std::iter::repeat_n(0.0, zeros));
        }
        zeros = 0;
        kept.push(sample);
    }
    kept
}

/// The child half: plays the tone on the default device and prints the device's format. Does
/// nothing when run as an ordinary test.
#[test]
// The parent reads the device's format from this process's stdout.
#[allow(clippy::print_stdout)]
fn child_plays_a_queue_on_the_default_device() {
    let Some(tone) = std::env::var_os(CHILD_TONE) else {
        return;
    };
    let output = DeviceOutput::open_default().unwrap();
    let spec = output.spec();
    println!("device spec: {} {}", spec.sample_rate, spec.channels);
    let player = Player::spawn(output).unwrap();
    let events = player.subscribe().unwrap();
    player
        .send(PlayerCmd::Load(vec![Source::path(tone)]))
        .unwrap();
    player.send(PlayerCmd::Play).unwrap();
    // Our own deadline: the null device plays as fast as it is fed.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events
            .recv_timeout(left)
            .expect("the queue did not end in time")
        {
            PlayerEvent::QueueEnded => break,
            PlayerEvent::Error { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
}
