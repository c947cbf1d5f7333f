//! Queue editing on a live player: stable ids, snapshots in play order, shuffle and repeat, and
//! gapless joins that survive edits made after the next track was already joined.

use std::path::{Path, PathBuf};
use std::time::Duration;

use skylark_player::{ItemId, OutputSpec, PlayerCmd, PlayerEvent, QueueSnapshot, Repeat, Source};

use crate::fixtures::{
    MemorySink, RATE, decode, find_frames, id_of, last_snapshot, position_of, sine_wav,
    spawn_clocked, track_events, until,
};

fn sources(paths: &[&Path]) -> Vec<Source> {
    paths.iter().map(|path| Source::path(*path)).collect()
}

fn keyed(paths: &[&Path], first_key: i64) -> Vec<Source> {
    (first_key..)
        .zip(paths)
        .map(|(key, path)| Source::path(*path).with_key(key))
        .collect()
}

/// The file names of a snapshot's items, in play order.
fn files(snapshot: &QueueSnapshot) -> Vec<String> {
    snapshot
        .items
        .iter()
        .map(|entry| crate::fixtures::file_name(&entry.name))
        .collect()
}

/// Sends `command` and returns the snapshot it produces.
fn edit(
    player: &skylark_player::Player,
    events: &crossbeam_channel::Receiver<PlayerEvent>,
    command: PlayerCmd,
) -> QueueSnapshot {
    player.send(command).unwrap();
    let seen = until(events, |e| matches!(e, PlayerEvent::QueueChanged(_)));
    last_snapshot(&seen).unwrap()
}

fn tones(dir: &Path, names: &[&str], seconds: f64) -> Vec<PathBuf> {
    names
        .iter()
        .zip([330, 440, 550, 660, 770, 880, 990])
        .map(|(name, hz)| sine_wav(dir, name, hz, seconds, 0.5))
        .collect()
}

#[test]
fn edits_keep_item_ids_and_snapshots_list_play_order() {
    let dir = tempfile::tempdir().unwrap();
    let t = tones(
        dir.path(),
        &["a.wav", "b.wav", "c.wav", "x.wav", "z.wav"],
        0.2,
    );
    let (player, _played, events) = spawn_clocked(RATE);

    let loaded = edit(
        &player,
        &events,
        PlayerCmd::LoadAt {
            sources: keyed(&[&t[0], &t[1], &t[2]], 10),
            start: 1,
            play: false,
        },
    );
    assert_eq!(files(&loaded), ["a.wav", "b.wav", "c.wav"]);
    assert_eq!(loaded.current, Some(1));
    let keys: Vec<Option<i64>> = loaded.items.iter().map(|e| e.key).collect();
    assert_eq!(keys, [Some(10), Some(11), Some(12)]);
    let (a, b, c) = (
        id_of(&loaded, "a.wav"),
        id_of(&loaded, "b.wav"),
        id_of(&loaded, "c.wav"),
    );

    let next = edit(&player, &events, PlayerCmd::PlayNext(sources(&[&t[3]])));
    assert_eq!(files(&next), ["a.wav", "b.wav", "x.wav", "c.wav"]);
    let appended = edit(&player, &events, PlayerCmd::Append(sources(&[&t[4]])));
    assert_eq!(
        files(&appended),
        ["a.wav", "b.wav", "x.wav", "c.wav", "z.wav"]
    );
    let x = id_of(&appended, "x.wav");

    // Moving the current item takes the current index with it.
    let moved = edit(&player, &events, PlayerCmd::Move { item: b, to: 3 });
    assert_eq!(files(&moved), ["a.wav", "x.wav", "c.wav", "b.wav", "z.wav"]);
    assert_eq!(moved.current, Some(3));
    assert_eq!([id_of(&moved, "a.wav"), id_of(&moved, "c.wav")], [a, c]);

    let removed = edit(
        &player,
        &events,
        PlayerCmd::Remove(vec![x, ItemId(u64::MAX)]),
    );
    assert_eq!(files(&removed), ["a.wav", "c.wav", "b.wav", "z.wav"]);
    let cleared = edit(&player, &events, PlayerCmd::ClearUpcoming);
    assert_eq!(files(&cleared), ["a.wav", "c.wav", "b.wav"]);
    assert_eq!(cleared.current, Some(2));

    // Jumping plays the item at once, and its key comes back with its events.
    player.send(PlayerCmd::JumpTo(c)).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    assert_eq!(last_snapshot(&seen).unwrap().current, Some(1));
    let started = seen.iter().find_map(|(_, e)| match e {
        PlayerEvent::TrackStarted { id, key, .. } => Some((*id, *key)),
        _ => None,
    });
    assert_eq!(started, Some((c, Some(12))));
    let seen = until(&events, |e| position_of(e).is_some());
    match &seen.last().unwrap().1 {
        PlayerEvent::Position { id, key, .. } => assert_eq!((*id, *key), (c, Some(12))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn removing_the_playing_item_moves_on_to_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let t = tones(dir.path(), &["a.wav", "b.wav", "c.wav"], 2.0);
    let (player, _played, events) = spawn_clocked(RATE);
    player
        .send(PlayerCmd::LoadAt {
            sources: sources(&[&t[0], &t[1], &t[2]]),
            start: 0,
            play: true,
        })
        .unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    let a = id_of(&last_snapshot(&seen).unwrap(), "a.wav");
    player.send(PlayerCmd::Remove(vec![a])).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    assert_eq!(track_events(&seen), ["ended a.wav", "started b.wav"]);
    let snapshot = last_snapshot(&seen).unwrap();
    assert_eq!(files(&snapshot), ["b.wav", "c.wav"]);
    assert_eq!(snapshot.current, Some(0));
}

#[test]
fn a_seek_while_stopped_is_where_play_starts() {
    let dir = tempfile::tempdir().unwrap();
    let t = tones(dir.path(), &["a.wav"], 3.0);
    let (player, _played, events) = spawn_clocked(RATE);
    player
        .send(PlayerCmd::LoadAt {
            sources: sources(&[&t[0]]),
            start: 0,
            play: false,
        })
        .unwrap();
    player
        .send(PlayerCmd::Seek(Duration::from_millis(2_000)))
        .unwrap();
    player.send(PlayerCmd::Play).unwrap();
    let seen = until(
        &events,
        |e| matches!(e, PlayerEvent::Position { position, .. } if *position > Duration::from_millis(2_000)),
    );
    let (_, position) = position_of(&seen.last().unwrap().1).unwrap();
    assert!(position < Duration::from_millis(2_200), "{position:?}");
}

/// What the player plays for `paths` from `LoadAt` on, after `edit` is sent `wait` later:
/// the played samples, at `rate`.
fn play_and_edit(
    paths: &[&Path],
    rate: u32,
    wait: Duration,
    edit: impl FnOnce(&QueueSnapshot) -> PlayerCmd,
) -> (Vec<f32>, Vec<String>) {
    let (player, played, events) = spawn_clocked(rate);
    player
        .send(PlayerCmd::LoadAt {
            sources: sources(paths),
            start: 0,
            play: true,
        })
        .unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueChanged(_)));
    let snapshot = last_snapshot(&seen).unwrap();
    std::thread::sleep(wait);
    player.send(edit(&snapshot)).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    (played.samples(), track_events(&seen))
}

