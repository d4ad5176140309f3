use tally_core::api::{
    ConversationListQuery, ConversationPage, ConversationSettings, ConversationSummary,
    ConversationView, SearchView,
};

use super::{CommandResult, EngineState, ipc};

/// One page of the sidebar (pinned conversations come with the first).
#[tauri::command]
pub async fn conversation_list(
    engine: EngineState<'_>,
    query: Option<ConversationListQuery>,
) -> CommandResult<ConversationPage> {
    engine
        .conversation_list(&query.unwrap_or_default())
        .map_err(ipc)
}

/// A conversation and its branch on screen: the last `tail` messages, or all of them.
#[tauri::command]
pub async fn conversation_get(
    engine: EngineState<'_>,
    id: i64,
    tail: Option<u32>,
) -> CommandResult<ConversationView> {
    engine.conversation_open(id, tail).map_err(ipc)
}

/// Conversations and messages matching what the user typed in the search box.
#[tauri::command]
pub async fn conversation_search(
    engine: EngineState<'_>,
    query: String,
) -> CommandResult<SearchView> {
    engine.search(&query).map_err(ipc)
}

/// Shows another version of a message (`‹ 2/3 ›`) and the branch below it.
#[tauri::command]
pub async fn conversation_switch(
    engine: EngineState<'_>,
    conversation_id: i64,
    message_id: i64,
) -> CommandResult<ConversationView> {
    engine
        .conversation_switch(conversation_id, message_id)
        .map_err(ipc)
}

/// Deletes a message and what grew from it; returns the conversation as it is now.
#[tauri::command]
pub async fn message_delete(
    engine: EngineState<'_>,
    message_id: i64,
) -> CommandResult<ConversationView> {
    engine.message_delete(message_id).map_err(ipc)
}

/// Changes what a conversation is sent with (checked first).
#[tauri::command]
pub async fn conversation_settings_set(
    engine: EngineState<'_>,
    id: i64,
    settings: ConversationSettings,
) -> CommandResult<ConversationView> {
    engine.conversation_settings_set(id, settings).map_err(ipc)
}

#[tauri::command]
pub async fn conversation_rename(
    engine: EngineState<'_>,
    id: i64,
    title: String,
) -> CommandResult<ConversationSummary> {
    engine.conversation_rename(id, &title).map_err(ipc)
}

#[tauri::command]
pub async fn conversation_pin(
    engine: EngineState<'_>,
    id: i64,
    pinned: bool,
) -> CommandResult<ConversationSummary> {
    engine.conversation_pin(id, pinned).map_err(ipc)
}

/// Moves a conversation to the Trash (Undo is `conversation_restore`).
#[tauri::command]
pub async fn conversation_trash(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<ConversationSummary> {
    engine.conversation_trash(id).map_err(ipc)
}

#[tauri::command]
pub async fn conversation_restore(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<ConversationSummary> {
    engine.conversation_restore(id).map_err(ipc)
}

#[tauri::command]
pub async fn trash_list(engine: EngineState<'_>) -> CommandResult<Vec<ConversationSummary>> {
    engine.trash_list().map_err(ipc)
}

/// Removes one conversation in the Trash for good; returns what is left there.
#[tauri::command]
pub async fn trash_delete(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<Vec<ConversationSummary>> {
    engine.trash_delete(id).map_err(ipc)
}

#[tauri::command]
pub async fn trash_empty(engine: EngineState<'_>) -> CommandResult<u64> {
    engine.trash_empty().map_err(ipc)
}
