//! ChatGPT's data export as the `.zip` it downloads: its `conversations.json`, read in
//! pieces, and the pictures its messages point to (`image_asset_pointer`), each found among
//! the zip's entries by its file id. Every entry is from elsewhere: its size is bounded
//! before and while it is read, a picture is made safe like one just attached, and a zip
//! that is not ChatGPT's export is refused in words. Nothing is ever unpacked to disk.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;

use tally_attach::{MAX_PICTURE_BYTES, Picture};
use zip::ZipArchive;

use crate::CoreError;

/// The name of the conversations' file inside the export.
const CONVERSATIONS: &str = "conversations.json";
/// How much of `conversations.json` is read at a time.
const PIECE_BYTES: usize = 1 << 20;

/// An export's zip, opened twice: one reader streams `conversations.json` while the other
/// reads the pictures its conversations point to.
pub(crate) struct ExportZip {
    conversations: ZipArchive<File>,
    conversations_at: usize,
    pictures: ExportPictures,
}

/// The export's pictures, by the file ids its messages point to them by.
pub(crate) struct ExportPictures {
    archive: ZipArchive<File>,
    /// Each picture entry (its index and file name) by its file id (`file-AbC123`,
    /// `file_00000000…`).
    by_file_id: HashMap<String, (usize, String)>,
}

impl ExportZip {
    /// Opens the zip in `file` (and again through `again`, the same file), or says why it
    /// is not ChatGPT's export.
    pub(crate) fn open(file: File, again: File) -> Result<Self, CoreError> {
        let not_a_zip = || {
            CoreError::InvalidInput(
                "This file is not a .zip Tally can read. Download ChatGPT's export again \
                 (Settings → Data controls → Export data) and choose the .zip it sends."
                    .into(),
            )
        };
        let conversations = ZipArchive::new(file).map_err(|_| not_a_zip())?;
        let pictures = ZipArchive::new(again).map_err(|_| not_a_zip())?;
        let mut found: Option<(usize, usize)> = None;
        let mut by_file_id = HashMap::new();
        for index in 0..conversations.len() {
            // A name that is not text names nothing Tally looks for.
            let Some(Ok(name)) = conversations.name_for_index(index) else {
                continue;
            };
            let base = name.rsplit(['/', '\\']).next().unwrap_or(&name);
            if base == CONVERSATIONS {
                // The one nearest the top, should a zip hold more.
                let depth = name.matches('/').count();
                if found.is_none_or(|(_, d)| depth < d) {
                    found = Some((index, depth));
                }
            } else if let Some(id) = file_id_of_entry(base) {
                by_file_id
                    .entry(id.to_string())
                    .or_insert_with(|| (index, base.to_string()));
            }
        }
        let Some((conversations_at, _)) = found else {
            return Err(CoreError::InvalidInput(
                "This .zip holds no conversations.json, so it is not ChatGPT's export. Choose \
                 the .zip ChatGPT sent you (Settings → Data controls → Export data)."
                    .into(),
            ));
        };
        Ok(Self {
            conversations,
            conversations_at,
            pictures: ExportPictures {
                archive: pictures,
                by_file_id,
            },
        })
    }

    /// Reads `conversations.json` as text, handing `each` one piece at a time with the
    /// share read so far (0 to 1).
    pub(crate) fn read_conversations(
        &mut self,
        mut each: impl FnMut(&str, &mut ExportPictures, f64) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        let damaged = |e: &dyn std::fmt::Display| {
            CoreError::InvalidInput(format!(
                "Tally could not read conversations.json inside the .zip ({e}). The download \
                 may be incomplete: download ChatGPT's export again."
            ))
        };
        // The pictures have their own handle on the file, so `each` may read them meanwhile.
        let Self {
            conversations,
            conversations_at,
            pictures,
        } = self;
        let mut entry = conversations
            .by_index(*conversations_at)
            .map_err(|e| damaged(&e))?;
        let size = entry.size().max(1) as f64;
        let mut read_so_far = 0u64;
        let mut buffer = vec![0u8; PIECE_BYTES];
        // Bytes of a character cut by the end of the last piece.
        let mut carried = 0usize;
        loop {
            let n = entry
                .read(&mut buffer[carried..])
                .map_err(|e| damaged(&e))?;
            let filled = carried + n;
            read_so_far += n as u64;
            let (text, rest) = match std::str::from_utf8(&buffer[..filled]) {
                Ok(text) => (text, 0),
                Err(e) if e.error_len().is_none() && n > 0 => {
                    let valid = e.valid_up_to();
                    // Checked just above: the prefix is UTF-8.
                    let text = std::str::from_utf8(&buffer[..valid]).unwrap_or_default();
                    (text, filled - valid)
                }
                Err(_) => {
                    return Err(CoreError::InvalidInput(
                        "conversations.json inside the .zip is not text Tally can read. \
                         Download ChatGPT's export again."
                            .into(),
                    ));
                }
            };
            if !text.is_empty() {
                each(text, pictures, read_so_far as f64 / size)?;
            }
            if n == 0 {
                return Ok(());
            }
            buffer.copy_within(filled - rest..filled, 0);
            carried = rest;
        }
    }
}

