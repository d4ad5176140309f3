//! A picture made safe to send: bounded, upright, without metadata, scaled, re-encoded.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{
    DynamicImage, ImageDecoder, ImageEncoder, ImageError, ImageFormat, ImageReader, Limits,
};

use crate::{AttachError, size_in_words};

/// The largest picture file Tally opens (OpenAI takes up to 20 MB per picture; Tally sends
/// far less, after scaling, but a phone's largest photos are bigger than that).
pub const MAX_PICTURE_BYTES: u64 = 40_000_000;
/// The most pixels Tally decodes: a 100-megapixel photo, more than any camera a person
/// pastes from. A file announcing more is refused before a pixel is decoded.
pub const MAX_PICTURE_PIXELS: u64 = 100_000_000;
/// The longest side a decoded picture may have (a 1×100,000,000 strip is as much memory).
const MAX_SIDE: u32 = 30_000;
/// What is kept and sent fits in this square: the most any model reads at high detail
/// (every rule first fits a picture in 2048×2048).
pub(crate) const KEPT_SIDE: u32 = 2048;
/// A lossless source (a screenshot) stays lossless unless that costs more than this; a
/// photo saved as PNG becomes a JPEG.
const MAX_LOSSLESS_BYTES: usize = 3_000_000;
const JPEG_QUALITY: u8 = 85;

/// How a prepared picture is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureFormat {
    Jpeg,
    Png,
}

impl PictureFormat {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    /// The file name extension it is saved under.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }
}

/// A picture ready to keep and send: only its pixels, upright, fit in 2048×2048.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub bytes: Vec<u8>,
    pub format: PictureFormat,
    pub width: u32,
    pub height: u32,
    /// The size of the file as chosen, upright.
    pub original_width: u32,
    pub original_height: u32,
}

/// Reads the picture in `file` within bounds, turns it upright, drops its metadata, and
/// scales and re-encodes it. Any byte of `file` may be hostile: it is refused in words,
/// never trusted.
pub fn prepare_picture(file: &[u8]) -> Result<Picture, AttachError> {
    if file.len() as u64 > MAX_PICTURE_BYTES {
        return Err(AttachError::TooLarge {
            size: size_in_words(file.len() as u64),
            limit: size_in_words(MAX_PICTURE_BYTES),
        });
    }
    let format = format_of(file)?;
    let mut decoder = reader(file, format).into_decoder().map_err(read_error)?;
    // The header's claim, checked before anything is decoded (a picture bomb is a few KB).
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PICTURE_PIXELS || width.max(height) > MAX_SIDE {
        return Err(AttachError::TooManyPixels { width, height });
    }
    if width == 0 || height == 0 {
        return Err(AttachError::Damaged);
    }
    // A damaged EXIF block leaves the picture as it was stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(read_error)?;
    picture.apply_orientation(orientation);
    let (original_width, original_height) = (picture.width(), picture.height());
    let (w, h) = tally_fit(original_width, original_height);
    if (w, h) != (original_width, original_height) {
        // Area averaging: for shrinking, as sharp as a filtered resize and far quicker.
        picture = picture.thumbnail_exact(w, h);
    }
    let lossless = matches!(format, ImageFormat::Png | ImageFormat::Gif)
        || (format == ImageFormat::WebP && picture.color().has_alpha());
    let (bytes, format) = encode(&picture, lossless)?;
    Ok(Picture {
        bytes,
        format,
        width: picture.width(),
        height: picture.height(),
        original_width,
        original_height,
    })
}

/// A kept picture (`kept`, as [`prepare_picture`] made it) scaled down to `width`×`height`,
/// the size a model reads it at, to be sent no larger than that; in its own format (a
/// screenshot stays sharp). A picture already that size, or smaller, comes back as it is.
pub fn scaled_for_sending(kept: &[u8], width: u32, height: u32) -> Result<Picture, AttachError> {
    let format = format_of(kept)?;
    let decoder = reader(kept, format).into_decoder().map_err(read_error)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PICTURE_PIXELS || w.max(h) > MAX_SIDE {
        return Err(AttachError::TooManyPixels {
            width: w,
            height: h,
        });
    }
    let picture = DynamicImage::from_decoder(decoder).map_err(read_error)?;
    if width == 0 || height == 0 || (width >= w && height >= h) {
        return Ok(Picture {
            bytes: kept.to_vec(),
            format: if format == ImageFormat::Png {
                PictureFormat::Png
            } else {
                PictureFormat::Jpeg
            },
            width: w,
            height: h,
            original_width: w,
            original_height: h,
        });
    }
    let scaled = picture.thumbnail_exact(width.min(w), height.min(h));
    let (bytes, format) = encode(&scaled, format == ImageFormat::Png)?;
    Ok(Picture {
        bytes,
        format,
        width: scaled.width(),
        height: scaled.height(),
        original_width: w,
        original_height: h,
    })
}

/// A picture from a file that came from elsewhere (an imported conversation): kept byte for
/// byte when it is what Tally keeps (a PNG or JPEG fit in 2048×2048 with no metadata
/// block, that decodes), so a Tally file round-trips losslessly; otherwise made safe as a
/// picture just attached (see [`prepare_picture`]).
pub fn imported_picture(file: &[u8]) -> Result<Picture, AttachError> {
    if let Some(picture) = as_kept(file) {
        return Ok(picture);
    }
    prepare_picture(file)
}