/// Renders `paths` gaplessly at `rate` (the render shares the engine's conforming path).
fn rendered(paths: &[&Path], rate: u32) -> Vec<f32> {
    let mut sink = MemorySink::default();
    skylark_player::render(
        sources(paths),
        &mut sink,
        &skylark_player::RenderOptions {
            sample_rate: Some(rate),
        },
    )
    .unwrap();
    assert_eq!(
        sink.spec,
        Some(OutputSpec {
            sample_rate: rate,
            channels: 2
        })
    );
    sink.samples
}

/// Asserts that `played` holds `expected` exactly, from 20 ms in (after the fade-in from
/// silence) to its end, followed by silence only.
fn assert_plays(played: &[f32], expected: &[f32], rate: u32) {
    let skip = 2 * (rate as usize / 50);
    let probe = &expected[skip..skip + 2 * (rate as usize / 25)];
    let at = find_frames(played, probe).expect("the expected audio is not in the output");
    let start = 2 * at;
    let tail = &expected[skip..];
    assert!(
        played.len() >= start + tail.len(),
        "the output was cut short"
    );
    let mismatch = played[start..start + tail.len()]
        .iter()
        .zip(tail)
        .position(|(a, b)| a != b);
    assert_eq!(
        mismatch.map(|i| i as f64 / 2.0 / f64::from(rate)),
        None,
        "the output differs from the render from this many seconds in"
    );
    assert!(played[start + tail.len()..].iter().all(|&s| s == 0.0));
}

#[test]
fn removing_the_next_track_after_its_join_rewinds_to_the_join_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    // The first track is shorter than the ring, so by the time the edit comes the ring already
    // holds the join into the second.
    let t = tones(dir.path(), &["a.wav", "b.wav", "c.wav"], 0.25);
    let (a, b, c) = (&t[0], &t[1], &t[2]);
    for wait in [Duration::from_millis(120), Duration::ZERO] {
        let (played, order) = play_and_edit(&[a, b, c], RATE, wait, |snapshot| {
            PlayerCmd::Remove(vec![id_of(snapshot, "b.wav")])
        });
        assert_eq!(
            order,
            [
                "started a.wav",
                "ended a.wav",
                "started c.wav",
                "ended c.wav",
                "queue ended"
            ],
            "edit after {wait:?}"
        );
        let mut expected = decode(a).unwrap().samples;
        expected.extend(decode(c).unwrap().samples);
        assert_plays(&played, &expected, RATE);
    }
}

