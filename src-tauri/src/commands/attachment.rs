use tally_core::api::{AddedAttachment, AttachmentContent, AttachmentInput};

use super::{CommandResult, EngineState, blocking};

/// Keeps a file the person chose, pasted or dropped for the draft (a picture is decoded,
/// turned upright, stripped and scaled: on a blocking thread), and says what it adds to a
/// request to `model`.
#[tauri::command]
pub async fn attachment_add(
    engine: EngineState<'_>,
    input: AttachmentInput,
    model: String,
) -> CommandResult<AddedAttachment> {
    blocking(&engine, move |engine| engine.attachment_add(input, &model)).await
}

/// Keeps the pages of a scanned PDF (one `attachment_add` said has no text) as pictures
/// for the draft (drawn in a process apart: on a blocking thread).
#[tauri::command]
pub async fn attachment_add_pdf_pages(
    engine: EngineState<'_>,
    input: AttachmentInput,
    model: String,
) -> CommandResult<Vec<AddedAttachment>> {
    blocking(&engine, move |engine| {
        engine.attachment_add_pdf_pages(input, &model)
    })
    .await
}

/// A kept attachment's content, to show it (a picture larger, a file's text).
#[tauri::command]
pub async fn attachment_content(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<AttachmentContent> {
    blocking(&engine, move |engine| engine.attachment_content(id)).await
}
