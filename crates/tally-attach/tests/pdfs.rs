//! PDFs read in a child process: their text page by page, and every way reading one can
//! fail (damaged, protected, a reader that crashes or hangs) said in words, Tally unharmed.

use std::time::{Duration, Instant};

use tally_attach::test_support::pdf;
use tally_attach::{AttachError, PdfReader, read_pdf};

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
