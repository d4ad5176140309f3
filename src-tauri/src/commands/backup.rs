use tally_core::api::{BackupView, RecoveryNotice};

use super::{CommandResult, EngineState, blocking};

#[tauri::command]
pub async fn backup_list(engine: EngineState<'_>) -> CommandResult<Vec<BackupView>> {
    blocking(&engine, move |engine| engine.backups_list()).await
}

#[tauri::command]
pub async fn backup_create(engine: EngineState<'_>) -> CommandResult<BackupView> {
    blocking(&engine, move |engine| engine.backup_now()).await
}

/// Replaces everything with a backup (the UI reloads afterwards).
#[tauri::command]
pub async fn backup_restore(engine: EngineState<'_>, name: String) -> CommandResult<BackupView> {
    blocking(&engine, move |engine| engine.backup_restore(&name)).await
}

/// What the user is told after a damaged database was replaced at start.
#[tauri::command]
pub async fn recovery_get(engine: EngineState<'_>) -> CommandResult<Option<RecoveryNotice>> {
    blocking(&engine, move |engine| engine.recovery_notice()).await
}

#[tauri::command]
pub async fn recovery_dismiss(engine: EngineState<'_>) -> CommandResult<()> {
    blocking(&engine, move |engine| engine.recovery_dismiss()).await
}
