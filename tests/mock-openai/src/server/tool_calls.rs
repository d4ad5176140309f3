//! The model calling the request's functions: `[mock:call:NAME {JSON}]` (several calls
//! joined by ` | `, made in parallel) makes it call function NAME with those arguments,
//! streamed in the shapes of `stream-tool-calls.http` (Chat Completions) and
//! `responses-stream-function-call.http` (Responses). Once the request ends with the
//! calls' results (`tool` messages, or `function_call_output` items), the model answers in
//! text that quotes them, so a test sees each result used in the reply; with
//! `[mock:call-again:…]` it calls them again after every round (a model stuck in a loop).

use serde::Deserializer;
use serde_json::json;

use super::*;

/// One call the scenario asks the model to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PlannedCall {
    pub name: String,
    /// The arguments as the model writes them: the scenario's text, valid JSON or not.
    pub arguments: String,
}

/// `NAME {JSON} | NAME {JSON}`; a call without arguments gets `{}`.
pub(super) fn parse(text: &str) -> Vec<PlannedCall> {
    text.split(" | ")
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once(' ') {
            Some((name, arguments)) => PlannedCall {
                name: name.to_string(),
                arguments: arguments.trim().to_string(),
            },
            None => PlannedCall {
                name: part.to_string(),
                arguments: "{}".into(),
            },
        })
        .collect()
}

/// What the model writes when it answers after its calls.
pub const AFTER_CALLS: &str = "The tool answered:";

pub(super) fn answer(
    shared: &Arc<Shared>,
    request: &ReceivedRequest,
    calls: &[PlannedCall],
    again: bool,
    how: Generated,
) -> Response {
    let text = |reply: String| {
        let how = Generated {
            reply: Some(reply),
            ..how.clone()
        };
        if request.responses {
            responses::generated(shared, request, how)
        } else {
            generated(shared, request, how)
        }
    };
    // The results came back: the reply quotes them, in order.
    let results: Vec<&str> = request
        .messages
        .iter()
        .rev()
        .take_while(|m| m.role == "tool")
        .map(|m| m.content.as_str())
        .collect();
    if !results.is_empty() && !again {
        let quoted: Vec<&str> = results.into_iter().rev().collect();
        return text(format!("{AFTER_CALLS} {}", quoted.join(" / ")));
    }
    let offered: Vec<&PlannedCall> = calls
        .iter()
        .filter(|call| request.functions.iter().any(|f| f.name == call.name))
        .collect();
    if offered.is_empty() {
        return text("I was asked to call a tool that this request does not offer.".into());
    }
    if request.responses {
        responses_calls(shared, request, &offered, how.delay)
    } else {
        chat_calls(shared, request, &offered, how.delay)
    }
}

/// The prompt tokens of the functions offered, by OpenAI's published rule (the cookbook's
/// `num_tokens_for_tools`, which `tally_spend::count_tools` implements and the tiktoken
/// parity check holds to a transcription of the cookbook's code).
pub(super) fn definition_tokens(encoding: Encoding, functions: &[ReceivedFunction]) -> u64 {
    let empty = serde_json::Map::new();
    let definitions: Vec<tally_spend::ToolDefinition> = functions
        .iter()
        .map(|function| tally_spend::ToolDefinition {
            name: &function.name,
            description: &function.description,
            parameters: function.parameters.as_object().unwrap_or(&empty),
        })
        .collect();
    tally_spend::count_tools(encoding, &definitions)
}

/// The usage of a reply that made `calls`: the prompt as any reply's, and what the model
/// wrote (each call's name and arguments) as output.
fn calls_usage(request: &ReceivedRequest, calls: &[&PlannedCall]) -> Usage {
    let written: String = calls
        .iter()
        .map(|call| format!("{}{}", call.name, call.arguments))
        .collect();
    usage_for(request, &written)
}

/// Call `i` of this round: the same for the same request (so the SDK oracle and Tally
/// see the same ids), new in each round of a conversation (counted by the results it
/// already carries), as the real API's ids are.
fn call_id(request: &ReceivedRequest, i: usize) -> String {
    let earlier = request.messages.iter().filter(|m| m.role == "tool").count();
    format!("call_mock{earlier:03}x{i}")
}

