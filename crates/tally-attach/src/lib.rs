//! What a person attaches to a message, made safe to send and to keep.
//!
//! This crate owns turning a chosen, pasted or dropped file into what Tally sends and
//! stores: a picture (PNG, JPEG, WebP, a GIF's first frame) is checked against its limits
//! before a pixel is decoded (a small file may announce enormous dimensions), decoded by
//! decoders written in Rust, turned upright by its EXIF orientation, **stripped of all
//! metadata** (a phone photo carries where it was taken: only pixels leave the computer),
//! scaled to fit what the largest model reads, and re-encoded compactly; a text file is
//! read as UTF-8 text, within a bound; a PDF's text is read in a child process (a parser
//! meeting a hostile file must not take Tally down). Errors are
//! sentences a person can act on. It must not touch the network, the database, prices or
//! the clock: what a picture costs is `tally-spend`'s, where it is kept `tally-core`'s.
//!
//! The whole project's map is `ARCHITECTURE.md` at the repository's root.

mod pdf;
mod picture;
#[cfg(feature = "test-support")]
pub mod test_support;
mod text;

pub use pdf::{
    MAX_PAGE_PICTURES, MAX_PDF_BYTES, PdfReader, PdfText, is_pdf, pdf_pages_as_pictures, read_pdf,
    read_pdf_child,
};
pub use picture::{
    MAX_PICTURE_BYTES, MAX_PICTURE_PIXELS, Picture, PictureFormat, imported_picture,
    prepare_picture, scaled_for_sending,
};
pub use text::{MAX_TEXT_BYTES, prepare_text};

/// Why an attachment was refused, in words for the person who chose it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AttachError {
    #[error(
        "This picture is {size}; pictures up to {limit} can be attached. A screenshot or a \
         photo saved at a smaller size will do."
    )]
    TooLarge { size: String, limit: String },
    #[error(
        "This picture says it is {width}×{height} pixels, far more than any model reads, so \
         Tally did not open it. Save it at a smaller size and attach that."
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error(
        "This picture would take more memory to open than Tally allows, far more than any \
         model reads. Save it at a smaller size and attach that."
    )]
    TooBigToOpen,
    #[error(
        "Tally cannot read {kind} pictures yet. Save it as JPEG or PNG (most picture viewers \
         can) and attach that."
    )]
    Unsupported { kind: String },
    #[error("This file is not a picture Tally can read (PNG, JPEG, WebP or GIF).")]
    NotAPicture,
    #[error("This picture is damaged or incomplete, so it could not be read.")]
    Damaged,
    #[error("The picture could not be prepared ({0}).")]
    Internal(String),
    #[error(
        "This file is {size}; text files up to {limit} can be attached, more than any model \
         reads at once. Attach the part you need."
    )]
    TextTooLarge { size: String, limit: String },
    #[error(
        "Tally can attach pictures (PNG, JPEG, WebP, GIF), PDFs and text files (notes, code, \
         CSV, JSON); this file is none of those."
    )]
    NotText,
    #[error(
        "{kind} files cannot be attached yet. Save it as a PDF (or a spreadsheet as CSV) and \
         attach that."
    )]
    Office { kind: String },
    #[error("This file is empty: there is nothing in it to send.")]
    EmptyText,
    #[error("This PDF is {size}; PDFs up to {limit} can be attached.")]
    PdfTooLarge { size: String, limit: String },
    #[error(
        "This PDF is protected by a password, so Tally cannot read it. Open it, save a copy \
         without the password, and attach that."
    )]
    PdfEncrypted,
    #[error("This PDF is damaged or in a form Tally cannot read, so its text could not be read.")]
    PdfUnreadable,
    #[error("Reading this PDF took too long, so Tally stopped. Attach the pages you need.")]
    PdfTooSlow,
    #[error(
        "This PDF has no text in it ({pages} pages of pictures: a scan, probably). Its pages \
         can be sent as pictures instead."
    )]
    PdfWithoutText { pages: u32 },
}

/// The office suite a document belongs to, by its name, when it is one Tally cannot read
/// yet ("Word", "Excel", "PowerPoint", "LibreOffice").
pub fn office_document(name: &str) -> Option<&'static str> {
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "doc" | "docx" | "docm" | "rtf" => "Word",
        "xls" | "xlsx" | "xlsm" => "Excel",
        "ppt" | "pptx" => "PowerPoint",
        "odt" | "ods" | "odp" => "LibreOffice",
        "pages" | "numbers" | "key" => "Apple iWork",
        _ => return None,
    })
}

/// `bytes` in the units people read: "850 KB", "12.4 MB".
pub fn size_in_words(bytes: u64) -> String {
    const KB: u64 = 1_000;
    const MB: u64 = 1_000_000;
    match bytes {
        b if b < KB => format!("{b} bytes"),
        b if b < MB => format!("{} KB", b.div_ceil(KB)),
        b => {
            let tenths = b.div_ceil(MB / 10);
            if tenths % 10 == 0 {
                format!("{} MB", tenths / 10)
            } else {
                format!("{}.{} MB", tenths / 10, tenths % 10)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn office_documents_are_named_by_their_suite() {
        for (name, suite) in [
            ("Letter.DOCX", Some("Word")),
            ("budget.xlsx", Some("Excel")),
            ("talk.pptx", Some("PowerPoint")),
            ("notes.odt", Some("LibreOffice")),
            ("notes.txt", None),
            ("README", None),
        ] {
            assert_eq!(super::office_document(name), suite, "{name}");
        }
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        for (bytes, words) in [
            (0, "0 bytes"),
            (999, "999 bytes"),
            (1_000, "1 KB"),
            (850_200, "851 KB"),
            (1_000_000, "1 MB"),
            (12_400_000, "12.4 MB"),
            (30_000_000, "30 MB"),
        ] {
            assert_eq!(super::size_in_words(bytes), words, "{bytes}");
        }
    }
}
