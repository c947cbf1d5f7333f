//! ReplayGain: a track's loudness values ([`GainInfo`]), the listener's setting ([`ReplayGain`]),
//! and the linear gain the two give.
//!
//! The values are those of the ReplayGain 2.0 specification (hydrogenaud.io wiki, "ReplayGain 2.0
//! specification", §Metadata format): a gain in dB that brings the track or album to the
//! reference loudness, and the peak sample as a linear value where 1.0 is full scale. The gain is
//! applied to decoded samples on the engine's thread, never in the output callback.

use symphonia::core::meta::{RawValue, StandardTag, Tag};

/// A track's ReplayGain values, as tags or the caller's catalog give them. Any may be missing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GainInfo {
    /// The gain in dB that brings the track to the reference loudness.
    pub track_gain_db: Option<f32>,
    /// The track's peak sample, linear (1.0 is full scale).
    pub track_peak: Option<f32>,
    /// The gain in dB that brings the album to the reference loudness.
    pub album_gain_db: Option<f32>,
    /// The album's peak sample, linear.
    pub album_peak: Option<f32>,
}

impl GainInfo {
    /// Whether no value is known.
    pub fn is_empty(&self) -> bool {
        *self == GainInfo::default()
    }

    /// Reads the `REPLAYGAIN_*` values among `tags` (Vorbis comments, ID3v2 `TXXX`, APEv2 and
    /// iTunes freeform items all map to the same standard tags in symphonia), and where a gain is
    /// missing, the Opus `R128_*_GAIN` one (see [`parse_r128_gain`]) or iTunes' Sound Check (see
    /// [`parse_sound_check`]). Later tags win, so a caller passing revisions oldest first gets the
    /// newest values.
    pub(crate) fn from_tags<'a>(tags: impl IntoIterator<Item = &'a Tag>) -> Self {
        let mut info = GainInfo::default();
        let (mut r128_track, mut r128_album) = (None, None);
        let mut sound_check = None;
        for tag in tags {
            if let (true, RawValue::String(text)) = (is_sound_check(tag), &tag.raw.value) {
                sound_check = parse_sound_check(text).or(sound_check);
                continue;
            }
            let (slot, value, parse): (&mut Option<f32>, &str, Parser) = match &tag.std {
                Some(StandardTag::ReplayGainTrackGain(v)) => {
                    (&mut info.track_gain_db, v.as_str(), parse_gain)
                }
                Some(StandardTag::ReplayGainTrackPeak(v)) => {
                    (&mut info.track_peak, v.as_str(), parse_peak)
                }
                Some(StandardTag::ReplayGainAlbumGain(v)) => {
                    (&mut info.album_gain_db, v.as_str(), parse_gain)
                }
                Some(StandardTag::ReplayGainAlbumPeak(v)) => {
                    (&mut info.album_peak, v.as_str(), parse_peak)
                }
                _ => match (tag.raw.key.to_ascii_uppercase().as_str(), &tag.raw.value) {
                    ("R128_TRACK_GAIN", RawValue::String(v)) => {
                        (&mut r128_track, v.as_str(), parse_r128_gain)
                    }
                    ("R128_ALBUM_GAIN", RawValue::String(v)) => {
                        (&mut r128_album, v.as_str(), parse_r128_gain)
                    }
                    _ => continue,
                },
            };
            if let Some(parsed) = parse(value) {
                *slot = Some(parsed);
            }
        }
        info.track_gain_db = info.track_gain_db.or(r128_track);
        info.album_gain_db = info.album_gain_db.or(r128_album);
        if let (None, Some((gain, peak))) = (info.track_gain_db, sound_check) {
            info.track_gain_db = Some(gain);
            info.track_peak = info.track_peak.or(peak);
        }
        info
    }
}

