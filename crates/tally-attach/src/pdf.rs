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
/// The child's argument for drawing pages rather than reading text.
const PAGES_AS_PICTURES_ARG: &str = "--pages-as-pictures";
/// The most pages of a scan sent as pictures (as many as one message may carry).
pub const MAX_PAGE_PICTURES: usize = 20;
/// How finely a scan's page is drawn (a page of A4 is then 1654×2339, fit in 2048).
const PAGE_DPI: f32 = 200.0;

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
    let out = run_reader(file, reader, None, crate::text::MAX_TEXT_BYTES * 2)?;
    parse(&out).ok_or(AttachError::PdfUnreadable)
}

/// The pages of `file` (a scan's, whose text is none) drawn as pictures by `reader` in a
/// process of its own, at most [`MAX_PAGE_PICTURES`], each made safe and fit as a picture
/// just attached is; and how many pages the PDF has.
pub fn pdf_pages_as_pictures(
    file: &[u8],
    reader: &PdfReader,
) -> Result<(Vec<crate::Picture>, u32), AttachError> {
    let out = run_reader(
        file,
        reader,
        Some(PAGES_AS_PICTURES_ARG),
        MAX_PAGE_PICTURES as u64 * crate::MAX_PICTURE_BYTES,
    )?;
    let (pages, drawn) = parse_pictures(&out).ok_or(AttachError::PdfUnreadable)?;
    let pictures = drawn
        .into_iter()
        .map(crate::prepare_picture)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| AttachError::PdfUnreadable)?;
    Ok((pictures, pages))
}

/// Runs `reader` on `file` (with `mode`, the argument for pages as pictures), and returns
/// what it wrote, at most `bound` bytes; refuses as the reader's exit code says.
fn run_reader(
    file: &[u8],
    reader: &PdfReader,
    mode: Option<&str>,
    bound: u64,
) -> Result<Vec<u8>, AttachError> {
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
        .args(mode)
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
            Some(0) if out.len() as u64 <= bound => Ok(out),
            Some(0) => Err(unreadable("its reader wrote too much")),
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

/// The drawing child's output: the number of pages on the first line, then each page
/// drawn, as its length in bytes (4, little-endian) and a JPEG.
fn parse_pictures(out: &[u8]) -> Option<(u32, Vec<&[u8]>)> {
    let line_end = out.iter().position(|&b| b == b'\n')?;
    let pages = std::str::from_utf8(&out[..line_end])
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let mut rest = &out[line_end + 1..];
    let mut drawn = Vec::new();
    while !rest.is_empty() {
        let (length, after) = rest.split_first_chunk::<4>()?;
        let length = u32::from_le_bytes(*length) as usize;
        if after.len() < length || drawn.len() >= MAX_PAGE_PICTURES {
            return None;
        }
        let (picture, after) = after.split_at(length);
        drawn.push(picture);
        rest = after;
    }
    Some((pages, drawn))
}

/// The reading child's whole work: the PDF on standard input, its page count and text on
/// standard output (see [`parse`]), or with [`PAGES_AS_PICTURES_ARG`] among its arguments
/// its first pages drawn (see [`parse_pictures`]); exit code 3 for an encrypted PDF, 4 for
/// one that does not parse. A panic in a parser ends this process only.
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
    if std::env::args().any(|arg| arg == PAGES_AS_PICTURES_ARG) {
        return draw_pages(file);
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

/// Draws the first [`MAX_PAGE_PICTURES`] pages of `file` white-backed, each at
/// [`PAGE_DPI`] or less so its longer side fits [`crate::picture::KEPT_SIDE`], and writes them as
/// JPEGs (see [`parse_pictures`]).
fn draw_pages(file: Vec<u8>) -> ExitCode {
    use hayro::hayro_interpret::InterpreterSettings;
    use hayro::hayro_syntax::{LoadPdfError, Pdf};
    use hayro::vello_cpu::color::palette::css::WHITE;
    use hayro::{PixmapSettings, RenderCache, RenderSettings};

    let pdf = match Pdf::new(file) {
        Ok(pdf) => pdf,
        Err(LoadPdfError::Decryption(_)) => return ExitCode::from(ENCRYPTED),
        Err(_) => return ExitCode::from(DAMAGED),
    };
    let pages = pdf.pages();
    let cache = RenderCache::new();
    let interpreter = InterpreterSettings::default();
    let render = RenderSettings::default();
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", pages.len()).is_err() {
        return ExitCode::from(DAMAGED);
    }
    for page in pages.iter().take(MAX_PAGE_PICTURES) {
        let (width, height) = page.render_dimensions();
        let longer = width.max(height).max(1.0);
        let scale = (PAGE_DPI / 72.0).min(crate::picture::KEPT_SIDE as f32 / longer);
        let drawn = hayro::render(
            page,
            &cache,
            &interpreter,
            &render,
            &PixmapSettings {
                x_scale: scale,
                y_scale: scale,
                bg_color: WHITE,
            },
        );
        let (w, h) = (u32::from(drawn.width()), u32::from(drawn.height()));
        // White-backed, so every pixel is opaque: premultiplied is plain RGBA.
        let Some(rgba) = image::RgbaImage::from_raw(w, h, drawn.data_as_u8_slice().to_vec()) else {
            return ExitCode::from(DAMAGED);
        };
        let rgb = image::DynamicImage::ImageRgba8(rgba).into_rgb8();
        let mut jpeg = Vec::new();
        let encoded =
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85).encode_image(&rgb);
        if encoded.is_err()
            || out
                .write_all(&(jpeg.len() as u32).to_le_bytes())
                .and_then(|()| out.write_all(&jpeg))
                .is_err()
        {
            return ExitCode::from(DAMAGED);
        }
    }
    ExitCode::SUCCESS
}