fn as_kept(file: &[u8]) -> Option<Picture> {
    let format = match format_of(file).ok()? {
        ImageFormat::Png if png_is_bare(file) => PictureFormat::Png,
        ImageFormat::Jpeg if jpeg_is_bare(file) => PictureFormat::Jpeg,
        _ => return None,
    };
    let image_format = match format {
        PictureFormat::Png => ImageFormat::Png,
        PictureFormat::Jpeg => ImageFormat::Jpeg,
    };
    let decoder = reader(file, image_format).into_decoder().ok()?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 || width > KEPT_SIDE || height > KEPT_SIDE {
        return None;
    }
    // Decoded whole: a picture that does not decode is not kept as it is.
    DynamicImage::from_decoder(decoder).ok()?;
    Some(Picture {
        bytes: file.to_vec(),
        format,
        width,
        height,
        original_width: width,
        original_height: height,
    })
}

/// A PNG made only of the chunks that draw it (no text, EXIF, colour profile or time).
fn png_is_bare(file: &[u8]) -> bool {
    const DRAWING: [&[u8; 4]; 11] = [
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"sBIT",
        b"bKGD",
    ];
    let mut at = 8;
    while at + 8 <= file.len() {
        let length = u32::from_be_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]);
        let kind = &file[at + 4..at + 8];
        if !DRAWING.iter().any(|k| k.as_slice() == kind) {
            return false;
        }
        if kind == b"IEND" {
            return true;
        }
        at = at.saturating_add(12).saturating_add(length as usize);
    }
    false
}

/// A JPEG whose segments before its image data hold no metadata (no APP1–APP15: EXIF,
/// XMP, colour profiles, maker notes; no comment).
fn jpeg_is_bare(file: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= file.len() {
        if file[at] != 0xFF {
            return false;
        }
        let marker = file[at + 1];
        match marker {
            // The image data starts: nothing before it carried metadata.
            0xDA => return true,
            0xE1..=0xEF | 0xFE => return false,
            0xD0..=0xD7 | 0x01 => at += 2,
            _ => {
                let length = u16::from_be_bytes([file[at + 2], file[at + 3]]) as usize;
                at = at.saturating_add(2).saturating_add(length);
            }
        }
    }
    false
}

fn tally_fit(width: u32, height: u32) -> (u32, u32) {
    if width <= KEPT_SIDE && height <= KEPT_SIDE {
        return (width, height);
    }
    let scale =
        (f64::from(KEPT_SIDE) / f64::from(width)).min(f64::from(KEPT_SIDE) / f64::from(height));
    let side = |s: u32| ((f64::from(s) * scale).round() as u32).clamp(1, KEPT_SIDE);
    (side(width), side(height))
}

/// The format, from the file's first bytes (never its name).
fn format_of(file: &[u8]) -> Result<ImageFormat, AttachError> {
    // HEIF/HEIC and AVIF: an ISO box `ftyp` with a brand naming them.
    if file.len() >= 12 && &file[4..8] == b"ftyp" {
        let brand = &file[8..12];
        let kind = match brand {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => "HEIC",
            b"avif" | b"avis" => "AVIF",
            _ => return Err(AttachError::NotAPicture),
        };
        return Err(AttachError::Unsupported { kind: kind.into() });
    }
    match image::guess_format(file) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif)) => {
            Ok(f)
        }
        Ok(ImageFormat::Tiff) => Err(AttachError::Unsupported {
            kind: "TIFF".into(),
        }),
        Ok(ImageFormat::Bmp) => Err(AttachError::Unsupported { kind: "BMP".into() }),
        _ => Err(AttachError::NotAPicture),
    }
}

/// A reader whose decoder may allocate no more than the largest picture allowed needs.
/// (The dimensions are checked by [`prepare_picture`] itself, to name them when refused.)
fn reader(file: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(file), format);
    let mut limits = Limits::default();
    // The decoded picture (4 bytes a pixel at most for these formats) and the decoder's own.
    limits.max_alloc = Some(MAX_PICTURE_PIXELS * 4 + 64_000_000);
    reader.limits(limits);
    reader
}

fn read_error(e: ImageError) -> AttachError {
    match e {
        ImageError::Limits(_) => AttachError::TooBigToOpen,
        ImageError::Unsupported(_) => AttachError::NotAPicture,
        _ => AttachError::Damaged,
    }
}

/// PNG for a lossless source (a screenshot's text stays sharp) unless that is large, and
/// for any picture with transparency; JPEG otherwise. Written from the pixels alone: no
/// EXIF, XMP, ICC or text chunk is carried over.
fn encode(picture: &DynamicImage, lossless: bool) -> Result<(Vec<u8>, PictureFormat), AttachError> {
    let has_alpha = picture.color().has_alpha();
    if lossless || has_alpha {
        let png = encode_png(picture)?;
        if has_alpha || png.len() <= MAX_LOSSLESS_BYTES {
            return Ok((png, PictureFormat::Png));
        }
    }
    let rgb = picture.to_rgb8();
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .write_image(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| AttachError::Internal(e.to_string()))?;
    Ok((jpeg, PictureFormat::Jpeg))
}

fn encode_png(picture: &DynamicImage) -> Result<Vec<u8>, AttachError> {
    let picture = if picture.color().has_alpha() {
        DynamicImage::ImageRgba8(picture.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(picture.to_rgb8())
    };
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, PngFilter::Adaptive)
        .write_image(
            picture.as_bytes(),
            picture.width(),
            picture.height(),
            picture.color().into(),
        )
        .map_err(|e| AttachError::Internal(e.to_string()))?;
    Ok(png)
}
