//! Conforming decoded blocks to an output's rate and channel count: channel map, resample, spread.
//!
//! Both the headless render and the real-time engine go through this one path, so a file rendered
//! with `--out` and the same file played on a device at the same rate get the same samples.

use symphonia::core::audio::Channels;

use crate::channels::{ChannelMap, OUTPUT_CHANNELS, spread_stereo};
use crate::error::{Error, Result};
use crate::resample::{ResamplerCheckpoint, StreamResampler};
use crate::sink::OutputSpec;

/// Turns decoded blocks of any rate and layout into interleaved frames of one [`OutputSpec`].
///
/// Blocks are mapped to stereo ([`ChannelMap`]), resampled when their rate differs from the
/// output's (one [`StreamResampler`] runs across consecutive blocks and tracks at the same rate,
/// so joins are resampled as a continuous stream), then spread to the output's channel count.
/// A block already at the output's rate and layout passes through bit-exact.
pub(crate) struct Conformer {
    spec: OutputSpec,
    resampler: Option<StreamResampler>,
    /// `frames_out` when the resampler started.
    resampler_base: u64,
    channel_map: Option<(Channels, ChannelMap)>,
    mapped: Vec<f32>,
    resampled: Vec<f32>,
    /// Output frames produced since this conformer was made or last discarded.
    frames_out: u64,
}

/// A [`Conformer`]'s stream state at one moment: see [`Conformer::restore`].
#[derive(Clone, Debug)]
pub(crate) struct ConformerCheckpoint {
    resampler: Option<ResamplerCheckpoint>,
    resampler_base: u64,
    frames_out: u64,
}

impl ConformerCheckpoint {
    /// Output frames the conformer had produced when the checkpoint was taken.
    pub(crate) fn frames_out(&self) -> u64 {
        self.frames_out
    }
}

impl Conformer {
    /// A conformer producing frames of `spec`.
    pub(crate) fn new(spec: OutputSpec) -> Self {
        Conformer {
            spec,
            resampler: None,
            resampler_base: 0,
            channel_map: None,
            mapped: Vec::new(),
            resampled: Vec::new(),
            frames_out: 0,
        }
    }

    /// The output frame at which the input pushed so far ends: [`frames_out`](Self::frames_out)
    /// plus what the resampler still holds back. The next block pushed starts there.
    pub(crate) fn input_end_frame(&self) -> u64 {
        match &self.resampler {
            Some(resampler) => self.resampler_base + resampler.output_frames_for_input(),
            None => self.frames_out,
        }
    }

    /// The state to come back to with [`restore`](Self::restore).
    pub(crate) fn checkpoint(&self) -> ConformerCheckpoint {
        ConformerCheckpoint {
            resampler: self.resampler.as_ref().map(StreamResampler::checkpoint),
            resampler_base: self.resampler_base,
            frames_out: self.frames_out,
        }
    }

    /// Goes back to `checkpoint`: fed the same blocks from here on, the output is bit for bit
    /// what it would have been, so a stream can be rewound to a track join and continued with
    /// another track as if that one had followed all along.
    ///
    /// # Errors
    ///
    /// [`Error::Resample`] if the resampler cannot be rebuilt.
    pub(crate) fn restore(&mut self, checkpoint: &ConformerCheckpoint) -> Result<()> {
        self.resampler = checkpoint
            .resampler
            .as_ref()
            .map(StreamResampler::restore)
            .transpose()?;
        self.resampler_base = checkpoint.resampler_base;
        self.frames_out = checkpoint.frames_out;
        Ok(())
    }

    /// The output format.
    pub(crate) fn spec(&self) -> OutputSpec {
        self.spec
    }

    /// Conforms one decoded block and appends the result to `output`.
    ///
    /// A resampler holds back up to a chunk of audio, so the output of one call need not match
    /// its input in length; [`flush`](Self::flush) releases what is held.
    pub(crate) fn push(
        &mut self,
        rate: u32,
        channels: &Channels,
        samples: &[f32],
        output: &mut Vec<f32>,
    ) -> Result<()> {
        let before = output.len();
        let result = self.push_inner(rate, channels, samples, output, before);
        self.count(output.len() - before);
        result
    }

