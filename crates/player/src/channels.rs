//! Channel mapping to the stereo output: mono on both speakers, multichannel downmixed.

use symphonia::core::audio::{Channels, Position};

/// The output channel count: every sink in this slice is stereo.
pub const OUTPUT_CHANNELS: u16 = 2;

/// The -3 dB coefficient (1/√2) that ITU-R BS.775-3 (Table 2, 3/2 -> 2/0 downmix) gives the
/// centre and surround channels: Lo = L + 0.7071·C + 0.7071·Ls, Ro = R + 0.7071·C + 0.7071·Rs.
const MINUS_3_DB: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// How one decoded layout maps onto the stereo output.
///
/// - stereo passes through untouched (bit-exact);
/// - mono is copied to both channels at unity gain, so it plays on both speakers at its own level;
/// - more channels are downmixed with the ITU-R BS.775-3 coefficients: front left/right at 1.0,
///   centre at 0.7071 to both sides, left-side channels (surround, side, rear, wide, height) at
///   0.7071 to the left and right-side ones likewise to the right, other centre channels at 0.7071
///   to both, and LFE dropped (BS.775 leaves it out of the downmix). Like BS.775 the matrix is not
///   normalised, so a loud 5.1 mix can exceed full scale; a 16-bit sink clips it.
#[derive(Clone, Debug, PartialEq)]
pub enum ChannelMap {
    /// Two channels in, two out.
    Stereo,
    /// One channel in, copied to both outputs.
    Mono,
    /// `gains[i] = [to_left, to_right]` for input channel `i`.
    Downmix {
        /// Per input channel, its gain into the left and right outputs.
        gains: Vec<[f32; 2]>,
    },
}

impl ChannelMap {
    /// The map for a decoded layout, or `None` for a layout with no channels.
    pub fn for_channels(channels: &Channels) -> Option<Self> {
        match channels.count() {
            0 => None,
            1 => Some(ChannelMap::Mono),
            2 => Some(ChannelMap::Stereo),
            count => {
                let positions = match channels {
                    Channels::Positioned(positions) => Some(*positions),
                    // Unlabelled channels are taken in WAVE order (FL FR FC LFE RL RR ...),
                    // the order nearly every multichannel file without a mask uses.
                    _ => u32::try_from(count)
                        .ok()
                        .and_then(Position::from_wave_channel_count),
                };
                let gains = match positions {
                    // Planes are in canonical order: ascending position bit.
                    Some(positions) => (0..64u32)
                        .filter(|bit| positions.bits() & (1u64 << bit) != 0)
                        .map(gain_for_position_bit)
                        .collect(),
                    // More channels than WAVE can name: keep the first two, drop the rest.
                    None => (0..count)
                        .map(|i| match i {
                            0 => [1.0, 0.0],
                            1 => [0.0, 1.0],
                            _ => [0.0, 0.0],
                        })
                        .collect(),
                };
                Some(ChannelMap::Downmix { gains })
            }
        }
    }

    /// The number of input channels this map expects.
    pub fn input_channels(&self) -> usize {
        match self {
            ChannelMap::Stereo => 2,
            ChannelMap::Mono => 1,
            ChannelMap::Downmix { gains } => gains.len(),
        }
    }

    /// Maps interleaved `input` frames and appends the stereo result to `output`.
    pub fn apply(&self, input: &[f32], output: &mut Vec<f32>) {
        match self {
            ChannelMap::Stereo => output.extend_from_slice(input),
            ChannelMap::Mono => output.extend(input.iter().flat_map(|&s| [s, s])),
            ChannelMap::Downmix { gains } => {
                for frame in input.chunks_exact(gains.len()) {
                    let (mut left, mut right) = (0.0f32, 0.0f32);
                    for (sample, [to_left, to_right]) in frame.iter().zip(gains) {
                        left += sample * to_left;
                        right += sample * to_right;
                    }
                    output.extend([left, right]);
                }
            }
        }
    }
}

