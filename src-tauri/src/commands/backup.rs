use tally_core::api::{BackupView, RecoveryNotice};

use super::{CommandResult, EngineState, ipc};

#[tauri::command]
pub async fn backup_list(engine: EngineState<'_>) -> CommandResult<Vec<BackupView>> {
    engine.backups_list().map_err(ipc)
}

#[tauri::command]
pub async fn backup_create(engine: EngineState<'_>) -> CommandResult<BackupView> {
    engine.backup_now().map_err(ipc)
}

/// Replaces everything with a backup (the UI reloads afterwards).
#[tauri::command]
pub async fn backup_restore(engine: EngineState<'_>, name: String) -> CommandResult<BackupView> {
    engine.backup_restore(&name).map_err(ipc)
}

/// What the user is told after a damaged database was replaced at start.
#[tauri::command]
pub async fn recovery_get(engine: EngineState<'_>) -> CommandResult<Option<RecoveryNotice>> {
    engine.recovery_notice().map_err(ipc)
}

#[tauri::command]
pub async fn recovery_dismiss(engine: EngineState<'_>) -> CommandResult<()> {
    engine.recovery_dismiss().map_err(ipc)
}
