//! Where rendered audio goes: the [`Sink`] seam and the WAV file sink.
//!
//! A sink is pushed to as fast as the render decodes: the whole-queue, offline path. Real-time
//! playback is pulled by the device's clock instead, through the [`Output`](crate::Output) seam
//! (the cpal device, or the clocked test output), so the two are separate traits.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempPath};

use crate::error::{Error, Result};

/// The shape of the audio a sink receives: interleaved f32 frames at one rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputSpec {
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved channels per frame.
    pub channels: u16,
}

/// A destination for rendered audio.
///
/// # For Implementations
///
/// [`begin`](Sink::begin) is called once, before any samples, with the spec every later
/// [`write`](Sink::write) uses; [`finish`](Sink::finish) is called once after the last write and
/// must make the output complete (flush, close, publish). A sink that is dropped without
/// `finish` must leave no partial output behind where a finished one would be.
pub trait Sink {
    /// Prepares the sink for audio of `spec`.
    ///
    /// # Errors
    ///
    /// The output cannot be opened.
    fn begin(&mut self, spec: OutputSpec) -> Result<()>;

    /// Takes interleaved samples (a whole number of frames) in nominal range -1.0..=1.0.
    ///
    /// # Errors
    ///
    /// The output cannot be written, or `begin` was not called.
    fn write(&mut self, samples: &[f32]) -> Result<()>;

    /// Completes the output.
    ///
    /// # Errors
    ///
    /// The output cannot be completed, or `begin` was not called.
    fn finish(&mut self) -> Result<()>;
}

/// The sample format of a WAV file sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WavSampleFormat {
    /// 32-bit IEEE float (WAVE_FORMAT_IEEE_FLOAT): the decoded samples as they are.
    F32,
    /// 16-bit signed PCM, clipped at full scale, without dither.
    S16,
}

/// Writes rendered audio to a WAV file with `hound`.
///
/// The audio goes to a temporary file beside the destination, which is renamed over it only in
/// [`finish`](Sink::finish): a render that fails or is killed leaves no half-written WAV.
pub struct WavSink {
    path: PathBuf,
    format: WavSampleFormat,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    /// The temporary file being written; deleted on drop unless persisted.
    temp_path: Option<TempPath>,
}

impl WavSink {
    /// A sink that will write `path` in `format` once rendering finishes.
    pub fn new(path: impl Into<PathBuf>, format: WavSampleFormat) -> Self {
        WavSink {
            path: path.into(),
            format,
            writer: None,
            temp_path: None,
        }
    }

    /// The destination path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, source: hound::Error) -> Error {
        Error::Sink {
            path: self.path.clone(),
            source,
        }
    }
}

/// Converts a float sample to 16-bit PCM.
///
/// symphonia decodes 16-bit PCM as `s / 32768`, so scaling by 32768 and rounding gives back the
/// original integers: a 16-bit source rendered to 16 bits at its own rate is bit-exact.
fn to_s16(sample: f32) -> i16 {
    (sample * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16
}

impl Sink for WavSink {
    fn begin(&mut self, spec: OutputSpec) -> Result<()> {
        let wav_spec = match self.format {
            WavSampleFormat::F32 => hound::WavSpec {
                channels: spec.channels,
                sample_rate: spec.sample_rate,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            },
            WavSampleFormat::S16 => hound::WavSpec {
                channels: spec.channels,
                sample_rate: spec.sample_rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            },
        };
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let temp = NamedTempFile::new_in(dir).map_err(|e| self.error(hound::Error::IoError(e)))?;
        let (file, temp_path) = temp.into_parts();
        self.temp_path = Some(temp_path);
        let writer =
            hound::WavWriter::new(BufWriter::new(file), wav_spec).map_err(|e| self.error(e))?;
        self.writer = Some(writer);
        Ok(())
    }

    fn write(&mut self, samples: &[f32]) -> Result<()> {
        let format = self.format;
        let Some(writer) = self.writer.as_mut() else {
            return Err(Error::SinkState("write before begin"));
        };
        let written: std::result::Result<(), hound::Error> = match format {
            WavSampleFormat::F32 => samples.iter().try_for_each(|&s| writer.write_sample(s)),
            WavSampleFormat::S16 => samples
                .iter()
                .try_for_each(|&s| writer.write_sample(to_s16(s))),
        };
        written.map_err(|e| self.error(e))
    }

    fn finish(&mut self) -> Result<()> {
        let (Some(writer), Some(temp_path)) = (self.writer.take(), self.temp_path.take()) else {
            return Err(Error::SinkState("finish before begin"));
        };
        // `finalize` writes the RIFF and data chunk sizes and flushes; only then is the file
        // complete enough to take the destination's name.
        writer.finalize().map_err(|e| self.error(e))?;
        temp_path
            .persist(&self.path)
            .map_err(|e| self.error(hound::Error::IoError(e.error)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s16_round_trips_16_bit_values_and_clips() {
        for value in [-32_768i16, -1, 0, 1, 12_345, 32_767] {
            assert_eq!(to_s16(f32::from(value) / 32_768.0), value);
        }
        assert_eq!(to_s16(1.5), 32_767);
        assert_eq!(to_s16(-1.5), -32_768);
    }
}
