//! Opening a source and decoding it to f32 interleaved blocks, gapless-trimmed, panic-isolated.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;
use std::time::Duration;

use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackFlags};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::{Time, TimeBase};
use symphonia_adapter_libopus::OpusDecoder;
use tracing::{debug, warn};

use crate::error::{Error, Result};
use crate::gapless::{self, EncoderTrim, TrimWindow};
use crate::replaygain::GainInfo;
use crate::source::{Origin, Source};

/// How many unreadable packets in a row end decoding. A few corrupt packets are skipped; a
/// stream where nothing decodes any more is broken, and reading it to the end would only log.
const MAX_CONSECUTIVE_BAD_PACKETS: u32 = 64;

/// How many frames a demuxer may lose resynchronising over corrupt data before a short stream
/// counts as truncated: four MP3 frames of 1152 (ISO/IEC 11172-3 §2.4.2.1), which covers a
/// damaged frame plus the frames whose bit reservoir pointed into it.
const MAX_RESYNC_LOSS_FRAMES: u64 = 4 * 1152;

/// symphonia's decoders plus libopus for Opus (symphonia 0.6 has no Opus decoder of its own).
static CODECS: LazyLock<CodecRegistry> = LazyLock::new(|| {
    let mut registry = CodecRegistry::new();
    symphonia::default::register_enabled_codecs(&mut registry);
    registry.register_audio_decoder::<OpusDecoder>();
    registry
});

/// A block of decoded audio: interleaved f32 frames, with the rate and layout they are in.
#[derive(Debug)]
pub struct AudioBlock<'a> {
    /// Frames per second.
    pub sample_rate: u32,
    /// The channel layout; planes are in symphonia's canonical (position bit) order.
    pub channels: &'a Channels,
    /// Interleaved samples, `channels.count()` per frame, nominally in -1.0..=1.0.
    pub samples: &'a [f32],
}

impl AudioBlock<'_> {
    /// The number of frames in the block.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.count().max(1)
    }
}

/// Decodes one source to f32 interleaved blocks.
///
/// Encoder delay and padding are already gone from the blocks: symphonia trims MP3 (LAME/Xing),
/// Vorbis and Ogg granule positions, the libopus adapter trims Opus pre-skip, and this type trims
/// MP4 (AAC, ALAC) from iTunSMPB or the edit list (see the `gapless` module). A corrupt packet is
/// logged and skipped. Every call into symphonia runs under `catch_unwind`: a decoder panic ends
/// this source with [`Error::DecoderPanicked`] and never unwinds into the caller.
pub struct Decoder {
    name: String,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    codec_params: AudioCodecParameters,
    track_id: u32,
    trim: Option<TrimWindow>,
    /// The MP4 encoder trim behind `trim`, kept to rebuild the window after a seek.
    encoder_trim: Option<EncoderTrim>,
    /// The track's time base, which packet timestamps count in.
    time_base: Option<TimeBase>,
    /// After a seek, the timestamp of the first frame to hand out: demuxers land on the packet
    /// at or before the requested time, and the frames before it are dropped here.
    skip_until_ts: Option<i64>,
    /// The playable length the container declares (after delay and padding), if it does and
    /// counts in frames (its time base is one over the sample rate).
    declared_frames: Option<u64>,
    /// Whether symphonia trims encoder delay and padding itself (its track declares them).
    symphonia_trims: bool,
    /// The ReplayGain values in the file's tags.
    gain_info: GainInfo,
    /// A linear gain the stream's own header asks for (the Opus header's output gain), applied
    /// to every frame handed out; 1.0 for every other format.
    output_gain: f32,
    /// The end timestamp of the latest packet read, in the track's time base.
    packets_end: i64,
    samples: Vec<f32>,
    channels: Channels,
    sample_rate: u32,
    frames_decoded: u64,
    packets_skipped: u64,
    consecutive_bad_packets: u32,
    finished: bool,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("name", &self.name)
            .field("sample_rate", &self.sample_rate)
            .field("channels", &self.channels)
            .field("frames_decoded", &self.frames_decoded)
            .finish_non_exhaustive()
    }
}

