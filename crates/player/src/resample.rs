//! Sample-rate conversion of an endless interleaved stream with rubato's synchronous FFT resampler.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::{Error, Result};

/// Input frames per resampler call, roughly: rubato rounds it up to a whole number of its FFT
/// blocks (1029 frames for 44.1 to 48 kHz). rubato's guide suggests "a few hundred to a few
/// thousand"; about 1024 keeps latency at ~23 ms at 44.1 kHz, well inside the 30 ms
/// play-to-first-sample budget.
const CHUNK_FRAMES: usize = 1024;

/// Converts an interleaved f32 stream from one rate to another, chunk by chunk.
///
/// The resampler is synchronous (rubato's `Fft`): the ratio is fixed, the quality is rubato's
/// best, and it is fast. Both its input and output chunk sizes are fixed (whole FFT blocks), so
/// its whole state after a chunk is the overlap that chunk leaves: the engine checkpoints it at
/// a track join and rebuilds it by replaying one chunk. Input arrives in blocks of any size
/// through [`push`](Self::push); the output is delayed by the resampler's latency, which this
/// type trims, so output frame `n` lines up with input time `n / to_rate`. [`finish`](Self::finish) flushes the tail, making the
/// total output exactly `round(frames_in * to_rate / from_rate)` frames.
///
/// The same instance keeps running across track joins at the same rate, so a join is resampled
/// like any other stretch of the stream: no click, no gap.
pub struct StreamResampler {
    inner: Fft<f32>,
    from_rate: u32,
    to_rate: u32,
    channels: usize,
    /// Input not yet handed to rubato: fewer frames than its next chunk needs.
    pending: Vec<f32>,
    /// The last chunk handed to rubato: its overlap is rubato's whole state.
    last_chunk: Vec<f32>,
    /// One chunk of rubato output.
    scratch: Vec<f32>,
    /// Output frames of resampler latency still to drop.
    delay_left: usize,
    frames_in: u64,
    frames_out: u64,
}

