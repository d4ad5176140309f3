//! Pictures as people attach them: phone photos turned sideways with their position in
//! EXIF, screenshots, transparent and animated pictures, and files that lie.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use tally_attach::test_support::png_claiming;
use tally_attach::{
    AttachError, PictureFormat, imported_picture, prepare_picture, scaled_for_sending,
};

/// `picture` encoded as `format`.
fn encoded(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// A picture red on its left half and blue on its right.
fn red_left_blue_right(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    }))
}

/// An EXIF block as a phone writes it: the orientation, and a GPS position.
fn exif_with_orientation_and_position(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a");
    tiff.extend_from_slice(&8u32.to_be_bytes());
    // IFD0: Orientation, and the GPS IFD's offset.
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    let gps_ifd = 8 + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&0x8825u16.to_be_bytes());
    tiff.extend_from_slice(&4u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&(gps_ifd as u32).to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD: GPSLatitudeRef "N", and a marker text standing for the position.
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&0x0001u16.to_be_bytes());
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&2u32.to_be_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    let text_at = gps_ifd + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&0x001bu16.to_be_bytes()); // GPSProcessingMethod
    tiff.extend_from_slice(&7u16.to_be_bytes());
    tiff.extend_from_slice(&(POSITION.len() as u32).to_be_bytes());
    tiff.extend_from_slice(&(text_at as u32).to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(POSITION);
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&tiff);
    exif
}

const POSITION: &[u8] = b"38.7223N9.1393W-Lisbon-home";

/// A JPEG with `exif` in an APP1 segment right after its start, as cameras write it.
fn jpeg_with_exif(picture: &DynamicImage, exif: &[u8]) -> Vec<u8> {
    let jpeg = encoded(picture, ImageFormat::Jpeg);
    let mut with = jpeg[..2].to_vec();
    with.extend_from_slice(&[0xFF, 0xE1]);
    with.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    with.extend_from_slice(exif);
    with.extend_from_slice(&jpeg[2..]);
    with
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn decoded(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).unwrap()
}

#[test]
fn a_sideways_phone_photo_is_turned_upright_and_its_position_never_leaves() {
    let photo = jpeg_with_exif(
        &red_left_blue_right(64, 32),
        &exif_with_orientation_and_position(6),
    );
    assert!(
        contains(&photo, POSITION),
        "the fixture carries the position"
    );
    let picture = prepare_picture(&photo).unwrap();
    // Orientation 6: turned 90° clockwise to be upright, so the red left is now on top.
    assert_eq!((picture.width, picture.height), (32, 64));
    assert_eq!((picture.original_width, picture.original_height), (32, 64));
    assert_eq!(picture.format, PictureFormat::Jpeg);
    let upright = decoded(&picture.bytes).to_rgb8();
    let top = upright.get_pixel(16, 4);
    let bottom = upright.get_pixel(16, 60);
    assert!(top[0] > 150 && top[2] < 100, "top is {top:?}, not red");
    assert!(
        bottom[2] > 150 && bottom[0] < 100,
        "bottom is {bottom:?}, not blue"
    );
    for metadata in [&b"Exif"[..], POSITION, b"Lisbon", &[0xFF, 0xE1]] {
        assert!(!contains(&picture.bytes, metadata), "{metadata:?} kept");
    }
}

#[test]
fn a_large_photo_is_scaled_to_what_models_read_and_stays_a_jpeg() {
    let photo = encoded(&red_left_blue_right(4032, 3024), ImageFormat::Jpeg);
    let picture = prepare_picture(&photo).unwrap();
    assert_eq!((picture.width, picture.height), (2048, 1536));
    assert_eq!(
        (picture.original_width, picture.original_height),
        (4032, 3024)
    );
    assert_eq!(picture.format, PictureFormat::Jpeg);
    assert_eq!(decoded(&picture.bytes).width(), 2048);
}

/// (what, the file, the format kept)
#[test]
fn screenshots_stay_sharp_and_transparency_is_kept() {
    let screenshot = encoded(&red_left_blue_right(300, 200), ImageFormat::Png);
    let transparent = DynamicImage::ImageRgba8(RgbaImage::from_fn(40, 40, |x, _| {
        Rgba([10, 200, 10, if x < 20 { 0 } else { 255 }])
    }));
    let cases = [
        ("a PNG screenshot", screenshot, PictureFormat::Png),
        (
            "a transparent PNG",
            encoded(&transparent, ImageFormat::Png),
            PictureFormat::Png,
        ),
        (
            "a transparent WebP",
            encoded(&transparent, ImageFormat::WebP),
            PictureFormat::Png,
        ),
        (
            "a GIF",
            encoded(&red_left_blue_right(50, 30), ImageFormat::Gif),
            PictureFormat::Png,
        ),
    ];
    for (what, file, format) in cases {
        let picture = prepare_picture(&file).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(picture.format, format, "{what}");
        let back = decoded(&picture.bytes);
        assert_eq!(
            (back.width(), back.height()),
            (picture.width, picture.height),
            "{what}"
        );
    }
    let transparent = prepare_picture(&encoded(&transparent, ImageFormat::Png)).unwrap();
    assert_eq!(decoded(&transparent.bytes).to_rgba8().get_pixel(5, 5)[3], 0);
}

