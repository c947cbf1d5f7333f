//! Headless rendering: a list of sources played one after another, gaplessly, into a sink.

use tracing::{debug, info_span};

use crate::channels::OUTPUT_CHANNELS;
use crate::conform::Conformer;
use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::sink::{OutputSpec, Sink};
use crate::source::Source;

/// How to render.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// The output rate in Hz; `None` renders at the first source's rate. Sources at another rate
    /// go through the resampler; sources at this rate pass through bit-exact.
    pub sample_rate: Option<u32>,
}

/// What happened to one source during a render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackReport {
    /// The path or label of the source.
    pub name: String,
    /// Its sample rate in Hz.
    pub sample_rate: u32,
    /// Frames it decoded to, after gapless trimming and before resampling.
    pub frames_decoded: u64,
    /// Corrupt packets skipped in it.
    pub packets_skipped: u64,
}

/// The outcome of a render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderReport {
    /// The format the sink received.
    pub spec: OutputSpec,
    /// Frames written to the sink.
    pub frames_written: u64,
    /// One entry per source, in order.
    pub tracks: Vec<TrackReport>,
}

/// Plays `sources` one after another into `sink`, gaplessly, and finishes the sink.
///
/// Each source's encoder delay and padding are trimmed, so the last sample of one track is
/// followed directly by the first real sample of the next: no silence inserted, none dropped.
/// Output is stereo ([`OUTPUT_CHANNELS`]); see [`ChannelMap`](crate::ChannelMap) for how other layouts map. Runs
/// of consecutive sources at the same rate share one resampler, so joins are resampled as a
/// continuous stream.
///
/// # Errors
///
/// [`Error::NoSources`] for an empty list; otherwise the first error opening or decoding a
/// source, resampling, or writing the sink. The sink is then left unfinished (a [`WavSink`]
/// writes nothing).
///
/// [`WavSink`]: crate::WavSink
pub fn render(
    sources: impl IntoIterator<Item = Source>,
    sink: &mut dyn Sink,
    options: &RenderOptions,
) -> Result<RenderReport> {
    let mut renderer = Renderer {
        sink,
        requested_rate: options.sample_rate,
        conformer: None,
        conformed: Vec::new(),
        frames_written: 0,
    };
    let mut tracks = Vec::new();
    let mut first_declared_rate = None;
    for source in sources {
        let mut decoder = Decoder::open(source)?;
        let span = info_span!("render_track", source = %decoder.name());
        let _entered = span.enter();
        first_declared_rate.get_or_insert(decoder.sample_rate());
        while let Some(block) = decoder.next_block()? {
            renderer.play(block.sample_rate, block.channels, block.samples)?;
        }
        debug!(
            frames = decoder.frames_decoded(),
            skipped = decoder.packets_skipped(),
            "track rendered"
        );
        tracks.push(TrackReport {
            name: decoder.name().to_owned(),
            sample_rate: decoder.sample_rate(),
            frames_decoded: decoder.frames_decoded(),
            packets_skipped: decoder.packets_skipped(),
        });
    }
    let Some(first_declared_rate) = first_declared_rate else {
        return Err(Error::NoSources);
    };
    renderer.flush_resampler()?;
    // Sources that decoded to nothing still give a valid, empty file at the rate they declare.
    let spec = match renderer.spec() {
        Some(spec) => spec,
        None => renderer.begin(first_declared_rate)?.spec(),
    };
    renderer.sink.finish()?;
    Ok(RenderReport {
        spec,
        frames_written: renderer.frames_written,
        tracks,
    })
}

/// The state of a render between blocks.
struct Renderer<'s> {
    sink: &'s mut dyn Sink,
    requested_rate: Option<u32>,
    /// Set once the sink has begun, at the first block's rate unless a rate was requested.
    conformer: Option<Conformer>,
    conformed: Vec<f32>,
    frames_written: u64,
}

impl Renderer<'_> {
    /// Starts the sink at the requested rate, or at `source_rate` if none was requested.
    fn begin(&mut self, source_rate: u32) -> Result<&mut Conformer> {
        let sample_rate = self.requested_rate.unwrap_or(source_rate);
        if sample_rate == 0 {
            return Err(Error::UnplayableSignal {
                source_name: "output".to_owned(),
                reason: "a zero sample rate",
            });
        }
        let spec = OutputSpec {
            sample_rate,
            channels: OUTPUT_CHANNELS,
        };
        self.sink.begin(spec)?;
        Ok(self.conformer.insert(Conformer::new(spec)))
    }

    /// The format the sink receives, if it has begun.
    fn spec(&self) -> Option<OutputSpec> {
        self.conformer.as_ref().map(Conformer::spec)
    }

    /// Maps, resamples if needed, and writes one decoded block.
    fn play(
        &mut self,
        rate: u32,
        channels: &symphonia::core::audio::Channels,
        samples: &[f32],
    ) -> Result<()> {
        let mut conformed = std::mem::take(&mut self.conformed);
        conformed.clear();
        let conformer = match self.conformer.as_mut() {
            Some(conformer) => conformer,
            None => self.begin(rate)?,
        };
        let result = conformer
            .push(rate, channels, samples, &mut conformed)
            .and_then(|()| self.write(&conformed));
        self.conformed = conformed;
        result
    }

    /// Drains the resampler, writing its tail.
    fn flush_resampler(&mut self) -> Result<()> {
        let Some(conformer) = self.conformer.as_mut() else {
            return Ok(());
        };
        let mut conformed = std::mem::take(&mut self.conformed);
        conformed.clear();
        let result = conformer
            .flush(&mut conformed)
            .and_then(|()| self.write(&conformed));
        self.conformed = conformed;
        result
    }

    fn write(&mut self, samples: &[f32]) -> Result<()> {
        self.sink.write(samples)?;
        self.frames_written += (samples.len() / usize::from(OUTPUT_CHANNELS)) as u64;
        Ok(())
    }
}
