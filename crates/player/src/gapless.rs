//! Encoder delay and padding that symphonia does not trim: AAC (and ALAC) in MP4.
//!
//! symphonia 0.6 trims MP3 (LAME/Xing header), Vorbis and Opus (Ogg granule positions and, for
//! Opus, pre-skip in the libopus adapter) itself, through each packet's `trim_start`/`trim_end`.
//! Its MP4 demuxer parses the edit list but does not apply it, and its AAC decoder trims nothing,
//! so an AAC track would start with the encoder's priming frames (1024 for ffmpeg and Apple) and
//! end with padding. This module reads the two ways MP4 files record the real extent:
//!
//! - the iTunes `----:com.apple.iTunes:iTunSMPB` freeform atom: space-separated hex fields
//!   `reserved delay padding original-length ...` (Apple's iTunes/afconvert convention, also
//!   written by fdkaac and Nero);
//! - the edit list (ISO/IEC 14496-12 §8.6.6 `elst`): the first non-empty edit's `media_time` is
//!   the delay, its `segment_duration` (in the movie timescale) the length.
//!
//! iTunSMPB wins when both are present: it is exact, while a segment duration in a coarse movie
//! timescale (ffmpeg writes milliseconds) is not. The coarse value is then refined from the media
//! header duration, which ffmpeg writes as delay + length exactly (ISO/IEC 14496-12 §8.4.2).

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

/// The largest `moov` box read into memory. Real files keep it under a few MiB (the sample tables
/// of a long track); the cap keeps a hostile file from making us allocate without bound.
const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;

/// How many leading frames to drop and how many to keep after them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EncoderTrim {
    /// Encoder delay (priming) in frames at the track's sample rate.
    pub delay: u64,
    /// The real length in frames, if known; frames after it are padding.
    pub length: Option<u64>,
}

/// An MP4 file's encoder trim, in the units it was recorded in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mp4Trim {
    trim: EncoderTrim,
    /// The media timescale the edit list counts in, or `None` for iTunSMPB (already frames).
    media_timescale: Option<u32>,
}

impl Mp4Trim {
    /// The trim in frames at `sample_rate` (the media timescale is normally the sample rate).
    pub(crate) fn in_frames(self, sample_rate: u32) -> EncoderTrim {
        match self.media_timescale {
            Some(timescale) if timescale != sample_rate && timescale != 0 => {
                let convert = |units: u64| {
                    (u128::from(units) * u128::from(sample_rate) / u128::from(timescale)) as u64
                };
                EncoderTrim {
                    delay: convert(self.trim.delay),
                    length: self.trim.length.map(convert),
                }
            }
            _ => self.trim,
        }
    }
}

/// Whether `head` (the first bytes of a file) starts an ISO/MP4 file: an `ftyp` box first.
pub(crate) fn looks_like_mp4(head: &[u8]) -> bool {
    head.get(4..8) == Some(b"ftyp".as_slice())
}

/// Reads the encoder trim of the first sound track of an MP4 file, if the file records one.
///
/// Reads from the start of `reader` and leaves its position anywhere; the caller seeks back.
pub(crate) fn read_mp4_trim<R: Read + Seek>(reader: &mut R) -> Option<Mp4Trim> {
    let moov = read_top_level_box(reader, *b"moov")?;
    let itunsmpb = find_itunsmpb(&moov);
    if let Some(trim) = itunsmpb.as_deref().and_then(parse_itunsmpb) {
        return Some(Mp4Trim {
            trim,
            media_timescale: None,
        });
    }
    edit_list_trim(&moov)
}

/// One box: its type and its payload (after the size/type header).
struct Mp4Box<'a> {
    kind: [u8; 4],
    payload: &'a [u8],
}

