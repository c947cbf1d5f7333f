//! The engine actor driven through its commands, played on a `ClockedOutput` (no sound card).

use std::time::{Duration, Instant};

use skylark_player::{PlayerCmd, PlayerEvent, volume_gain};

use crate::fixtures::{
    RATE, channel, decode, frequency, id_of, last_snapshot, load_and_play, position_of,
    sine_amplitude, sine_wav as tone, spawn_clocked as spawn_at, track_events, until,
};

fn spawn() -> (
    skylark_player::Player,
    skylark_player::PlayedAudio,
    crossbeam_channel::Receiver<PlayerEvent>,
) {
    spawn_at(RATE)
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
            "started a.wav",
            "ended a.wav",
            "started b.wav",
            "ended b.wav",
            "started c.wav",
            "ended c.wav",
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
    let positions: Vec<(skylark_player::ItemId, Duration)> =
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

/// Samples the output pulls over `window`, once the engine has had time to settle.
fn pulled_during(played: &skylark_player::PlayedAudio, window: Duration) -> usize {
    std::thread::sleep(Duration::from_millis(100));
    let before = played.len();
    std::thread::sleep(window);
    played.len() - before
}

#[test]
fn an_idle_player_suspends_its_output_and_resumes_it_to_play() {
    let dir = tempfile::tempdir().unwrap();
    let short = tone(dir.path(), "short.wav", 440, 0.3, 0.5);
    let (player, played, events) = spawn();
    // Nothing queued: the output is suspended and pulls nothing.
    assert_eq!(pulled_during(&played, Duration::from_millis(200)), 0);

    load_and_play(&player, &[&short]);
    until(&events, |e| position_of(e).is_some());
    assert!(pulled_during(&played, Duration::from_millis(50)) > 0);
    player.send(PlayerCmd::Pause).unwrap();
    assert_eq!(pulled_during(&played, Duration::from_millis(200)), 0);

    player.send(PlayerCmd::Resume).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    assert!(track_events(&seen).contains(&"ended short.wav".to_owned()));
    assert_eq!(pulled_during(&played, Duration::from_millis(200)), 0);
    // The whole tone was played: the pause lost nothing.
    let sound = played.samples().iter().filter(|&&s| s != 0.0).count();
    let expected = 2 * RATE as usize * 3 / 10;
    assert!(
        sound.abs_diff(expected) < expected / 50,
        "{sound} of {expected} samples"
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
    assert_eq!(track_events(&seen), ["ended long.wav", "queue ended"]);
}

#[test]
fn next_and_previous_move_through_the_queue_and_previous_restarts_after_3s() {
    let dir = tempfile::tempdir().unwrap();
    let a = tone(dir.path(), "a.wav", 440, 5.0, 0.5);
    let b = tone(dir.path(), "b.wav", 660, 5.0, 0.5);
    let (player, _played, events) = spawn();
    load_and_play(&player, &[&a, &b]);
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    let first = id_of(&last_snapshot(&seen).unwrap(), "a.wav");

    player.send(PlayerCmd::Next).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    assert_eq!(track_events(&seen), ["ended a.wav", "started b.wav"]);
    assert_eq!(last_snapshot(&seen).unwrap().current, Some(1));

    // Early in track 1, previous goes back to track 0.
    player.send(PlayerCmd::Previous).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    assert_eq!(track_events(&seen), ["ended b.wav", "started a.wav"]);

    // Past 3 s into track 0, previous restarts it.
    until(&events, |e| {
        position_of(e).is_some_and(|(_, p)| p > Duration::from_millis(3_100))
    });
    player.send(PlayerCmd::Previous).unwrap();
    let seen = until(&events, |e| position_of(e).is_some());
    let (id, position) = position_of(&seen.last().unwrap().1).unwrap();
    assert_eq!(id, first);
    assert!(position < Duration::from_millis(100), "{position:?}");
    assert!(track_events(&seen).is_empty(), "{:?}", track_events(&seen));

    // Next from the last track ends the queue.
    player.send(PlayerCmd::Next).unwrap();
    until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    player.send(PlayerCmd::Next).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    assert_eq!(track_events(&seen), ["ended b.wav", "queue ended"]);
    assert_eq!(last_snapshot(&seen).unwrap().current, None);
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
    let snapshot = last_snapshot(&seen).unwrap();
    let error = seen
        .iter()
        .find_map(|(_, e)| match e {
            PlayerEvent::Error { id, error, .. } => Some((*id, error.to_string())),
            _ => None,
        })
        .expect("an error event");
    assert_eq!(error.0, Some(id_of(&snapshot, "missing.flac")));
    assert!(error.1.contains("missing.flac"), "{}", error.1);
    let order: Vec<String> = track_events(&seen)
        .into_iter()
        .filter(|e| !e.starts_with("error"))
        .collect();
    assert_eq!(
        order,
        [
            "started a.wav",
            "ended a.wav",
            "started c.wav",
            "ended c.wav",
            "queue ended"
        ]
    );
}
