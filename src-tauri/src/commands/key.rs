use tally_core::ExposeSecret;
use tally_core::api::{KeyStatusView, KeyTestResult};

use super::{CommandResult, EngineState, blocking, ipc};

#[tauri::command]
pub async fn key_status(engine: EngineState<'_>) -> CommandResult<KeyStatusView> {
    blocking(&engine, |engine| Ok(engine.key_status())).await
}

/// Stores a pasted key in the OS keychain. The key never comes back out.
#[tauri::command]
pub async fn key_set(engine: EngineState<'_>, key: String) -> CommandResult<KeyStatusView> {
    // Wiped from memory once stored.
    let key = tally_core::SecretString::from(key);
    blocking(&engine, move |engine| engine.key_set(key.expose_secret())).await
}

#[tauri::command]
pub async fn key_delete(engine: EngineState<'_>) -> CommandResult<KeyStatusView> {
    blocking(&engine, move |engine| engine.key_delete()).await
}

#[tauri::command]
pub async fn key_test(engine: EngineState<'_>) -> CommandResult<KeyTestResult> {
    engine.key_test().await.map_err(ipc)
}
