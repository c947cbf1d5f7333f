//! The engine actor driven through its commands, played on a `ClockedOutput` (no sound card).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use skylark_player::{
    ClockedOutput, OutputSpec, PlayedAudio, Player, PlayerCmd, PlayerEvent, Source, volume_gain,
};

use crate::fixtures::{channel, decode, frequency, run, sine_amplitude};

const RATE: u32 = 44_100;

/// A stereo 16-bit WAV sine of `hz` at `amplitude`, `seconds` long.
fn tone(dir: &Path, name: &str, hz: u32, seconds: f64, amplitude: f64) -> PathBuf {
    let path = dir.join(name);
    run(
        "sox",
        &[
            "-V1",
            "-R",
            "-D",
            "-r",
            &RATE.to_string(),
            "-c",
            "2",
            "-n",
            "-b",
            "16",
            path.to_str().unwrap(),
            "synth",
            &seconds.to_string(),
            "sine",
            &hz.to_string(),
            "vol",
            &amplitude.to_string(),
        ],
    );
    path
}

fn spawn() -> (Player, PlayedAudio, Receiver<PlayerEvent>) {
    let output = ClockedOutput::new(
        OutputSpec {
            sample_rate: RATE,
            channels: 2,
        },
        Duration::from_millis(5),
    );
    let played = output.played();
    let player = Player::spawn(output).unwrap();
    let events = player.subscribe().unwrap();
    (player, played, events)
}

fn load_and_play(player: &Player, paths: &[&Path]) {
    player
        .send(PlayerCmd::Load(
            paths.iter().map(|path| Source::path(*path)).collect(),
        ))
        .unwrap();
    player.send(PlayerCmd::Play).unwrap();
}

/// Receives events, each with its arrival time, until `done` says so; fails after 20 s.
fn until(
    events: &Receiver<PlayerEvent>,
    mut done: impl FnMut(&PlayerEvent) -> bool,
) -> Vec<(Instant, PlayerEvent)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("timed out; events so far: {seen:#?}"));
        let stop = done(&event);
        seen.push((Instant::now(), event));
        if stop {
            return seen;
        }
    }
}

fn position_of(event: &PlayerEvent) -> Option<(usize, Duration)> {
    match event {
        PlayerEvent::Position { index, position } => Some((*index, *position)),
        _ => None,
    }
}

