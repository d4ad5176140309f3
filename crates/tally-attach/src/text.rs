//! A text file (notes, code, CSV, JSON) read as text: UTF-8, its byte-order mark dropped.

use crate::{AttachError, size_in_words};

/// The largest text file Tally attaches: about a million tokens of prose, more than the
/// largest window.
pub const MAX_TEXT_BYTES: u64 = 4_000_000;

/// `file` as text, or why it is not one Tally can send.
pub fn prepare_text(file: &[u8]) -> Result<String, AttachError> {
    if file.len() as u64 > MAX_TEXT_BYTES {
        return Err(AttachError::TextTooLarge {
            size: size_in_words(file.len() as u64),
            limit: size_in_words(MAX_TEXT_BYTES),
        });
    }
    let file = file.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(file);
    // A NUL never appears in text: this is a program, an archive, a document format.
    if file.contains(&0) {
        return Err(AttachError::NotText);
    }
    let text = std::str::from_utf8(file).map_err(|_| AttachError::NotText)?;
    if text.trim().is_empty() {
        return Err(AttachError::EmptyText);
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_files_are_read_and_others_refused() {
        let cases: [(&[u8], Result<&str, AttachError>); 6] = [
            (b"name,amount\nrent,900\n", Ok("name,amount\nrent,900\n")),
            (b"\xEF\xBB\xBF{\"a\": 1}", Ok("{\"a\": 1}")),
            ("Grüße 😀".as_bytes(), Ok("Grüße 😀")),
            (b"PK\x03\x04\x00\x00", Err(AttachError::NotText)),
            (b"caf\xe9 latin-1", Err(AttachError::NotText)),
            (b"  \n\t ", Err(AttachError::EmptyText)),
        ];
        for (file, expected) in cases {
            assert_eq!(
                prepare_text(file),
                expected.map(str::to_string),
                "{:?}",
                String::from_utf8_lossy(file)
            );
        }
        assert_eq!(
            prepare_text(&vec![b'a'; 4_000_001]),
            Err(AttachError::TextTooLarge {
                size: "4.1 MB".into(),
                limit: "4 MB".into()
            })
        );
    }
}
