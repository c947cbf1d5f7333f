//! A song decoded to WAV, for players that cannot play its format: `GET
//! /api/v1/tracks/{id}/wav` (the web player falls back to it) and Subsonic's `stream` with
//! `format=wav`.
//!
//! Browsers play MP3, AAC, FLAC, Vorbis, Opus and WAV, but Chromium and Firefox play neither
//! Apple Lossless nor AIFF, which iTunes libraries are full of. The locker decodes such a file
//! with the desktop app's engine (`skylark_player::Decoder`: the same decoders, the same gapless
//! trimming) and sends it as PCM WAV: 16-bit for sources of 16 bits or fewer and for lossy
//! ones, 24-bit for the rest, at the file's own rate and channels, samples unchanged (a 16- or
//! 24-bit source comes out bit for bit).
//!
//! The WAV's length is known before it is sent: from the length the container declares (ALAC
//! and AAC in MP4, AIFF, WAV, FLAC), else from a first pass that decodes the file to count its
//! frames. So the response has a `Content-Length` and answers byte ranges like a stored file: a
//! range is mapped to the frame it starts in, the decoder seeks there (sample-exact for these
//! containers) and the bytes sent are the bytes a whole response has at those offsets. Browsers
//! seek in it as in any file. A file that decodes to fewer frames than its container promised
//! (a damaged one) is padded with silence to the promised length; an unreadable store ends the
//! response early, which the client sees as a network failure.
//!
//! Decoding runs on the blocking pool, a chunk ahead of what the client has taken: a slow
//! listener holds a thread and a few chunks of memory, not the whole song.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use skylark_locker_api::ErrorCode;
use skylark_player::{Decoder, Source};
use symphonia::core::audio::Channels;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tracing::warn;

use crate::error::{Error, Result};
use crate::http::AppState;
use crate::library::Song;
use crate::sessions::Authenticated;
use crate::storage::{BlobStore, blob_key};
use crate::stream::{RangeRequest, parse_range};

/// Bytes per chunk of the response body.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks decoded ahead of the client.
const CHUNKS_AHEAD: usize = 4;
/// Bytes fetched per read of a blob in an S3 store: decoding reads a file front to back in small
/// pieces, and each fetch is a request.
const REMOTE_READ_BYTES: u64 = 256 * 1024;
/// The speaker positions a WAVE_FORMAT_EXTENSIBLE channel mask can name (`SPEAKER_FRONT_LEFT`
/// to `SPEAKER_TOP_BACK_RIGHT`); symphonia's position bits are the same, in the same order.
const WAVE_SPEAKER_BITS: u32 = (1 << 18) - 1;

/// The shape of the WAV a song decodes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WavLayout {
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: u16,
    /// Bits per sample: 16 or 24.
    pub bits: u16,
    /// The channel mask of a WAVE_FORMAT_EXTENSIBLE header (more than two channels); 0 when the
    /// positions are not known.
    pub channel_mask: u32,
    /// Frames of audio.
    pub frames: u64,
}

impl WavLayout {
    /// Whether the header is WAVE_FORMAT_EXTENSIBLE, which more than two channels need; one or
    /// two channels get the plain PCM header every reader knows.
    fn extensible(&self) -> bool {
        self.channels > 2
    }

    fn header_len(&self) -> u64 {
        if self.extensible() { 68 } else { 44 }
    }

    fn block_align(&self) -> u64 {
        u64::from(self.channels) * u64::from(self.bits / 8)
    }

