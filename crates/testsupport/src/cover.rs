//! Cover pictures to embed in fixtures: real, decodable PNG and JPEG images of one colour.

use image::{ImageFormat, Rgb, RgbImage};

use std::io::Cursor;

/// An encoded picture and its MIME type, embedded as the front cover by
/// [`write_audio`](crate::write_audio) and [`write_tags`](crate::write_tags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cover {
    /// The MIME type of `bytes`: `"image/png"` or `"image/jpeg"` from this crate's constructors.
    pub mime: &'static str,
    /// The encoded image file.
    pub bytes: Vec<u8>,
}

/// Returns a `width` × `height` PNG filled with `rgb`.
///
/// # Panics
///
/// If the image cannot be encoded, which for PNG means a zero or absurd dimension.
pub fn cover_png(width: u32, height: u32, rgb: [u8; 3]) -> Cover {
    Cover {
        mime: "image/png",
        bytes: encode(width, height, rgb, ImageFormat::Png),
    }
}

/// Returns a `width` × `height` baseline JPEG filled with `rgb` (colours shift slightly, as JPEG
/// is lossy).
///
/// # Panics
///
/// If the image cannot be encoded, which for JPEG means a zero dimension or one above 65,535.
pub fn cover_jpeg(width: u32, height: u32, rgb: [u8; 3]) -> Cover {
    Cover {
        mime: "image/jpeg",
        bytes: encode(width, height, rgb, ImageFormat::Jpeg),
    }
}

fn encode(width: u32, height: u32, rgb: [u8; 3], format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_pixel(width, height, Rgb(rgb));
    let mut bytes = Cursor::new(Vec::new());
    if let Err(e) = image.write_to(&mut bytes, format) {
        panic!("cannot encode a {width}x{height} {format:?} cover: {e}");
    }
    bytes.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_decode_to_the_requested_size_and_colour() {
        let check = |cover: Cover, format: ImageFormat| {
            let decoded = image::load_from_memory_with_format(&cover.bytes, format);
            let Ok(decoded) = decoded else {
                panic!("{} does not decode: {decoded:?}", cover.mime);
            };
            let decoded = decoded.to_rgb8();
            assert_eq!(decoded.dimensions(), (16, 8));
            let [r, g, b] = decoded.get_pixel(3, 3).0;
            assert!(r.abs_diff(200) <= 4 && g.abs_diff(10) <= 4 && b.abs_diff(30) <= 4);
        };
        check(cover_png(16, 8, [200, 10, 30]), ImageFormat::Png);
        check(cover_jpeg(16, 8, [200, 10, 30]), ImageFormat::Jpeg);
    }
}
