use tally_core::ChatEvent;
use tally_core::api::SendRequest;
use tauri::ipc::Channel;

use super::{CommandResult, EngineState, ipc};

/// Sends a message; the reply streams over `on_event` and the call returns when it ends.
#[tauri::command]
pub async fn chat_send(
    engine: EngineState<'_>,
    request: SendRequest,
    on_event: Channel<ChatEvent>,
) -> CommandResult<()> {
    let engine = engine.inner().clone();
    engine
        .send(request, forward_to(on_event))
        .await
        .map_err(ipc)
}

/// Writes a new reply to the user message of `message_id` (the last reply when absent):
/// "Regenerate". Streams like `chat_send`.
#[tauri::command]
pub async fn chat_retry(
    engine: EngineState<'_>,
    conversation_id: i64,
    message_id: Option<i64>,
    allow_over_budget: Option<bool>,
    on_event: Channel<ChatEvent>,
) -> CommandResult<()> {
    let engine = engine.inner().clone();
    let allow_over_budget = allow_over_budget.unwrap_or(false);
    engine
        .retry(
            conversation_id,
            message_id,
            allow_over_budget,
            forward_to(on_event),
        )
        .await
        .map_err(ipc)
}

/// Continues the last reply where it was cut off; streams like `chat_send`.
#[tauri::command]
pub async fn chat_continue(
    engine: EngineState<'_>,
    conversation_id: i64,
    allow_over_budget: Option<bool>,
    on_event: Channel<ChatEvent>,
) -> CommandResult<()> {
    let engine = engine.inner().clone();
    let allow_over_budget = allow_over_budget.unwrap_or(false);
    engine
        .continue_reply(conversation_id, allow_over_budget, forward_to(on_event))
        .await
        .map_err(ipc)
}

/// "Summarize and continue in a new chat": streams the summary into a new conversation
/// like `chat_send` (its `started` event names the new conversation).
#[tauri::command]
pub async fn chat_summarize(
    engine: EngineState<'_>,
    conversation_id: i64,
    allow_over_budget: Option<bool>,
    on_event: Channel<ChatEvent>,
) -> CommandResult<()> {
    let engine = engine.inner().clone();
    let allow_over_budget = allow_over_budget.unwrap_or(false);
    engine
        .summarize_into_new_chat(conversation_id, allow_over_budget, forward_to(on_event))
        .await
        .map_err(ipc)
}

/// Stops the reply being written in a conversation; `false` when there was none.
#[tauri::command]
pub async fn chat_stop(engine: EngineState<'_>, conversation_id: i64) -> CommandResult<bool> {
    Ok(engine.stop(conversation_id))
}

/// A sink that forwards a reply's events to the UI's channel. A closed window just stops
/// listening; the engine still saves everything.
fn forward_to(channel: Channel<ChatEvent>) -> impl Fn(ChatEvent) + Send + Sync + 'static {
    move |event| {
        let _ = channel.send(event);
    }
}