    /// The whole file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.header_len() + self.frames * self.block_align()
    }

    /// The RIFF header, up to the first byte of the samples.
    ///
    /// # Errors
    ///
    /// The audio is too long for a RIFF file's 32-bit sizes (over 4 GiB).
    pub fn header(&self) -> Result<Vec<u8>> {
        let too_long = || {
            Error::api(
                ErrorCode::Undecodable,
                "the song is too long to send as a WAV file (over 4 GiB)",
            )
        };
        let data_len = u32::try_from(self.frames * self.block_align()).map_err(|_| too_long())?;
        let riff_len = u32::try_from(self.file_len() - 8).map_err(|_| too_long())?;
        let block_align = self.channels * (self.bits / 8);
        let mut h = Vec::with_capacity(68);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&riff_len.to_le_bytes());
        h.extend_from_slice(b"WAVE");
        h.extend_from_slice(b"fmt ");
        h.extend_from_slice(&(if self.extensible() { 40u32 } else { 16 }).to_le_bytes());
        // WAVE_FORMAT_PCM, or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format below.
        h.extend_from_slice(&(if self.extensible() { 0xfffe_u16 } else { 1 }).to_le_bytes());
        h.extend_from_slice(&self.channels.to_le_bytes());
        h.extend_from_slice(&self.sample_rate.to_le_bytes());
        h.extend_from_slice(&(self.sample_rate * u32::from(block_align)).to_le_bytes());
        h.extend_from_slice(&block_align.to_le_bytes());
        h.extend_from_slice(&self.bits.to_le_bytes());
        if self.extensible() {
            h.extend_from_slice(&22u16.to_le_bytes());
            h.extend_from_slice(&self.bits.to_le_bytes());
            h.extend_from_slice(&self.channel_mask.to_le_bytes());
            // KSDATAFORMAT_SUBTYPE_PCM: 00000001-0000-0010-8000-00aa00389b71.
            h.extend_from_slice(&[
                0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38,
                0x9b, 0x71,
            ]);
        }
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data_len.to_le_bytes());
        Ok(h)
    }
}

/// The bits per sample of the WAV made from `song`: 16 for sources of 16 bits or fewer and for
/// lossy codecs (whose decoders have no bit depth to keep), 24 otherwise.
fn wav_bits(song: &Song) -> u16 {
    match (song.bit_depth, song.codec.as_deref()) {
        (Some(bits), _) if bits <= 16 => 16,
        (Some(_), _) => 24,
        (None, Some("flac" | "alac" | "pcm" | "wavpack" | "ape")) => 24,
        (None, _) => 16,
    }
}

/// `GET` and `HEAD /api/v1/tracks/{id}/wav`: the account's track `id` decoded to WAV.
///
/// # Errors
///
/// Not found for a track the account does not have (another account's ids included), and as
/// [`send`].
pub async fn track(
    State(state): State<AppState>,
    who: Authenticated,
    Path(track): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let lib = state.library(who.user).await?;
    let song = lib
        .song(&track)
        .ok_or_else(|| crate::web::not_found("track"))?;
    send(&state, song, &method, &headers).await
}

/// `GET` and `HEAD` of `song` as WAV, honouring `Range` (but not `If-Range`: the bytes of a
/// song's WAV never change, so any validator the client holds is this one).
///
/// # Errors
///
/// [`ErrorCode::Undecodable`] when the locker cannot decode the file (a format without a decoder
/// here, such as WavPack, or a damaged file), or an I/O error reading it.
pub async fn send(
    state: &AppState,
    song: &Song,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response> {
    let store = state.blobs().clone();
    let handle = Handle::current();
    let blob = song.blob.clone();
    let len = song.size;
    let extension = song
        .codec
        .as_deref()
        .and_then(crate::library::file_type)
        .map(|(suffix, _)| suffix);
    let bits = wav_bits(song);
    let name = format!("song {}", song.id);
    let open = move || open_source(&store, &handle, &blob, len, extension, &name);
    let blob = song.blob.clone();
    let (decoder, layout) = tokio::task::spawn_blocking(move || probe(&open, &blob, bits))
        .await
        .map_err(|e| Error::api(ErrorCode::Internal, format!("a worker failed: {e}")))??;

    let header = layout.header()?;
    let total = layout.file_len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map_or(RangeRequest::Whole, |v| parse_range(Some(v), total));
    let (status, start, end) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0, total),
        RangeRequest::Part(start, end) => (StatusCode::PARTIAL_CONTENT, start, end),
        RangeRequest::Unsatisfiable => {
            let mut response = Error::api(
                ErrorCode::BadRequest,
                format!("the song's WAV has {total} bytes"),
            )
            .into_response();
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(response);
        }
    };
    let body = if *method == Method::HEAD {
        Body::empty()
    } else {
        let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
        tokio::task::spawn_blocking(move || render(decoder, &layout, &header, start..end, &tx));
        Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        }))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&(end - start).to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{total}", end - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

