use tally_core::api::{ErrorCode, IpcError};
use tauri_plugin_opener::OpenerExt;

use super::{CommandResult, ipc};

/// Opens a web link from a reply in the system browser (http and https only).
#[tauri::command]
pub fn link_open<R: tauri::Runtime>(app: tauri::AppHandle<R>, url: String) -> CommandResult<()> {
    let url = tally_core::check_web_link(&url).map_err(ipc)?;
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|_| IpcError {
            code: ErrorCode::OpenFailed,
            message: "Tally could not open your web browser.".into(),
        })
}
