use tally_core::api::{AboutView, ErrorCode, IpcError, UpdateProgress, UpdateView};
use tauri::ipc::Channel;
use tauri_plugin_opener::OpenerExt;

use crate::updates::Updates;

use super::{CommandResult, EngineState};

/// The version (the one the packages carry), the prices' date and the data folder.
#[tauri::command]
pub fn app_about<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    engine: EngineState<'_>,
) -> AboutView {
    engine.about(&app.package_info().version.to_string())
}

/// Shows the data folder in the file manager. It takes no path: the web view can open
/// nothing else through it.
#[tauri::command]
pub fn data_folder_open<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    engine: EngineState<'_>,
) -> CommandResult<()> {
    let folder = engine.data_dir().display().to_string();
    app.opener()
        .open_path(&folder, None::<&str>)
        .map_err(|_| IpcError {
            code: ErrorCode::OpenFailed,
            message: format!("No file manager opened the folder. It is {folder}"),
        })
}

/// Asks Tally's update server whether a newer version is out.
#[tauri::command]
pub async fn update_check<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    updates: tauri::State<'_, Updates>,
) -> CommandResult<UpdateView> {
    crate::updates::check(&app, &updates).await
}

/// Installs the update the last check found, its download's progress on `on_progress`,
/// then restarts Tally.
#[tauri::command]
pub async fn update_install<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    updates: tauri::State<'_, Updates>,
    on_progress: Channel<UpdateProgress>,
) -> CommandResult<()> {
    crate::updates::install(&app, &updates, |progress| {
        let _ = on_progress.send(progress);
    })
    .await
}
