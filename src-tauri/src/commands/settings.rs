use tally_core::api::{PersonaInput, PersonaView, SettingsUpdate, SettingsView};

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

#[tauri::command]
pub async fn persona_list(engine: EngineState<'_>) -> CommandResult<Vec<PersonaView>> {
    engine.persona_list().map_err(ipc)
}

/// Adds or changes a persona; returns them all.
#[tauri::command]
pub async fn persona_save(
    engine: EngineState<'_>,
    persona: PersonaInput,
) -> CommandResult<Vec<PersonaView>> {
    engine.persona_save(persona).map_err(ipc)
}

#[tauri::command]
pub async fn persona_delete(engine: EngineState<'_>, id: i64) -> CommandResult<Vec<PersonaView>> {
    engine.persona_delete(id).map_err(ipc)
}