fn chat_calls(
    shared: &Arc<Shared>,
    request: &ReceivedRequest,
    calls: &[&PlannedCall],
    delay: Duration,
) -> Response {
    let n = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let id = format!("chatcmpl-Mock{n:06}");
    let model = served_model(&request.model);
    let chunk = |choices: serde_json::Value, usage: serde_json::Value| {
        let chunk = json!({"id": id, "object": "chat.completion.chunk", "created": CREATED,
            "model": model, "service_tier": "default", "system_fingerprint": FINGERPRINT,
            "choices": choices, "usage": usage, "obfuscation": "t0"});
        Piece::Send(format!("data: {chunk}\n\n"))
    };
    let delta = |delta: serde_json::Value, finish: Option<&str>| {
        chunk(
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]),
            json!(null),
        )
    };
    let header = |i: usize, call: &PlannedCall| {
        json!({"index": i, "id": call_id(request, i), "type": "function",
            "function": {"name": call.name, "arguments": ""}})
    };
    let mut pieces = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        pieces.push(if i == 0 {
            delta(
                json!({"role": "assistant", "content": null, "tool_calls": [header(0, call)], "refusal": null}),
                None,
            )
        } else {
            delta(json!({"tool_calls": [header(i, call)]}), None)
        });
        for fragment in chunk_pieces(&call.arguments, shared.config.chunk_chars) {
            pieces.push(delta(
                json!({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]}),
                None,
            ));
        }
    }
    pieces.push(delta(json!({}), Some("tool_calls")));
    if request.stream_options.is_some_and(|o| o.include_usage) {
        let usage = calls_usage(request, calls);
        count_usage(shared, &usage);
        pieces.push(chunk(json!([]), json!(usage)));
    }
    pieces.push(Piece::Send("data: [DONE]\n\n".into()));
    sse_response(
        paced_body(pieces, delay, shared, None),
        &format!("req_mock{n:024x}"),
    )
}

fn responses_calls(
    shared: &Arc<Shared>,
    request: &ReceivedRequest,
    calls: &[&PlannedCall],
    delay: Duration,
) -> Response {
    use responses::{event, reasoning_item, response_object, responses_usage};
    let n = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let id = format!("resp_mock{n:06}");
    let model = served_model(&request.model);
    let response = |status: &str, output: serde_json::Value, usage: serde_json::Value| json!({"response": response_object(request, &id, &model, status, output, usage)});
    let mut sequence = 0;
    let mut head = vec![
        event(
            "response.created",
            &mut sequence,
            response("in_progress", json!([]), json!(null)),
        ),
        event(
            "response.in_progress",
            &mut sequence,
            response("in_progress", json!([]), json!(null)),
        ),
    ];
    let mut output = Vec::new();
    if is_reasoning_model(&request.model) {
        output.push(reasoning_item(request, n, &mut sequence, &mut head));
    }
    let mut pieces = vec![Piece::Send(head.concat())];
    for (i, call) in calls.iter().enumerate() {
        let index = output.len();
        let item_id = format!("fc_mock{n:06}x{i}");
        let item = |status: &str, arguments: &str| {
            json!({"id": item_id, "type": "function_call", "status": status,
                "arguments": arguments, "call_id": call_id(request, i), "name": call.name})
        };
        pieces.push(Piece::Send(event(
            "response.output_item.added",
            &mut sequence,
            json!({"output_index": index, "item": item("in_progress", "")}),
        )));
        for fragment in chunk_pieces(&call.arguments, shared.config.chunk_chars) {
            pieces.push(Piece::Send(event(
                "response.function_call_arguments.delta",
                &mut sequence,
                json!({"item_id": item_id, "output_index": index, "delta": fragment, "obfuscation": "z"}),
            )));
        }
        let done = item("completed", &call.arguments);
        pieces.push(Piece::Send(
            event(
                "response.function_call_arguments.done",
                &mut sequence,
                json!({"item_id": item_id, "output_index": index, "name": call.name, "arguments": call.arguments}),
            ) + &event(
                "response.output_item.done",
                &mut sequence,
                json!({"output_index": index, "item": done}),
            ),
        ));
        output.push(done);
    }
    let usage = calls_usage(request, calls);
    count_usage(shared, &usage);
    pieces.push(Piece::Send(event(
        "response.completed",
        &mut sequence,
        response("completed", output.into(), responses_usage(&usage)),
    )));
    sse_response(
        paced_body(pieces, delay, shared, None),
        &format!("req_mock{n:024x}"),
    )
}

/// Chat Completions' `tools` as the functions they offer (other kinds are left out).
pub(super) fn functions_of_chat_tools<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ReceivedFunction>, D::Error> {
    #[derive(Deserialize)]
    struct Tool {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        function: Option<ReceivedFunction>,
    }
    let tools: Option<Vec<Tool>> = Option::deserialize(deserializer)?;
    Ok(tools
        .unwrap_or_default()
        .into_iter()
        .filter(|tool| tool.kind == "function")
        .filter_map(|tool| tool.function)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_names_each_call_with_its_arguments() {
        assert_eq!(
            parse(r#"get_time {"timezone": "Europe/Lisbon"} | add {"a": 1, "b": 2} | ping"#),
            [
                PlannedCall {
                    name: "get_time".into(),
                    arguments: r#"{"timezone": "Europe/Lisbon"}"#.into()
                },
                PlannedCall {
                    name: "add".into(),
                    arguments: r#"{"a": 1, "b": 2}"#.into()
                },
                PlannedCall {
                    name: "ping".into(),
                    arguments: "{}".into()
                },
            ]
        );
    }
}