/// The track events (starts, ends, errors, queue end) as short strings, in order.
fn track_events(seen: &[(Instant, PlayerEvent)]) -> Vec<String> {
    seen.iter()
        .filter_map(|(_, event)| match event {
            PlayerEvent::TrackStarted { index, .. } => Some(format!("started {index}")),
            PlayerEvent::TrackEnded { index, .. } => Some(format!("ended {index}")),
            PlayerEvent::Error { index, .. } => Some(format!("error {index:?}")),
            PlayerEvent::QueueEnded => Some("queue ended".to_owned()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_three_track_queue_plays_gaplessly_with_events_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let tones = [
        tone(dir.path(), "a.wav", 440, 0.5, 0.5),
        tone(dir.path(), "b.wav", 660, 0.5, 0.5),
        tone(dir.path(), "c.wav", 880, 0.5, 0.5),
    ];
    let (player, played, events) = spawn();
    load_and_play(&player, &[&tones[0], &tones[1], &tones[2]]);
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    assert_eq!(
        track_events(&seen),
        [
            "started 0",
            "ended 0",
            "started 1",
            "ended 1",
            "started 2",
            "ended 2",
            "queue ended"
        ]
    );

    // Position at 4 Hz or more: no gap over 250 ms between position events while playing.
    let times: Vec<Instant> = seen
        .iter()
        .filter(|(_, e)| position_of(e).is_some())
        .map(|(t, _)| *t)
        .collect();
    assert!(times.len() >= 6, "{} position events", times.len());
    for pair in times.windows(2) {
        assert!(pair[1] - pair[0] <= Duration::from_millis(250));
    }
    let positions: Vec<(usize, Duration)> =
        seen.iter().filter_map(|(_, e)| position_of(e)).collect();
    for pair in positions.windows(2) {
        if pair[0].0 == pair[1].0 {
            assert!(pair[1].1 >= pair[0].1, "position went back: {pair:?}");
        }
    }

    // The three tones follow each other with no gap, bit-exact (the output runs at the files'
    // rate and full volume) once the 10 ms fade-in from silence is over.
    let expected: Vec<f32> = tones
        .iter()
        .flat_map(|path| decode(path).unwrap().samples)
        .collect();
    let samples = played.samples();
    // The first sample of a sine is 0, so the audio starts one frame before the first non-zero.
    let first = samples.iter().position(|&s| s != 0.0).unwrap() / 2 - 1;
    let fade = 2 * RATE as usize / 100;
    let output = &samples[2 * first..];
    assert!(output.len() >= expected.len(), "the queue was cut short");
    assert!(
        output[fade..expected.len()] == expected[fade..],
        "the played queue differs from the decoded files"
    );
    let left = channel(output, 2, 0);
    let frames = RATE as usize / 2;
    for (i, hz) in [440.0, 660.0, 880.0].into_iter().enumerate() {
        let measured = frequency(&left[i * frames + 500..(i + 1) * frames - 500], RATE);
        assert!((measured - hz).abs() < 1.0, "track {i}: {measured} Hz");
    }
    assert!(
        output[expected.len()..].iter().all(|&s| s == 0.0),
        "sound after the queue ended"
    );
}

#[test]
fn pause_stops_the_position_and_resume_goes_on_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let long = tone(dir.path(), "long.wav", 440, 3.0, 0.5);
    let (player, _played, events) = spawn();
    load_and_play(&player, &[&long]);
    let seen = until(&events, |e| {
        position_of(e).is_some_and(|(_, p)| p >= Duration::from_millis(300))
    });
    let before = position_of(&seen.last().unwrap().1).unwrap().1;
    player.send(PlayerCmd::Pause).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let while_paused: Vec<Duration> = events
        .try_iter()
        .filter_map(|e| position_of(&e).map(|(_, p)| p))
        .collect();
    for position in &while_paused {
        // One report may land between the last event and the pause taking effect.
        assert!(
            *position < before + Duration::from_millis(150),
            "{position:?}"
        );
    }
    player.send(PlayerCmd::Resume).unwrap();
    let seen = until(&events, |e| position_of(e).is_some());
    let after = position_of(&seen.last().unwrap().1).unwrap().1;
    assert!(
        after < before + Duration::from_millis(250),
        "position ran on while paused: {before:?} -> {after:?}"
    );
}

#[test]
fn seek_lands_within_10ms_and_the_position_goes_on_from_there() {
    let dir = tempfile::tempdir().unwrap();
    let long = tone(dir.path(), "long.wav", 440, 3.0, 0.5);
    let (player, _played, events) = spawn();
    load_and_play(&player, &[&long]);
    until(&events, |e| position_of(e).is_some());
    let target = Duration::from_millis(1_800);
    player.send(PlayerCmd::Seek(target)).unwrap();
    let seen = until(&events, |e| {
        position_of(e).is_some_and(|(_, p)| p >= target - Duration::from_millis(10))
    });
    let landed = position_of(&seen.last().unwrap().1).unwrap().1;
    assert!(
        landed.abs_diff(target) <= Duration::from_millis(10),
        "landed at {landed:?}"
    );
    // No restart of the track for a seek.
    assert!(
        track_events(&seen)
            .iter()
            .all(|e| !e.starts_with("started"))
    );
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    assert_eq!(track_events(&seen), ["ended 0", "queue ended"]);
}

#[test]
fn next_and_previous_move_through_the_queue_and_previous_restarts_after_3s() {
    let dir = tempfile::tempdir().unwrap();
    let a = tone(dir.path(), "a.wav", 440, 5.0, 0.5);
    let b = tone(dir.path(), "b.wav", 660, 5.0, 0.5);
    let (player, _played, events) = spawn();
    load_and_play(&player, &[&a, &b]);
    until(&events, |e| {
        matches!(e, PlayerEvent::TrackStarted { index: 0, .. })
    });

    player.send(PlayerCmd::Next).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    assert_eq!(track_events(&seen), ["ended 0", "started 1"]);

    // Early in track 1, previous goes back to track 0.
    player.send(PlayerCmd::Previous).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    assert_eq!(track_events(&seen), ["ended 1", "started 0"]);

    // Past 3 s into track 0, previous restarts it.
    until(&events, |e| {
        position_of(e).is_some_and(|(_, p)| p > Duration::from_millis(3_100))
    });
    player.send(PlayerCmd::Previous).unwrap();
    let seen = until(&events, |e| position_of(e).is_some());
    let (index, position) = position_of(&seen.last().unwrap().1).unwrap();
    assert_eq!(index, 0);
    assert!(position < Duration::from_millis(100), "{position:?}");
    assert!(track_events(&seen).is_empty(), "{:?}", track_events(&seen));

    // Next from the last track ends the queue.
    player.send(PlayerCmd::Next).unwrap();
    until(&events, |e| {
        matches!(e, PlayerEvent::TrackStarted { index: 1, .. })
    });
    player.send(PlayerCmd::Next).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    assert_eq!(track_events(&seen), ["ended 1", "queue ended"]);
}

#[test]
fn volume_one_half_scales_samples_by_the_cubic_curve() {
    let dir = tempfile::tempdir().unwrap();
    let a = tone(dir.path(), "a.wav", 440, 1.0, 0.5);
    let (player, played, events) = spawn();
    player.send(PlayerCmd::SetVolume(0.5)).unwrap();
    load_and_play(&player, &[&a]);
    until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    let left = channel(&played.samples(), 2, 0);
    let first = left.iter().position(|&s| s != 0.0).unwrap();
    // Skip the fade-in; measure whole cycles of 440 Hz away from the ends.
    let steady = &left[first + 2_000..first + 2_000 + 100 * RATE as usize / 440];
    let amplitude = sine_amplitude(steady);
    let expected = 0.5 * f64::from(volume_gain(0.5));
    assert!((expected - 0.0625).abs() < 1e-9);
    assert!(
        (amplitude / expected - 1.0).abs() < 0.01,
        "amplitude {amplitude}, expected {expected}"
    );
}

#[test]
fn a_missing_file_in_the_queue_raises_an_error_and_playback_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let a = tone(dir.path(), "a.wav", 440, 0.5, 0.5);
    let missing = dir.path().join("missing.flac");
    let c = tone(dir.path(), "c.wav", 880, 0.5, 0.5);
    let (player, _played, events) = spawn();
    load_and_play(&player, &[&a, &missing, &c]);
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    let error = seen
        .iter()
        .find_map(|(_, e)| match e {
            PlayerEvent::Error { index, error } => Some((*index, error.to_string())),
            _ => None,
        })
        .expect("an error event");
    assert_eq!(error.0, Some(1));
    assert!(error.1.contains("missing.flac"), "{}", error.1);
    let order: Vec<String> = track_events(&seen)
        .into_iter()
        .filter(|e| !e.starts_with("error"))
        .collect();
    assert_eq!(
        order,
        [
            "started 0",
            "ended 0",
            "started 2",
            "ended 2",
            "queue ended"
        ]
    );
}