/// Whether `tag` holds iTunes' Sound Check (`iTunNORM`): an ID3v2 `COMM` frame with that short
/// description (MP3, AIFF, WAV), or an MP4 freeform `com.apple.iTunes:iTunNORM` item.
fn is_sound_check(tag: &Tag) -> bool {
    let key = &tag.raw.key;
    let described = || {
        tag.raw.sub_fields.iter().flatten().any(|sub| {
            sub.field == "SHORT_DESCRIPTION"
                && matches!(&sub.value, RawValue::String(d) if d.eq_ignore_ascii_case("iTunNORM"))
        })
    };
    let freeform = key
        .rsplit_once(':')
        .is_some_and(|(_, name)| name.eq_ignore_ascii_case("iTunNORM"));
    freeform || (key == "COMM" && described())
}

/// Parses one ReplayGain value from its text.
type Parser = fn(&str) -> Option<f32>;

/// Parses a ReplayGain gain: `"-6.50 dB"`, `"+3.2 dB"` or a bare number.
fn parse_gain(text: &str) -> Option<f32> {
    let text = text.trim();
    let number = text
        .strip_suffix("dB")
        .or_else(|| text.strip_suffix("db"))
        .or_else(|| text.strip_suffix("DB"))
        .unwrap_or(text)
        .trim();
    let gain: f32 = number.strip_prefix('+').unwrap_or(number).parse().ok()?;
    // Anything beyond ±60 dB is a broken tag, not a loudness correction.
    (gain.is_finite() && gain.abs() <= 60.0).then_some(gain)
}

/// Parses an Opus `R128_TRACK_GAIN` or `R128_ALBUM_GAIN` value (RFC 7845 §5.2.1: a decimal Q7.8
/// number of dB that brings the audio to -23 LUFS, on top of the header's output gain) as a
/// ReplayGain 2.0 gain, whose reference is 5 dB louder (-18 LUFS). Opus taggers such as rsgain
/// write only these.
fn parse_r128_gain(text: &str) -> Option<f32> {
    let q78: i16 = text.trim().parse().ok()?;
    Some(f32::from(q78) / 256.0 + 5.0)
}

/// Parses iTunes' Sound Check (`iTunNORM`, ten hexadecimal words) as a track gain and peak, the
/// way the catalog's tag reader does (`crates/tags/src/read.rs`, `sound_check`; the player reads
/// tags with symphonia and knows nothing of that crate): the first two words are the channels'
/// loudness in thousandths of the reference, so the gain is -10·log10(max/1000) dB, and words
/// seven and eight their peak samples on a 16-bit scale.
fn parse_sound_check(text: &str) -> Option<(f32, Option<f32>)> {
    let words: Vec<u32> = text
        .split_whitespace()
        .map(|word| u32::from_str_radix(word, 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let level = words.get(..2)?.iter().copied().max()?;
    let gain = -10.0 * (f64::from(level) / 1000.0).log10();
    let gain = (gain.is_finite() && gain.abs() <= 60.0).then_some(gain as f32)?;
    let peak = words
        .get(6..8)
        .and_then(|peaks| peaks.iter().copied().max())
        .filter(|&peak| peak > 0)
        .map(|peak| (f64::from(peak) / 32_768.0) as f32);
    Some((gain, peak))
}

/// Parses a ReplayGain peak: a non-negative linear value such as `"0.988547"`.
fn parse_peak(text: &str) -> Option<f32> {
    let peak: f32 = text.trim().parse().ok()?;
    (peak.is_finite() && peak > 0.0).then_some(peak)
}

/// Which ReplayGain value the player applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GainMode {
    /// No ReplayGain: samples play as decoded.
    #[default]
    Off,
    /// Each track at the reference loudness.
    Track,
    /// Each album at the reference loudness, keeping the loudness steps between its tracks;
    /// a track without album values falls back to its track values.
    Album,
}

/// The listener's ReplayGain setting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplayGain {
    /// Which value to apply.
    pub mode: GainMode,
    /// Added to the track's or album's gain, in dB (typically -15 to +15).
    pub preamp_db: f32,
    /// Lower the gain where needed so that the peak times the gain stays at or below 1.0.
    pub prevent_clipping: bool,
}