impl StreamResampler {
    /// A resampler from `from_rate` to `to_rate` Hz for `channels` interleaved channels.
    ///
    /// # Errors
    ///
    /// [`Error::Resample`] if rubato rejects the rates or channel count (zero, for instance).
    pub fn try_new(from_rate: u32, to_rate: u32, channels: usize) -> Result<Self> {
        let error = |reason: String| Error::Resample {
            from_rate,
            to_rate,
            reason,
        };
        let inner = Fft::<f32>::new(
            from_rate as usize,
            to_rate as usize,
            CHUNK_FRAMES,
            1,
            channels,
            FixedSync::Both,
        )
        .map_err(|e| error(e.to_string()))?;
        let scratch = vec![0.0; inner.output_frames_max() * channels];
        let delay_left = inner.output_delay();
        Ok(StreamResampler {
            inner,
            from_rate,
            to_rate,
            channels,
            pending: Vec::with_capacity(CHUNK_FRAMES * channels),
            last_chunk: Vec::new(),
            scratch,
            delay_left,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// The input rate in Hz.
    pub fn from_rate(&self) -> u32 {
        self.from_rate
    }

    /// The output rate in Hz.
    pub fn to_rate(&self) -> u32 {
        self.to_rate
    }

    /// Resamples interleaved `input` and appends whatever output is ready to `output`.
    ///
    /// # Errors
    ///
    /// [`Error::Resample`] if rubato fails (it does not for well-formed input).
    pub fn push(&mut self, input: &[f32], output: &mut Vec<f32>) -> Result<()> {
        self.frames_in += (input.len() / self.channels) as u64;
        self.pending.extend_from_slice(input);
        let mut consumed = 0;
        loop {
            let needed = self.inner.input_frames_next();
            let available = (self.pending.len() - consumed) / self.channels;
            if available < needed {
                break;
            }
            let chunk = &self.pending[consumed..consumed + needed * self.channels];
            let (frames_read, frames_written) = run(
                &mut self.inner,
                chunk,
                &mut self.scratch,
                self.channels,
                None,
            )
            .map_err(|reason| self.error(reason))?;
            self.last_chunk.clear();
            self.last_chunk.extend_from_slice(chunk);
            consumed += frames_read * self.channels;
            self.emit(frames_written, u64::MAX, output);
        }
        self.pending.drain(..consumed);
        Ok(())
    }

    /// Flushes the tail: the pending input, then silence until every input frame has come out.
    ///
    /// After this the resampler is reset and ready for a new stream at the same rates.
    ///
    /// # Errors
    ///
    /// [`Error::Resample`] if rubato fails.
    pub fn finish(&mut self, output: &mut Vec<f32>) -> Result<()> {
        let expected = self.output_frames_for_input();
        let mut partial = self.pending.len() / self.channels;
        while self.frames_out < expected {
            let pending = std::mem::take(&mut self.pending);
            let (_, frames_written) = run(
                &mut self.inner,
                &pending,
                &mut self.scratch,
                self.channels,
                Some(partial),
            )
            .map_err(|reason| self.error(reason))?;
            partial = 0;
            self.emit(frames_written, expected, output);
        }
        self.inner.reset();
        self.pending.clear();
        self.last_chunk.clear();
        self.delay_left = self.inner.output_delay();
        self.frames_in = 0;
        self.frames_out = 0;
        Ok(())
    }

    /// How many output frames the input pushed so far makes: `round(frames_in * to / from)`.
    /// Output frame `n` lines up with input time `n / to_rate`, so this is also the output
    /// frame at which the next input frame will come out.
    pub(crate) fn output_frames_for_input(&self) -> u64 {
        let frames = (u128::from(self.frames_in) * u128::from(self.to_rate)
            + u128::from(self.from_rate) / 2)
            / u128::from(self.from_rate.max(1));
        u64::try_from(frames).unwrap_or(u64::MAX)
    }

    /// Output frames handed out so far.
    #[cfg(test)]
    pub(crate) fn frames_out(&self) -> u64 {
        self.frames_out
    }

    /// Everything needed to rebuild this resampler as it is now: see [`restore`](Self::restore).
    pub(crate) fn checkpoint(&self) -> ResamplerCheckpoint {
        ResamplerCheckpoint {
            from_rate: self.from_rate,
            to_rate: self.to_rate,
            channels: self.channels,
            last_chunk: self.last_chunk.clone(),
            pending: self.pending.clone(),
            delay_left: self.delay_left,
            frames_in: self.frames_in,
            frames_out: self.frames_out,
        }
    }

    /// A resampler in the state `checkpoint` recorded: fed the same input from here on, it
    /// produces bit for bit what the original would have.
    ///
    /// With both chunk sizes fixed, rubato's `Fft` carries nothing from one chunk to the next
    /// but the overlap-add tail of the last FFT block, which depends on that chunk's input
    /// alone; so replaying the last chunk into a fresh resampler (and discarding what it
    /// outputs) rebuilds the state exactly.
    ///
    /// # Errors
    ///
    /// [`Error::Resample`] if rubato fails.
    pub(crate) fn restore(checkpoint: &ResamplerCheckpoint) -> Result<Self> {
        let mut resampler = Self::try_new(
            checkpoint.from_rate,
            checkpoint.to_rate,
            checkpoint.channels,
        )?;
        if !checkpoint.last_chunk.is_empty() {
            run(
                &mut resampler.inner,
                &checkpoint.last_chunk,
                &mut resampler.scratch,
                resampler.channels,
                None,
            )
            .map_err(|reason| resampler.error(reason))?;
        }
        resampler.last_chunk.clone_from(&checkpoint.last_chunk);
        resampler.pending.clone_from(&checkpoint.pending);
        resampler.delay_left = checkpoint.delay_left;
        resampler.frames_in = checkpoint.frames_in;
        resampler.frames_out = checkpoint.frames_out;
        Ok(resampler)
    }

    /// Appends `frames_written` frames of scratch to `output`, dropping latency first and never
    /// going past `limit` frames in total.
    fn emit(&mut self, frames_written: usize, limit: u64, output: &mut Vec<f32>) {
        let skip = self.delay_left.min(frames_written);
        self.delay_left -= skip;
        let room = usize::try_from(limit.saturating_sub(self.frames_out)).unwrap_or(usize::MAX);
        let keep = (frames_written - skip).min(room);
        let start = skip * self.channels;
        output.extend_from_slice(&self.scratch[start..start + keep * self.channels]);
        self.frames_out += keep as u64;
    }

    fn error(&self, reason: String) -> Error {
        Error::Resample {
            from_rate: self.from_rate,
            to_rate: self.to_rate,
            reason,
        }
    }
}

/// A [`StreamResampler`]'s state at one moment, to go back to with
/// [`StreamResampler::restore`].
#[derive(Clone, Debug)]
pub(crate) struct ResamplerCheckpoint {
    from_rate: u32,
    to_rate: u32,
    channels: usize,
    last_chunk: Vec<f32>,
    pending: Vec<f32>,
    delay_left: usize,
    frames_in: u64,
    frames_out: u64,
}

/// One rubato call on interleaved slices; `partial` is the number of real input frames when
/// fewer than a chunk remain (rubato pads with silence).
fn run(
    resampler: &mut Fft<f32>,
    input: &[f32],
    scratch: &mut [f32],
    channels: usize,
    partial: Option<usize>,
) -> std::result::Result<(usize, usize), String> {
    let input_frames = input.len() / channels;
    let output_frames = scratch.len() / channels;
    let adapter_in =
        InterleavedSlice::new(input, channels, input_frames).map_err(|e| e.to_string())?;
    let mut adapter_out =
        InterleavedSlice::new_mut(scratch, channels, output_frames).map_err(|e| e.to_string())?;
    let indexing = Indexing {
        input_offset: 0,
        output_offset: 0,
        partial_len: partial,
        active_channels_mask: None,
    };
    resampler
        .process_into_buffer(&adapter_in, &mut adapter_out, Some(&indexing))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_length_is_the_rounded_ratio_whatever_the_block_sizes() {
        for (from, to, frames) in [
            (44_100, 48_000, 44_100),
            (48_000, 44_100, 12_345),
            (22_050, 44_100, 7),
        ] {
            let mut resampler = StreamResampler::try_new(from, to, 2).unwrap();
            let input = vec![0.1f32; frames * 2];
            let mut output = Vec::new();
            for block in input.chunks(2 * 777) {
                resampler.push(block, &mut output).unwrap();
            }
            resampler.finish(&mut output).unwrap();
            let expected = (frames as u64 * u64::from(to) + u64::from(from) / 2) / u64::from(from);
            assert_eq!(output.len() as u64, expected * 2, "{from} -> {to}");
        }
    }

    /// A deterministic, non-periodic test signal (a chirp), interleaved stereo.
    fn chirp(frames: usize, offset: usize) -> Vec<f32> {
        (offset..offset + frames)
            .flat_map(|i| {
                let t = i as f32 / 44_100.0;
                let s = (t * (300.0 + 500.0 * t) * std::f32::consts::TAU).sin() * 0.5;
                [s, -s]
            })
            .collect()
    }

    #[test]
    fn a_restored_checkpoint_continues_bit_for_bit() {
        let mut original = StreamResampler::try_new(44_100, 48_000, 2).unwrap();
        let mut before = Vec::new();
        // Odd block sizes leave input pending at the checkpoint.
        for block in chirp(10_000, 0).chunks(2 * 777) {
            original.push(block, &mut before).unwrap();
        }
        let checkpoint = original.checkpoint();
        let mut restored = StreamResampler::restore(&checkpoint).unwrap();
        assert_eq!(restored.frames_out(), original.frames_out());
        let next = chirp(5_000, 10_000);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for block in next.chunks(2 * 500) {
            original.push(block, &mut a).unwrap();
            restored.push(block, &mut b).unwrap();
        }
        original.finish(&mut a).unwrap();
        restored.finish(&mut b).unwrap();
        assert!(!a.is_empty());
        assert!(a == b, "the restored resampler diverged");
    }
}
