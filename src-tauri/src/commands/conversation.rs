use tally_core::api::{ConversationSummary, ConversationView, SearchView};

use super::{CommandResult, EngineState, ipc};

#[tauri::command]
pub async fn conversation_list(engine: EngineState<'_>) -> CommandResult<Vec<ConversationSummary>> {
    engine.conversation_list().map_err(ipc)
}

#[tauri::command]
pub async fn conversation_get(engine: EngineState<'_>, id: i64) -> CommandResult<ConversationView> {
    engine.conversation_get(id).map_err(ipc)
}

/// Conversations and messages matching what the user typed in the search box.
#[tauri::command]
pub async fn conversation_search(
    engine: EngineState<'_>,
    query: String,
) -> CommandResult<SearchView> {
    engine.search(&query).map_err(ipc)
}
