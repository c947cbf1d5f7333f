//! A hand-built Monkey's Audio (APE) file, because Debian packages no APE encoder.
//!
//! The container is laid out as the Monkey's Audio SDK (`MACLib.h`, format 3.98 and later)
//! describes it: an `APE_DESCRIPTOR`, an `APE_HEADER`, a seek table and the frame data. Every
//! header field is real and consistent, so lofty and other property readers report the right
//! duration, rate, channels and bit depth (ffprobe agrees). The frame payload is deterministic
//! noise, since producing real compressed frames would mean reimplementing the encoder: a decoder
//! produces garbage of the right length (frame CRCs do not match), which is fine for tag,
//! property and scanner tests and documented on [`write_audio`](crate::write_audio).

use crate::noise;
use crate::tone::Tone;

/// The file format version written: Monkey's Audio 3.99, the last 3.x format.
const VERSION: u16 = 3990;

/// "Normal" compression (`COMPRESSION_LEVEL_NORMAL` in `MACLib.h`).
const COMPRESSION_LEVEL_NORMAL: u16 = 2000;

/// `MAC_FORMAT_FLAG_CREATE_WAV_HEADER`: no WAV header is stored, a decoder synthesises one. This
/// keeps the header-data section empty.
const FORMAT_FLAG_CREATE_WAV_HEADER: u16 = 1 << 5;

/// Blocks (samples per channel) per frame at normal compression since format 3.95.
const BLOCKS_PER_FRAME: u32 = 73_728;

/// Size of `APE_DESCRIPTOR`, including the "MAC " magic.
const DESCRIPTOR_BYTES: u32 = 52;

/// Size of `APE_HEADER` for formats 3.98 and later.
const HEADER_BYTES: u32 = 24;

/// Returns a complete untagged APE file for `tone`. `tone` must be valid (non-empty).
pub(crate) fn build(tone: &Tone) -> Vec<u8> {
    let total_blocks = tone.total_frames().max(1);
    let blocks_per_frame = u64::from(BLOCKS_PER_FRAME);
    let total_frames = total_blocks.div_ceil(blocks_per_frame);
    let final_frame_blocks = total_blocks - (total_frames - 1) * blocks_per_frame;

    // Frame sizes approximate what lossless compression of a tone achieves (about half of the
    // PCM size), rounded up to whole 32-bit words as real APE frames are. This keeps the
    // bitrate lofty reports plausible.
    let bytes_per_block = u64::from(tone.channels) * u64::from(tone.bits / 8);
    let frame_len = |blocks: u64| (blocks * bytes_per_block / 2).div_ceil(4).max(1) * 4;
    let frame_lens: Vec<u64> = (0..total_frames)
        .map(|i| {
            let blocks = if i + 1 == total_frames {
                final_frame_blocks
            } else {
                blocks_per_frame
            };
            frame_len(blocks)
        })
        .collect();
    let frame_data_bytes: u64 = frame_lens.iter().sum();

    let seek_table_bytes = total_frames * 4;
    let first_frame = u64::from(DESCRIPTOR_BYTES + HEADER_BYTES) + seek_table_bytes;

    let mut out = Vec::with_capacity(usize_from(first_frame + frame_data_bytes));

    // APE_DESCRIPTOR
    out.extend_from_slice(b"MAC ");
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // padding
    out.extend_from_slice(&DESCRIPTOR_BYTES.to_le_bytes());
    out.extend_from_slice(&HEADER_BYTES.to_le_bytes());
    out.extend_from_slice(&u32_from(seek_table_bytes).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // header data (WAV header) bytes
    out.extend_from_slice(&u32_from(frame_data_bytes & 0xFFFF_FFFF).to_le_bytes());
    out.extend_from_slice(&u32_from(frame_data_bytes >> 32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // terminating data bytes
    // The MD5 of the audio is left zeroed, which decoders treat as "not computed".
    out.extend_from_slice(&[0; 16]);

    // APE_HEADER
    out.extend_from_slice(&COMPRESSION_LEVEL_NORMAL.to_le_bytes());
    out.extend_from_slice(&FORMAT_FLAG_CREATE_WAV_HEADER.to_le_bytes());
    out.extend_from_slice(&BLOCKS_PER_FRAME.to_le_bytes());
    out.extend_from_slice(&u32_from(final_frame_blocks).to_le_bytes());
    out.extend_from_slice(&u32_from(total_frames).to_le_bytes());
    out.extend_from_slice(&tone.bits.to_le_bytes());
    out.extend_from_slice(&tone.channels.to_le_bytes());
    out.extend_from_slice(&tone.sample_rate.to_le_bytes());

    // Seek table: the absolute file offset of every frame.
    let mut offset = first_frame;
    for len in &frame_lens {
        out.extend_from_slice(&u32_from(offset).to_le_bytes());
        offset += len;
    }

    out.extend_from_slice(&noise::bytes(
        tone.key().seed(),
        usize_from(frame_data_bytes),
    ));
    out
}

/// Narrows a header value to the `u32` the format stores. [`Tone::MAX_SECONDS`] keeps every value
/// far below the limit, so overflowing is a bug in this module.
fn u32_from(value: u64) -> u32 {
    match u32::try_from(value) {
        Ok(v) => v,
        Err(_) => panic!("APE header value {value} does not fit in 32 bits"),
    }
}

fn usize_from(value: u64) -> usize {
    match usize::try_from(value) {
        Ok(v) => v,
        Err(_) => panic!("APE file size {value} does not fit in memory"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le_u32(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
    }

    #[test]
    fn one_second_fits_one_frame() {
        let file = build(&Tone::default());
        assert_eq!(&file[..4], b"MAC ");
        assert_eq!(le_u32(&file, 8), DESCRIPTOR_BYTES);
        let header = DESCRIPTOR_BYTES as usize;
        assert_eq!(le_u32(&file, header + 4), BLOCKS_PER_FRAME);
        assert_eq!(le_u32(&file, header + 8), 44_100, "final frame blocks");
        assert_eq!(le_u32(&file, header + 12), 1, "total frames");
        // The only seek table entry points just past itself.
        assert_eq!(le_u32(&file, header + 24), 52 + 24 + 4);
    }

    #[test]
    fn seek_table_points_at_consecutive_frames_ending_at_eof() {
        let tone = Tone {
            seconds: 5.0,
            ..Tone::default()
        };
        let file = build(&tone);
        let header = DESCRIPTOR_BYTES as usize;
        let frames = le_u32(&file, header + 12) as usize;
        assert_eq!(
            frames,
            (5 * 44_100usize).div_ceil(BLOCKS_PER_FRAME as usize)
        );
        let frame_data = le_u32(&file, 24) as usize;
        let first = le_u32(&file, header + 24) as usize;
        assert_eq!(first, 52 + 24 + 4 * frames);
        assert_eq!(first + frame_data, file.len());
        let total_blocks =
            (frames - 1) * BLOCKS_PER_FRAME as usize + le_u32(&file, header + 8) as usize;
        assert_eq!(total_blocks, 5 * 44_100);
    }
}
