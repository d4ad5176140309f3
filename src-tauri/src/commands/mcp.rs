//! MCP servers in Settings, and the user's word on their tools' calls.

use tally_core::api::{
    McpImportView, McpServerInput, McpServerView, ToolDecision, ToolPermissionView,
};

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

/// The user's word on a tool call a reply waits on.
#[tauri::command]
pub async fn tool_call_decide(
    engine: EngineState<'_>,
    conversation_id: i64,
    call_id: String,
    decision: ToolDecision,
) -> CommandResult<()> {
    blocking(&engine, move |engine| {
        engine.tool_call_decide(conversation_id, &call_id, decision)
    })
    .await
}

/// The tool calls allowed for good, for Settings.
#[tauri::command]
pub async fn tool_permission_list(
    engine: EngineState<'_>,
) -> CommandResult<Vec<ToolPermissionView>> {
    blocking(&engine, |engine| engine.tool_permission_list()).await
}

#[tauri::command]
pub async fn tool_permission_revoke(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<Vec<ToolPermissionView>> {
    blocking(&engine, move |engine| engine.tool_permission_revoke(id)).await
}