impl Default for ReplayGain {
    /// Off, no pre-amp, clipping prevention on.
    fn default() -> Self {
        ReplayGain {
            mode: GainMode::Off,
            preamp_db: 0.0,
            prevent_clipping: true,
        }
    }
}

impl ReplayGain {
    /// The linear gain to apply to a track with `info`.
    ///
    /// 1.0 when the mode is off or the track has no gain for it (the pre-amp applies only to
    /// tracks that have a gain, as in foobar2000 and mpv: a track never scanned keeps its level).
    /// In album mode, missing album values fall back to the track's. With clipping prevention,
    /// the gain is lowered to `1 / peak` when `peak * gain` would exceed 1.0.
    pub fn linear_gain(&self, info: &GainInfo) -> f32 {
        let (gain_db, peak) = match self.mode {
            GainMode::Off => return 1.0,
            GainMode::Track => (info.track_gain_db, info.track_peak),
            GainMode::Album => match info.album_gain_db {
                Some(gain) => (Some(gain), info.album_peak.or(info.track_peak)),
                None => (info.track_gain_db, info.track_peak),
            },
        };
        let Some(gain_db) = gain_db else {
            return 1.0;
        };
        let preamp = if self.preamp_db.is_finite() {
            self.preamp_db
        } else {
            0.0
        };
        let mut linear = 10f32.powf((gain_db + preamp) / 20.0);
        if !linear.is_finite() {
            return 1.0;
        }
        if self.prevent_clipping
            && let Some(peak) = peak.filter(|p| p.is_finite() && *p > 0.0)
            && peak * linear > 1.0
        {
            linear = 1.0 / peak;
        }
        linear
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(setting: ReplayGain, info: GainInfo, expected: f32) {
        let gain = setting.linear_gain(&info);
        assert!(
            (gain - expected).abs() < 1e-4,
            "{setting:?} {info:?}: {gain}, expected {expected}"
        );
    }

    #[test]
    fn modes_pick_their_values_and_album_falls_back_to_track() {
        let track = ReplayGain {
            mode: GainMode::Track,
            preamp_db: 0.0,
            prevent_clipping: false,
        };
        let album = ReplayGain {
            mode: GainMode::Album,
            ..track
        };
        let both = GainInfo {
            track_gain_db: Some(-6.0206),
            track_peak: Some(0.5),
            album_gain_db: Some(-12.0412),
            album_peak: Some(0.9),
        };
        check(ReplayGain::default(), both, 1.0);
        check(track, both, 0.5);
        check(album, both, 0.25);
        let track_only = GainInfo {
            album_gain_db: None,
            album_peak: None,
            ..both
        };
        check(album, track_only, 0.5);
        check(track, GainInfo::default(), 1.0);
        check(
            ReplayGain {
                preamp_db: 6.0206,
                ..track
            },
            both,
            1.0,
        );
    }

    #[test]
    fn clipping_prevention_caps_gain_at_one_over_peak() {
        let setting = ReplayGain {
            mode: GainMode::Track,
            preamp_db: 0.0,
            prevent_clipping: true,
        };
        let loud = GainInfo {
            track_gain_db: Some(6.0206),
            track_peak: Some(0.8),
            ..GainInfo::default()
        };
        check(setting, loud, 1.25);
        check(
            ReplayGain {
                prevent_clipping: false,
                ..setting
            },
            loud,
            2.0,
        );
    }

    #[test]
    fn gains_and_peaks_parse_as_scanners_write_them() {
        assert_eq!(parse_gain("-6.50 dB"), Some(-6.5));
        assert_eq!(parse_gain("+3.20 dB"), Some(3.2));
        assert_eq!(parse_gain(" -1.5"), Some(-1.5));
        assert_eq!(parse_gain("loud"), None);
        assert_eq!(parse_gain("900 dB"), None);
        assert_eq!(parse_peak("0.988547"), Some(0.988_547));
        assert_eq!(parse_peak("-1"), None);
    }
}
