//! Cheap structural checks that catch truncated files and random bytes wearing an audio extension.
//!
//! Tag readers parse headers, so a file cut short (an interrupted copy, a partial download) usually
//! still "reads" with the duration its header promises. A music library must tell the user about
//! such files instead, so after lofty has read a file we look at the few places where each format
//! records how long it should be, reading at most a few kilobytes from the start and the end:
//!
//! - MPEG audio: the first frames must chain (each header is followed by another at the frame length
//!   the first one implies); a Xing/Info or VBRI header records the stream's byte count.
//! - FLAC: STREAMINFO records the total sample count; the last frame header in the file records the
//!   sample it starts at (RFC 9639 §9.1), which must be within one block of the end.
//! - Ogg: the last page of a complete logical stream carries the end-of-stream flag (RFC 3533 §6).
//! - RIFF/WAVE and AIFF: the audio chunk's declared size must fit in the file.
//! - MP4: every top-level box must fit in the file (ISO/IEC 14496-12 §4.2).
//! - WavPack: the last block's index plus its sample count must equal the total sample count.

use std::io::{self, Read, Seek, SeekFrom};

use lofty::file::FileType;

/// What a check found.
#[derive(Debug)]
pub(crate) enum Problem {
    /// Reading the file failed.
    Io(io::Error),
    /// The bytes are not the format the extension claims.
    NotAudio,
    /// The file ends before its own headers say it should.
    Truncated(String),
}

impl From<io::Error> for Problem {
    fn from(e: io::Error) -> Self {
        Problem::Io(e)
    }
}

type Check = std::result::Result<(), Problem>;

/// How far from either end the checks read. Ogg pages are at most 65,307 bytes (RFC 3533 §6).
const TAIL: u64 = 70_000;
const HEAD: u64 = 64 * 1024;
/// What the checks read first; they read [`TAIL`] or [`HEAD`] only when that is not enough.
const SHORT_TAIL: u64 = 16 * 1024;

/// Checks that the file `reader` (of `len` bytes, detected as `file_type`) is complete.
pub(crate) fn check<R: Read + Seek>(reader: &mut R, file_type: FileType, len: u64) -> Check {
    match file_type {
        FileType::Mpeg => mpeg(reader, len),
        FileType::Flac => flac(reader, len),
        FileType::Vorbis | FileType::Opus | FileType::Speex => ogg(reader, len),
        FileType::Wav => riff(reader, len),
        FileType::Aiff => aiff(reader, len),
        FileType::Mp4 => mp4(reader, len),
        FileType::WavPack => wavpack(reader, len),
        _ => Ok(()),
    }
}

