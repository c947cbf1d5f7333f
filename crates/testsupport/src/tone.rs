//! The audio a fixture contains: a sine tone and the PCM shape it is synthesised in.

use std::io;

/// Describes the audio to synthesise: a sine tone.
///
/// Lossy encoders store the rate and channel count but not the bit depth, so `bits` only shapes
/// the source PCM (and what WAV, AIFF, FLAC, ALAC, WavPack and APE report).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tone {
    /// Length in seconds; more than 0 and at most [`Tone::MAX_SECONDS`].
    pub seconds: f64,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channel count; the same tone is written to every channel.
    pub channels: u16,
    /// Bits per sample of the source PCM: 8, 16, 24 or 32.
    pub bits: u16,
    /// Frequency of the sine in Hz.
    pub frequency: f64,
}

impl Default for Tone {
    /// One second of a 440 Hz sine at 44.1 kHz, stereo, 16 bit: CD audio.
    fn default() -> Self {
        Tone {
            seconds: 1.0,
            sample_rate: 44_100,
            channels: 2,
            bits: 16,
            frequency: 440.0,
        }
    }
}

impl Tone {
    /// The longest tone accepted. Encoded fixtures are cached in memory for the whole test
    /// process, so this bounds what one call can hold on to.
    pub const MAX_SECONDS: f64 = 600.0;

    /// The number of samples per channel (PCM frames, "blocks" in Monkey's Audio terms).
    pub fn total_frames(&self) -> u64 {
        // Rounded like sox rounds a `synth` length, so the hand-built APE file and the encoded
        // formats agree on the length of the same tone.
        (self.seconds * f64::from(self.sample_rate)).round() as u64
    }

    /// Checks that every field is in range, so a bad tone fails before any encoder runs.
    pub(crate) fn validate(&self) -> io::Result<()> {
        let problem = if !(self.seconds.is_finite()
            && self.seconds > 0.0
            && self.seconds <= Self::MAX_SECONDS)
        {
            Some(format!(
                "seconds must be in (0, {}], got {}",
                Self::MAX_SECONDS,
                self.seconds
            ))
        } else if self.sample_rate == 0 {
            Some("sample_rate must not be 0".to_owned())
        } else if self.channels == 0 {
            Some("channels must not be 0".to_owned())
        } else if ![8, 16, 24, 32].contains(&self.bits) {
            Some(format!("bits must be 8, 16, 24 or 32, got {}", self.bits))
        } else if !(self.frequency.is_finite() && self.frequency > 0.0) {
            Some(format!(
                "frequency must be positive, got {}",
                self.frequency
            ))
        } else if self.total_frames() == 0 {
            Some("the tone is shorter than one sample".to_owned())
        } else {
            None
        };
        match problem {
            Some(message) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid tone {self:?}: {message}"),
            )),
            None => Ok(()),
        }
    }

    /// A key that identifies the tone exactly (floats by their bits), for the encode cache.
    pub(crate) fn key(&self) -> ToneKey {
        ToneKey {
            seconds: self.seconds.to_bits(),
            sample_rate: self.sample_rate,
            channels: self.channels,
            bits: self.bits,
            frequency: self.frequency.to_bits(),
        }
    }
}

/// [`Tone`] with its floats as bits, so it can be hashed and compared exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ToneKey {
    seconds: u64,
    sample_rate: u32,
    channels: u16,
    bits: u16,
    frequency: u64,
}

impl ToneKey {
    /// A seed derived from every field, so different tones give different synthetic payloads.
    pub(crate) fn seed(&self) -> u64 {
        [
            self.seconds,
            u64::from(self.sample_rate),
            u64::from(self.channels),
            u64::from(self.bits),
            self.frequency,
        ]
        .iter()
        .fold(0x5EED_0F5C_1A12_u64, |acc, field| {
            crate::noise::mix(acc ^ field)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tone_is_valid_cd_audio() {
        let tone = Tone::default();
        assert!(tone.validate().is_ok());
        assert_eq!(tone.total_frames(), 44_100);
    }

    #[test]
    fn out_of_range_tones_are_rejected() {
        let check = |tone: Tone| {
            let err = tone.validate().err().map(|e| e.kind());
            assert_eq!(err, Some(io::ErrorKind::InvalidInput), "{tone:?}");
        };
        check(Tone {
            seconds: 0.0,
            ..Tone::default()
        });
        check(Tone {
            seconds: f64::NAN,
            ..Tone::default()
        });
        check(Tone {
            seconds: 1e9,
            ..Tone::default()
        });
        check(Tone {
            sample_rate: 0,
            ..Tone::default()
        });
        check(Tone {
            channels: 0,
            ..Tone::default()
        });
        check(Tone {
            bits: 12,
            ..Tone::default()
        });
        check(Tone {
            frequency: -1.0,
            ..Tone::default()
        });
        check(Tone {
            seconds: 1e-9,
            ..Tone::default()
        });
    }

    #[test]
    fn different_tones_have_different_seeds() {
        let a = Tone::default().key().seed();
        let b = Tone {
            frequency: 441.0,
            ..Tone::default()
        }
        .key()
        .seed();
        assert_ne!(a, b);
    }
}
