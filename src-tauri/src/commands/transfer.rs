//! Export and import of conversations. A file to import arrives in pieces (the web view
//! reads it from the file the user picked), then is imported with progress on a channel.

use tally_core::api::{ExportRequest, ExportResult, ImportProgress, ImportSummary};
use tauri::ipc::Channel;

use super::{CommandResult, EngineState, blocking, ipc, save_folder};

/// Writes one conversation, or all, into the user's Downloads folder (or home folder).
#[tauri::command]
pub async fn conversation_export<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    engine: EngineState<'_>,
    request: ExportRequest,
) -> CommandResult<ExportResult> {
    let folder = save_folder(&app)?;
    blocking(&engine, move |engine| {
        engine.export_conversations(&request, &folder)
    })
    .await
}

/// Starts receiving a file to import; returns its upload id.
#[tauri::command]
pub async fn import_begin(engine: EngineState<'_>) -> CommandResult<u64> {
    Ok(engine.import_begin())
}

/// The next piece of the file.
#[tauri::command]
pub async fn import_append(
    engine: EngineState<'_>,
    upload: u64,
    piece: String,
) -> CommandResult<()> {
    let engine = engine.inner().clone();
    engine.import_append(upload, piece).await.map_err(ipc)
}

/// The next piece of ChatGPT's export as its `.zip`, in base64.
#[tauri::command]
pub async fn import_append_archive(
    engine: EngineState<'_>,
    upload: u64,
    piece: String,
) -> CommandResult<()> {
    let engine = engine.inner().clone();
    engine
        .import_append_archive(upload, piece)
        .await
        .map_err(ipc)
}

/// Imports the file received, with its progress on `on_progress`.
#[tauri::command]
pub async fn import_run(
    engine: EngineState<'_>,
    upload: u64,
    on_progress: Channel<ImportProgress>,
) -> CommandResult<ImportSummary> {
    let engine = engine.inner().clone();
    engine
        .import_run(upload, move |progress| {
            let _ = on_progress.send(progress);
        })
        .await
        .map_err(ipc)
}
