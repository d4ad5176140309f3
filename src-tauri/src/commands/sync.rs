//! Sync in Settings: where, the passphrase, "Sync now" and the status line.

use tally_core::api::{SyncSetupInput, SyncView};

use super::{CommandResult, EngineState, blocking, ipc};

#[tauri::command]
pub async fn sync_get(engine: EngineState<'_>) -> CommandResult<SyncView> {
    blocking(&engine, |engine| engine.sync_view()).await
}

/// Turns sync on (the passphrase and the storage's password go to the keychain) and syncs.
#[tauri::command]
pub async fn sync_enable(
    engine: EngineState<'_>,
    setup: SyncSetupInput,
) -> CommandResult<SyncView> {
    engine.sync_enable(setup).await.map_err(ipc)
}

#[tauri::command]
pub async fn sync_disable(engine: EngineState<'_>) -> CommandResult<SyncView> {
    engine.sync_disable().await.map_err(ipc)
}

#[tauri::command]
pub async fn sync_now(engine: EngineState<'_>) -> CommandResult<SyncView> {
    engine.sync_now().await.map_err(ipc)
}
