//! Tool calls as pure functions: the names the model calls tools by, a reply's calls as
//! they are kept and as they go back to the API, and results cut to fit. No store, no
//! server here.

use std::collections::HashSet;

use tally_openai::{CalledFunction, ChatMessage, MessageToolCall, Role as ApiRole};

use crate::api::{ToolCallStatus, ToolCallView};

/// The longest name a function may have on the API.
const MAX_FUNCTION_NAME: usize = 64;

pub(crate) use crate::api::NOT_RUN;

/// The names the model calls `tools` (server, tool) by, in order: the tool's own name
/// when no other tool has it, else the server's name and the tool's; each within what the
/// API allows (`^[a-zA-Z0-9_-]{1,64}$`) and different from every other.
pub(crate) fn function_names(tools: &[(&str, &str)]) -> Vec<String> {
    let plain: Vec<String> = tools.iter().map(|(_, tool)| api_name(tool)).collect();
    let mut taken = HashSet::new();
    let mut names = Vec::with_capacity(tools.len());
    for (i, (server, tool)) in tools.iter().enumerate() {
        let shared = plain
            .iter()
            .filter(|n| n.eq_ignore_ascii_case(&plain[i]))
            .count()
            > 1;
        let wanted = if shared {
            api_name(&format!("{server}_{tool}"))
        } else {
            plain[i].clone()
        };
        let mut name = wanted.clone();
        let mut n = 2;
        while !taken.insert(name.to_ascii_lowercase()) {
            let suffix = format!("_{n}");
            let head: String = wanted
                .chars()
                .take(MAX_FUNCTION_NAME - suffix.len())
                .collect();
            name = format!("{head}{suffix}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// `text` as a function name: other characters become `_`, cut to the longest allowed.
fn api_name(text: &str) -> String {
    let name: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_FUNCTION_NAME)
        .collect();
    if name.is_empty() { "tool".into() } else { name }
}

/// The messages that stand for an assistant reply with tool calls: for each round, the
/// text written before its calls and the calls, then their results; then the text after
/// the last round (when there is any).
pub(crate) fn reply_messages(content: &str, calls: &[ToolCallView]) -> Vec<ChatMessage> {
    let mut messages = Vec::new();
    let mut written = 0usize;
    let mut rounds: Vec<u32> = calls.iter().map(|c| c.round).collect();
    rounds.dedup();
    for round in rounds {
        let in_round: Vec<ToolCallView> =
            calls.iter().filter(|c| c.round == round).cloned().collect();
        let offset = text_boundary(content, in_round[0].text_offset as usize).max(written);
        messages.extend(round_messages(
            &content[written..offset],
            &in_round,
            Vec::new(),
        ));
        written = offset;
    }
    if written < content.len() {
        messages.push(ChatMessage::new(ApiRole::Assistant, &content[written..]));
    }
    messages
}

/// One round as the API reads it back: the assistant's text (after `reasoning`, on
/// Responses) with its calls, then each call's result.
pub(crate) fn round_messages(
    text: &str,
    calls: &[ToolCallView],
    reasoning: Vec<tally_openai::ReasoningItem>,
) -> Vec<ChatMessage> {
    let mut messages = vec![ChatMessage {
        reasoning,
        tool_calls: calls
            .iter()
            .map(|c| MessageToolCall {
                id: c.id.clone(),
                function: CalledFunction {
                    name: c.function.clone(),
                    arguments: c.arguments.clone(),
                },
            })
            .collect(),
        ..ChatMessage::new(ApiRole::Assistant, text)
    }];
    messages.extend(
        calls
            .iter()
            .map(|call| ChatMessage::tool_result(&call.id, told_to_model(call))),
    );
    messages
}

/// What the model is told of a call that ended.
fn told_to_model(call: &ToolCallView) -> String {
    match (&call.status, &call.result) {
        (_, Some(result)) => result.clone(),
        (ToolCallStatus::Denied, None) => DENIED.into(),
        _ => NOT_RUN.into(),
    }
}

/// What the model is told of a call the user did not allow.
pub(crate) const DENIED: &str = "The user did not allow this call. Do not call this tool again for the same request; \
     go on without it, or ask the user.";

/// `offset` moved back to the nearest character boundary of `text` (at most its length).
fn text_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// `result` cut to `max_chars` characters, with a note saying so (for the model and the
/// user alike).
pub(crate) fn cut_to_fit(result: String, max_chars: usize) -> String {
    let total = result.chars().count();
    if total <= max_chars {
        return result;
    }
    let kept: String = result.chars().take(max_chars).collect();
    format!(
        "{kept}\n\n[Tally cut this result here: it had {total} characters, more than the \
         model's window has room for. The first {max_chars} are above.]"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_are_the_tools_own_unless_two_share_one() {
        /// The tools offered (server, tool), and the names the model gets.
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: &[Case] = &[
            (&[("time", "get_current_time")], &["get_current_time"]),
            (
                &[("time", "now"), ("clock", "now"), ("time", "convert")],
                &["time_now", "clock_now", "convert"],
            ),
            (&[("my server", "read file.txt")], &["read_file_txt"]),
            (&[("s", "")], &["tool"]),
            // Names equal but for case count as shared.
            (
                &[("a", "Now"), ("b", "now_2"), ("c", "now")],
                &["a_Now", "now_2", "c_now"],
            ),
            // A name made from the server's is never one another tool has already.
            (
                &[("a", "x"), ("b", "a_x"), ("c", "x")],
                &["a_x", "a_x_2", "c_x"],
            ),
        ];
        for (tools, expected) in cases {
            assert_eq!(function_names(tools), *expected, "{tools:?}");
        }
        let long = "x".repeat(100);
        let names = function_names(&[("a", &long), ("a", &long)]);
        assert!(
            names.iter().all(|n| n.len() <= MAX_FUNCTION_NAME),
            "{names:?}"
        );
        assert_ne!(names[0], names[1]);
    }

    fn call(id: &str, round: u32, offset: u32, status: ToolCallStatus) -> ToolCallView {
        ToolCallView {
            id: id.into(),
            round,
            text_offset: offset,
            server: "time".into(),
            tool: "now".into(),
            function: "now".into(),
            arguments: "{}".into(),
            status,
            result: (status == ToolCallStatus::Done).then(|| format!("result of {id}")),
            duration_ms: None,
            read_only: true,
            destructive: false,
        }
    }

    #[test]
    fn a_reply_with_calls_goes_back_as_rounds_of_calls_and_results_then_its_text() {
        let content = "Let me look.The time is noon.";
        let calls = [
            call("a", 0, 12, ToolCallStatus::Done),
            call("b", 0, 12, ToolCallStatus::Denied),
            call("c", 1, 12, ToolCallStatus::Done),
        ];
        let messages = reply_messages(content, &calls);
        let shape: Vec<(ApiRole, &str, usize, Option<&str>)> = messages
            .iter()
            .map(|m| {
                (
                    m.role,
                    m.content.as_str(),
                    m.tool_calls.len(),
                    m.tool_call_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                (ApiRole::Assistant, "Let me look.", 2, None),
                (ApiRole::Tool, "result of a", 0, Some("a")),
                (ApiRole::Tool, DENIED, 0, Some("b")),
                (ApiRole::Assistant, "", 1, None),
                (ApiRole::Tool, "result of c", 0, Some("c")),
                (ApiRole::Assistant, "The time is noon.", 0, None),
            ]
        );
        // A hostile offset (past the end, inside a character) cannot split the text.
        let odd = reply_messages("é", &[call("a", 0, 1, ToolCallStatus::Done)]);
        assert_eq!(odd[0].content, "");
        assert_eq!(odd.last().unwrap().content, "é");
    }

    #[test]
    fn calls_left_pending_by_a_reply_that_ended_are_shown_as_not_run() {
        let json = serde_json::to_string(&[
            call("a", 0, 0, ToolCallStatus::Running),
            call("b", 0, 0, ToolCallStatus::Done),
        ])
        .unwrap();
        let ended = ToolCallView::stored(Some(&json), tally_store::MessageStatus::Interrupted);
        assert_eq!(ended[0].status, ToolCallStatus::Error);
        assert_eq!(ended[0].result.as_deref(), Some(NOT_RUN));
        assert_eq!(ended[1].status, ToolCallStatus::Done);
        let live = ToolCallView::stored(Some(&json), tally_store::MessageStatus::Streaming);
        assert_eq!(live[0].status, ToolCallStatus::Running);
        assert!(ToolCallView::stored(Some("[{"), tally_store::MessageStatus::Complete).is_empty());
    }

    #[test]
    fn a_result_too_long_is_cut_with_a_note() {
        assert_eq!(cut_to_fit("short".into(), 10), "short");
        let cut = cut_to_fit("ééééé".repeat(4), 6);
        assert!(cut.starts_with("éééééé\n\n[Tally cut"), "{cut}");
        assert!(cut.contains("20 characters"), "{cut}");
    }
}
