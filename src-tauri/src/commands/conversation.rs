use tally_core::api::{
    ConversationListQuery, ConversationPage, ConversationSettings, ConversationSummary,
    ConversationView, SearchView,
};

use super::{CommandResult, EngineState, blocking};

/// One page of the sidebar (pinned conversations come with the first).
#[tauri::command]
pub async fn conversation_list(
    engine: EngineState<'_>,
    query: Option<ConversationListQuery>,
) -> CommandResult<ConversationPage> {
    blocking(&engine, move |engine| {
        engine.conversation_list(&query.unwrap_or_default())
    })
    .await
}

/// A conversation and its branch on screen: the last `tail` messages, or all of them.
#[tauri::command]
pub async fn conversation_get(
    engine: EngineState<'_>,
    id: i64,
    tail: Option<u32>,
) -> CommandResult<ConversationView> {
    blocking(&engine, move |engine| engine.conversation_open(id, tail)).await
}

/// Conversations and messages matching what the user typed in the search box.
#[tauri::command]
pub async fn conversation_search(
    engine: EngineState<'_>,
    query: String,
) -> CommandResult<SearchView> {
    blocking(&engine, move |engine| engine.search(&query)).await
}

/// Shows another version of a message (`‹ 2/3 ›`) and the branch below it.
#[tauri::command]
pub async fn conversation_switch(
    engine: EngineState<'_>,
    conversation_id: i64,
    message_id: i64,
) -> CommandResult<ConversationView> {
    blocking(&engine, move |engine| {
        engine.conversation_switch(conversation_id, message_id)
    })
    .await
}

/// Deletes a message and what grew from it; returns the conversation as it is now.
#[tauri::command]
pub async fn message_delete(
    engine: EngineState<'_>,
    message_id: i64,
) -> CommandResult<ConversationView> {
    blocking(&engine, move |engine| engine.message_delete(message_id)).await
}

/// Changes what a conversation is sent with (checked first).
#[tauri::command]
pub async fn conversation_settings_set(
    engine: EngineState<'_>,
    id: i64,
    settings: ConversationSettings,
) -> CommandResult<ConversationView> {
    blocking(&engine, move |engine| {
        engine.conversation_settings_set(id, settings)
    })
    .await
}

/// Checks what a new chat would start with (nothing is saved).
#[tauri::command]
pub async fn conversation_settings_check(
    engine: EngineState<'_>,
    settings: ConversationSettings,
) -> CommandResult<ConversationSettings> {
    blocking(&engine, move |engine| {
        engine.conversation_settings_check(settings)
    })
    .await
}

#[tauri::command]
pub async fn conversation_rename(
    engine: EngineState<'_>,
    id: i64,
    title: String,
) -> CommandResult<ConversationSummary> {
    blocking(&engine, move |engine| {
        engine.conversation_rename(id, &title)
    })
    .await
}

/// Titles that lost to a later rename on another computer, newest first.
#[tauri::command]
pub async fn conversation_title_history(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<Vec<String>> {
    blocking(&engine, move |engine| engine.conversation_title_history(id)).await
}

#[tauri::command]
pub async fn conversation_pin(
    engine: EngineState<'_>,
    id: i64,
    pinned: bool,
) -> CommandResult<ConversationSummary> {
    blocking(&engine, move |engine| engine.conversation_pin(id, pinned)).await
}

/// Moves a conversation to the Trash (Undo is `conversation_restore`).
#[tauri::command]
pub async fn conversation_trash(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<ConversationSummary> {
    blocking(&engine, move |engine| engine.conversation_trash(id)).await
}

#[tauri::command]
pub async fn conversation_restore(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<ConversationSummary> {
    blocking(&engine, move |engine| engine.conversation_restore(id)).await
}

#[tauri::command]
pub async fn trash_list(engine: EngineState<'_>) -> CommandResult<Vec<ConversationSummary>> {
    blocking(&engine, move |engine| engine.trash_list()).await
}

/// Removes one conversation in the Trash for good; returns what is left there.
#[tauri::command]
pub async fn trash_delete(
    engine: EngineState<'_>,
    id: i64,
) -> CommandResult<Vec<ConversationSummary>> {
    blocking(&engine, move |engine| engine.trash_delete(id)).await
}

#[tauri::command]
pub async fn trash_empty(engine: EngineState<'_>) -> CommandResult<u64> {
    blocking(&engine, move |engine| engine.trash_empty()).await
}