/// Opens blob `blob` of `len` bytes for decoding: a file in a local store, ranged reads of an
/// object in S3.
fn open_source(
    store: &BlobStore,
    handle: &Handle,
    blob: &str,
    len: u64,
    extension: Option<&str>,
    name: &str,
) -> Result<Source> {
    match store.local_dir() {
        Some(dir) => {
            let file =
                std::fs::File::open(dir.join(blob_key(blob))).map_err(|source| Error::Io {
                    context: "opening a song's file to decode it".to_owned(),
                    source,
                })?;
            Ok(Source::from_reader(name, file, extension))
        }
        None => Ok(Source::from_reader(
            name,
            RemoteBlob {
                store: store.clone(),
                handle: handle.clone(),
                hash: blob.to_owned(),
                len,
                pos: 0,
                buffer: Bytes::new(),
                buffer_start: 0,
            },
            extension,
        )),
    }
}

/// Frame counts of blobs whose containers declare none, by blob hash: counting decodes the whole
/// file, and a player asks for several ranges of the same song (each seek is one). A blob's
/// content never changes, so an entry never goes stale; the map is emptied when it is full.
static COUNTED: LazyLock<Mutex<HashMap<String, u64>>> = LazyLock::new(Mutex::default);
/// The most frame counts kept (about 100 bytes each).
const COUNTED_MAX: usize = 4096;

/// Opens a decoder for blob `blob` and works out the WAV it makes: from the container's declared
/// length, or by decoding a second opening of the file to the end (once per blob: see
/// [`COUNTED`]).
fn probe(
    open: &impl Fn() -> Result<Source>,
    blob: &str,
    bits: u16,
) -> Result<(Decoder, WavLayout)> {
    let decoder = Decoder::open(open()?).map_err(undecodable)?;
    let channels = decoder.channels();
    let frames = match decoder.declared_frames() {
        Some(frames) => frames,
        None => counted_frames(open, blob)?,
    };
    let layout = WavLayout {
        sample_rate: decoder.sample_rate(),
        channels: u16::try_from(channels.count()).unwrap_or(0),
        bits,
        channel_mask: channel_mask(channels),
        frames,
    };
    if layout.sample_rate == 0 || layout.channels == 0 {
        return Err(Error::api(
            ErrorCode::Undecodable,
            "the song's file declares no sample rate or channels",
        ));
    }
    Ok((decoder, layout))
}

/// The frames blob `blob` decodes to, counted by decoding it unless [`COUNTED`] has the count.
fn counted_frames(open: &impl Fn() -> Result<Source>, blob: &str) -> Result<u64> {
    let counted = || COUNTED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&frames) = counted().get(blob) {
        return Ok(frames);
    }
    let frames = count_frames(Decoder::open(open()?).map_err(undecodable)?)?;
    let mut map = counted();
    if map.len() >= COUNTED_MAX {
        map.clear();
    }
    map.insert(blob.to_owned(), frames);
    Ok(frames)
}

/// Decodes to the end, counting frames; a damaged stream counts what decoded before the damage.
fn count_frames(mut decoder: Decoder) -> Result<u64> {
    loop {
        match decoder.next_block() {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(decoder.frames_decoded()),
            Err(e @ skylark_player::Error::Io { .. }) => return Err(undecodable(e)),
            Err(e) => {
                warn!(source = decoder.name(), error = %e, "counting stops at damaged audio");
                return Ok(decoder.frames_decoded());
            }
        }
    }
}

/// The WAVE_FORMAT_EXTENSIBLE channel mask of `channels`: symphonia's position bits where they
/// are all positions WAV can name, else 0 (unknown positions).
fn channel_mask(channels: &Channels) -> u32 {
    match channels {
        Channels::Positioned(positions) => u32::try_from(positions.bits())
            .ok()
            .filter(|bits| bits & !WAVE_SPEAKER_BITS == 0)
            .unwrap_or(0),
        _ => 0,
    }
}

