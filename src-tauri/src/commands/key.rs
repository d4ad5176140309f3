use tally_core::api::{KeyStatusView, KeyTestResult};

use super::{CommandResult, EngineState, ipc};

#[tauri::command]
pub async fn key_status(engine: EngineState<'_>) -> CommandResult<KeyStatusView> {
    Ok(engine.key_status())
}

/// Stores a pasted key in the OS keychain. The key never comes back out.
#[tauri::command]
pub async fn key_set(engine: EngineState<'_>, key: String) -> CommandResult<KeyStatusView> {
    engine.key_set(&key).map_err(ipc)
}

#[tauri::command]
pub async fn key_delete(engine: EngineState<'_>) -> CommandResult<KeyStatusView> {
    engine.key_delete().map_err(ipc)
}

#[tauri::command]
pub async fn key_test(engine: EngineState<'_>) -> CommandResult<KeyTestResult> {
    engine.key_test().await.map_err(ipc)
}
