//! ReplayGain: values read from each format's tags, and the level the player outputs in each
//! mode, with clipping prevention and a change while a track plays.

use std::path::{Path, PathBuf};
use std::time::Duration;

use skylark_player::{Decoder, GainInfo, GainMode, PlayerCmd, PlayerEvent, ReplayGain, Source};
use skylark_testsupport::{Format, ReplayGainSpec, TagSpec, Tone, write_audio};

use crate::fixtures::{RATE, channel, position_of, sine_amplitude, spawn_clocked, until};

/// ReplayGain values as a scanner tags them.
const TAGGED: ReplayGainSpec = ReplayGainSpec {
    track_gain_db: -6.5,
    track_peak: 0.5,
    album_gain_db: -7.25,
    album_peak: 0.75,
};

/// -6.0206 dB is a linear gain of one half.
const HALF_DB: f64 = -6.0206;

fn tagged(dir: &Path, format: Format, gain: ReplayGainSpec) -> PathBuf {
    let path = dir.join(format!("tagged.{}", format.extension()));
    let tone = Tone {
        seconds: 2.0,
        frequency: 1000.0,
        ..Tone::default()
    };
    let tags = TagSpec {
        replaygain: Some(gain),
        ..TagSpec::default()
    };
    write_audio(&path, format, &tone, &tags).unwrap();
    path
}

#[test]
fn gain_values_are_read_from_every_tag_format_symphonia_exposes() {
    let dir = tempfile::tempdir().unwrap();
    // Vorbis comments (FLAC, Ogg Vorbis, Opus), ID3v2 user text frames (MP3, and AIFF's ID3
    // chunk), iTunes freeform atoms (M4A). symphonia 0.6.1 does not read the ID3 chunk of WAV files, so for those
    // the caller passes the values (`Source::with_gain`) or they play at unity.
    for format in [
        Format::Flac,
        Format::OggVorbis,
        Format::Opus,
        Format::Mp3,
        Format::M4aAac,
        Format::M4aAlac,
        Format::Aiff,
    ] {
        let path = tagged(dir.path(), format, TAGGED);
        let info = Decoder::open(Source::path(&path)).unwrap().gain_info();
        assert_eq!(
            info,
            GainInfo {
                track_gain_db: Some(-6.5),
                track_peak: Some(0.5),
                album_gain_db: Some(-7.25),
                album_peak: Some(0.75),
            },
            "{format:?}"
        );
    }
    let untagged = dir.path().join("plain.flac");
    write_audio(
        &untagged,
        Format::Flac,
        &Tone::default(),
        &TagSpec::default(),
    )
    .unwrap();
    let info = Decoder::open(Source::path(&untagged)).unwrap().gain_info();
    assert!(info.is_empty(), "{info:?}");
}

/// Opus files tagged by rsgain or opusgain carry `R128_*_GAIN` (Q7.8 dB to -23 LUFS) instead of
/// ReplayGain values; they count as ReplayGain gains 5 dB up, and ReplayGain values win.
#[test]
fn opus_r128_gains_count_as_replay_gain() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, tags: TagSpec| {
        let path = dir.path().join(format!("{name}.opus"));
        write_audio(&path, Format::Opus, &Tone::default(), &tags).unwrap();
        Decoder::open(Source::path(&path)).unwrap().gain_info()
    };
    let r128 = write(
        "r128",
        TagSpec {
            r128_gains: Some((-512, -1920)),
            ..TagSpec::default()
        },
    );
    assert_eq!(
        r128,
        GainInfo {
            track_gain_db: Some(3.0),
            album_gain_db: Some(-2.5),
            ..GainInfo::default()
        }
    );
    let both = write(
        "both",
        TagSpec {
            r128_gains: Some((-512, -1920)),
            replaygain: Some(TAGGED),
            ..TagSpec::default()
        },
    );
    assert_eq!(
        (both.track_gain_db, both.album_gain_db),
        (Some(-6.5), Some(-7.25))
    );
}

/// A library iTunes analysed carries Sound Check (`iTunNORM`) and no ReplayGain: it counts as the
/// track gain and peak, and ReplayGain values win where both are there.
#[test]
fn itunes_sound_check_counts_as_a_track_gain() {
    let dir = tempfile::tempdir().unwrap();
    // Channels at 2603/1000 and 2000/1000 of the reference: -4.155 dB; peaks 0x6000 and 0x7000.
    let text = " 00000A2B 000007D0 00001965 00001388 00024CA8 00024CA8 00006000 00007000 00024CA8 00024CA8";
    for format in [Format::Mp3, Format::M4aAac, Format::M4aAlac, Format::Aiff] {
        let path = dir.path().join(format!("itunes.{}", format.extension()));
        let tags = TagSpec {
            sound_check: Some(text.to_owned()),
            ..TagSpec::default()
        };
        write_audio(&path, format, &Tone::default(), &tags).unwrap();
        let info = Decoder::open(Source::path(&path)).unwrap().gain_info();
        let gain = info
            .track_gain_db
            .unwrap_or_else(|| panic!("{format:?}: {info:?}"));
        assert!((gain + 4.155).abs() < 0.001, "{format:?}: {gain}");
        let peak = info.track_peak.unwrap();
        assert!((peak - 0.875).abs() < 1e-6, "{format:?}: {peak}");
        assert_eq!((info.album_gain_db, info.album_peak), (None, None));
    }
    let path = dir.path().join("both.mp3");
    let tags = TagSpec {
        sound_check: Some(text.to_owned()),
        replaygain: Some(TAGGED),
        ..TagSpec::default()
    };
    write_audio(&path, Format::Mp3, &Tone::default(), &tags).unwrap();
    let info = Decoder::open(Source::path(&path)).unwrap().gain_info();
    assert_eq!(
        (info.track_gain_db, info.track_peak),
        (Some(-6.5), Some(0.5))
    );
}

