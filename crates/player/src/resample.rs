//! Sample-rate conversion of an endless interleaved stream with rubato's synchronous FFT resampler.

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::{Error, Result};

/// Input frames per resampler call, as asked of rubato, which rounds it up to a whole number of
/// its FFT blocks (`from_rate / gcd` frames each: 147 for 44.1 to 48 kHz and back).
///
/// 1176 is eight such blocks, and it is there for speed: rubato's cost per sample is its two FFTs,
/// and at 1176 frames they are 2·1176 and 2·1280 points long (2⁴·3·7² and 2⁹·5), against 2·1029
/// and 2·1120 (3·7³ and 2⁵·5·7) for the 1024 this once asked for. The decode bench drives rubato
/// alone at several lengths (its table is in docs/benchmarks.md): 1176 and 588 frames cost least,
/// 1029 about a fifth more, the other multiples of 147 from 294 to 4704 in between. 588 frames
/// halve the filter, moving its cutoff from 21.8 down to 21.5 kHz at 44.1 kHz, so 1176. A chunk
/// is 27 ms of audio at 44.1 kHz, but that delays nothing a listener hears: the decoder fills one
/// in well under a millisecond.
const CHUNK_FRAMES: usize = 1176;

/// Converts an interleaved f32 stream from one rate to another, chunk by chunk.
///
/// The resampler is synchronous (rubato's `Fft`): the ratio is fixed, the quality is rubato's
/// best (flat to within 0.001 dB up to 20 kHz at 44.1 kHz, images and aliases more than 120 dB
/// down: see the tests), and it is rubato's fastest at that quality: its polyphase sinc
/// resampler (`Async` with `Nearest` interpolation over 160 phases, which is exact for 44.1 to
/// 48 kHz) takes five to seven times as long with 192- to 256-tap filters, and still rolls off
/// above 20 kHz (the decode bench measures both).
///
/// Both its input and output chunk sizes are fixed (whole FFT blocks), so its whole state after a
/// chunk is the overlap that chunk leaves: the engine checkpoints it at a track join and rebuilds
/// it by replaying one chunk. Input arrives in blocks
/// of any size through [`push`](Self::push); the output is delayed by the resampler's latency,
/// which this type trims, so output frame `n` lines up with input time `n / to_rate`.
/// [`finish`](Self::finish) flushes the tail, making the total output exactly
/// `round(frames_in * to_rate / from_rate)` frames.
///
/// The same instance keeps running across track joins at the same rate, so a join is resampled
/// like any other stretch of the stream: no click, no gap.
///
/// rubato works on planes (one slice per channel); input is deinterleaved once, straight into the
/// chunk being filled, and output interleaved once, straight into the caller's buffer. The chunk
/// last handed to rubato is kept by swapping buffers, not by copying it, so that a checkpoint
/// (rare: one per track join) can be taken at any moment.
pub struct StreamResampler {
    inner: Fft<f32>,
    from_rate: u32,
    to_rate: u32,
    channels: usize,
    /// rubato's fixed input chunk, in frames.
    chunk_frames: usize,
    /// The chunk being filled: one plane per channel, each `chunk_frames` long.
    input: Vec<Vec<f32>>,
    /// Frames of `input` filled so far.
    filled: usize,
    /// The last chunk handed to rubato, if any since the start: its overlap is rubato's whole
    /// state.
    last_chunk: Option<Vec<Vec<f32>>>,
    /// One chunk of rubato output, one plane per channel.
    planes_out: Vec<Vec<f32>>,
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
        if channels == 0 {
            return Err(error("no channels".to_owned()));
        }
        let inner = Fft::<f32>::new(
            from_rate as usize,
            to_rate as usize,
            CHUNK_FRAMES,
            1,
            channels,
            FixedSync::Both,
        )
        .map_err(|e| error(e.to_string()))?;
        let chunk_frames = inner.input_frames_max();
        let planes_out = vec![vec![0.0; inner.output_frames_max()]; channels];
        let delay_left = inner.output_delay();
        Ok(StreamResampler {
            inner,
            from_rate,
            to_rate,
            channels,
            chunk_frames,
            input: vec![vec![0.0; chunk_frames]; channels],
            filled: 0,
            last_chunk: None,
            planes_out,
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
    /// A trailing partial frame (fewer samples than channels) is ignored.
    ///
    /// # Errors
    ///
    /// [`Error::Resample`] if rubato fails (it does not for well-formed input).
    pub fn push(&mut self, input: &[f32], output: &mut Vec<f32>) -> Result<()> {
        let frames = input.len() / self.channels;
        self.frames_in += frames as u64;
        let mut rest = &input[..frames * self.channels];
        while !rest.is_empty() {
            let take = (self.chunk_frames - self.filled).min(rest.len() / self.channels);
            let (head, tail) = rest.split_at(take * self.channels);
            deinterleave(head, &mut self.input, self.filled);
            self.filled += take;
            rest = tail;
            if self.filled == self.chunk_frames {
                self.process(None, u64::MAX, output)?;
            }
        }
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
        // The first call takes what is pending; rubato pads it, and every later call, with
        // silence.
        let mut partial = self.filled;
        while self.frames_out < expected {
            self.process(Some(partial), expected, output)?;
            partial = 0;
        }
        self.inner.reset();
        self.filled = 0;
        self.last_chunk = None;
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
    ///
    /// This copies one chunk and what is pending, a few kilobytes; the engine takes one per
    /// track join.
    pub(crate) fn checkpoint(&self) -> ResamplerCheckpoint {
        ResamplerCheckpoint {
            from_rate: self.from_rate,
            to_rate: self.to_rate,
            channels: self.channels,
            last_chunk: self.last_chunk.clone(),
            pending: self
                .input
                .iter()
                .map(|plane| plane[..self.filled].to_vec())
                .collect(),
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
        if let Some(last_chunk) = &checkpoint.last_chunk {
            let chunk = last_chunk.clone();
            run(
                &mut resampler.inner,
                &chunk,
                &mut resampler.planes_out,
                None,
            )
            .map_err(|reason| resampler.error(reason))?;
            resampler.last_chunk = Some(chunk);
        }
        for (plane, pending) in resampler.input.iter_mut().zip(&checkpoint.pending) {
            plane[..pending.len()].copy_from_slice(pending);
        }
        resampler.filled = checkpoint.pending.first().map_or(0, Vec::len);
        resampler.delay_left = checkpoint.delay_left;
        resampler.frames_in = checkpoint.frames_in;
        resampler.frames_out = checkpoint.frames_out;
        Ok(resampler)
    }

    /// Hands the chunk being filled to rubato (`partial`: how many of its frames are real, the
    /// rest being padded with silence), keeps it as the last chunk, and appends the output to
    /// `output`, dropping latency first and never going past `limit` frames in total.
    fn process(&mut self, partial: Option<usize>, limit: u64, output: &mut Vec<f32>) -> Result<()> {
        let frames_written = run(&mut self.inner, &self.input, &mut self.planes_out, partial)
            .map_err(|reason| self.error(reason))?;
        // The chunk just handed over becomes the last chunk, and the old last chunk's buffers
        // take the next input: a swap, not a copy.
        let next = self
            .last_chunk
            .replace(std::mem::take(&mut self.input))
            .unwrap_or_else(|| vec![vec![0.0; self.chunk_frames]; self.channels]);
        self.input = next;
        self.filled = 0;

        let skip = self.delay_left.min(frames_written);
        self.delay_left -= skip;
        let room = usize::try_from(limit.saturating_sub(self.frames_out)).unwrap_or(usize::MAX);
        let keep = (frames_written - skip).min(room);
        interleave(&self.planes_out, skip..skip + keep, output);
        self.frames_out += keep as u64;
        Ok(())
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
    last_chunk: Option<Vec<Vec<f32>>>,
    /// The frames not yet handed to rubato, one plane per channel.
    pending: Vec<Vec<f32>>,
    delay_left: usize,
    frames_in: u64,
    frames_out: u64,
}

/// One rubato call from `input` planes into `output` planes; returns the frames written.
/// `partial` is the number of real input frames when fewer than a chunk remain (rubato pads
/// with silence).
fn run(
    resampler: &mut Fft<f32>,
    input: &[Vec<f32>],
    output: &mut [Vec<f32>],
    partial: Option<usize>,
) -> std::result::Result<usize, String> {
    let channels = input.len();
    let input_frames = input.first().map_or(0, Vec::len);
    let output_frames = output.first().map_or(0, Vec::len);
    let adapter_in =
        SequentialSliceOfVecs::new(input, channels, input_frames).map_err(|e| e.to_string())?;
    let mut adapter_out = SequentialSliceOfVecs::new_mut(output, channels, output_frames)
        .map_err(|e| e.to_string())?;
    let indexing = partial.map(|partial_len| Indexing {
        input_offset: 0,
        output_offset: 0,
        partial_len: Some(partial_len),
        active_channels_mask: None,
    });
    resampler
        .process_into_buffer(&adapter_in, &mut adapter_out, indexing.as_ref())
        .map(|(_, frames_written)| frames_written)
        .map_err(|e| e.to_string())
}

/// Writes the interleaved frames of `input` into `planes`, from frame `at` on.
fn deinterleave(input: &[f32], planes: &mut [Vec<f32>], at: usize) {
    match planes {
        [left, right] => {
            let frames = input.chunks_exact(2);
            for ((frame, l), r) in frames.zip(&mut left[at..]).zip(&mut right[at..]) {
                *l = frame[0];
                *r = frame[1];
            }
        }
        _ => {
            let channels = planes.len();
            for (channel, plane) in planes.iter_mut().enumerate() {
                let samples = input.iter().skip(channel).step_by(channels);
                for (to, from) in plane[at..].iter_mut().zip(samples) {
                    *to = *from;
                }
            }
        }
    }
}

/// Appends `frames` of `planes` to `output`, interleaved.
fn interleave(planes: &[Vec<f32>], frames: std::ops::Range<usize>, output: &mut Vec<f32>) {
    let start = output.len();
    output.resize(start + frames.len() * planes.len(), 0.0);
    let out = &mut output[start..];
    match planes {
        [left, right] => {
            let (left, right) = (&left[frames.clone()], &right[frames]);
            for ((frame, l), r) in out.chunks_exact_mut(2).zip(left).zip(right) {
                frame[0] = *l;
                frame[1] = *r;
            }
        }
        _ => {
            let channels = planes.len();
            for (channel, plane) in planes.iter().enumerate() {
                let slots = out.iter_mut().skip(channel).step_by(channels);
                for (to, from) in slots.zip(&plane[frames.clone()]) {
                    *to = *from;
                }
            }
        }
    }
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

    /// Resamples one second of a stereo sine of `hz` at amplitude 0.5 from `from` to `to` Hz and
    /// returns, from the middle of the left channel, the level of the `hz` component relative to
    /// 0.5 and the power of everything else (images, aliases, noise) relative to that component,
    /// both in dB: a least-squares fit of the sine at `hz`, then the residual.
    fn tone_through(from: u32, to: u32, hz: f64) -> (f64, f64) {
        let input: Vec<f32> = (0..from)
            .flat_map(|i| {
                let s = (0.5 * (std::f64::consts::TAU * hz * f64::from(i) / f64::from(from)).sin())
                    as f32;
                [s, s]
            })
            .collect();
        let mut resampler = StreamResampler::try_new(from, to, 2).unwrap();
        let mut output = Vec::new();
        for block in input.chunks(2 * 4096) {
            resampler.push(block, &mut output).unwrap();
        }
        resampler.finish(&mut output).unwrap();
        // Leave out the edges, where the stream starts and stops.
        let frames = output.len() / 2;
        let middle = frames / 5..frames - frames / 5;
        let w = std::f64::consts::TAU * hz / f64::from(to);
        let basis = |n: usize| (w * n as f64).sin_cos();
        let (mut ss, mut sc, mut cc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for n in middle.clone() {
            let ((s, c), y) = (basis(n), f64::from(output[2 * n]));
            (ss, sc, cc, ys, yc) = (ss + s * s, sc + s * c, cc + c * c, ys + y * s, yc + y * c);
        }
        let det = ss * cc - sc * sc;
        let (a, b) = ((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
        let amplitude = a.hypot(b);
        let residual: f64 = middle
            .clone()
            .map(|n| {
                let (s, c) = basis(n);
                (f64::from(output[2 * n]) - a * s - b * c).powi(2)
            })
            .sum::<f64>()
            / middle.len() as f64;
        let level = 20.0 * (amplitude / 0.5).log10();
        let rest = 10.0 * (residual / (amplitude * amplitude / 2.0)).log10();
        (level, rest)
    }

    #[test]
    fn the_passband_is_flat_and_the_rest_far_below_it() {
        // (from, to, tone): up to 20 kHz both ways between 44.1 and 48 kHz, and a high-rate
        // file down to 48 kHz.
        for (from, to, hz) in [
            (44_100, 48_000, 1_000.0),
            (44_100, 48_000, 10_000.0),
            (44_100, 48_000, 20_000.0),
            (48_000, 44_100, 1_000.0),
            (48_000, 44_100, 20_000.0),
            (96_000, 48_000, 20_000.0),
        ] {
            let (level, rest) = tone_through(from, to, hz);
            assert!(
                level.abs() < 0.001,
                "{from} -> {to}, {hz} Hz: level {level:+.4} dB"
            );
            assert!(
                rest < -120.0,
                "{from} -> {to}, {hz} Hz: the rest at {rest:.1} dB"
            );
        }
    }

    #[test]
    fn what_the_output_rate_cannot_hold_is_filtered_out() {
        // 23 kHz is above 44.1 kHz's Nyquist frequency: it must not fold back to 21.1 kHz.
        let input: Vec<f32> = (0..48_000)
            .flat_map(|i| {
                let s = (0.5 * (std::f64::consts::TAU * 23_000.0 * f64::from(i) / 48_000.0).sin())
                    as f32;
                [s, s]
            })
            .collect();
        let mut resampler = StreamResampler::try_new(48_000, 44_100, 2).unwrap();
        let mut output = Vec::new();
        resampler.push(&input, &mut output).unwrap();
        resampler.finish(&mut output).unwrap();
        let middle = &output[output.len() / 5..output.len() - output.len() / 5];
        let power = middle.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / middle.len() as f64;
        let db = 10.0 * (power / 0.125).log10();
        assert!(db < -100.0, "a 23 kHz tone comes out at {db:.1} dB");
    }

    #[test]
    fn a_checkpoint_taken_before_any_chunk_restores_too() {
        let mut original = StreamResampler::try_new(44_100, 48_000, 2).unwrap();
        let mut a = Vec::new();
        original.push(&chirp(100, 0), &mut a).unwrap();
        let mut restored = StreamResampler::restore(&original.checkpoint()).unwrap();
        let mut b = a.clone();
        for resampler_and_out in [(&mut original, &mut a), (&mut restored, &mut b)] {
            let (resampler, out) = resampler_and_out;
            resampler.push(&chirp(3_000, 100), out).unwrap();
            resampler.finish(out).unwrap();
        }
        assert!(a == b, "the restored resampler diverged");
    }

    #[test]
    fn zero_channels_is_an_error_not_a_panic() {
        assert!(matches!(
            StreamResampler::try_new(44_100, 48_000, 0),
            Err(Error::Resample { .. })
        ));
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