/// Runs `f`, turning a panic into [`Error::DecoderPanicked`] for `name`.
fn isolated<T>(name: &str, f: impl FnOnce() -> T) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| Error::DecoderPanicked {
        source_name: name.to_owned(),
    })
}

impl Decoder {
    /// Opens `source`: probes its container, picks its audio track and builds the decoder.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be opened, [`Error::UnrecognisedFormat`] for an empty or
    /// unrecognised file, [`Error::UnplayableFormat`] for a WavPack, Monkey's Audio, TTA or
    /// Musepack file, [`Error::NoAudioTrack`], [`Error::UnsupportedCodec`],
    /// [`Error::UnplayableSignal`], or [`Error::DecoderPanicked`].
    pub fn open(source: Source) -> Result<Self> {
        let name = source.name();
        let extension = source.extension();
        let mut media: Box<dyn MediaSource> = match source.origin {
            Origin::Path(path) => Box::new(File::open(&path).map_err(|e| Error::Io {
                source_name: name.clone(),
                source: e,
            })?),
            Origin::Stream { reader, .. } => reader,
        };

        let mp4_trim = isolated(&name, || read_mp4_trim(&mut media))?.map_err(|e| Error::Io {
            source_name: name.clone(),
            source: e,
        })?;

        let unplayable =
            unplayable_format(&mut media, extension.as_deref()).map_err(|e| Error::Io {
                source_name: name.clone(),
                source: e,
            })?;
        if let Some(format) = unplayable {
            return Err(Error::UnplayableFormat {
                source_name: name,
                format,
            });
        }

        let mut hint = Hint::new();
        if let Some(extension) = &extension {
            hint.with_extension(extension);
        }
        let stream = MediaSourceStream::new(media, MediaSourceStreamOptions::default());
        let mut format = isolated(&name, || {
            symphonia::default::get_probe().probe(
                &hint,
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
        })?
        .map_err(|e| Error::UnrecognisedFormat {
            source_name: name.clone(),
            source: e,
        })?;

        // The default audio track if it has a decoder, else the first audio track that does.
        let playable = |track: &&symphonia::core::formats::Track| {
            track
                .codec_params
                .as_ref()
                .and_then(|params| params.audio())
                .is_some_and(|params| CODECS.get_audio_decoder(params.codec).is_some())
        };
        let track = format
            .tracks()
            .iter()
            .filter(playable)
            .find(|t| t.flags.contains(TrackFlags::DEFAULT))
            .or_else(|| format.tracks().iter().find(playable))
            .ok_or_else(|| Error::NoAudioTrack {
                source_name: name.clone(),
            })?;
        let track_id = track.id;
        let time_base = track.time_base;
        let counts_frames = match (track.time_base, codec_params_rate(track)) {
            (Some(base), Some(rate)) => base.numer.get() == 1 && base.denom.get() == rate,
            _ => false,
        };
        let declared_frames = track.num_frames.filter(|_| counts_frames);
        let symphonia_trims = track.delay.is_some() || track.padding.is_some();
        let codec_params = track
            .codec_params
            .as_ref()
            .and_then(|params| params.audio())
            .cloned()
            .ok_or_else(|| Error::NoAudioTrack {
                source_name: name.clone(),
            })?;
        let decoder = make_decoder(&name, &codec_params)?;
        let output_gain = opus_output_gain(&codec_params);
        if output_gain != 1.0 {
            debug!(source = %name, output_gain, "applying the Opus header's output gain");
        }
        let gain_info = isolated(&name, || read_gain_info(format.as_mut()))?;

        let sample_rate = codec_params.sample_rate.unwrap_or(0);
        let channels = codec_params.channels.clone().unwrap_or_default();
        // Only MP4 needs our own trim, and only while symphonia does not signal one itself: if a
        // later symphonia applies the edit list, trimming again would cut real audio.
        let encoder_trim = match mp4_trim {
            Some(trim) if format.format_info().short_name == "isomp4" && !symphonia_trims => {
                let trim = trim.in_frames(sample_rate);
                debug!(source = %name, ?trim, "trimming MP4 encoder delay and padding");
                Some(trim)
            }
            _ => None,
        };
        let trim = encoder_trim.map(TrimWindow::new);

        Ok(Decoder {
            name,
            format,
            decoder,
            codec_params,
            track_id,
            trim,
            encoder_trim,
            time_base,
            skip_until_ts: None,
            declared_frames,
            symphonia_trims,
            gain_info,
            output_gain,
            packets_end: 0,
            samples: Vec::new(),
            channels,
            sample_rate,
            frames_decoded: 0,
            packets_skipped: 0,
            consecutive_bad_packets: 0,
            finished: false,
        })
    }

    /// The path or label of the source.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The sample rate the container declares (blocks carry their own, which normally agrees);
    /// 0 if the container does not say.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The channel layout the container declares, or of the last block decoded.
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// The track's length in frames after gapless trimming, as its container declares it:
    /// known up front for PCM containers (WAV, AIFF), FLAC with a total in its stream info,
    /// and MP4 (AAC, ALAC) whose time scale counts frames; `None` where the container does not
    /// say, or where symphonia trims the stream itself (MP3, Vorbis, Opus), whose count comes
    /// only from decoding it. A damaged file can decode to fewer frames than this.
    pub fn declared_frames(&self) -> Option<u64> {
        match self.encoder_trim {
            Some(trim) => trim.length,
            None if self.symphonia_trims => None,
            None => self.declared_frames,
        }
    }

    /// Frames handed out so far (after gapless trimming).
    pub fn frames_decoded(&self) -> u64 {
        self.frames_decoded
    }

    /// Corrupt packets skipped so far.
    pub fn packets_skipped(&self) -> u64 {
        self.packets_skipped
    }

    /// The ReplayGain values the file's tags carry (`REPLAYGAIN_*` Vorbis comments, ID3v2
    /// `TXXX` frames, APEv2 items, iTunes freeform atoms); empty when it has none.
    pub fn gain_info(&self) -> GainInfo {
        self.gain_info
    }

    /// The linear gain the stream's header asks every decoder to apply: the output gain of an
    /// Ogg Opus header (RFC 7845 §5.1), which the blocks already include; 1.0 elsewhere.
    pub fn output_gain(&self) -> f32 {
        self.output_gain
    }

    /// Moves to `position` from the start of the (trimmed) track; the next block starts there.
    ///
    /// The demuxer seeks to the packet at or before `position` (symphonia's accurate mode) and
    /// the frames before it are dropped as they decode, so for formats whose timestamps count
    /// frames (FLAC, WAV, AIFF and the other PCM containers) the first frame out is exactly frame
    /// `round(position * rate)`; elsewhere it is within a packet's timestamp precision. A
    /// position past the end leaves the decoder at its end. Returns the position actually
    /// reached, which is `position` unless the track is shorter.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the source cannot seek (a stream without random access, a container
    /// symphonia cannot seek in), or [`Error::DecoderPanicked`]. The decoder is then finished.
    pub fn seek(&mut self, position: Duration) -> Result<Duration> {
        let delay = self.encoder_trim.map_or(0, |trim| trim.delay);
        let rate = u64::from(self.sample_rate.max(1));
        // Rounded to the nearest frame, as documented: a position computed from a frame count
        // (which truncates to whole nanoseconds) must come back to that frame.
        let target_frames =
            u64::try_from((position.as_nanos() * u128::from(rate) + 500_000_000) / 1_000_000_000)
                .unwrap_or(u64::MAX);
        let raw_frames = target_frames.saturating_add(delay);
        // Rounded up: the demuxer turns the time back into a timestamp by flooring, and a time
        // a nanosecond short of the frame would land one frame early.
        let time = Time::try_from_nanos_u128(
            (u128::from(raw_frames) * 1_000_000_000).div_ceil(u128::from(rate)),
        )
        .unwrap_or(Time::MAX);
        let format = &mut self.format;
        let track_id = self.track_id;
        let seeked = isolated(&self.name, || {
            format.seek(
                SeekMode::Accurate,
                SeekTo::Time {
                    time,
                    track_id: Some(track_id),
                },
            )
        })
        .and_then(|result| result.map_err(|e| self.decode_error(e)));
        let seeked = match seeked {
            Ok(seeked) => seeked,
            Err(error) => {
                self.finished = true;
                return Err(error);
            }
        };
        self.decoder.reset();
        self.finished = false;
        self.consecutive_bad_packets = 0;
        self.packets_end = seeked.actual_ts.get();
        self.skip_until_ts = Some(seeked.required_ts.get());
        if let Some(trim) = self.encoder_trim {
            self.trim = Some(TrimWindow::new(EncoderTrim {
                delay: 0,
                length: trim
                    .length
                    .map(|length| length.saturating_sub(target_frames)),
            }));
        }
        Ok(position)
    }

    /// How many frames of a packet starting at `pts` come before `until` (a seek target).
    fn frames_before(&self, pts: i64, until: i64) -> usize {
        let ticks = u128::try_from(until.saturating_sub(pts)).unwrap_or(0);
        let frames = match self.time_base {
            Some(base) => {
                ticks * u128::from(base.numer.get()) * u128::from(self.sample_rate)
                    / u128::from(base.denom.get())
            }
            None => ticks,
        };
        usize::try_from(frames).unwrap_or(usize::MAX)
    }

    /// Decodes the next non-empty block, or `None` at the end of the track.
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`] if the stream ends inside the audio, [`Error::Decode`] if too many
    /// packets in a row are unreadable or symphonia reports an unrecoverable error,
    /// [`Error::DecoderPanicked`], or [`Error::UnplayableSignal`]. After an error the decoder is
    /// finished and returns `None`.
    pub fn next_block(&mut self) -> Result<Option<AudioBlock<'_>>> {
        let result = self.decode_next();
        if result.is_err() {
            self.finished = true;
        }
        let Some(range) = result? else {
            return Ok(None);
        };
        Ok(Some(AudioBlock {
            sample_rate: self.sample_rate,
            channels: &self.channels,
            samples: &self.samples[range],
        }))
    }

    /// Decodes until a block with frames is ready; returns the sample range of it to hand out.
    fn decode_next(&mut self) -> Result<Option<std::ops::Range<usize>>> {
        while !self.finished {
            let format = &mut self.format;
            let packet = match isolated(&self.name, || format.next_packet())? {
                Ok(Some(packet)) => packet,
                Ok(None) => {
                    self.finished = true;
                    return self.check_complete().map(|()| None);
                }
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    warn!(source = %self.name, "stream ends inside the audio");
                    return Err(Error::Truncated {
                        source_name: self.name.clone(),
                        frames_decoded: self.frames_decoded,
                    });
                }
                Err(SymphoniaError::ResetRequired) => {
                    // A new logical stream (a chained Ogg file): this slice plays the first.
                    debug!(source = %self.name, "container changed its tracks; ending here");
                    self.finished = true;
                    return Ok(None);
                }
                Err(e @ (SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_))) => {
                    self.skip_bad_packet(e)?;
                    continue;
                }
                Err(e) => return Err(self.decode_error(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let pts = packet.pts.get();
            let end = pts.saturating_add_unsigned(packet.dur.get());
            self.packets_end = self.packets_end.max(end);

            let decoder = &mut self.decoder;
            let samples = &mut self.samples;
            let decoded = isolated(&self.name, || {
                decoder.decode(&packet).map(|buffer| {
                    buffer.copy_to_vec_interleaved::<f32>(samples);
                    (buffer.spec().rate(), buffer.spec().channels().clone())
                })
            })?;
            let (rate, channels) = match decoded {
                Ok(spec) => spec,
                Err(SymphoniaError::ResetRequired) => {
                    // The codec parameters changed mid-stream; a fresh decoder takes the rest.
                    self.decoder = make_decoder(&self.name, &self.codec_params)?;
                    continue;
                }
                Err(e @ (SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_))) => {
                    self.skip_bad_packet(e)?;
                    continue;
                }
                Err(e) => return Err(self.decode_error(e)),
            };
            self.consecutive_bad_packets = 0;
            let channel_count = channels.count();
            if channel_count == 0 || rate == 0 {
                return Err(Error::UnplayableSignal {
                    source_name: self.name.clone(),
                    reason: "no channels or a zero sample rate",
                });
            }
            self.sample_rate = rate;
            self.channels = channels;

            let frames = self.samples.len() / channel_count;
            let before_seek_target = match self.skip_until_ts.take() {
                Some(until) if until > pts => {
                    let skip = self.frames_before(pts, until).min(frames);
                    if skip == frames && end < until {
                        self.skip_until_ts = Some(until);
                    }
                    skip
                }
                _ => 0,
            };
            // The frames before a seek target were never asked for, so they do not count
            // against the trim window's length either.
            let after_target = frames - before_seek_target;
            let keep = match &mut self.trim {
                Some(trim) => trim.keep(after_target),
                None => 0..after_target,
            };
            let keep = keep.start + before_seek_target..keep.end + before_seek_target;
            if keep.is_empty() {
                continue;
            }
            self.frames_decoded += keep.len() as u64;
            let range = keep.start * channel_count..keep.end * channel_count;
            if self.output_gain != 1.0 {
                let gain = self.output_gain;
                self.samples[range.clone()]
                    .iter_mut()
                    .for_each(|sample| *sample *= gain);
            }
            return Ok(Some(range));
        }
        Ok(None)
    }

    /// At the end of the packets: a stream whose packets stop well before the length its
    /// container declares was cut short (for an MP3 this is the only sign). Packet timestamps,
    /// not decoded frames, are compared, so a FLAC frame skipped mid-stream is not mistaken for
    /// it; the MP3 demuxer, though, counts timestamps from the packets it finds, so frames it
    /// resynchronises over shorten the stream too. Hence the tolerance (2% plus
    /// [`MAX_RESYNC_LOSS_FRAMES`]): a file cut by less than that is not reported. With our own
    /// MP4 trim the declared count includes delay and padding, so it is not checked.
    fn check_complete(&self) -> Result<()> {
        match self.declared_frames {
            Some(declared)
                if self.trim.is_none()
                    && declared.saturating_sub(u64::try_from(self.packets_end).unwrap_or(0))
                        > declared / 50 + MAX_RESYNC_LOSS_FRAMES =>
            {
                warn!(source = %self.name, declared, packets_end = self.packets_end, "stream ends early");
                Err(Error::Truncated {
                    source_name: self.name.clone(),
                    frames_decoded: self.frames_decoded,
                })
            }
            _ => Ok(()),
        }
    }

    fn skip_bad_packet(&mut self, error: SymphoniaError) -> Result<()> {
        self.packets_skipped += 1;
        self.consecutive_bad_packets += 1;
        warn!(source = %self.name, %error, "skipping a corrupt packet");
        if self.consecutive_bad_packets > MAX_CONSECUTIVE_BAD_PACKETS {
            return Err(self.decode_error(error));
        }
        Ok(())
    }

    fn decode_error(&self, source: SymphoniaError) -> Error {
        Error::Decode {
            source_name: self.name.clone(),
            source,
        }
    }
}

/// The ReplayGain values in every metadata revision the reader holds (tags before the
/// container, in it, and after it), newest last so they win.
fn read_gain_info(format: &mut dyn FormatReader) -> GainInfo {
    let mut info = GainInfo::default();
    let mut metadata = format.metadata();
    loop {
        if let Some(revision) = metadata.current() {
            let tags = revision.media.tags.iter().chain(
                revision
                    .per_track
                    .iter()
                    .flat_map(|track| track.metadata.tags.iter()),
            );
            let found = GainInfo::from_tags(tags);
            info = GainInfo {
                track_gain_db: found.track_gain_db.or(info.track_gain_db),
                track_peak: found.track_peak.or(info.track_peak),
                album_gain_db: found.album_gain_db.or(info.album_gain_db),
                album_peak: found.album_peak.or(info.album_peak),
            };
        }
        if metadata.pop().is_none() {
            return info;
        }
    }
}

/// The linear output gain of an Ogg Opus stream: the signed Q7.8 dB value at bytes 16..18 of
/// its identification header (RFC 7845 §5.1, "Output Gain"), which "MUST" be applied to the
/// decoded output. The libopus adapter does not apply it, so the decoder does. 1.0 for other
/// codecs or a header too short to hold it.
fn opus_output_gain(params: &AudioCodecParameters) -> f32 {
    if params.codec != CODEC_ID_OPUS {
        return 1.0;
    }
    let Some(head) = params.extra_data.as_deref() else {
        return 1.0;
    };
    if head.get(..8) != Some(b"OpusHead".as_slice()) {
        return 1.0;
    }
    match head.get(16..18) {
        Some(&[low, high]) => {
            let q78 = i16::from_le_bytes([low, high]);
            10f32.powf(f32::from(q78) / (20.0 * 256.0))
        }
        _ => 1.0,
    }
}

/// The sample rate a track's audio codec parameters declare.
fn codec_params_rate(track: &symphonia::core::formats::Track) -> Option<u32> {
    track.codec_params.as_ref()?.audio()?.sample_rate
}

fn make_decoder(name: &str, params: &AudioCodecParameters) -> Result<Box<dyn AudioDecoder>> {
    isolated(name, || {
        CODECS.make_audio_decoder(params, &AudioDecoderOptions::default())
    })?
    .map_err(|e| Error::UnsupportedCodec {
        source_name: name.to_owned(),
        source: e,
    })
}

/// Reads the MP4 encoder trim if `media` is an MP4 file, and rewinds it for the prober.
fn read_mp4_trim(media: &mut Box<dyn MediaSource>) -> std::io::Result<Option<gapless::Mp4Trim>> {
    if !media.is_seekable() {
        return Ok(None);
    }
    let mut head = [0u8; 8];
    let read = media.read(&mut head)?;
    let trim = if gapless::looks_like_mp4(&head[..read]) {
        gapless::read_mp4_trim(media)
    } else {
        None
    };
    media.seek(SeekFrom::Start(0))?;
    Ok(trim)
}

/// Formats whose tags the library reads but that no decoder here plays, by the bytes their files
/// start with. Probing one would fail only after the MP3 reader had searched the whole file for a
/// frame, with a misleading error.
const UNPLAYABLE_FORMATS: [(&[u8], &str); 5] = [
    (b"wvpk", "WavPack"),
    (b"MAC ", "Monkey's Audio"),
    (b"TTA1", "TTA"),
    (b"MPCK", "Musepack"),
    (b"MP+", "Musepack"),
];

/// The extensions of [`UNPLAYABLE_FORMATS`]' files.
const UNPLAYABLE_EXTENSIONS: [&str; 5] = ["wv", "ape", "tta", "mpc", "mpp"];

/// The name of the format `media` is in if it is one of [`UNPLAYABLE_FORMATS`]; rewinds `media`
/// for the prober. Past an ID3v2 tag (which some taggers put in front of any file) it looks only
/// when `extension` names such a format: an MP3's tag can be megabytes of cover art, and a
/// stream from the locker would fetch from beyond it just to look.
fn unplayable_format(
    media: &mut Box<dyn MediaSource>,
    extension: Option<&str>,
) -> std::io::Result<Option<&'static str>> {
    if !media.is_seekable() {
        return Ok(None);
    }
    let mut head = Vec::with_capacity(10);
    media.by_ref().take(10).read_to_end(&mut head)?;
    let behind_tag = extension.is_some_and(|e| UNPLAYABLE_EXTENSIONS.contains(&e));
    let start = match head.as_slice() {
        [b'I', b'D', b'3', _, _, flags, size @ ..] if size.len() == 4 && behind_tag => {
            // A synchsafe size, then a footer as long as the header when flagged.
            let size = size
                .iter()
                .fold(0u64, |n, &b| (n << 7) | u64::from(b & 0x7f));
            10 + size + if flags & 0x10 != 0 { 10 } else { 0 }
        }
        _ => 0,
    };
    media.seek(SeekFrom::Start(start))?;
    let mut magic = Vec::with_capacity(4);
    media.by_ref().take(4).read_to_end(&mut magic)?;
    media.seek(SeekFrom::Start(0))?;
    Ok(UNPLAYABLE_FORMATS
        .iter()
        .find(|(m, _)| magic.starts_with(m))
        .map(|&(_, name)| name))
}
