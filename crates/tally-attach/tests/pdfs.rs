//! PDFs read in a child process: their text page by page, and every way reading one can
//! fail (damaged, protected, a reader that crashes or hangs) said in words, Tally unharmed.

use std::time::{Duration, Instant};

use tally_attach::test_support::{pdf, scan};
use tally_attach::{AttachError, MAX_PAGE_PICTURES, PdfReader, pdf_pages_as_pictures, read_pdf};

fn reader() -> PdfReader {
    PdfReader::new(env!("CARGO_BIN_EXE_tally-attach-read-pdf"), Vec::new())
}

fn lines(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

#[test]
fn a_pdfs_text_is_read_page_by_page() {
    let file = pdf(&[
        lines(&["Statement for November", "Opening balance 1,200.00"]),
        lines(&["Rent 900.00"]),
        lines(&["Closing balance 300.00"]),
    ]);
    let read = read_pdf(&file, &reader()).unwrap();
    assert_eq!(read.pages, 3);
    for expected in [
        "Statement for November",
        "Opening balance 1,200.00",
        "Rent 900.00",
        "Closing balance 300.00",
    ] {
        assert!(
            read.text.contains(expected),
            "{expected:?} not in {:?}",
            read.text
        );
    }
    assert!(
        read.text.find("Rent").unwrap() < read.text.find("Closing").unwrap(),
        "pages out of order"
    );
}

#[test]
fn a_scan_has_pages_and_no_text() {
    let read = read_pdf(&pdf(&[Vec::new(), Vec::new()]), &reader()).unwrap();
    assert_eq!((read.pages, read.text.trim()), (2, ""));
}

/// A page scanned: its left half dark blue, its right half white, as a JPEG.
fn scanned_page(width: u32, height: u32) -> (Vec<u8>, u32, u32) {
    let page = image::RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgb([20, 30, 120])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    page.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    (jpeg.into_inner(), width, height)
}

/// A scan's pages are drawn as pictures of A4 at 200 dpi (1654×2339, fit in 2048), what is
/// on them where it was; only the first 20 of a longer one.
#[test]
fn a_scans_pages_are_drawn_as_pictures() {
    let page = scanned_page(300, 424);
    let file = scan(&[page.clone(), page.clone()]);
    let (pictures, pages) = pdf_pages_as_pictures(&file, &reader()).unwrap();
    assert_eq!((pages, pictures.len()), (2, 2));
    for picture in &pictures {
        assert_eq!(
            (picture.width, picture.height),
            (1447, 2048),
            "A4 at 200 dpi is 1654×2339, fit in 2048×2048"
        );
        let drawn = image::load_from_memory(&picture.bytes).unwrap().to_rgb8();
        let left = drawn.get_pixel(picture.width / 4, picture.height / 2);
        let right = drawn.get_pixel(picture.width * 3 / 4, picture.height / 2);
        assert!(
            left[2] > 90 && left[0] < 60,
            "the left half is blue: {left:?}"
        );
        assert!(
            right.0.iter().all(|&c| c > 230),
            "the right half is white: {right:?}"
        );
    }

    let long = scan(&vec![scanned_page(30, 42); MAX_PAGE_PICTURES + 3]);
    let (pictures, pages) = pdf_pages_as_pictures(&long, &reader()).unwrap();
    assert_eq!(
        (pages as usize, pictures.len()),
        (MAX_PAGE_PICTURES + 3, MAX_PAGE_PICTURES)
    );
}

/// Drawing fails as reading does: a damaged PDF, a reader that stops, are refused in words.
#[test]
fn a_scan_that_cannot_be_drawn_is_refused_in_words() {
    assert!(matches!(
        pdf_pages_as_pictures(b"%PDF-1.7 not really", &reader()),
        Err(AttachError::PdfUnreadable)
    ));
    let gone = PdfReader::new("/bin/false", Vec::new());
    let file = scan(&[scanned_page(30, 42)]);
    assert!(matches!(
        pdf_pages_as_pictures(&file, &gone),
        Err(AttachError::PdfUnreadable)
    ));
}

#[test]
fn pdfs_that_cannot_be_read_are_refused_in_words() {
    let good = pdf(&[lines(&["Hello"])]);
    let sleeper = PdfReader {
        time_limit: Duration::from_millis(300),
        ..PdfReader::new("sleep", vec!["30".into()])
    };
    let cases: Vec<(&str, Vec<u8>, PdfReader, AttachError)> = vec![
        (
            "not a PDF at all",
            b"%PDF-1.7\nnonsense".to_vec(),
            reader(),
            AttachError::PdfUnreadable,
        ),
        (
            "cut in half",
            good[..good.len() / 2].to_vec(),
            reader(),
            AttachError::PdfUnreadable,
        ),
        (
            "a reader that crashes",
            good.clone(),
            PdfReader::new("false", Vec::new()),
            AttachError::PdfUnreadable,
        ),
        (
            "a reader that is missing",
            good.clone(),
            PdfReader::new("/nonexistent/reader", Vec::new()),
            AttachError::PdfUnreadable,
        ),
        (
            "a reader that hangs",
            good.clone(),
            sleeper,
            AttachError::PdfTooSlow,
        ),
    ];
    for (what, file, reader, expected) in cases {
        let started = Instant::now();
        assert_eq!(read_pdf(&file, &reader), Err(expected), "{what}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} took {:?}",
            started.elapsed()
        );
    }
    assert!(matches!(
        read_pdf(&vec![b'%'; 50_000_001], &reader()),
        Err(AttachError::PdfTooLarge { .. })
    ));
}

/// Damaged copies of a real PDF (bytes flipped, cut, repeated) are read or refused, each
/// within its time limit: whatever the parser does with them, it does it in its own process.
#[test]
fn damaged_pdfs_never_harm_tally() {
    let original = pdf(&[lines(&["Invoice 42", "Total 99.00"]), lines(&["Thank you"])]);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut read, mut refused) = (0, 0);
    for _ in 0..60 {
        let mut file = original.clone();
        match next() % 3 {
            0 => {
                for _ in 0..1 + next() % 16 {
                    let at = (next() % file.len() as u64) as usize;
                    file[at] = next() as u8;
                }
            }
            1 => file.truncate(5 + (next() % (file.len() as u64 - 5)) as usize),
            _ => {
                let at = (next() % file.len() as u64) as usize;
                let piece = file[at..].to_vec();
                file.extend_from_slice(&piece);
            }
        }
        match read_pdf(&file, &reader()) {
            Ok(_) => read += 1,
            Err(
                AttachError::PdfUnreadable | AttachError::PdfTooSlow | AttachError::PdfEncrypted,
            ) => refused += 1,
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert!(read > 0 && refused > 0, "read {read}, refused {refused}");
}
