//! A PDF's text, read apart from Tally: PDF parsers meet the most hostile files there are,
//! and the one used here (`pdf-extract`) can panic or run long on a damaged one. So it runs
//! in a child process ([`read_pdf_child`], behind a program the caller names), fed the file
//! on its standard input, given a time limit and a bound on what it may write back; a
//! crash, a hang or garbage from it is "this PDF could not be read", never Tally's crash.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::{AttachError, size_in_words};

/// The largest PDF Tally reads.
pub const MAX_PDF_BYTES: u64 = 50_000_000;
/// How long reading one PDF may take, unless the reader says otherwise.
pub const READ_FOR: Duration = Duration::from_secs(30);
/// The most pages read (a page's text is a few KB: far more than any window holds).
const MAX_PAGES: usize = 2_000;
/// Exit codes of the child, beside 0 (read) and a crash (anything else).
const ENCRYPTED: u8 = 3;
const DAMAGED: u8 = 4;
/// Between pages in the child's output.
const PAGE_BREAK: char = '\u{c}';

/// The program that reads PDFs: Tally's own executable with an argument (the shell), or a
/// helper built for the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfReader {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// How long one PDF may take ([`READ_FOR`] in the app).
    pub time_limit: Duration,
}

impl PdfReader {
    /// `program` run with `args`, given [`READ_FOR`] per PDF.
    pub fn new(program: impl Into<PathBuf>, args: Vec<String>) -> Self {
        Self {
            program: program.into(),
            args,
            time_limit: READ_FOR,
        }
    }
}

/// A PDF's text, page by page joined, and how many pages it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfText {
    pub text: String,
    pub pages: u32,
}

/// Whether `file` is a PDF (by its first bytes).
pub fn is_pdf(file: &[u8]) -> bool {
    file.starts_with(b"%PDF-")
}

/// `file`'s text, read by `reader` in a process of its own (see the module's doc).
pub fn read_pdf(file: &[u8], reader: &PdfReader) -> Result<PdfText, AttachError> {
    if file.len() as u64 > MAX_PDF_BYTES {
        return Err(AttachError::PdfTooLarge {
            size: size_in_words(file.len() as u64),
            limit: size_in_words(MAX_PDF_BYTES),
        });
    }
    // Why the reader failed is not the person's concern: the PDF could not be read.
    let unreadable = |_why: &str| AttachError::PdfUnreadable;
    let mut child = Command::new(&reader.program)
        .args(&reader.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // Nothing of Tally's environment (a key, a token) goes to it.
        .env_clear()
        .spawn()
        .map_err(|e| unreadable(&format!("the reader did not start: {e}")))?;
    let mut stdin = child.stdin.take().ok_or_else(|| unreadable("no stdin"))?;
    let mut stdout = child.stdout.take().ok_or_else(|| unreadable("no stdout"))?;
    std::thread::scope(|scope| {
        // Written and read on their own threads: a reader that stops reading its input, or
        // writes much before reading it all, cannot block Tally.
        scope.spawn(move || {
            let _ = stdin.write_all(file);
        });
        let output = scope.spawn(move || {
            let bound = crate::text::MAX_TEXT_BYTES * 2;
            let mut out = Vec::new();
            let _ = (&mut stdout).take(bound + 1).read_to_end(&mut out);
            out
        });
        let deadline = Instant::now() + reader.time_limit;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let out = output.join().unwrap_or_default();
        let Some(status) = status else {
            return Err(AttachError::PdfTooSlow);
        };
        match status.code().and_then(|c| u8::try_from(c).ok()) {
            Some(0) => parse(&out).ok_or_else(|| unreadable("its reader wrote no text")),
            Some(ENCRYPTED) => Err(AttachError::PdfEncrypted),
            Some(DAMAGED) => Err(AttachError::PdfUnreadable),
            _ => Err(unreadable("its reader stopped")),
        }
    })
}

/// The child's output: the number of pages on the first line, then their text.
fn parse(out: &[u8]) -> Option<PdfText> {
    if out.len() as u64 > crate::text::MAX_TEXT_BYTES * 2 {
        return None;
    }
    let out = std::str::from_utf8(out).ok()?;
    let (pages, text) = out.split_once('\n')?;
    let pages = pages.trim().parse().ok()?;
    // Pages apart by a blank line; spaces at line ends and runs of blank lines (layout,
    // not text) are dropped.
    let mut clean = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.replace(PAGE_BREAK, "\n\n").lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !clean.is_empty() {
            clean.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        clean.push_str(line);
    }
    Some(PdfText { text: clean, pages })
}

/// The reading child's whole work: the PDF on standard input, its page count and text on
/// standard output (see [`parse`]); exit code 3 for an encrypted PDF, 4 for one that does
/// not parse. A panic in the parser ends this process only.
pub fn read_pdf_child() -> ExitCode {
    let mut file = Vec::new();
    if std::io::stdin()
        .take(MAX_PDF_BYTES + 1)
        .read_to_end(&mut file)
        .is_err()
        || file.len() as u64 > MAX_PDF_BYTES
    {
        return ExitCode::from(DAMAGED);
    }
    let mut document = match pdf_extract::Document::load_mem(&file) {
        Ok(document) => document,
        Err(_) => return ExitCode::from(DAMAGED),
    };
    if document.is_encrypted() && document.decrypt("").is_err() {
        return ExitCode::from(ENCRYPTED);
    }
    let pages = document.get_pages().len().min(MAX_PAGES);
    let mut text = String::new();
    for page in 1..=pages as u32 {
        let mut page_text = String::new();
        let mut output = pdf_extract::PlainTextOutput::new(&mut page_text);
        if pdf_extract::output_doc_page(&document, &mut output, page).is_err() {
            continue;
        }
        if page > 1 {
            text.push(PAGE_BREAK);
        }
        text.push_str(&page_text);
    }
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{pages}")
        .and_then(|()| out.write_all(text.as_bytes()))
        .is_err()
    {
        return ExitCode::from(DAMAGED);
    }
    ExitCode::SUCCESS
}