/// Appends interleaved stereo `input` to `output` as frames of `channels` channels.
///
/// Stereo is copied untouched; a mono output gets the mean of left and right (-6 dB each, so a
/// centred signal keeps its level); a wider output gets left and right on its first two
/// channels (front left and right in every layout WAVE, ALSA and CoreAudio use) and silence on
/// the others, which is how a stereo file plays on a surround device.
pub(crate) fn spread_stereo(input: &[f32], channels: u16, output: &mut Vec<f32>) {
    match channels {
        2 => output.extend_from_slice(input),
        0 => {}
        1 => output.extend(input.chunks_exact(2).map(|f| 0.5 * (f[0] + f[1]))),
        wide => {
            let silent = usize::from(wide) - 2;
            for frame in input.chunks_exact(2) {
                output.extend_from_slice(frame);
                output.extend(std::iter::repeat_n(0.0, silent));
            }
        }
    }
}

/// The `[to_left, to_right]` gains of the channel at position bit `bit` (symphonia's
/// `Position` bit numbering).
fn gain_for_position_bit(bit: u32) -> [f32; 2] {
    let position = Position::from_bits_truncate(1u64 << bit);
    let left_side = Position::REAR_LEFT
        | Position::FRONT_LEFT_CENTER
        | Position::SIDE_LEFT
        | Position::TOP_FRONT_LEFT
        | Position::TOP_REAR_LEFT
        | Position::TOP_SIDE_LEFT
        | Position::BOTTOM_FRONT_LEFT
        | Position::FRONT_LEFT_WIDE;
    let right_side = Position::REAR_RIGHT
        | Position::FRONT_RIGHT_CENTER
        | Position::SIDE_RIGHT
        | Position::TOP_FRONT_RIGHT
        | Position::TOP_REAR_RIGHT
        | Position::TOP_SIDE_RIGHT
        | Position::BOTTOM_FRONT_RIGHT
        | Position::FRONT_RIGHT_WIDE;
    if position == Position::FRONT_LEFT {
        [1.0, 0.0]
    } else if position == Position::FRONT_RIGHT {
        [0.0, 1.0]
    } else if position.intersects(Position::LFE1 | Position::LFE2) {
        [0.0, 0.0]
    } else if left_side.contains(position) {
        [MINUS_3_DB, 0.0]
    } else if right_side.contains(position) {
        [0.0, MINUS_3_DB]
    } else {
        [MINUS_3_DB, MINUS_3_DB]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_one_downmixes_with_bs775_coefficients() {
        // WAVE order: FL FR FC LFE RL RR.
        let map = ChannelMap::for_channels(&Channels::Discrete(6)).unwrap();
        let mut out = Vec::new();
        map.apply(&[0.1, 0.2, 0.4, 1.0, 0.3, 0.5], &mut out);
        let k = MINUS_3_DB;
        assert!((out[0] - (0.1 + k * 0.4 + k * 0.3)).abs() < 1e-6);
        assert!((out[1] - (0.2 + k * 0.4 + k * 0.5)).abs() < 1e-6);
    }

    #[test]
    fn stereo_spreads_to_mono_and_surround_outputs() {
        let mut mono = Vec::new();
        spread_stereo(&[0.2, 0.4], 1, &mut mono);
        assert_eq!(mono.len(), 1);
        assert!((mono[0] - 0.3).abs() < 1e-6);
        let mut six = Vec::new();
        spread_stereo(&[0.2, 0.4, 0.5, 0.6], 6, &mut six);
        assert_eq!(
            six,
            [0.2, 0.4, 0.0, 0.0, 0.0, 0.0, 0.5, 0.6, 0.0, 0.0, 0.0, 0.0]
        );
    }

    #[test]
    fn mono_plays_on_both_speakers_at_unity() {
        let map = ChannelMap::for_channels(&Channels::Discrete(1)).unwrap();
        let mut out = Vec::new();
        map.apply(&[0.25, -0.5], &mut out);
        assert_eq!(out, [0.25, 0.25, -0.5, -0.5]);
    }
}
