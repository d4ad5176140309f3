//! What a request sends, as pure functions: a conversation's branch becomes the request's
//! messages, and a context too long for the model's window loses its oldest turns. No
//! store, no server, no tokenizer here: token counts come from the caller (the meter
//! counts them), so every rule is tested with plain numbers.

use tally_openai::{ChatMessage, PictureInput, ReasoningItem, Role as ApiRole};
use tally_store::Role;

use crate::api::ToolCallView;
use crate::tool_calls::reply_messages;

/// The longest message Tally sends, in characters (about 250k tokens of English: far
/// beyond any window).
pub(crate) const MAX_MESSAGE_CHARS: usize = 1_000_000;

/// Framing tokens per chat message, and for priming the reply: tally-spend's, which
/// `count_chat_prompt` counts by too.
pub(crate) use tally_spend::{
    PER_MESSAGE_TOKENS as PER_MESSAGE, REPLY_PRIMING_TOKENS as REPLY_PRIMING,
};

/// Room kept for the reply when a context is fitted to the window, at most.
const REPLY_ROOM: u32 = 4_096;

/// A message of a conversation's branch, as far as the request goes.
pub(crate) struct Turn {
    pub role: Role,
    pub content: String,
    /// Reasoning items to send back before the reply (Responses, the same model's).
    pub reasoning: Vec<ReasoningItem>,
    /// The tools the reply called, with their results.
    pub tool_calls: Vec<ToolCallView>,
    /// The pictures a user message carries.
    pub pictures: Vec<PictureInput>,
}

/// The messages sent to the API for a conversation with `system_prompt` whose branch
/// (oldest first) holds these turns. Empty messages (a reply that never started) are left
/// out; a reply that called tools becomes its rounds of calls and results, then its text.
pub(crate) fn messages_of(
    system_prompt: Option<&str>,
    branch: impl IntoIterator<Item = Turn>,
) -> Vec<ChatMessage> {
    let mut messages = Vec::new();
    if let Some(prompt) = system_prompt.filter(|p| !p.trim().is_empty()) {
        messages.push(ChatMessage::new(ApiRole::System, prompt));
    }
    for turn in branch {
        if turn.role == Role::Assistant && !turn.tool_calls.is_empty() {
            let mut expanded = reply_messages(&turn.content, &turn.tool_calls);
            if let Some(last) = expanded.iter_mut().rfind(|m| m.role == ApiRole::Assistant) {
                last.reasoning = turn.reasoning;
            }
            messages.extend(expanded);
            continue;
        }
        if turn.content.is_empty() && turn.pictures.is_empty() {
            continue;
        }
        let role = match turn.role {
            Role::System => ApiRole::System,
            Role::User => ApiRole::User,
            Role::Assistant => ApiRole::Assistant,
        };
        messages.push(ChatMessage {
            reasoning: turn.reasoning,
            pictures: turn.pictures,
            ..ChatMessage::new(role, turn.content)
        });
    }
    messages
}

/// The role's name as the API's tokenizer counts it.
pub(crate) fn role_name(role: ApiRole) -> &'static str {
    match role {
        ApiRole::System => "system",
        ApiRole::Developer => "developer",
        ApiRole::User => "user",
        ApiRole::Assistant => "assistant",
        ApiRole::Tool => "tool",
    }
}

/// A model's limits, as far as fitting a context goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// Tokens the model reads and writes in one request.
    pub context_window: u32,
    /// The most tokens the model writes in one reply.
    pub max_output: u32,
}

/// Leaves out the oldest turns of `context` (whose messages count `tokens`, framing
/// included) until it fits `window` with room for the reply (the conversation's own
/// reply limit `max_output` when it sets one); the system prompt and the newest message
/// always stay. Returns how many messages were left out.
pub(crate) fn fit_to_window(
    context: &mut Vec<ChatMessage>,
    tokens: Vec<u64>,
    window: Window,
    max_output: Option<u32>,
) -> u32 {
    let reply_room = max_output
        .unwrap_or(window.max_output)
        .min(window.max_output)
        .min(REPLY_ROOM);
    let fits = u64::from(window.context_window.saturating_sub(reply_room));
    drop_oldest_turns(context, tokens, fits)
}

/// After the API refused `context` as too long for the model (a window Tally does not
/// know, or counted differently): leaves out the oldest turns until a quarter of its
/// tokens are gone. Returns how many messages were left out; 0 when only the system
/// prompt and the newest message are left, which no trimming can help.
pub(crate) fn trim_after_refusal(context: &mut Vec<ChatMessage>, tokens: Vec<u64>) -> u32 {
    let total = tokens.iter().sum::<u64>() + REPLY_PRIMING;
    drop_oldest_turns(context, tokens, total / 4 * 3)
}

