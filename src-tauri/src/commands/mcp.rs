//! MCP servers in Settings.

use tally_core::api::{McpImportView, McpServerInput, McpServerView};

use super::{CommandResult, EngineState, blocking, ipc};

#[tauri::command]
pub async fn mcp_server_list(engine: EngineState<'_>) -> CommandResult<Vec<McpServerView>> {
    blocking(&engine, |engine| engine.mcp_server_list()).await
}

/// Adds or changes a server (its token goes to the keychain); starts it when enabled.
#[tauri::command]
pub async fn mcp_server_save(
    engine: EngineState<'_>,
    server: McpServerInput,
) -> CommandResult<McpServerView> {
    engine.mcp_server_save(server).await.map_err(ipc)
}

#[tauri::command]
pub async fn mcp_server_remove(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<Vec<McpServerView>> {
    engine.mcp_server_remove(id).await.map_err(ipc)
}

#[tauri::command]
pub async fn mcp_server_set_enabled(
    engine: EngineState<'_>,
    id: i64,
    enabled: bool,
) -> CommandResult<McpServerView> {
    engine
        .mcp_server_set_enabled(id, enabled)
        .await
        .map_err(ipc)
}

#[tauri::command]
pub async fn mcp_server_restart(engine: EngineState<'_>, id: i64) -> CommandResult<McpServerView> {
    engine.mcp_server_restart(id).await.map_err(ipc)
}

/// Adds the servers of a pasted `mcpServers` list.
#[tauri::command]
pub async fn mcp_import_json(
    engine: EngineState<'_>,
    text: String,
) -> CommandResult<McpImportView> {
    engine.mcp_import_json(&text).await.map_err(ipc)
}