fn read_at<R: Read + Seek>(reader: &mut R, offset: u64, max: u64) -> io::Result<Vec<u8>> {
    reader.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    reader.by_ref().take(max).read_to_end(&mut buf)?;
    Ok(buf)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn truncated(what: &str, expected: u64, present: u64) -> Problem {
    Problem::Truncated(format!(
        "{what}: the file holds {present} of the {expected} its headers declare"
    ))
}

/// The size of a leading ID3v2 tag (header, body and footer), or 0.
fn id3v2_len(head: &[u8]) -> u64 {
    if head.len() < 10 || &head[..3] != b"ID3" {
        return 0;
    }
    let size = head[6..10]
        .iter()
        .fold(0u64, |acc, &b| (acc << 7) | u64::from(b & 0x7f));
    let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
    10 + size + footer
}

// ---------------------------------------------------------------- MPEG audio

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MpegHeader {
    version: u8,
    layer: u8,
    sample_rate: u32,
    frame_len: usize,
    mono: bool,
}

/// Parses an MPEG audio frame header (ISO/IEC 11172-3 §2.4.2.3, with the MPEG-2.5 extension).
fn mpeg_header(b: &[u8]) -> Option<MpegHeader> {
    if b.len() < 4 || b[0] != 0xff || b[1] & 0xe0 != 0xe0 {
        return None;
    }
    let version = (b[1] >> 3) & 0b11; // 0 = 2.5, 2 = 2, 3 = 1
    let layer_bits = (b[1] >> 1) & 0b11; // 1 = III, 2 = II, 3 = I
    let bitrate_index = usize::from(b[2] >> 4);
    let rate_index = usize::from((b[2] >> 2) & 0b11);
    if version == 1
        || layer_bits == 0
        || bitrate_index == 0
        || bitrate_index == 15
        || rate_index == 3
    {
        return None;
    }
    let layer = 4 - layer_bits;
    let padding = usize::from((b[2] >> 1) & 1);
    const RATES: [u32; 3] = [44_100, 48_000, 32_000];
    let sample_rate = match version {
        3 => RATES[rate_index],
        2 => RATES[rate_index] / 2,
        _ => RATES[rate_index] / 4,
    };
    const V1: [[u32; 15]; 3] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ];
    const V2: [[u32; 15]; 3] = [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let table = if version == 3 { &V1 } else { &V2 };
    let kbps = table[usize::from(layer - 1)][bitrate_index];
    let bits_per_second = kbps as usize * 1000;
    let rate = sample_rate as usize;
    let frame_len = match (layer, version) {
        (1, _) => (12 * bits_per_second / rate + padding) * 4,
        (3, v) if v != 3 => 72 * bits_per_second / rate + padding,
        _ => 144 * bits_per_second / rate + padding,
    };
    Some(MpegHeader {
        version,
        layer,
        sample_rate,
        frame_len,
        mono: b[3] >> 6 == 0b11,
    })
}

fn mpeg<R: Read + Seek>(reader: &mut R, len: u64) -> Check {
    // Skip every leading ID3v2 tag: some taggers prepend a second one instead of replacing the first.
    let mut start = 0;
    loop {
        let head = read_at(reader, start, 16)?;
        match id3v2_len(&head) {
            0 => break,
            n => start += n,
        }
    }
    match mpeg_at(reader, len, start, SHORT_TAIL) {
        Err(Problem::NotAudio) if len > start + SHORT_TAIL => mpeg_at(reader, len, start, HEAD),
        other => other,
    }
}

fn mpeg_at<R: Read + Seek>(reader: &mut R, len: u64, start: u64, span: u64) -> Check {
    let buf = read_at(reader, start, span)?;
    // Find the first position where three frame headers chain; allow some junk before it.
    let mut found = None;
    for at in 0..buf.len().saturating_sub(4) {
        let Some(first) = mpeg_header(&buf[at..]) else {
            continue;
        };
        let mut next = at + first.frame_len;
        let mut chained = 1;
        while chained < 3 {
            match buf.get(next..).and_then(mpeg_header) {
                Some(h)
                    if h.version == first.version
                        && h.layer == first.layer
                        && h.sample_rate == first.sample_rate =>
                {
                    next += h.frame_len;
                    chained += 1;
                }
                _ => break,
            }
        }
        // A file with fewer than three frames in total is chained as far as it goes.
        if chained == 3 || (next as u64 + start >= len && chained >= 1 && at == 0) {
            found = Some((at, first));
            break;
        }
    }
    let Some((at, first)) = found else {
        return Err(Problem::NotAudio);
    };
    if first.layer != 3 {
        return Ok(());
    }
    // Xing/Info sits after the side information of the first frame; VBRI at a fixed offset.
    let side_info = match (first.version == 3, first.mono) {
        (true, false) => 32,
        (true, true) | (false, false) => 17,
        (false, true) => 9,
    };
    let frame = &buf[at..(at + first.frame_len).min(buf.len())];
    let declared = match frame.get(4 + side_info..4 + side_info + 4) {
        Some(b"Xing" | b"Info") => {
            let x = 4 + side_info;
            let flags = be32(frame, x + 4).unwrap_or(0);
            let bytes_at = x + 8 + if flags & 1 != 0 { 4 } else { 0 };
            (flags & 2 != 0).then(|| be32(frame, bytes_at)).flatten()
        }
        _ if frame.get(36..40) == Some(b"VBRI") => be32(frame, 36 + 10),
        _ => None,
    };
    if let Some(declared) = declared.map(u64::from) {
        // Encoders disagree on whether the count includes the header frame or even the tags, so
        // the count is held against the whole file, with a little slack.
        let present = len;
        let missing = declared.saturating_sub(present);
        if missing > 4096 && missing * 200 > declared {
            return Err(truncated("MPEG stream", declared, present));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- FLAC

/// CRC-8 with polynomial x^8 + x^2 + x + 1, as FLAC frame headers use (RFC 9639 §9.1.8).
fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |mut crc, &b| {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// Reads FLAC's UTF-8-like coded number; returns (value, bytes used).
fn flac_coded_number(b: &[u8]) -> Option<(u64, usize)> {
    let first = *b.first()?;
    let extra = match first.leading_ones() {
        0 => return Some((u64::from(first), 1)),
        n @ 2..=7 => n as usize - 1,
        _ => return None,
    };
    let mut value = u64::from(first & (0x7f >> (extra + 1)));
    for i in 1..=extra {
        let c = *b.get(i)?;
        if c & 0xc0 != 0x80 {
            return None;
        }
        value = (value << 6) | u64::from(c & 0x3f);
    }
    Some((value, extra + 1))
}

/// A frame header's starting sample and block size, if `b` starts with a valid one.
fn flac_frame(b: &[u8], fixed_block: u32) -> Option<(u64, u32)> {
    if b.len() < 6 || b[0] != 0xff || b[1] & 0xfe != 0xf8 {
        return None;
    }
    let variable = b[1] & 1 == 1;
    let block_bits = b[2] >> 4;
    let rate_bits = b[2] & 0x0f;
    if block_bits == 0 || rate_bits == 0x0f || b[3] & 1 != 0 || (b[3] >> 4) > 10 {
        return None;
    }
    let (number, used) = flac_coded_number(&b[4..])?;
    let mut at = 4 + used;
    let block = match block_bits {
        1 => 192,
        2..=5 => 576 << (block_bits - 2),
        6 => {
            at += 1;
            u32::from(*b.get(at - 1)?) + 1
        }
        7 => {
            at += 2;
            u32::from(u16::from_be_bytes([*b.get(at - 2)?, *b.get(at - 1)?])) + 1
        }
        _ => 256 << (block_bits - 8),
    };
    at += match rate_bits {
        12 => 1,
        13 | 14 => 2,
        _ => 0,
    };
    let crc = *b.get(at)?;
    if crc8(&b[..at]) != crc {
        return None;
    }
    let first_sample = if variable {
        number
    } else {
        number * u64::from(fixed_block)
    };
    Some((first_sample, block))
}

fn flac<R: Read + Seek>(reader: &mut R, len: u64) -> Check {
    let head = read_at(reader, 0, 16)?;
    let start = id3v2_len(&head);
    let streaminfo = read_at(reader, start, 4 + 4 + 34)?;
    if streaminfo.get(..4) != Some(b"fLaC") || streaminfo.len() < 42 {
        return Err(Problem::NotAudio);
    }
    let si = &streaminfo[8..];
    let max_block = u32::from(u16::from_be_bytes([si[2], si[3]]));
    let max_frame = (u64::from(si[7]) << 16) | (u64::from(si[8]) << 8) | u64::from(si[9]);
    let total = (u64::from(si[13] & 0x0f) << 32) | u64::from(be32(si, 14).unwrap_or(0));
    if total == 0 || max_block == 0 {
        return Ok(()); // The encoder did not know the length (a stream); nothing to compare.
    }
    // The last frame starts at most one maximum frame size (when the encoder recorded it) before
    // the end, plus whatever tag may follow.
    let span = if max_frame > 0 {
        (2 * max_frame + 4096).min(TAIL)
    } else {
        TAIL
    };
    let tail_start = len.saturating_sub(span);
    let tail = read_at(reader, tail_start, span)?;
    let last = (0..tail.len().saturating_sub(6))
        .rev()
        .find_map(|i| flac_frame(&tail[i..], max_block));
    // No frame near the end: something else follows the audio (a large APEv2 tag, say), so
    // there is nothing to compare. A truncated file ends inside its frames and is caught below.
    let Some((first_sample, block)) = last else {
        return Ok(());
    };
    let reached = first_sample + u64::from(block);
    if reached + u64::from(max_block) < total {
        return Err(truncated("FLAC samples", total, reached));
    }
    Ok(())
}

// ---------------------------------------------------------------- Ogg

fn ogg<R: Read + Seek>(reader: &mut R, len: u64) -> Check {
    // The last page is usually a few kilobytes; look there first.
    if len > SHORT_TAIL
        && let Ok(()) = ogg_tail(reader, len, SHORT_TAIL)
    {
        return Ok(());
    }
    ogg_tail(reader, len, TAIL)
}

fn ogg_tail<R: Read + Seek>(reader: &mut R, len: u64, span: u64) -> Check {
    let tail_start = len.saturating_sub(span);
    let tail = read_at(reader, tail_start, span)?;
    // Walk back to the last page that is complete and check its end-of-stream flag.
    let mut at = tail.len();
    while let Some(found) = tail[..at].windows(4).rposition(|w| w == b"OggS") {
        at = found;
        let page = &tail[found..];
        if page.len() < 27 || page[4] != 0 {
            continue;
        }
        let segments = usize::from(page[26]);
        let Some(lacing) = page.get(27..27 + segments) else {
            continue;
        };
        let body: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let end = 27 + segments + body;
        if end > page.len() {
            continue;
        }
        return if page[5] & 0x04 != 0 {
            Ok(())
        } else {
            Err(Problem::Truncated(
                "Ogg: the last page does not end the stream".to_owned(),
            ))
        };
    }
    Err(Problem::Truncated(
        "Ogg: no complete page at the end of the file".to_owned(),
    ))
}

// ---------------------------------------------------------------- RIFF/WAVE and AIFF

fn riff<R: Read + Seek>(reader: &mut R, len: u64) -> Check {
    let head = read_at(reader, 0, 12)?;
    if head.get(..4) != Some(b"RIFF") || head.get(8..12) != Some(b"WAVE") {
        return Ok(()); // RF64 and friends: lofty validated what it could.
    }
    let mut at = 12u64;
    while at + 8 <= len {
        let chunk = read_at(reader, at, 8)?;
        let size = u64::from(le32(&chunk, 4).unwrap_or(0));
        if &chunk[..4] == b"data" {
            if size == 0 || size == u64::from(u32::MAX) {
                return Ok(()); // Written by a streaming encoder that never came back to fill it in.
            }
            let present = len - at - 8;
            return if present < size {
                Err(truncated("WAVE data bytes", size, present))
            } else {
                Ok(())
            };
        }
        at += 8 + size + (size & 1);
    }
    Ok(())
}

fn aiff<R: Read + Seek>(reader: &mut R, len: u64) -> Check {
    let mut at = 12u64;
    while at + 8 <= len {
        let chunk = read_at(reader, at, 8)?;
        let size = u64::from(be32(&chunk, 4).unwrap_or(0));
        if &chunk[..4] == b"SSND" {
            let present = len - at - 8;
            return if present < size {
                Err(truncated("AIFF sound data bytes", size, present))
            } else {
                Ok(())
            };
        }
        at += 8 + size + (size & 1);
    }
    Ok(())
}

// ---------------------------------------------------------------- MP4

/// Box types found at the top level of MP4 files (ISO/IEC 14496-12 §4.2 and Apple's QuickTime).
const TOP_LEVEL_BOXES: [&[u8]; 14] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"meta", b"pdin", b"moof",
    b"mfra", b"styp", b"sidx", b"pnot",
];

fn mp4<R: Read + Seek>(reader: &mut R, len: u64) -> Check {
    let mut at = 0u64;
    while at + 8 <= len {
        let header = read_at(reader, at, 16)?;
        let size32 = u64::from(be32(&header, 0).unwrap_or(0));
        let size = match size32 {
            0 => return Ok(()), // The box runs to the end of the file.
            1 => header
                .get(8..16)
                .map(|b| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .unwrap_or(0),
            n => n,
        };
        // Only boxes that belong at the top level are checked; anything else is trailing data
        // some tool appended (an ID3v1 tag, say), which players ignore and so does this check.
        if !TOP_LEVEL_BOXES.contains(&&header[4..8]) {
            return Ok(());
        }
        if size < 8 {
            return Err(Problem::Truncated(format!(
                "MP4: a box at byte {at} has an impossible size"
            )));
        }
        if at + size > len {
            let name = String::from_utf8_lossy(&header[4..8]).into_owned();
            return Err(truncated(
                &format!("MP4 '{name}' box bytes"),
                size,
                len - at,
            ));
        }
        at += size;
    }
    Ok(())
}

// ---------------------------------------------------------------- WavPack

/// (block index, block samples, total samples, block size) of a WavPack block header.
fn wavpack_block(b: &[u8]) -> Option<(u64, u64, Option<u64>, u64)> {
    if b.get(..4)? != b"wvpk" || b.len() < 32 {
        return None;
    }
    let size = u64::from(le32(b, 4)?) + 8;
    let version = u16::from_le_bytes([b[8], b[9]]);
    if !(0x402..=0x410).contains(&version) {
        return None;
    }
    let total_low = le32(b, 12)?;
    let total = (total_low != u32::MAX).then(|| (u64::from(b[11]) << 32) | u64::from(total_low));
    let index = (u64::from(b[10]) << 32) | u64::from(le32(b, 16)?);
    let samples = u64::from(le32(b, 20)?);
    Some((index, samples, total, size))
}

fn wavpack<R: Read + Seek>(reader: &mut R, len: u64) -> Check {
    let tail_start = len.saturating_sub(TAIL);
    let tail = read_at(reader, tail_start, TAIL)?;
    let mut at = tail.len();
    while let Some(found) = tail[..at].windows(4).rposition(|w| w == b"wvpk") {
        at = found;
        let Some((index, samples, total, size)) = wavpack_block(&tail[found..]) else {
            continue;
        };
        if samples == 0 {
            continue; // Blocks holding only metadata (a correction file's, say) carry no samples.
        }
        let Some(total) = total else {
            return Ok(());
        };
        let complete = tail_start + found as u64 + size <= len;
        let reached = if complete { index + samples } else { index };
        return if reached < total {
            Err(truncated("WavPack samples", total, reached))
        } else {
            Ok(())
        };
    }
    // No block near the end: a large trailing tag; nothing to compare (see the FLAC check).
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpeg_headers() {
        // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding, joint stereo: 417-byte frames.
        let h = mpeg_header(&[0xff, 0xfb, 0x90, 0x64]).unwrap();
        assert_eq!(
            (h.version, h.layer, h.sample_rate, h.frame_len),
            (3, 3, 44_100, 417)
        );
        // Reserved bitrate, reserved sample rate, bad sync.
        assert!(mpeg_header(&[0xff, 0xfb, 0xf0, 0x64]).is_none());
        assert!(mpeg_header(&[0xff, 0xfb, 0x9c, 0x64]).is_none());
        assert!(mpeg_header(&[0xfe, 0xfb, 0x90, 0x64]).is_none());
    }

    #[test]
    fn flac_coded_numbers() {
        assert_eq!(flac_coded_number(&[0x05]), Some((5, 1)));
        assert_eq!(flac_coded_number(&[0xc2, 0x80]), Some((0x80, 2)));
        assert_eq!(flac_coded_number(&[0xc2]), None);
        assert_eq!(flac_coded_number(&[0x80]), None);
    }

    #[test]
    fn crc8_matches_reference() {
        // CRC-8/SMBUS check value for "123456789".
        assert_eq!(crc8(b"123456789"), 0xf4);
    }

    #[test]
    fn id3_length() {
        let mut head = b"ID3\x04\x00\x00\x00\x00\x02\x01".to_vec();
        assert_eq!(id3v2_len(&head), 10 + 257);
        head[5] = 0x10;
        assert_eq!(id3v2_len(&head), 10 + 257 + 10);
        assert_eq!(id3v2_len(b"fLaC"), 0);
    }
}
