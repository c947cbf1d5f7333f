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

use crossbeam_channel::Receiver;
use skylark_player::{
    ClockedOutput, DeviceOutput, Error, Output, OutputSpec, PlaybackState, PlayedAudio, Player,
    PlayerCmd, PlayerEvent, Source, UnplugSwitch, list_devices,
};

use crate::fixtures::{RATE, decode, find_frames, frequency, position_of, run, sine_wav, until};

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
        .env(CHILD_CAPTURE, &capture)
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
    // Between the two plays the idle player suspended the device: an unpaced device that was
    // still running would have written megabytes of silence.
    let idle_growth = stdout
        .lines()
        .find_map(|line| line.split_once("idle growth: ").map(|(_, n)| n))
        .unwrap_or_else(|| panic!("no idle growth in the child's output:\n{stdout}"));
    assert_eq!(idle_growth, "0", "the idle device kept playing");

    // f32 little-endian, interleaved: cpal was asked for f32 and `format "raw"` writes the
    // stream's own samples.
    let bytes = captured(&capture);
    let samples: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let left: Vec<f32> = samples.iter().step_by(channels).copied().collect();
    let sound = strip_silence(&left);
    // Half a second of tone, twice, resampled to the device rate if it is not 44.1 kHz: the
    // second play resumed the suspended device.
    let expected = rate as usize;
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
         \ttruncate false\n\
         }}\n",
        capture.display()
    )
}

/// What the device wrote to `capture`, in order: with `truncate false`, ALSA's file plugin
/// writes each stream it opens after the first to `capture.0001`, `capture.0002`, ...
fn captured(capture: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(capture).unwrap_or_default();
    for index in 1.. {
        let mut name = capture.as_os_str().to_owned();
        name.push(format!(".{index:04}"));
        match std::fs::read(name) {
            Ok(more) => bytes.extend(more),
            Err(_) => break,
        }
    }
    bytes
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

/// Set in the child: the file the device writes.
const CHILD_CAPTURE: &str = "SKYLARK_TEST_ALSA_CAPTURE";

/// The child half: plays the tone on the default device, prints the device's format and how
/// much the device wrote while idle between plays, and plays the tone again. Does nothing when
/// run as an ordinary test.
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
    let capture = std::env::var_os(CHILD_CAPTURE).expect("the capture path");
    let player = Player::spawn(output).unwrap();
    let events = player.subscribe().unwrap();
    let captured = || captured(Path::new(&capture)).len();
    for play in 0..2 {
        player
            .send(PlayerCmd::Load(vec![Source::path(&tone)]))
            .unwrap();
        player.send(PlayerCmd::Play).unwrap();
        await_queue_end(&events);
        if play == 0 {
            // Time for the engine to see the fade end and suspend the device.
            std::thread::sleep(Duration::from_millis(300));
            let before = captured();
            std::thread::sleep(Duration::from_millis(500));
            println!("idle growth: {}", captured() - before);
        }
    }
}

