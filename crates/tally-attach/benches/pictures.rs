//! Attachments from choosing them to their chip: a phone photo read, turned upright,
//! stripped, scaled, re-encoded and counted; a 100-page PDF's text read in a process apart
//! and counted; a 20-page scan's pages drawn as pictures in that process and made safe.
//!
//! `cargo bench -p tally-attach --bench pictures`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use tally_attach::test_support::{pdf, scan};
use tally_attach::{PdfReader, pdf_pages_as_pictures, prepare_picture, read_pdf};
use tally_spend::{Encoding, ModelCatalog, count_text};

/// A 12-megapixel photo (4032×3024) with the detail a photo has (gradients and grain: a
/// flat picture would decode and compress unrealistically fast), as a camera's JPEG.
fn photo() -> Vec<u8> {
    if std::env::var_os("TALLY_BENCH_SMOKE").is_some() {
        grainy_jpeg(403, 302)
    } else {
        grainy_jpeg(4032, 3024)
    }
}

/// A `width`×`height` JPEG of gradients and grain.
fn grainy_jpeg(width: u32, height: u32) -> Vec<u8> {
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

/// A 100-page statement, forty lines a page.
fn statement() -> Vec<u8> {
    let pages = if std::env::var_os("TALLY_BENCH_SMOKE").is_some() {
        3
    } else {
        100
    };
    let pages: Vec<Vec<String>> = (1..=pages)
        .map(|page| {
            (1..=40)
                .map(|line| {
                    format!("Page {page}, line {line}: card payment 12.{line:02} at a shop")
                })
                .collect()
        })
        .collect();
    pdf(&pages)
}

fn pdf_chip(c: &mut Criterion) {
    let file = statement();
    let reader = PdfReader::new(env!("CARGO_BIN_EXE_tally-attach-read-pdf"), Vec::new());
    count_text(Encoding::O200kBase, "warm up");
    let mut group = c.benchmark_group("attach a PDF");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("a 100-page text PDF to its chip with a token count", |b| {
        b.iter(|| {
            let read = read_pdf(&file, &reader).unwrap();
            assert!(read.text.contains("line 40"));
            count_text(Encoding::O200kBase, &read.text)
        })
    });
    group.finish();
}

/// A 20-page scan as a scanner writes one: each page of A4 one JPEG at 200 dpi
/// (1654×2339), with grain.
fn scanned_letter() -> Vec<u8> {
    let (pages, width, height) = if std::env::var_os("TALLY_BENCH_SMOKE").is_some() {
        (2, 165, 234)
    } else {
        (20, 1654, 2339)
    };
    let page = grainy_jpeg(width, height);
    scan(&vec![(page, width, height); pages])
}

fn scan_chips(c: &mut Criterion) {
    let file = scanned_letter();
    let reader = PdfReader::new(env!("CARGO_BIN_EXE_tally-attach-read-pdf"), Vec::new());
    let mut group = c.benchmark_group("attach a scan");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("a 20-page scan's pages drawn as pictures", |b| {
        b.iter(|| pdf_pages_as_pictures(&file, &reader).unwrap().0.len())
    });
    group.finish();
}

criterion_group!(benches, chip, pdf_chip, scan_chips);
criterion_main!(benches);
