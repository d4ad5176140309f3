use tally_core::api::{ModelsView, PersonaInput, PersonaView, SettingsUpdate, SettingsView};

use crate::updates::Updates;

use super::{CommandResult, EngineState, blocking};

/// The models the pickers offer, with what the catalog knows of each.
#[tauri::command]
pub async fn models_list(engine: EngineState<'_>) -> CommandResult<ModelsView> {
    blocking(&engine, move |engine| engine.models_list()).await
}

#[tauri::command]
pub async fn settings_get(engine: EngineState<'_>) -> CommandResult<SettingsView> {
    blocking(&engine, move |engine| engine.settings_get()).await
}

/// Saves settings; once the person agrees to update checks, the first is made now.
#[tauri::command]
pub async fn settings_set(
    engine: EngineState<'_>,
    updates: tauri::State<'_, Updates>,
    update: SettingsUpdate,
) -> CommandResult<SettingsView> {
    let agreed_to_update_checks = update.update_checks == Some(true);
    let saved = blocking(&engine, move |engine| engine.settings_set(update)).await?;
    if agreed_to_update_checks {
        updates.wake_quiet_check();
    }
    Ok(saved)
}

#[tauri::command]
pub async fn persona_list(engine: EngineState<'_>) -> CommandResult<Vec<PersonaView>> {
    blocking(&engine, move |engine| engine.persona_list()).await
}

/// Adds or changes a persona; returns them all.
#[tauri::command]
pub async fn persona_save(
    engine: EngineState<'_>,
    persona: PersonaInput,
) -> CommandResult<Vec<PersonaView>> {
    blocking(&engine, move |engine| engine.persona_save(persona)).await
}

#[tauri::command]
pub async fn persona_delete(engine: EngineState<'_>, id: i64) -> CommandResult<Vec<PersonaView>> {
    blocking(&engine, move |engine| engine.persona_delete(id)).await
}
