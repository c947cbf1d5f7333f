//! Conforming decoded blocks to an output's rate and channel count: channel map, resample, spread.
//!
//! Both the headless render and the real-time engine go through this one path, so a file rendered
//! with `--out` and the same file played on a device at the same rate get the same samples.

use symphonia::core::audio::Channels;

use crate::channels::{ChannelMap, OUTPUT_CHANNELS, spread_stereo};
use crate::error::{Error, Result};
use crate::resample::StreamResampler;
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
    channel_map: Option<(Channels, ChannelMap)>,
    mapped: Vec<f32>,
    resampled: Vec<f32>,
}

impl Conformer {
    /// A conformer producing frames of `spec`.
    pub(crate) fn new(spec: OutputSpec) -> Self {
        Conformer {
            spec,
            resampler: None,
            channel_map: None,
            mapped: Vec::new(),
            resampled: Vec::new(),
        }
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
        self.mapped.clear();
        map.apply(samples, &mut self.mapped);

        if rate == self.spec.sample_rate {
            // A block at the output rate after one that was resampled: drain the resampler
            // first so the earlier audio comes out before this, then pass through untouched.
            self.flush(output)?;
            spread_stereo(&self.mapped, self.spec.channels, output);
            return Ok(());
        }
        if self
            .resampler
            .as_ref()
            .is_some_and(|r| r.from_rate() != rate)
        {
            self.flush(output)?;
        }
        let resampler = match &mut self.resampler {
            Some(resampler) => resampler,
            None => self.resampler.insert(StreamResampler::try_new(
                rate,
                self.spec.sample_rate,
                usize::from(OUTPUT_CHANNELS),
            )?),
        };
        self.resampled.clear();
        resampler.push(&self.mapped, &mut self.resampled)?;
        spread_stereo(&self.resampled, self.spec.channels, output);
        Ok(())
    }

    /// Drains and drops the resampler, appending its tail to `output`.
    pub(crate) fn flush(&mut self, output: &mut Vec<f32>) -> Result<()> {
        if let Some(mut resampler) = self.resampler.take() {
            self.resampled.clear();
            resampler.finish(&mut self.resampled)?;
            spread_stereo(&self.resampled, self.spec.channels, output);
        }
        Ok(())
    }

    /// Drops whatever the resampler holds: the stream is about to jump (a seek, a skip).
    pub(crate) fn discard(&mut self) {
        self.resampler = None;
    }
}