/// Leaves out the oldest turns of `context` (whose messages count `tokens`) until what is
/// sent fits `fits` tokens; the system prompt and the newest message always stay, and a
/// reply never goes without the message it answered. Returns how many messages went.
fn drop_oldest_turns(context: &mut Vec<ChatMessage>, mut tokens: Vec<u64>, fits: u64) -> u32 {
    debug_assert_eq!(context.len(), tokens.len());
    let mut total = tokens.iter().sum::<u64>() + REPLY_PRIMING;
    let first = usize::from(context.first().is_some_and(|m| m.role == ApiRole::System));
    let mut dropped = 0;
    while total > fits && context.len() > first + 1 {
        context.remove(first);
        total -= tokens.remove(first);
        dropped += 1;
        // A reply (its tool calls and their results too) never stays without the message
        // it answered.
        while context.len() > first + 1
            && matches!(context[first].role, ApiRole::Assistant | ApiRole::Tool)
        {
            context.remove(first);
            total -= tokens.remove(first);
            dropped += 1;
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(role: ApiRole, content: &str) -> ChatMessage {
        ChatMessage::new(role, content)
    }

    /// A system prompt and three turns, each message 100 tokens.
    fn conversation() -> (Vec<ChatMessage>, Vec<u64>) {
        let mut context = vec![message(ApiRole::System, "be brief")];
        for turn in 1..=3 {
            context.push(message(ApiRole::User, &format!("question {turn}")));
            context.push(message(ApiRole::Assistant, &format!("answer {turn}")));
        }
        context.push(message(ApiRole::User, "question 4"));
        let tokens = vec![100; context.len()];
        (context, tokens)
    }

    fn contents(context: &[ChatMessage]) -> Vec<&str> {
        context.iter().map(|m| m.content.as_str()).collect()
    }

    #[test]
    fn a_context_that_fits_is_sent_whole() {
        let (mut context, tokens) = conversation();
        let window = Window {
            context_window: 10_000,
            max_output: 1_000,
        };
        assert_eq!(fit_to_window(&mut context, tokens, window, None), 0);
        assert_eq!(context.len(), 8);
    }

    #[test]
    fn the_oldest_turns_go_first_and_the_system_prompt_and_newest_message_stay() {
        let (mut context, tokens) = conversation();
        // 800 tokens + priming; room for 500 after a 100-token reply.
        let window = Window {
            context_window: 600,
            max_output: 100,
        };
        let dropped = fit_to_window(&mut context, tokens, window, None);
        assert_eq!(dropped, 4);
        assert_eq!(
            contents(&context),
            ["be brief", "question 3", "answer 3", "question 4"]
        );
    }

    #[test]
    fn a_reply_never_goes_without_the_question_it_answered() {
        let (mut context, tokens) = conversation();
        // Dropping one message would do; its answer goes with it.
        let window = Window {
            context_window: 800,
            max_output: 100,
        };
        assert_eq!(fit_to_window(&mut context, tokens, window, None), 2);
        assert_eq!(context[1].content, "question 2");
    }

    #[test]
    fn the_conversations_reply_limit_makes_room_only_up_to_the_models() {
        let window = Window {
            context_window: 700,
            max_output: 100,
        };
        // A limit above the model's keeps the model's room (100): 600 tokens fit.
        let (mut context, tokens) = conversation();
        assert_eq!(fit_to_window(&mut context, tokens, window, Some(5_000)), 4);
        // A limit below it leaves more for the conversation: 699 fit.
        let (mut context, tokens) = conversation();
        assert_eq!(fit_to_window(&mut context, tokens, window, Some(1)), 2);
    }

    #[test]
    fn nothing_can_be_trimmed_below_the_system_prompt_and_the_newest_message() {
        let mut context = vec![
            message(ApiRole::System, "be brief"),
            message(ApiRole::User, "a very long question"),
        ];
        let window = Window {
            context_window: 10,
            max_output: 5,
        };
        assert_eq!(
            fit_to_window(&mut context, vec![500, 5_000], window, None),
            0
        );
        assert_eq!(trim_after_refusal(&mut context, vec![500, 5_000]), 0);
        assert_eq!(context.len(), 2);
    }

    #[test]
    fn a_refused_context_loses_a_quarter_of_its_tokens() {
        let (mut context, tokens) = conversation();
        // 803 tokens: at most 600 stay, so the two oldest turns go.
        let dropped = trim_after_refusal(&mut context, tokens);
        assert_eq!(dropped, 4);
        assert_eq!(context.first().unwrap().content, "be brief");
        assert_eq!(context.last().unwrap().content, "question 4");
    }

    #[test]
    fn a_branch_becomes_messages_with_its_system_prompt_and_without_empty_replies() {
        let picture = PictureInput {
            data_url: "data:image/png;base64,iVBORw0KGgo=".into(),
            width: 1,
            height: 1,
        };
        let branch = [
            (Role::User, "hello", None),
            (Role::Assistant, "", None),
            (Role::User, "again", None),
            (Role::Assistant, "Sure.", None),
            // A picture sent without words is a message all the same.
            (Role::User, "", Some(picture.clone())),
        ]
        .map(|(role, text, picture)| Turn {
            role,
            content: text.to_string(),
            reasoning: Vec::new(),
            tool_calls: Vec::new(),
            pictures: picture.into_iter().collect(),
        });
        let messages = messages_of(Some("be brief"), branch);
        assert_eq!(
            contents(&messages),
            ["be brief", "hello", "again", "Sure.", ""]
        );
        assert_eq!(messages[0].role, ApiRole::System);
        assert_eq!(messages[4].pictures, [picture]);
        assert!(messages_of(Some("  "), []).is_empty());
    }
}