#[test]
fn files_that_cannot_be_sent_are_refused_in_words() {
    let photo = encoded(&red_left_blue_right(64, 48), ImageFormat::Jpeg);
    let mut heic = vec![0, 0, 0, 24];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    let cases: Vec<(&str, Vec<u8>, AttachError)> = vec![
        (
            "a picture bomb: 50,000² pixels announced by a few bytes",
            png_claiming(50_000, 50_000),
            AttachError::TooManyPixels {
                width: 50_000,
                height: 50_000,
            },
        ),
        (
            "a strip too long to be a picture",
            png_claiming(40_000, 1),
            AttachError::TooManyPixels {
                width: 40_000,
                height: 1,
            },
        ),
        (
            "a photo cut short",
            photo[..photo.len() / 2].to_vec(),
            AttachError::Damaged,
        ),
        (
            "a PNG with no pixels",
            png_claiming(10, 10),
            AttachError::Damaged,
        ),
        (
            "a text file",
            b"Dear bank, about my statement...".to_vec(),
            AttachError::NotAPicture,
        ),
        ("an empty file", Vec::new(), AttachError::NotAPicture),
        (
            "an iPhone's HEIC",
            heic,
            AttachError::Unsupported {
                kind: "HEIC".into(),
            },
        ),
        (
            "a file over the limit",
            vec![0xFF; 40_000_001],
            AttachError::TooLarge {
                size: "40.1 MB".into(),
                limit: "40 MB".into(),
            },
        ),
    ];
    for (what, file, expected) in cases {
        assert_eq!(prepare_picture(&file), Err(expected), "{what}");
    }
    let message = AttachError::TooManyPixels {
        width: 50_000,
        height: 50_000,
    }
    .to_string();
    assert!(message.contains("50000×50000 pixels"), "{message}");
}

/// Damaged copies of real pictures (bytes flipped, cut, repeated) are refused or read,
/// never a panic: any byte of a file may be hostile.
#[test]
fn damaged_pictures_never_crash_the_reader() {
    let transparent = DynamicImage::ImageRgba8(RgbaImage::from_fn(48, 40, |x, y| {
        Rgba([x as u8 * 5, y as u8 * 6, 90, 200])
    }));
    let originals = [
        jpeg_with_exif(
            &red_left_blue_right(80, 60),
            &exif_with_orientation_and_position(8),
        ),
        encoded(&red_left_blue_right(80, 60), ImageFormat::Png),
        encoded(&transparent, ImageFormat::WebP),
        encoded(&red_left_blue_right(40, 30), ImageFormat::Gif),
    ];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut read = 0;
    for original in &originals {
        for _ in 0..150 {
            let mut file = original.clone();
            match next() % 3 {
                0 => {
                    for _ in 0..1 + next() % 8 {
                        let at = (next() % file.len() as u64) as usize;
                        file[at] = next() as u8;
                    }
                }
                1 => file.truncate((next() % file.len() as u64) as usize),
                _ => {
                    let at = (next() % file.len() as u64) as usize;
                    let piece = file[at..].to_vec();
                    file.extend_from_slice(&piece);
                }
            }
            if prepare_picture(&file).is_ok() {
                read += 1;
            }
        }
    }
    // Some damage is harmless (a flipped pixel), some is not: both happen.
    assert!(read > 0 && read < originals.len() * 150, "{read} read");
}

/// A picture Tally kept comes back from a Tally file byte for byte; one carrying metadata,
/// or larger than Tally keeps, is made safe as if just attached.
#[test]
fn imported_pictures_are_kept_as_they_are_only_when_they_are_what_tally_keeps() {
    let kept_jpeg =
        prepare_picture(&encoded(&red_left_blue_right(300, 200), ImageFormat::Jpeg)).unwrap();
    let kept_png =
        prepare_picture(&encoded(&red_left_blue_right(30, 20), ImageFormat::Png)).unwrap();
    for kept in [&kept_jpeg, &kept_png] {
        let back = imported_picture(&kept.bytes).unwrap();
        assert_eq!(back.bytes, kept.bytes, "{:?} changed", kept.format);
        assert_eq!((back.width, back.height), (kept.width, kept.height));
    }
    let with_position = jpeg_with_exif(
        &red_left_blue_right(64, 32),
        &exif_with_orientation_and_position(6),
    );
    let cleaned = imported_picture(&with_position).unwrap();
    assert!(!contains(&cleaned.bytes, POSITION), "the position was kept");
    assert_eq!(
        (cleaned.width, cleaned.height),
        (32, 64),
        "not turned upright"
    );
    let large = encoded(&red_left_blue_right(2100, 100), ImageFormat::Png);
    assert_eq!(imported_picture(&large).unwrap().width, 2048);
    assert_eq!(
        imported_picture(b"not a picture"),
        Err(AttachError::NotAPicture)
    );
}

/// A kept picture goes at the size a model reads it: scaled down in its own format (a
/// screenshot stays a PNG), what is where unchanged; one already that small as it is.
#[test]
fn kept_pictures_are_scaled_to_the_size_a_model_reads() {
    let screenshot =
        prepare_picture(&encoded(&red_left_blue_right(2048, 1536), ImageFormat::Png)).unwrap();
    assert_eq!(screenshot.format, PictureFormat::Png);
    let sent = scaled_for_sending(&screenshot.bytes, 1024, 768).unwrap();
    assert_eq!(
        (sent.format, sent.width, sent.height),
        (PictureFormat::Png, 1024, 768)
    );
    let drawn = image::load_from_memory(&sent.bytes).unwrap().to_rgb8();
    assert_eq!(drawn.get_pixel(100, 400), &Rgb([220, 20, 20]));
    assert_eq!(drawn.get_pixel(900, 400), &Rgb([20, 20, 220]));

    let photo =
        prepare_picture(&encoded(&red_left_blue_right(640, 480), ImageFormat::Jpeg)).unwrap();
    let same = scaled_for_sending(&photo.bytes, 1024, 768).unwrap();
    assert_eq!((same.width, same.height), (640, 480));
    assert_eq!(same.bytes, photo.bytes, "already small enough: as it was");
}