fn undecodable(e: skylark_player::Error) -> Error {
    Error::api(
        ErrorCode::Undecodable,
        format!("the locker cannot decode this song: {e}"),
    )
}

/// Sends bytes `range` of the WAV (`header` then the samples) to `tx`, a chunk at a time, until
/// the range is sent or the receiver is gone.
fn render(
    mut decoder: Decoder,
    layout: &WavLayout,
    header: &[u8],
    range: std::ops::Range<u64>,
    tx: &mpsc::Sender<std::io::Result<Bytes>>,
) {
    let mut chunk = Vec::with_capacity(CHUNK_BYTES);
    let mut pos = range.start;
    let header_len = layout.header_len();
    if pos < header_len {
        let upto = range.end.min(header_len);
        chunk.extend_from_slice(&header[to_usize(pos)..to_usize(upto)]);
        pos = upto;
    }
    let block_align = layout.block_align();
    let first_frame = pos.saturating_sub(header_len) / block_align;
    // Bytes of the first frame before the range starts.
    let mut skip = to_usize(pos.saturating_sub(header_len) % block_align);
    if pos < range.end && first_frame > 0 {
        let nanos = u128::from(first_frame) * 1_000_000_000 / u128::from(layout.sample_rate);
        let at = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        if let Err(e) = decoder.seek(at) {
            warn!(source = decoder.name(), error = %e, "cannot seek in a song to send it as WAV");
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            return;
        }
    }
    let mut frames_left = layout.frames.saturating_sub(first_frame);
    let channels = usize::from(layout.channels);
    let mut samples = Vec::new();
    let mut decoding = true;
    while pos < range.end {
        if frames_left == 0 {
            // The layout's bytes are all sent, yet the range asks for more: cannot happen with
            // the length worked out from the same layout; end rather than loop.
            warn!(
                source = decoder.name(),
                "a WAV came out shorter than its layout"
            );
            break;
        }
        samples.clear();
        if decoding {
            match decoder.next_block() {
                Ok(Some(block)) => {
                    let frames = to_usize((block.frames() as u64).min(frames_left));
                    conform(
                        block.samples,
                        block.channels.count(),
                        frames,
                        channels,
                        &mut samples,
                    );
                }
                Ok(None) => decoding = false,
                Err(e @ skylark_player::Error::Io { .. }) => {
                    warn!(source = decoder.name(), error = %e, "a song's file became unreadable");
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return;
                }
                Err(e) => {
                    warn!(source = decoder.name(), error = %e, "damaged audio: silence to its end");
                    decoding = false;
                }
            }
        }
        if !decoding {
            // Silence for the frames the container promised and the decoder did not give.
            let frames = frames_left.min(CHUNK_BYTES as u64 / block_align);
            samples.resize(to_usize(frames) * channels, 0.0);
        }
        frames_left -= (samples.len() / channels) as u64;
        let mut bytes = encode(&samples, layout.bits);
        let cut = skip.min(bytes.len());
        bytes.drain(..cut);
        skip -= cut;
        bytes.truncate(to_usize(range.end - pos));
        pos += bytes.len() as u64;
        chunk.extend_from_slice(&bytes);
        if chunk.len() >= CHUNK_BYTES {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_BYTES));
            if tx.blocking_send(Ok(Bytes::from(full))).is_err() {
                return; // The client went away.
            }
        }
    }
    if !chunk.is_empty() {
        let _ = tx.blocking_send(Ok(Bytes::from(chunk)));
    }
}

/// Appends `frames` frames of `input` (interleaved, `channels` per frame) to `out` as `wanted`
/// channels: extra channels dropped, missing ones silent (a stream that changes its layout
/// midway).
fn conform(input: &[f32], channels: usize, frames: usize, wanted: usize, out: &mut Vec<f32>) {
    if channels == wanted {
        out.extend_from_slice(&input[..frames * channels]);
        return;
    }
    for frame in input.chunks_exact(channels.max(1)).take(frames) {
        out.extend((0..wanted).map(|c| frame.get(c).copied().unwrap_or(0.0)));
    }
}

