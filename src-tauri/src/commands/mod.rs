//! Command adapters, one module per area. Each parses, calls `tally-core`, maps the error.
//! All are `async`, so the keychain and the database are never used on the UI thread, and
//! the engine's synchronous calls (SQLite, the keychain over D-Bus) run on blocking threads
//! through [`blocking`], never on the async runtime's few workers, which stream replies.

pub mod about;
pub mod attachment;
pub mod backup;
pub mod chat;
pub mod conversation;
pub mod key;
pub mod link;
pub mod mcp;
pub mod settings;
pub mod spend;
pub mod sync;
pub mod transfer;

use std::sync::Arc;

use tally_core::Engine;
use tally_core::api::IpcError;

pub type EngineState<'a> = tauri::State<'a, Arc<Engine>>;
pub type CommandResult<T> = Result<T, IpcError>;

pub fn ipc(error: tally_core::CoreError) -> IpcError {
    error.to_ipc()
}

/// Runs a synchronous engine call on a blocking thread (see the module's doc).
pub async fn blocking<T: Send + 'static>(
    engine: &EngineState<'_>,
    call: impl FnOnce(&Engine) -> Result<T, tally_core::CoreError> + Send + 'static,
) -> CommandResult<T> {
    let engine = Arc::clone(engine.inner());
    tauri::async_runtime::spawn_blocking(move || call(&engine))
        .await
        .map_err(|e| ipc(tally_core::CoreError::Internal(e.to_string())))?
        .map_err(ipc)
}

/// Where exports are saved: the user's Downloads folder, or their home folder.
pub fn save_folder<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
) -> CommandResult<std::path::PathBuf> {
    use tauri::Manager;
    let paths = app.path();
    paths
        .download_dir()
        .or_else(|_| paths.home_dir())
        .map_err(|e| {
            tally_core::CoreError::File(format!(
                "Tally found no Downloads or home folder to save in ({e})."
            ))
        })
        .map_err(ipc)
}