/// Iterates the boxes laid end to end in `data`, stopping at the first malformed header.
fn boxes(mut data: &[u8]) -> impl Iterator<Item = Mp4Box<'_>> {
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(data.get(0..4)?.try_into().ok()?) as u64;
        let kind: [u8; 4] = data.get(4..8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, data.len() as u64),
            1 => (16, u64::from_be_bytes(data.get(8..16)?.try_into().ok()?)),
            n => (8, n),
        };
        let size = usize::try_from(size).ok()?;
        if size < header || size > data.len() {
            return None;
        }
        let payload = &data[header..size];
        data = &data[size..];
        Some(Mp4Box { kind, payload })
    })
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|b| &b.kind == kind).map(|b| b.payload)
}

/// Finds a top-level box by walking headers and seeking over the others (`mdat` can be huge).
fn read_top_level_box<R: Read + Seek>(reader: &mut R, kind: [u8; 4]) -> Option<Vec<u8>> {
    let mut pos = reader.seek(SeekFrom::Start(0)).ok()?;
    loop {
        let mut header = [0u8; 8];
        reader.read_exact(&mut header).ok()?;
        let mut size = u64::from(u32::from_be_bytes(header[0..4].try_into().ok()?));
        let mut header_len = 8;
        if size == 1 {
            let mut large = [0u8; 8];
            reader.read_exact(&mut large).ok()?;
            size = u64::from_be_bytes(large);
            header_len = 16;
        }
        if header[4..8] == kind {
            let payload_len = if size == 0 {
                MAX_MOOV_BYTES
            } else {
                size.checked_sub(header_len)?
            };
            if payload_len > MAX_MOOV_BYTES {
                return None;
            }
            let mut payload = Vec::new();
            reader
                .by_ref()
                .take(payload_len)
                .read_to_end(&mut payload)
                .ok()?;
            return Some(payload);
        }
        if size < header_len {
            return None;
        }
        pos = pos.checked_add(size)?;
        reader.seek(SeekFrom::Start(pos)).ok()?;
    }
}

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// `(timescale, duration)` of an `mvhd` or `mdhd` payload; both share this layout (§8.2.2, §8.4.2).
fn header_timescale_duration(payload: &[u8]) -> Option<(u32, u64)> {
    match payload.first()? {
        0 => Some((be_u32(payload, 12)?, u64::from(be_u32(payload, 16)?))),
        1 => Some((be_u32(payload, 20)?, be_u64(payload, 24)?)),
        _ => None,
    }
}

/// The value of the `----:com.apple.iTunes:iTunSMPB` freeform item under `moov/udta/meta/ilst`.
fn find_itunsmpb(moov: &[u8]) -> Option<String> {
    let meta = child(child(moov, b"udta")?, b"meta")?;
    // The iTunes `meta` is a full box: version and flags come before its children.
    let ilst = child(meta.get(4..)?, b"ilst")?;
    boxes(ilst).filter(|b| &b.kind == b"----").find_map(|item| {
        let name = child(item.payload, b"name")?;
        if name.get(4..)? != b"iTunSMPB" {
            return None;
        }
        // `data`: type indicator (4) and locale (4), then the UTF-8 text.
        let data = child(item.payload, b"data")?;
        Some(String::from_utf8_lossy(data.get(8..)?).into_owned())
    })
}

