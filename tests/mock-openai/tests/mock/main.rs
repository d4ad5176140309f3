//! The mock over real HTTP: recorded responses come back byte for byte, generated streams
//! have the recorded chunk shape, and non-streaming completions work.

use std::time::Duration;

use mock_openai::{MockConfig, MockServer, wire_file, wire_names};

const KEY: &str = "Bearer sk-proj-MockTestKey000000000000abcd";

async fn server() -> MockServer {
    MockServer::start(MockConfig {
        delay: Duration::from_millis(1),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn chat(server: &MockServer, body: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/chat/completions", server.base_url()))
        .header("authorization", KEY)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn ask(text: &str, stream: bool) -> String {
    format!(
        r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"{text}"}}],"stream":{stream},"stream_options":{{"include_usage":true}}}}"#
    )
}

#[tokio::test]
async fn recorded_errors_come_back_byte_for_byte() {
    let server = server().await;
    for name in wire_names().filter(|n| n.starts_with("error-")) {
        let file = wire_file(name).unwrap();
        let response = chat(&server, &ask(&format!("[mock:{name}]"), true)).await;
        assert_eq!(response.status().as_u16(), file.status, "{name}");
        for (header, value) in &file.headers {
            assert_eq!(
                response.headers().get(header).and_then(|v| v.to_str().ok()),
                Some(value.as_str()),
                "{name}: {header}"
            );
        }
        assert_eq!(response.text().await.unwrap(), file.body, "{name}");
    }
}

#[tokio::test]
async fn recorded_streams_come_back_byte_for_byte() {
    let server = server().await;
    for name in [
        "stream-basic",
        "stream-length",
        "stream-tool-calls",
        "stream-error-midstream",
    ] {
        let file = wire_file(name).unwrap();
        let response = chat(&server, &ask(&format!("[mock:{name}]"), true)).await;
        assert_eq!(
            response.headers()["x-request-id"],
            file.headers
                .iter()
                .find(|(k, _)| k == "x-request-id")
                .unwrap()
                .1
                .as_str()
        );
        assert_eq!(response.text().await.unwrap(), file.body, "{name}");
    }
}

#[tokio::test]
async fn generated_chunks_have_the_recorded_shape() {
    let server = server().await;
    let body = chat(&server, &ask("hello", true))
        .await
        .text()
        .await
        .unwrap();
    let recorded = wire_file("stream-basic").unwrap().body;
    // Same keys in the same order, chunk for chunk kind: role, content, finish, usage.
    let keys = |line: &str| -> Vec<String> {
        line.split("\":")
            .filter_map(|part| part.rsplit('"').next())
            .map(str::to_string)
            .collect()
    };
    let lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("data: {"))
            .map(str::to_string)
            .collect()
    };
    let (ours, theirs) = (lines(&body), lines(&recorded));
    assert_eq!(keys(&ours[0]), keys(&theirs[0]), "role chunk");
    assert_eq!(keys(&ours[1]), keys(&theirs[1]), "content chunk");
    assert_eq!(
        keys(&ours[ours.len() - 2]),
        keys(&theirs[theirs.len() - 2]),
        "finish chunk"
    );
    assert_eq!(
        keys(ours.last().unwrap()),
        keys(theirs.last().unwrap()),
        "usage chunk"
    );
    assert!(body.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn non_streaming_completion_and_auth() {
    let server = server().await;
    let response = chat(&server, &ask("hi", false)).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.contains(r#""object":"chat.completion""#), "{text}");
    assert!(text.contains("mock"));

    let unauthorized = reqwest::Client::new()
        .get(format!("{}/models", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    assert_eq!(server.stats().model_requests, 1);
}

#[tokio::test]
async fn echo_streams_the_message_back_without_its_marker() {
    let server = server().await;
    let body = chat(&server, &ask("[mock:echo] <b>bold</b> and $x$", true))
        .await
        .text()
        .await
        .unwrap();
    #[derive(serde::Deserialize)]
    struct Chunk {
        choices: Vec<Choice>,
    }
    #[derive(serde::Deserialize)]
    struct Choice {
        delta: Delta,
    }
    #[derive(serde::Deserialize)]
    struct Delta {
        content: Option<String>,
    }
    let text: String = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Chunk>(data).ok())
        .flat_map(|c| c.choices)
        .filter_map(|c| c.delta.content)
        .collect();
    assert_eq!(text, "<b>bold</b> and $x$");
}

/// The functions a request offers are billed as prompt tokens by OpenAI's published rule
/// (the messages by theirs), in what the stream reports after the calls.
#[tokio::test]
async fn offered_functions_are_billed_in_the_prompt_by_openais_rule() {
    let server = server().await;
    let parameters = serde_json::json!({
        "type": "object",
        "properties": {"timezone": {"type": "string", "description": "An IANA zone."}},
        "required": ["timezone"]
    });
    let question = r#"Time? [mock:call:get_time {"timezone":"UTC"}]"#;
    let body = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": question}],
        "stream": true,
        "stream_options": {"include_usage": true},
        "tools": [{"type": "function", "function": {
            "name": "get_time", "description": "Current time in a time zone.",
            "parameters": parameters}}]
    });
    let text = chat(&server, &body.to_string()).await.text().await.unwrap();
    assert!(text.contains(r#""finish_reason":"tool_calls""#), "{text}");
    let encoding = tally_spend::Encoding::O200kBase;
    let messages = tally_spend::count_chat_prompt(encoding, [("user", question)]);
    let tools = tally_spend::count_tools(
        encoding,
        &[tally_spend::ToolDefinition {
            name: "get_time",
            description: "Current time in a time zone.",
            parameters: parameters.as_object().unwrap(),
        }],
    );
    assert!(tools > 10, "{tools}");
    assert!(
        text.contains(&format!(r#""prompt_tokens":{}"#, messages + tools)),
        "expected {messages} + {tools} prompt tokens in {text}"
    );
    assert_eq!(server.stats().usage_reported.prompt, messages + tools);
}

/// Asked for a JSON reply (any object, or a schema's), the model answers in a JSON object
/// that carries its reply, on both APIs.
#[tokio::test]
async fn a_json_reply_asked_for_comes_as_an_object() {
    let server = server().await;
    let body = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "In JSON, please."}],
        "stream": true,
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "reply", "strict": false, "schema": {"type": "object"}}}
    });
    let text = chat(&server, &body.to_string()).await.text().await.unwrap();
    assert!(text.contains(r#""content":"{\"answ"#), "{text}");
    let plain = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Plain, please."}],
        "stream": true,
        "response_format": {"type": "text"}
    });
    let text = chat(&server, &plain.to_string())
        .await
        .text()
        .await
        .unwrap();
    assert!(!text.contains(r#"{\"answ"#), "{text}");
    let received = server.requests();
    assert!(received[0].wants_json() && !received[1].wants_json());
}