#[test]
fn play_next_after_a_resampled_join_plays_what_a_render_of_the_new_order_does() {
    let dir = tempfile::tempdir().unwrap();
    let t = tones(dir.path(), &["a.wav", "b.wav", "x.wav"], 0.25);
    let (a, b, x) = (&t[0], &t[1], &t[2]);
    // 44.1 kHz files on a 48 kHz output: the join runs through the resampler, whose state at
    // the join is restored for the new next track.
    for wait in [Duration::from_millis(120), Duration::ZERO] {
        let (played, order) = play_and_edit(&[a, b], 48_000, wait, |_| {
            PlayerCmd::PlayNext(sources(&[x]))
        });
        assert_eq!(
            order,
            [
                "started a.wav",
                "ended a.wav",
                "started x.wav",
                "ended x.wav",
                "started b.wav",
                "ended b.wav",
                "queue ended"
            ],
            "edit after {wait:?}"
        );
        assert_plays(&played, &rendered(&[a, x, b], 48_000), 48_000);
    }
}

#[test]
fn shuffle_plays_every_track_once_per_cycle_starting_with_the_chosen_one() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["a.wav", "b.wav", "c.wav", "d.wav", "e.wav"];
    // Tracks shorter than the ring: several joins are in flight at once.
    let t = tones(dir.path(), &names, 0.12);
    let paths: Vec<&Path> = t.iter().map(PathBuf::as_path).collect();
    let (player, _played, events) = spawn_clocked(RATE);
    player.send(PlayerCmd::SetShuffle(true)).unwrap();
    player.send(PlayerCmd::SetRepeat(Repeat::All)).unwrap();
    player
        .send(PlayerCmd::LoadAt {
            sources: sources(&paths),
            start: 2,
            play: true,
        })
        .unwrap();
    let mut starts = Vec::new();
    let seen = until(&events, |e| {
        if let PlayerEvent::TrackStarted { name, .. } = e {
            starts.push(crate::fixtures::file_name(name));
        }
        starts.len() == 3 * names.len()
    });
    player.send(PlayerCmd::Stop).unwrap();
    assert_eq!(starts[0], "c.wav");
    for cycle in starts.chunks(names.len()) {
        let mut sorted = cycle.to_vec();
        sorted.sort();
        assert_eq!(
            sorted, names,
            "a cycle that is not every track once: {cycle:?}"
        );
    }
    let snapshot = last_snapshot(&seen).unwrap();
    assert!(snapshot.shuffle);
    assert_eq!(snapshot.repeat, Repeat::All);
}

#[test]
fn repeat_one_plays_the_track_again_gaplessly() {
    let dir = tempfile::tempdir().unwrap();
    let t = tones(dir.path(), &["a.wav", "b.wav"], 0.3);
    let (player, played, events) = spawn_clocked(RATE);
    player.send(PlayerCmd::SetRepeat(Repeat::One)).unwrap();
    player
        .send(PlayerCmd::LoadAt {
            sources: sources(&[&t[0], &t[1]]),
            start: 0,
            play: true,
        })
        .unwrap();
    let mut starts = 0;
    until(&events, |e| {
        starts += usize::from(matches!(e, PlayerEvent::TrackStarted { .. }));
        starts == 3
    });
    // Next still moves on under repeat-one.
    player.send(PlayerCmd::Next).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    assert_eq!(track_events(&seen), ["ended a.wav", "started b.wav"]);
    let a = decode(&t[0]).unwrap().samples;
    // The end of one play runs straight into the start of the next.
    let tenth = 2 * RATE as usize / 10;
    let seam: Vec<f32> = a[a.len() - tenth..]
        .iter()
        .chain(&a[..tenth])
        .copied()
        .collect();
    assert!(
        find_frames(&played.samples(), &seam).is_some(),
        "the repeats are not back to back"
    );
}

#[test]
fn a_one_time_stream_plays_again_when_the_queue_comes_back_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let t = tones(dir.path(), &["a.wav", "b.wav"], 1.0);
    let bytes = std::fs::read(&t[0]).unwrap();
    let stream = Source::from_reader("stream a", std::io::Cursor::new(bytes), Some("wav"));
    let (player, played, events) = spawn_clocked(RATE);
    player
        .send(PlayerCmd::LoadAt {
            sources: vec![stream, Source::path(&t[1])],
            start: 0,
            play: true,
        })
        .unwrap();
    until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    player.send(PlayerCmd::Next).unwrap();
    until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    // Back to the stream, whose bytes were read once already: its decoder is rewound.
    player.send(PlayerCmd::Previous).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    assert_eq!(track_events(&seen), ["ended b.wav", "started stream a"]);
    let seen = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    assert_eq!(
        track_events(&seen),
        [
            "ended stream a",
            "started b.wav",
            "ended b.wav",
            "queue ended"
        ]
    );
    // The second play of the stream is whole: its end runs into b.
    let a = decode(&t[0]).unwrap().samples;
    let b = decode(&t[1]).unwrap().samples;
    let tenth = 2 * RATE as usize / 10;
    let seam: Vec<f32> = a[a.len() - tenth..]
        .iter()
        .chain(&b[..tenth])
        .copied()
        .collect();
    assert!(find_frames(&played.samples(), &seam).is_some());
}