/// Parses iTunSMPB text: hex fields `reserved delay padding length ...`.
fn parse_itunsmpb(text: &str) -> Option<EncoderTrim> {
    let fields: Vec<u64> = text
        .split_whitespace()
        .map(|f| u64::from_str_radix(f, 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let delay = *fields.get(1)?;
    let length = *fields.get(3)?;
    // A zero length means the encoder did not know it (streamed encodes); keep the delay only.
    Some(EncoderTrim {
        delay,
        length: (length > 0).then_some(length),
    })
}

/// The trim the first sound track's edit list describes, in media timescale units.
fn edit_list_trim(moov: &[u8]) -> Option<Mp4Trim> {
    let (movie_timescale, _) = header_timescale_duration(child(moov, b"mvhd")?)?;
    let trak = boxes(moov).filter(|b| &b.kind == b"trak").find(|trak| {
        child(trak.payload, b"mdia")
            .and_then(|mdia| child(mdia, b"hdlr"))
            .and_then(|hdlr| hdlr.get(8..12))
            == Some(b"soun".as_slice())
    })?;
    let mdia = child(trak.payload, b"mdia")?;
    let (media_timescale, media_duration) = header_timescale_duration(child(mdia, b"mdhd")?)?;
    let elst = child(child(trak.payload, b"edts")?, b"elst")?;
    if movie_timescale == 0 || media_timescale == 0 {
        return None;
    }

    let version = *elst.first()?;
    let count = be_u32(elst, 4)? as usize;
    let entry_len = if version == 1 { 20 } else { 12 };
    // The first edit with a media time is the one that plays; an empty edit (media_time -1)
    // before it would be a silent gap, which music files do not use.
    let (segment_duration, media_time) = (0..count).find_map(|i| {
        let at = 8 + i * entry_len;
        let (segment, media_time) = if version == 1 {
            (be_u64(elst, at)?, be_u64(elst, at + 8)? as i64)
        } else {
            (
                u64::from(be_u32(elst, at)?),
                i64::from(be_u32(elst, at + 4)? as i32),
            )
        };
        (media_time >= 0).then_some((segment, media_time.unsigned_abs()))
    })?;

    // Segment duration is in the movie timescale; convert it to media units, then see whether
    // the exact media-header figure agrees to within one movie tick.
    let segment_media =
        u128::from(segment_duration) * u128::from(media_timescale) / u128::from(movie_timescale);
    let tick = u128::from(media_timescale.div_ceil(movie_timescale)) + 1;
    let length_from_header = u128::from(media_duration.saturating_sub(media_time));
    let length = if segment_duration == 0 {
        None
    } else if length_from_header.abs_diff(segment_media) <= tick {
        Some(length_from_header as u64)
    } else {
        Some(segment_media as u64)
    };
    Some(Mp4Trim {
        trim: EncoderTrim {
            delay: media_time,
            length,
        },
        media_timescale: Some(media_timescale),
    })
}

/// Applies an [`EncoderTrim`] to a stream of decoded blocks.
#[derive(Clone, Debug)]
pub(crate) struct TrimWindow {
    skip: u64,
    remaining: Option<u64>,
}

impl TrimWindow {
    pub(crate) fn new(trim: EncoderTrim) -> Self {
        TrimWindow {
            skip: trim.delay,
            remaining: trim.length,
        }
    }

    /// Given the next block of `frames` frames, returns the range of its frames to keep.
    pub(crate) fn keep(&mut self, frames: usize) -> Range<usize> {
        let frames_u64 = frames as u64;
        let skip_here = self.skip.min(frames_u64);
        self.skip -= skip_here;
        let mut keep = frames_u64 - skip_here;
        if let Some(remaining) = &mut self.remaining {
            keep = keep.min(*remaining);
            *remaining -= keep;
        }
        let start = skip_here as usize;
        start..start + keep as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itunsmpb_fields_are_hex_delay_padding_length() {
        let text = " 00000000 00000840 000001C8 00000000000BB5F8 00000000 00000000";
        assert_eq!(
            parse_itunsmpb(text),
            Some(EncoderTrim {
                delay: 0x840,
                length: Some(0xBB5F8)
            })
        );
        assert_eq!(parse_itunsmpb("garbage"), None);
    }

    #[test]
    fn trim_window_spans_blocks() {
        let mut window = TrimWindow::new(EncoderTrim {
            delay: 1500,
            length: Some(1000),
        });
        assert_eq!(window.keep(1024), 1024..1024);
        assert_eq!(window.keep(1024), 476..1024);
        assert_eq!(window.keep(1024), 0..452);
        assert_eq!(window.keep(1024), 0..0);
    }

    #[test]
    fn truncated_or_hostile_boxes_end_the_walk() {
        // A size larger than the data, and a size smaller than a header.
        let data = [
            0, 0, 0, 200, b'm', b'o', b'o', b'v', 0, 0, 0, 2, b'x', b'x', b'x', b'x',
        ];
        assert_eq!(boxes(&data).count(), 0);
        assert_eq!(boxes(&data[8..]).count(), 0);
    }
}