/// Waits for the queue to end; fails on an error event. Our own deadline: the null device
/// plays as fast as it is fed.
fn await_queue_end(events: &crossbeam_channel::Receiver<PlayerEvent>) {
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

/// Set in the child: play on a clocked output, unplug it, then go on on the default device.
const CHILD_SWAP_TONE: &str = "SKYLARK_TEST_ALSA_SWAP_TONE";

#[test]
fn an_unplugged_output_pauses_with_an_error_and_a_new_one_resumes_at_the_held_frame() {
    let dir = tempfile::tempdir().unwrap();
    let (player, events, plug, played_first) = playing_tone(dir.path(), 2.0);
    let wav = dir.path().join(TONE);
    until(&events, |e| {
        position_of(e).is_some_and(|(_, p)| p >= Duration::from_millis(700))
    });
    plug.unplug("the USB DAC was unplugged");
    let seen = until(&events, |e| {
        matches!(e, PlayerEvent::StateChanged(PlaybackState::Paused))
    });
    let failure = seen
        .iter()
        .find_map(|(_, e)| match e {
            PlayerEvent::Error { id, error, .. } => Some((*id, error.clone())),
            _ => None,
        })
        .expect("an error event");
    assert_eq!(failure.0, None);
    match failure.1.as_ref() {
        Error::DeviceFailed { device, reason } => {
            assert_eq!(device, ClockedOutput::NAME);
            assert_eq!(reason, "the USB DAC was unplugged");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        failure.1.to_string().contains("clocked output"),
        "{}",
        failure.1
    );

    let second = ClockedOutput::new(STEREO, Duration::from_millis(5));
    let played_second = second.played();
    player.set_output(second).unwrap();
    // Paused: the new output plays silence until playback resumes.
    std::thread::sleep(Duration::from_millis(100));
    assert!(played_second.samples().iter().all(|&s| s == 0.0));
    player.send(PlayerCmd::Resume).unwrap();
    until(&events, |e| matches!(e, PlayerEvent::QueueEnded));

    // The first output played `held` frames of the file (after its leading silence; the
    // sine's first frame is 0, so the audio starts one frame before the first non-zero).
    let first_samples = played_first.samples();
    let lead = first_samples.iter().position(|&s| s != 0.0).unwrap() / 2 - 1;
    let held = first_samples.len() / 2 - lead;
    assert!(
        held > RATE as usize / 2,
        "only {held} frames played before the unplug"
    );
    // The second picks up at exactly that frame: past its 10 ms fade-in, the file's frames
    // from `held` on, right after its own leading silence.
    let expected = decode(&wav).unwrap().samples;
    let skip = 2 * RATE as usize / 100;
    let probe = &expected[2 * (held + skip)..2 * (held + skip + 1000)];
    let second_samples = played_second.samples();
    let found = find_frames(&second_samples, probe).expect("the rest of the file did not play");
    let start = found - skip;
    assert!(
        second_samples[..2 * start].iter().all(|&s| s == 0.0) && second_samples[2 * start] != 0.0,
        "the second output did not start at the held frame"
    );
    let rest = &expected[2 * (held + skip)..];
    assert!(second_samples[2 * found..2 * found + rest.len()] == *rest);
}

/// What [`playing_tone`] plays on.
const STEREO: OutputSpec = OutputSpec {
    sample_rate: RATE,
    channels: 2,
};

/// The file [`playing_tone`] writes.
const TONE: &str = "tone.wav";

/// A clocked output playing `seconds` of a tone (written to [`TONE`] in `dir`), with the
/// player's events.
fn playing_tone(
    dir: &Path,
    seconds: f64,
) -> (Player, Receiver<PlayerEvent>, UnplugSwitch, PlayedAudio) {
    let wav = sine_wav(dir, TONE, 440, seconds, 0.5);
    let output = ClockedOutput::new(STEREO, Duration::from_millis(5));
    let (plug, played) = (output.unplug_switch(), output.played());
    let player = Player::spawn(output).unwrap();
    let events = player.subscribe().unwrap();
    player
        .send(PlayerCmd::LoadAt {
            sources: vec![Source::path(&wav)],
            start: 0,
            play: true,
        })
        .unwrap();
    until(&events, |e| {
        position_of(e).is_some_and(|(_, p)| p >= Duration::from_millis(300))
    });
    (player, events, plug, played)
}

#[test]
fn a_device_that_hiccups_plays_on_without_an_error() {
    // ALSA's PulseAudio plugin fails snd_pcm_avail_delay with EIO until a new stream's first
    // timing report comes in; cpal passes that on and goes on playing.
    let dir = tempfile::tempdir().unwrap();
    let (_player, events, plug, played) = playing_tone(dir.path(), 1.5);
    plug.stall(
        "ALSA function 'snd_pcm_avail_delay' failed with error 'I/O error (5)'",
        Duration::from_millis(300),
    );
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    for (_, event) in &seen {
        assert!(
            !matches!(
                event,
                PlayerEvent::Error { .. } | PlayerEvent::StateChanged(PlaybackState::Paused)
            ),
            "a hiccup stopped playback: {event:?}"
        );
    }
    // All of the tone played, the stall only delaying it.
    let sounding = played.samples().iter().filter(|&&s| s != 0.0).count();
    assert!(
        sounding > 2 * RATE as usize * 14 / 10,
        "only {sounding} samples sounded"
    );
}

#[test]
fn a_device_that_stops_after_a_glitch_pauses_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_player, events, plug, _) = playing_tone(dir.path(), 10.0);
    let stalled = Instant::now();
    plug.stall("the sound server went away", Duration::from_secs(3600));
    let seen = until(&events, |e| {
        matches!(e, PlayerEvent::StateChanged(PlaybackState::Paused))
    });
    let waited = stalled.elapsed();
    assert!(
        waited >= Duration::from_millis(1900),
        "gave up on the device after only {waited:?}"
    );
    let error = seen
        .iter()
        .find_map(|(_, e)| match e {
            PlayerEvent::Error {
                id: None, error, ..
            } => Some(error.clone()),
            _ => None,
        })
        .expect("an error event");
    match error.as_ref() {
        Error::DeviceFailed { device, reason } => {
            assert_eq!(device, ClockedOutput::NAME);
            assert_eq!(reason, "the sound server went away");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unplugged_output_swapped_for_the_alsa_device_plays_the_rest_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let tone = sine_wav(dir.path(), "tone.wav", 1000, 1.0, 0.5);
    let capture = dir.path().join("capture.raw");
    let config = dir.path().join("asound.conf");
    std::fs::write(&config, alsa_config(&capture)).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "device::child_swaps_an_unplugged_output_for_the_default_device",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ALSA_CONFIG_PATH", &config)
        .env(CHILD_SWAP_TONE, &tone)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let field = |name: &str| -> Vec<u32> {
        stdout
            .lines()
            .find_map(|line| line.split_once(name).map(|(_, v)| v.to_owned()))
            .unwrap_or_else(|| panic!("no {name} in the child's output:\n{stdout}"))
            .split_whitespace()
            .map(|f| f.parse().unwrap())
            .collect()
    };
    let spec = field("device spec: ");
    let (rate, channels) = (spec[0], spec[1] as usize);
    let held = field("held frames: ")[0];
    assert!(
        stdout.contains("default device listed: true"),
        "list_devices has no default:\n{stdout}"
    );

    let bytes = captured(&capture);
    let samples: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let left: Vec<f32> = samples.iter().step_by(channels).copied().collect();
    let sound = strip_silence(&left);
    // The device got what the clocked output had not played, resampled to its rate.
    let expected = (u64::from(RATE - held) * u64::from(rate) / u64::from(RATE)) as usize;
    assert!(
        sound.len().abs_diff(expected) < rate as usize / 50,
        "{} frames of sound on the device, expected about {expected}",
        sound.len()
    );
    let hz = frequency(&sound[sound.len() / 5..sound.len() * 4 / 5], rate);
    assert!((hz - 1000.0).abs() < 2.0, "{hz} Hz");
}

/// The child half of the swap test. Does nothing when run as an ordinary test.
#[test]
#[allow(clippy::print_stdout)]
fn child_swaps_an_unplugged_output_for_the_default_device() {
    let Some(tone) = std::env::var_os(CHILD_SWAP_TONE) else {
        return;
    };
    let listed = list_devices().unwrap();
    println!(
        "default device listed: {}",
        listed.iter().any(|device| device.is_default)
    );
    let clocked = ClockedOutput::new(
        OutputSpec {
            sample_rate: RATE,
            channels: 2,
        },
        Duration::from_millis(5),
    );
    let (played, plug) = (clocked.played(), clocked.unplug_switch());
    let player = Player::spawn(clocked).unwrap();
    let events = player.subscribe().unwrap();
    player
        .send(PlayerCmd::Load(vec![Source::path(tone)]))
        .unwrap();
    player.send(PlayerCmd::Play).unwrap();
    until(&events, |e| {
        position_of(e).is_some_and(|(_, p)| p >= Duration::from_millis(300))
    });
    plug.unplug("gone");
    until(&events, |e| {
        matches!(e, PlayerEvent::StateChanged(PlaybackState::Paused))
    });
    let samples = played.samples();
    let lead = samples.iter().position(|&s| s != 0.0).unwrap() / 2 - 1;
    println!("held frames: {}", samples.len() / 2 - lead);

    let device = DeviceOutput::open_default().unwrap();
    let spec = device.spec();
    println!("device spec: {} {}", spec.sample_rate, spec.channels);
    player.set_output(device).unwrap();
    assert_eq!(player.spec(), spec);
    player.send(PlayerCmd::Resume).unwrap();
    await_queue_end(&events);
}

#[test]
fn the_sound_probe_hears_when_playback_starts() {
    let dir = tempfile::tempdir().unwrap();
    let wav = sine_wav(dir.path(), TONE, 440, 0.5, 0.5);
    let output = ClockedOutput::new(STEREO, Duration::from_millis(1));
    let probe = output.sound_probe();
    let player = Player::spawn(output).unwrap();
    let events = player.subscribe().unwrap();
    // Silence is not sound.
    probe.arm();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(probe.heard(), None);
    let asked = Instant::now();
    player
        .send(PlayerCmd::LoadAt {
            sources: vec![Source::path(&wav)],
            start: 0,
            play: true,
        })
        .unwrap();
    until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    let heard = probe.heard().expect("the tone was heard");
    assert!(heard > asked && heard - asked < Duration::from_millis(500));
}
