//! A phone photo from choosing it to its chip: read, turned upright, stripped, scaled,
//! re-encoded, and its tokens counted for a model.
//!
//! `cargo bench -p tally-attach --bench pictures`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use tally_attach::prepare_picture;
use tally_spend::ModelCatalog;

/// A 12-megapixel photo (4032×3024) with the detail a photo has (gradients and grain: a
/// flat picture would decode and compress unrealistically fast), as a camera's JPEG.
fn photo() -> Vec<u8> {
    let (width, height) = if std::env::var_os("TALLY_BENCH_SMOKE").is_some() {
        (403, 302)
    } else {
        (4032, 3024)
    };
    let mut grain = 0x2545_F491u32;
    let picture = RgbImage::from_fn(width, height, |x, y| {
        grain ^= grain << 13;
        grain ^= grain >> 17;
        grain ^= grain << 5;
        let noise = (grain % 24) as u8;
        Rgb([
            ((x * 255 / width) as u8).saturating_add(noise),
            ((y * 255 / height) as u8).saturating_add(noise),
            (((x + y) * 127 / (width + height)) as u8).saturating_add(noise),
        ])
    });
    let mut file = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut file, ImageFormat::Jpeg)
        .unwrap();
    file.into_inner()
}

fn chip(c: &mut Criterion) {
    let file = photo();
    let catalog = ModelCatalog::builtin();
    let rule = catalog.traits("gpt-5.4-mini").pictures.unwrap();
    let mut group = c.benchmark_group("attach a picture");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("a 12-megapixel JPEG to its chip with a token count", |b| {
        b.iter(|| {
            let picture = prepare_picture(&file).unwrap();
            rule.tokens(picture.width, picture.height)
        })
    });
    group.finish();
}

criterion_group!(benches, chip);
criterion_main!(benches);
