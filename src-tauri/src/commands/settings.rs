use tally_core::api::{SettingsUpdate, SettingsView};

use super::{CommandResult, EngineState, ipc};

#[tauri::command]
pub async fn settings_get(engine: EngineState<'_>) -> CommandResult<SettingsView> {
    engine.settings_get().map_err(ipc)
}

#[tauri::command]
pub async fn settings_set(
    engine: EngineState<'_>,
    update: SettingsUpdate,
) -> CommandResult<SettingsView> {
    engine.settings_set(update).map_err(ipc)
}