    fn count(&mut self, samples: usize) {
        self.frames_out += (samples / usize::from(self.spec.channels.max(1))) as u64;
    }

    fn push_inner(
        &mut self,
        rate: u32,
        channels: &Channels,
        samples: &[f32],
        output: &mut Vec<f32>,
        before: usize,
    ) -> Result<()> {
        let map = match &self.channel_map {
            Some((known, map)) if known == channels => map,
            _ => {
                let map = ChannelMap::for_channels(channels).ok_or(Error::UnplayableSignal {
                    source_name: "decoded block".to_owned(),
                    reason: "no channels",
                })?;
                &self.channel_map.insert((channels.clone(), map)).1
            }
        };
        // A stereo block is already what the rest of the path takes: it goes on as it is,
        // without a copy.
        let mut mapped = std::mem::take(&mut self.mapped);
        let stereo = if *map == ChannelMap::Stereo {
            samples
        } else {
            mapped.clear();
            map.apply(samples, &mut mapped);
            &mapped
        };
        let result = self.conform_stereo(rate, stereo, output, before);
        self.mapped = mapped;
        result
    }

    /// Resamples interleaved stereo `stereo` when `rate` is not the output's, and spreads it to
    /// the output's channels.
    fn conform_stereo(
        &mut self,
        rate: u32,
        stereo: &[f32],
        output: &mut Vec<f32>,
        before: usize,
    ) -> Result<()> {
        if rate == self.spec.sample_rate {
            // A block at the output rate after one that was resampled: drain the resampler
            // first so the earlier audio comes out before this, then pass through untouched.
            self.drain_resampler(output)?;
            spread_stereo(stereo, self.spec.channels, output);
            return Ok(());
        }
        if self
            .resampler
            .as_ref()
            .is_some_and(|r| r.from_rate() != rate)
        {
            self.drain_resampler(output)?;
        }
        let resampler = match &mut self.resampler {
            Some(resampler) => resampler,
            None => {
                // The resampler's frame 0 comes right after everything produced so far: what
                // is counted plus what this call has already appended (a drained resampler).
                let appended = (output.len() - before) / usize::from(self.spec.channels.max(1));
                self.resampler_base = self.frames_out + appended as u64;
                self.resampler.insert(StreamResampler::try_new(
                    rate,
                    self.spec.sample_rate,
                    usize::from(OUTPUT_CHANNELS),
                )?)
            }
        };
        if self.spec.channels == OUTPUT_CHANNELS {
            // A stereo output takes the resampler's frames as they are: straight in.
            return resampler.push(stereo, output);
        }
        self.resampled.clear();
        resampler.push(stereo, &mut self.resampled)?;
        spread_stereo(&self.resampled, self.spec.channels, output);
        Ok(())
    }

    /// Drains and drops the resampler, appending its tail to `output`.
    pub(crate) fn flush(&mut self, output: &mut Vec<f32>) -> Result<()> {
        let before = output.len();
        let result = self.drain_resampler(output);
        self.count(output.len() - before);
        result
    }

    fn drain_resampler(&mut self, output: &mut Vec<f32>) -> Result<()> {
        if let Some(mut resampler) = self.resampler.take() {
            if self.spec.channels == OUTPUT_CHANNELS {
                return resampler.finish(output);
            }
            self.resampled.clear();
            resampler.finish(&mut self.resampled)?;
            spread_stereo(&self.resampled, self.spec.channels, output);
        }
        Ok(())
    }

    /// Drops whatever the resampler holds and counts frames from 0 again: the stream is about
    /// to jump (a seek, a skip).
    pub(crate) fn discard(&mut self) {
        self.resampler = None;
        self.resampler_base = 0;
        self.frames_out = 0;
    }
}
