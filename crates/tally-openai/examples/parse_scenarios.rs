//! Prints, as one JSON object per line, what `tally-openai` parses from each mock
//! scenario at BASE_URL. The SDK oracle (`tests/mock-openai/sdk-check/check.py`) compares
//! the official `openai` SDK's results with these.
//!
//! `cargo run -p tally-openai --example parse_scenarios -- BASE_URL SCENARIO...`
//!
//! A scenario named `responses-…` (a recorded Responses stream) or prefixed `responses:`
//! goes to the Responses API, as `gpt-5.4-mini`; prefixed `responses+search:`, it goes
//! there with web search offered (up to 3 calls); the others go to Chat Completions.
//! Prefixed `tools:` (Chat Completions) or `responses+tools:`, the request offers two
//! functions (`get_time`, `add`); with `+results` before the colon it also carries a call
//! of `get_time` and its result, as the next round of a tool loop does.

use tally_openai::{
    Api, ChatMessage, ChatRequest, ClientConfig, OpenAiClient, OpenAiError, Role, SecretString,
    StreamEvent,
};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .expect("usage: parse_scenarios BASE_URL SCENARIO...");
    let mut config = ClientConfig::new(base);
    config.retry.max_retries = 0;
    let client = OpenAiClient::new(config).expect("valid base URL");
    let key = SecretString::from("sk-proj-SdkCheckKeyNotReal0000000000abcd".to_string());
    for scenario in args {
        let (tools, results, scenario_marker) = tool_prefix(&scenario);
        let searching = scenario.strip_prefix("responses+search:");
        let on_responses = scenario
            .strip_prefix("responses:")
            .or(searching)
            .or(scenario_marker.filter(|_| scenario.starts_with("responses+")));
        let (api, model, marker) = match on_responses {
            Some(marker) => (Api::Responses, "gpt-5.4-mini", marker),
            None if scenario.starts_with("responses-") => {
                (Api::Responses, "gpt-5.4-mini", scenario.as_str())
            }
            None => (
                Api::ChatCompletions,
                "gpt-4o-mini",
                scenario_marker.unwrap_or(scenario.as_str()),
            ),
        };
        let mut messages = vec![ChatMessage::new(Role::User, format!("[mock:{marker}]"))];
        if results {
            let call = tally_openai::ToolCall {
                index: 0,
                id: "call_earlier".into(),
                name: "get_time".into(),
                arguments: r#"{"timezone":"Europe/Lisbon"}"#.into(),
            };
            messages.push(ChatMessage {
                tool_calls: vec![(&call).into()],
                ..ChatMessage::new(Role::Assistant, "")
            });
            messages.push(ChatMessage::tool_result("call_earlier", "14:05 in Lisbon"));
        }
        let mut request = ChatRequest::streaming(model, messages);
        if tools {
            request.tools = test_tools();
        }
        // On Responses, with a summary of the reasoning asked for, as Tally asks.
        request.reasoning_summary = api == Api::Responses;
        request.web_searches = searching.map(|_| 3);
        let (mut text, mut finish, mut usage, mut error) = (String::new(), None, None, None);
        let (mut tools, mut sources, mut searches) = (Vec::new(), Vec::new(), 0);
        match client.stream(Some(&key), api, &request, |_| {}).await {
            Err(e) => error = Some(describe(&e)),
            Ok(mut stream) => {
                while let Some(event) = stream.next().await {
                    match event {
                        Ok(StreamEvent::Delta(t)) => text.push_str(&t),
                        Ok(StreamEvent::Finished(r)) => finish = Some(r.as_str().to_string()),
                        // Compared through the final text; the SDK check reads no thinking.
                        Ok(StreamEvent::Thinking(_) | StreamEvent::Searching { .. }) => {}
                        Ok(StreamEvent::Citation(c)) => {
                            sources.push(serde_json::json!([c.url, c.title]));
                        }
                        Ok(StreamEvent::Usage(u)) => {
                            usage = Some(serde_json::json!([
                                u.prompt_tokens,
                                u.completion_tokens,
                                u.total_tokens,
                                u.cached_tokens(),
                                u.reasoning_tokens()
                            ]))
                        }
                        Err(e) => error = Some(describe(&e)),
                    }
                }
                searches = stream.web_searches();
                tools = stream
                    .tool_calls()
                    .iter()
                    .map(|c| serde_json::json!([c.id, c.name, c.arguments]))
                    .collect();
            }
        }
        let line = serde_json::json!({
            "scenario": scenario,
            "api": api,
            "text": text,
            "finish_reason": finish,
            "usage": usage,
            "tool_calls": tools,
            "sources": sources,
            "searches": searches,
            "error": error,
        });
        println!("{line}");
    }
}

/// `[HTTP status or null, API error code or null]`, or `"dropped"` for a broken connection.
fn describe(error: &OpenAiError) -> serde_json::Value {
    match error {
        OpenAiError::Api { status, code, .. } => serde_json::json!([status, code]),
        OpenAiError::Stream { code, .. } => serde_json::json!([null, code]),
        OpenAiError::Dropped | OpenAiError::Connect => serde_json::json!("dropped"),
        other => serde_json::json!(format!("{other:?}")),
    }
}

/// Whether `scenario` offers the test functions, carries an earlier call's result, and
/// its marker (what follows the prefix) when it has a tools prefix.
fn tool_prefix(scenario: &str) -> (bool, bool, Option<&str>) {
    let rest = scenario.strip_prefix("responses+").unwrap_or(scenario);
    if let Some(marker) = rest.strip_prefix("tools+results:") {
        (true, true, Some(marker))
    } else if let Some(marker) = rest.strip_prefix("tools:") {
        (true, false, Some(marker))
    } else {
        (false, false, None)
    }
}

/// The functions a tools scenario offers (the SDK oracle offers the same).
fn test_tools() -> Vec<tally_openai::ChatTool> {
    let function =
        |name: &str, description: &str, parameters: serde_json::Value| tally_openai::ChatTool {
            function: tally_openai::FunctionTool {
                name: name.into(),
                description: description.into(),
                parameters: parameters.as_object().cloned().unwrap_or_default(),
            },
        };
    vec![
        function(
            "get_time",
            "Current time in a time zone",
            serde_json::json!({"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}),
        ),
        function(
            "add",
            "Adds two numbers",
            serde_json::json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}),
        ),
    ]
}
