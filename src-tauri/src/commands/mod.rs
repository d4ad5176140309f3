//! Command adapters, one module per area. Each parses, calls `tally-core`, maps the error.
//! All are `async`, so the keychain and the database are never used on the UI thread.

pub mod backup;
pub mod chat;
pub mod conversation;
pub mod key;
pub mod link;
pub mod settings;
pub mod spend;
pub mod transfer;

use std::sync::Arc;

use tally_core::Engine;
use tally_core::api::IpcError;

pub type EngineState<'a> = tauri::State<'a, Arc<Engine>>;
pub type CommandResult<T> = Result<T, IpcError>;

pub fn ipc(error: tally_core::CoreError) -> IpcError {
    error.to_ipc()
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
        .map_err(|e| tally_core::CoreError::InvalidInput(format!("No folder to save in: {e}")))
        .map_err(ipc)
}
