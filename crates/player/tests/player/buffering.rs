//! A byte source that stalls: the player reports buffering, plays silence with the position
//! held, answers commands meanwhile, and goes on where it stopped once data flows again.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use skylark_player::{PlaybackState, PlayerCmd, PlayerEvent, Source};

use crate::fixtures::{
    RATE, decode, find_frames, position_of, sine_wav, spawn_clocked, track_events, until,
};

/// A reader over `bytes` whose first read past byte `stall_at` blocks for `stall`, as a
/// network stream waiting for data does.
struct StallingReader {
    inner: Cursor<Vec<u8>>,
    stall_at: u64,
    stall: Duration,
    stalled: bool,
}

impl Read for StallingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.stalled && self.inner.position() + buf.len() as u64 > self.stall_at {
            self.stalled = true;
            std::thread::sleep(self.stall);
        }
        self.inner.read(buf)
    }
}

impl Seek for StallingReader {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// A source reading `wav` that stalls for `stall` one second into the audio.
fn stalling(wav: &Path, stall: Duration) -> Source {
    let bytes = std::fs::read(wav).unwrap();
    // 16-bit stereo: 4 bytes a frame, after a 44-byte header.
    let stall_at = 44 + 4 * u64::from(RATE);
    Source::from_reader(
        "stalling stream",
        StallingReader {
            inner: Cursor::new(bytes),
            stall_at,
            stall,
            stalled: false,
        },
        Some("wav"),
    )
}

/// The signal without runs of at least 8 silent frames (what an output plays while starved).
fn without_gaps(samples: &[f32]) -> Vec<f32> {
    const RUN: usize = 8;
    let mut kept = Vec::with_capacity(samples.len());
    let mut silent: Vec<f32> = Vec::new();
    for frame in samples.chunks_exact(2) {
        if frame == [0.0, 0.0] {
            silent.extend_from_slice(frame);
            continue;
        }
        if silent.len() < 2 * RUN {
            kept.extend_from_slice(&silent);
        }
        silent.clear();
        kept.extend_from_slice(frame);
    }
    kept
}

#[test]
fn a_stalled_stream_reports_buffering_holds_the_position_and_goes_on_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let wav = sine_wav(dir.path(), "tone.wav", 440, 2.0, 0.5);
    let (player, played, events) = spawn_clocked(RATE);
    player
        .send(PlayerCmd::LoadAt {
            sources: vec![stalling(&wav, Duration::from_millis(1_500))],
            start: 0,
            play: true,
        })
        .unwrap();
    let before = until(&events, |e| {
        matches!(
            e,
            PlayerEvent::Buffering {
                buffering: true,
                ..
            }
        )
    });
    let stalled_at = before.last().unwrap().0;
    let held = before
        .iter()
        .rev()
        .find_map(|(_, e)| position_of(e))
        .expect("a position before the stall")
        .1;
    let during = until(&events, |e| {
        matches!(
            e,
            PlayerEvent::Buffering {
                buffering: false,
                ..
            }
        )
    });
    let resumed_at = during.last().unwrap().0;
    assert!(
        resumed_at - stalled_at > Duration::from_millis(500),
        "buffering lasted only {:?}",
        resumed_at - stalled_at
    );
    // What was left in the ring plays out; then the position holds.
    for (_, event) in &during {
        if let Some((_, position)) = position_of(event) {
            assert!(
                position < held + Duration::from_millis(250),
                "the position ran on while buffering: {held:?} -> {position:?}"
            );
        }
    }
    let after = until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    assert_eq!(
        track_events(&after),
        ["ended stalling stream", "queue ended"]
    );

    // Every frame of the file played, in order, with only silence inserted at the stall.
    let expected = decode(&wav).unwrap().samples;
    let output = without_gaps(&played.samples());
    // Past the fade-in from silence, the rest of the file follows exactly.
    let fade = 2 * RATE as usize / 50;
    let rest = &expected[fade..];
    let start =
        2 * find_frames(&output, &rest[..2 * 1000]).expect("the file's audio is not in the output");
    assert!(output.len() >= start + rest.len(), "frames were lost");
    assert!(
        output[start..start + rest.len()] == *rest,
        "the audio after the stall does not continue the audio before it"
    );
}

#[test]
fn commands_are_answered_while_a_source_is_stalled() {
    let dir = tempfile::tempdir().unwrap();
    let wav = sine_wav(dir.path(), "tone.wav", 440, 2.0, 0.5);
    let next = sine_wav(dir.path(), "next.wav", 660, 0.5, 0.5);
    let (player, _played, events) = spawn_clocked(RATE);
    player
        .send(PlayerCmd::LoadAt {
            sources: vec![stalling(&wav, Duration::from_secs(3)), Source::path(&next)],
            start: 0,
            play: true,
        })
        .unwrap();
    until(&events, |e| {
        matches!(
            e,
            PlayerEvent::Buffering {
                buffering: true,
                ..
            }
        )
    });
    // The stalled read blocks its decode thread only.
    let asked = Instant::now();
    player.send(PlayerCmd::Pause).unwrap();
    until(&events, |e| {
        matches!(e, PlayerEvent::StateChanged(PlaybackState::Paused))
    });
    assert!(
        asked.elapsed() < Duration::from_millis(100),
        "{:?}",
        asked.elapsed()
    );
    player.send(PlayerCmd::Resume).unwrap();
    let asked = Instant::now();
    player.send(PlayerCmd::Next).unwrap();
    let seen = until(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    assert!(
        asked.elapsed() < Duration::from_millis(300),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        seen.iter().any(|(_, e)| matches!(
            e,
            PlayerEvent::Buffering {
                buffering: false,
                ..
            }
        )),
        "leaving the stalled track ends buffering"
    );
    assert_eq!(
        track_events(&seen),
        ["ended stalling stream", "started next.wav"]
    );
}