/// The amplitude of the steady middle of what the player outputs for `source` with `setting`.
fn played_amplitude(source: Source, setting: ReplayGain) -> f64 {
    let (player, played, events) = spawn_clocked(RATE);
    player.send(PlayerCmd::SetReplayGain(setting)).unwrap();
    player
        .send(PlayerCmd::LoadAt {
            sources: vec![source],
            start: 0,
            play: true,
        })
        .unwrap();
    until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    let left = channel(&played.samples(), 2, 0);
    let first = left.iter().position(|&s| s != 0.0).unwrap();
    // Well past the fade-in, whole cycles of 1 kHz.
    let steady = &left[first + RATE as usize / 4..first + RATE as usize];
    sine_amplitude(steady)
}

fn setting(mode: GainMode, preamp_db: f32, prevent_clipping: bool) -> ReplayGain {
    ReplayGain {
        mode,
        preamp_db,
        prevent_clipping,
    }
}

fn assert_close(measured: f64, expected: f64, what: &str) {
    assert!(
        (measured / expected - 1.0).abs() < 0.01,
        "{what}: amplitude {measured}, expected {expected}"
    );
}

#[test]
fn track_and_album_gain_from_tags_scale_the_output() {
    let dir = tempfile::tempdir().unwrap();
    // The tone is a 0.5 sine; the album gain is -12 dB, the track gain -6 dB.
    let path = tagged(
        dir.path(),
        Format::Flac,
        ReplayGainSpec {
            track_gain_db: HALF_DB,
            track_peak: 0.5,
            album_gain_db: 2.0 * HALF_DB,
            album_peak: 0.5,
        },
    );
    let play = |mode, preamp| played_amplitude(Source::path(&path), setting(mode, preamp, true));
    assert_close(play(GainMode::Off, 0.0), 0.5, "off");
    assert_close(play(GainMode::Track, 0.0), 0.25, "track");
    assert_close(play(GainMode::Album, 0.0), 0.125, "album");
    // +6 dB of pre-amp on the album gain: back to a quarter.
    assert_close(
        play(GainMode::Album, -HALF_DB as f32),
        0.25,
        "album + preamp",
    );
}

#[test]
fn album_mode_falls_back_to_track_gain_and_callers_values_win_over_tags() {
    let dir = tempfile::tempdir().unwrap();
    // The tags say -12 dB for the album; the caller's values, which have no album gain, win.
    let path = tagged(
        dir.path(),
        Format::Flac,
        ReplayGainSpec {
            track_gain_db: 0.0,
            track_peak: 0.5,
            album_gain_db: 2.0 * HALF_DB,
            album_peak: 0.5,
        },
    );
    let track_only = GainInfo {
        track_gain_db: Some(HALF_DB as f32),
        track_peak: Some(0.5),
        ..GainInfo::default()
    };
    let amplitude = played_amplitude(
        Source::path(&path).with_gain(track_only),
        setting(GainMode::Album, 0.0, true),
    );
    assert_close(
        amplitude,
        0.25,
        "album mode on a track with only track values",
    );
}

#[test]
fn clipping_prevention_caps_the_gain_at_one_over_the_peak() {
    let dir = tempfile::tempdir().unwrap();
    let path = tagged(
        dir.path(),
        Format::Flac,
        ReplayGainSpec {
            track_gain_db: 12.0,
            track_peak: 0.5,
            album_gain_db: 12.0,
            album_peak: 0.5,
        },
    );
    let loud =
        |prevent| played_amplitude(Source::path(&path), setting(GainMode::Track, 0.0, prevent));
    // +12 dB would take the 0.5 peak to 1.99; prevention holds it at full scale.
    assert_close(loud(true), 1.0, "with clipping prevention");
    assert_close(loud(false), 0.5 * 10f64.powf(0.6), "without");
}

#[test]
fn a_new_setting_takes_effect_on_the_playing_track_within_the_ring() {
    let dir = tempfile::tempdir().unwrap();
    let path = tagged(
        dir.path(),
        Format::Flac,
        ReplayGainSpec {
            track_gain_db: HALF_DB,
            track_peak: 0.5,
            album_gain_db: HALF_DB,
            album_peak: 0.5,
        },
    );
    let (player, played, events) = spawn_clocked(RATE);
    player
        .send(PlayerCmd::LoadAt {
            sources: vec![Source::path(&path)],
            start: 0,
            play: true,
        })
        .unwrap();
    until(&events, |e| {
        position_of(e).is_some_and(|(_, p)| p >= Duration::from_millis(500))
    });
    let changed_at = played.len() / 2;
    player
        .send(PlayerCmd::SetReplayGain(setting(
            GainMode::Track,
            0.0,
            true,
        )))
        .unwrap();
    until(&events, |e| matches!(e, PlayerEvent::QueueEnded));
    let left = channel(&played.samples(), 2, 0);
    let window = RATE as usize / 10;
    let before = sine_amplitude(&left[changed_at - window..changed_at]);
    // The ring holds a quarter second at the old gain; 300 ms on, the new one is in force.
    let after_start = changed_at + 3 * RATE as usize / 10;
    let after = sine_amplitude(&left[after_start..after_start + window]);
    assert_close(before, 0.5, "before the change");
    assert_close(after, 0.25, "300 ms after the change");
}