impl ExportPictures {
    /// The picture `pointer` (an `asset_pointer`, `file-service://file-…` or
    /// `sediment://file_…`) names: its entry's file name and the picture made safe; `None`
    /// when the export does not hold it or it cannot be read as a picture.
    pub(crate) fn picture(&mut self, pointer: &str) -> Option<(String, Picture)> {
        let id = pointer.rsplit("://").next()?;
        let (index, name) = self.by_file_id.get(id)?;
        let name = shown_name(name, id);
        let mut entry = self.archive.by_index(*index).ok()?;
        // The size the zip states is a claim: the reading is bounded as well.
        if entry.size() > MAX_PICTURE_BYTES {
            return None;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        (&mut entry)
            .take(MAX_PICTURE_BYTES + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        if bytes.len() as u64 > MAX_PICTURE_BYTES {
            return None;
        }
        let picture = tally_attach::imported_picture(&bytes).ok()?;
        Some((name, picture))
    }
}

/// The file id an entry of the export is named by: `file-AbC123-chart.png` and
/// `file-AbC123.png` are `file-AbC123`; `file_00000000abc-1b2c….png` is `file_00000000abc`.
fn file_id_of_entry(base: &str) -> Option<&str> {
    let rest = base
        .strip_prefix("file-")
        .or_else(|| base.strip_prefix("file_"))?;
    let end = rest.find(['-', '.']).unwrap_or(rest.len());
    (end > 0).then(|| &base[..5 + end])
}

/// The name a picture is shown by: the entry's name without its file id when it kept the
/// one it was uploaded with (`file-AbC123-chart.png` is `chart.png`), checked as any
/// attachment's name is.
fn shown_name(entry: &str, id: &str) -> String {
    let own = entry
        .strip_prefix(id)
        .and_then(|rest| rest.strip_prefix('-'))
        .filter(|rest| rest.contains('.') && !rest.starts_with('.'));
    crate::attachments::checked_name(own.unwrap_or(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_the_file_id_their_pointer_names() {
        let cases = [
            ("file-AbC123-chart.png", Some("file-AbC123")),
            ("file-AbC123.jpeg", Some("file-AbC123")),
            ("file-AbC123", Some("file-AbC123")),
            (
                "file_00000000a1b2c3d4-9f8e7d6c-5b4a.png",
                Some("file_00000000a1b2c3d4"),
            ),
            ("file-", None),
            ("chat.html", None),
            ("conversations.json", None),
        ];
        for (entry, id) in cases {
            assert_eq!(file_id_of_entry(entry), id, "{entry}");
        }
    }

    #[test]
    fn a_picture_is_shown_by_the_name_it_was_uploaded_with() {
        let cases = [
            ("file-AbC123-chart.png", "file-AbC123", "chart.png"),
            ("file-AbC123.png", "file-AbC123", "file-AbC123.png"),
            (
                "file_00000000ab-1b2c3d4e.png",
                "file_00000000ab",
                "1b2c3d4e.png",
            ),
            ("file-X-\u{7}bell.png", "file-X", "bell.png"),
        ];
        for (entry, id, shown) in cases {
            assert_eq!(shown_name(entry, id), shown, "{entry}");
        }
    }
}