/// Little-endian PCM of `bits` bits from f32 samples. symphonia decodes an n-bit integer sample
/// as `s / 2^(n-1)`, so scaling back and rounding returns every 16- and 24-bit value exactly.
fn encode(samples: &[f32], bits: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * usize::from(bits / 8));
    if bits == 16 {
        for &s in samples {
            let v = (s * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16;
            out.extend_from_slice(&v.to_le_bytes());
        }
    } else {
        for &s in samples {
            let v = (s * 8_388_608.0).round().clamp(-8_388_608.0, 8_388_607.0) as i32;
            out.extend_from_slice(&v.to_le_bytes()[..3]);
        }
    }
    out
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A blob in an S3 store read through ranged GETs, for a decoder on a blocking thread.
struct RemoteBlob {
    store: BlobStore,
    handle: Handle,
    hash: String,
    len: u64,
    pos: u64,
    /// The bytes fetched last, which start at `buffer_start`.
    buffer: Bytes,
    buffer_start: u64,
}

impl Read for RemoteBlob {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.len || out.is_empty() {
            return Ok(0);
        }
        let buffered = self.buffer_start..self.buffer_start + self.buffer.len() as u64;
        if !buffered.contains(&self.pos) {
            let end = (self.pos + REMOTE_READ_BYTES).min(self.len);
            self.buffer = self
                .handle
                .block_on(self.store.read_range_bytes(&self.hash, self.pos..end))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            self.buffer_start = self.pos;
            if self.buffer.is_empty() {
                return Ok(0);
            }
        }
        let from = to_usize(self.pos - self.buffer_start);
        let n = out.len().min(self.buffer.len() - from);
        out[..n].copy_from_slice(&self.buffer[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RemoteBlob {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::{WavLayout, encode};

    #[test]
    fn headers_describe_the_samples_that_follow() {
        let stereo = WavLayout {
            sample_rate: 44_100,
            channels: 2,
            bits: 16,
            channel_mask: 3,
            frames: 1000,
        };
        let h = stereo.header().unwrap();
        assert_eq!(h.len() as u64, stereo.header_len());
        assert_eq!(stereo.file_len(), 44 + 4000);
        assert_eq!(&h[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(h[4..8].try_into().unwrap()), 4036);
        assert_eq!(u16::from_le_bytes(h[20..22].try_into().unwrap()), 1);
        assert_eq!(u32::from_le_bytes(h[40..44].try_into().unwrap()), 4000);

        let surround = WavLayout {
            channels: 6,
            bits: 24,
            channel_mask: 0x3f,
            ..stereo
        };
        let h = surround.header().unwrap();
        assert_eq!(h.len(), 68);
        assert_eq!(u16::from_le_bytes(h[20..22].try_into().unwrap()), 0xfffe);
        assert_eq!(u16::from_le_bytes(h[32..34].try_into().unwrap()), 18);
        assert_eq!(u32::from_le_bytes(h[40..44].try_into().unwrap()), 0x3f);
        assert_eq!(u32::from_le_bytes(h[64..68].try_into().unwrap()), 18_000);

        let endless = WavLayout {
            frames: u64::from(u32::MAX),
            ..stereo
        };
        assert!(endless.header().is_err());
    }

    #[test]
    fn integer_samples_come_back_exactly() {
        let values16 = [i16::MIN, -12_345, -1, 0, 1, 23_456, i16::MAX];
        let floats: Vec<f32> = values16.iter().map(|&v| f32::from(v) / 32_768.0).collect();
        let bytes = encode(&floats, 16);
        let back: Vec<i16> = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(back, values16);

        let values24 = [-8_388_608, -4_000_001, -1, 0, 1, 7_654_321, 8_388_607];
        let floats: Vec<f32> = values24.iter().map(|&v| v as f32 / 8_388_608.0).collect();
        let bytes = encode(&floats, 24);
        let back: Vec<i32> = bytes
            .chunks_exact(3)
            .map(|b| i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8)
            .collect();
        assert_eq!(back, values24);
        // Past full scale clips rather than wraps.
        assert_eq!(encode(&[1.5, -1.5], 16), [0xff, 0x7f, 0x00, 0x80]);
    }
}
