//! The Responses API against the mock: the shared transcripts replayed byte for byte, and
//! generated streams in the same shapes with the faults of Chat Completions.

use std::time::Duration;

use mock_openai::MockConfig;
use tally_openai::{
    Api, ChatStream, Citation, ClientConfig, ErrorKind, FinishReason, OpenAiClient, OpenAiError,
    StreamEvent, Usage,
};

use crate::{ask, client, key, server};

/// Everything a stream brought, and the error that ended it.
#[derive(Debug, Default)]
struct Drained {
    text: String,
    thinking: String,
    searches: Vec<Option<String>>,
    citations: Vec<Citation>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    error: Option<OpenAiError>,
}

async fn drain(stream: &mut ChatStream) -> Drained {
    let mut drained = Drained::default();
    while let Some(event) = stream.next().await {
        match event {
            Ok(StreamEvent::Delta(text)) => drained.text.push_str(&text),
            Ok(StreamEvent::Thinking(text)) => drained.thinking.push_str(&text),
            Ok(StreamEvent::Searching { query }) => drained.searches.push(query),
            Ok(StreamEvent::Citation(citation)) => drained.citations.push(citation),
            Ok(StreamEvent::Finished(reason)) => drained.finish = Some(reason),
            Ok(StreamEvent::Usage(usage)) => drained.usage = Some(usage),
            Err(error) => {
                drained.error = Some(error);
                break;
            }
        }
    }
    drained
}

async fn stream_of(client: &OpenAiClient, model: &str, text: &str) -> ChatStream {
    let mut request = ask(text);
    request.model = model.into();
    client
        .stream(Some(&key()), Api::Responses, &request, |_| {})
        .await
        .unwrap()
}

#[tokio::test]
async fn a_generated_reply_streams_in_pieces_and_nothing_is_stored() {
    let reply = "Hello over Responses! Привет 👋 — in several pieces.";
    let server = server(MockConfig {
        reply: reply.into(),
        chunk_chars: 5,
        delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let mut stream = stream_of(&client(&server), "gpt-5.4-mini", "hi").await;
    assert_eq!(stream.api(), Api::Responses);
    let drained = drain(&mut stream).await;
    assert!(drained.error.is_none(), "{:?}", drained.error);
    assert_eq!(drained.text, reply);
    assert_eq!(drained.finish, Some(FinishReason::Stop));
    let usage = drained.usage.expect("usage in response.completed");
    assert!(usage.prompt_tokens > 0 && usage.reasoning_tokens() > 0);
    // A reasoning model's item comes back with its encrypted content, to send again.
    assert_eq!(stream.reasoning_items().len(), 1);
    assert!(!stream.reasoning_items()[0].encrypted_content.is_empty());
    let received = &server.requests()[0];
    assert!(received.responses);
    assert_eq!(received.store, Some(false));
    assert_eq!(received.include, ["reasoning.encrypted_content"]);
    assert_eq!(server.stats().streams_completed, 1);
}

/// Each shared transcript: (name, text, finish reason, error kind, usage as
/// (input, cached, cache writes, output, reasoning), reasoning items, web searches, the
/// function calls as (call id, name, arguments)).
#[tokio::test]
async fn every_recorded_responses_stream_reads_as_the_api_meant_it() {
    type Case = (
        &'static str,
        &'static str,
        Option<FinishReason>,
        Option<ErrorKind>,
        Option<(u64, u64, u64, u64, u64)>,
        usize,
        u32,
        &'static [(&'static str, &'static str, &'static str)],
    );
    let cases: Vec<Case> = vec![
        (
            "responses-stream-basic",
            "Hello! How can I help you today? Привет 👋",
            Some(FinishReason::Stop),
            None,
            Some((31, 0, 0, 77, 64)),
            1,
            0,
            &[],
        ),
        (
            "responses-stream-reasoning-summary",
            "1 March 2027 is a Monday.",
            Some(FinishReason::Stop),
            None,
            Some((2140, 2048, 0, 412, 380)),
            1,
            0,
            &[],
        ),
        (
            "responses-stream-web-search",
            "Tram 28 runs every 10–12 minutes from about 06:00 to 23:00 ([carris.pt](https://www.carris.pt/)).",
            Some(FinishReason::Stop),
            None,
            Some((8412, 0, 8192, 96, 0)),
            0,
            1,
            &[],
        ),
        (
            "responses-stream-function-call",
            "",
            Some(FinishReason::ToolCalls),
            None,
            Some((118, 0, 0, 40, 18)),
            1,
            0,
            &[(
                "call_Q2xh8fVb1",
                "get_time",
                r#"{"timezone":"Europe/Lisbon"}"#,
            )],
        ),
        (
            "responses-stream-incomplete",
            "Once upon a time in a small town by the sea, there",
            Some(FinishReason::Length),
            None,
            Some((22, 0, 0, 16, 0)),
            0,
            0,
            &[],
        ),
        (
            "responses-stream-failed",
            "The first part of the answer",
            None,
            Some(ErrorKind::ServerError),
            None,
            0,
            0,
            &[],
        ),
        (
            "responses-stream-error-event",
            "Partial",
            None,
            Some(ErrorKind::ServerError),
            None,
            0,
            0,
            &[],
        ),
    ];
    let recorded = mock_openai::wire_names()
        .filter(|n| n.starts_with("responses-stream-"))
        .count();
    assert_eq!(recorded, cases.len(), "a recorded stream has no case");
    let server = server(MockConfig {
        delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let client = client(&server);
    for (name, text, finish, error, usage, items, searches, calls) in cases {
        let mut stream = stream_of(&client, "gpt-5.4-mini", &format!("[mock:{name}]")).await;
        let drained = drain(&mut stream).await;
        assert_eq!(drained.text, text, "{name}");
        assert_eq!(drained.finish, finish, "{name}");
        assert_eq!(
            drained.error.as_ref().map(OpenAiError::kind),
            error,
            "{name}"
        );
        let counts = drained.usage.map(|u| {
            (
                u.prompt_tokens,
                u.cached_tokens(),
                u.cache_write_tokens(),
                u.completion_tokens,
                u.reasoning_tokens(),
            )
        });
        assert_eq!(counts, usage, "{name}");
        assert_eq!(stream.reasoning_items().len(), items, "{name}");
        let made: Vec<_> = stream
            .tool_calls()
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.as_str()))
            .collect();
        assert_eq!(made, calls, "{name}");
        assert_eq!(stream.web_searches(), searches, "{name}");
    }
    let mut summary = stream_of(
        &client,
        "gpt-5.4-mini",
        "[mock:responses-stream-reasoning-summary]",
    )
    .await;
    let streamed = drain(&mut summary).await;
    let thinking = "**Checking the dates**\n\nThe user asks which weekday 1 March 2027 falls on.";
    assert_eq!(streamed.thinking, thinking, "streamed as it came");

    let mut searched = stream_of(
        &client,
        "gpt-5.4-mini",
        "[mock:responses-stream-web-search]",
    )
    .await;
    let streamed = drain(&mut searched).await;
    assert_eq!(
        streamed.searches,
        [Some("Lisbon tram 28 timetable 2026".to_string())]
    );
    assert_eq!(
        streamed.citations,
        [Citation {
            url: "https://www.carris.pt/".into(),
            title: "Carris — Lisbon public transport".into(),
        }]
    );
    // The search is news, not the reply: the first token is the first piece of text.
    assert!(searched.first_token_after().is_some());
}

#[tokio::test]
async fn web_search_is_offered_capped_and_its_sources_come_with_the_reply() {
    let server = server(MockConfig {
        reply: "Here is what I found.".into(),
        delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let mut request = ask("What is new in Lisbon?");
    request.model = "gpt-5.4-mini".into();
    request.web_searches = Some(2);
    let mut stream = client(&server)
        .stream(Some(&key()), Api::Responses, &request, |_| {})
        .await
        .unwrap();
    let drained = drain(&mut stream).await;
    assert!(drained.error.is_none(), "{:?}", drained.error);
    assert_eq!(
        drained.searches,
        [Some("What is new in Lisbon?".to_string())]
    );
    assert_eq!(stream.web_searches(), 1, "one billed call");
    assert_eq!(
        drained.citations,
        [Citation {
            url: mock_openai::MOCK_SOURCE_URL.into(),
            title: mock_openai::MOCK_SOURCE_TITLE.into(),
        }]
    );
    assert!(
        drained
            .text
            .starts_with("Here is what I found. ([example.org](")
    );
    let usage = drained.usage.unwrap();
    assert!(usage.prompt_tokens > mock_openai::SEARCH_CONTENT_TOKENS);
    let received = &server.requests()[0];
    assert!(received.web_search);
    assert_eq!(received.max_tool_calls, Some(2));

    // Without the switch, no tool is offered and nothing is searched.
    let mut request = ask("What is new in Lisbon?");
    request.model = "gpt-5.4-mini".into();
    let mut stream = client(&server)
        .stream(Some(&key()), Api::Responses, &request, |_| {})
        .await
        .unwrap();
    let drained = drain(&mut stream).await;
    assert!(drained.searches.is_empty() && drained.citations.is_empty());
    assert_eq!(stream.web_searches(), 0);
    assert!(!server.requests()[1].web_search);
}

/// What a hostile or careless server may cite: only an http(s) address Tally can open is
/// kept, bounded; a missing title shows the address.
#[test]
fn only_web_addresses_are_kept_as_sources() {
    let long_url = format!("https://example.org/{}", "a".repeat(3000));
    let long_title = "t".repeat(1000);
    /// (url, title, kept: the title's start and its length in characters)
    type Case<'a> = (&'a str, Option<&'a str>, Option<(&'a str, usize)>);
    let cases: &[Case] = &[
        (
            "https://example.org/",
            Some("Example"),
            Some(("Example", 7)),
        ),
        (
            "HTTP://EXAMPLE.ORG/",
            None,
            Some(("HTTP://EXAMPLE.ORG/", 19)),
        ),
        (
            "https://example.org/",
            Some("  two\n words "),
            Some(("two words", 9)),
        ),
        (
            "https://example.org/",
            Some(&long_title),
            Some(("ttt", 300)),
        ),
        ("javascript:alert(1)", Some("x"), None),
        ("file:///etc/passwd", Some("x"), None),
        ("https://exa mple.org/", Some("x"), None),
        ("https://example.org/\u{7}", Some("x"), None),
        (&long_url, Some("x"), None),
        ("", None, None),
    ];
    for (url, title, expected) in cases {
        let kept = Citation::checked(url.to_string(), title.map(str::to_string));
        match (kept, expected) {
            (None, None) => {}
            (Some(c), Some((starts, chars))) => {
                assert!(c.title.starts_with(starts), "{url}: {}", c.title);
                assert_eq!(c.title.chars().count(), *chars, "{url}");
                assert_eq!(c.url, *url);
            }
            (kept, expected) => panic!("{url}: kept {kept:?}, expected {expected:?}"),
        }
    }
}

#[tokio::test]
async fn chat_completions_refuses_a_responses_only_model_with_the_real_404() {
    let server = server(MockConfig::default()).await;
    let mut request = ask("hello");
    request.model = "gpt-5.5-pro".into();
    let error = client(&server)
        .stream_chat(Some(&key()), &request, |_| {})
        .await
        .err()
        .expect("refused");
    assert_eq!(error.kind(), ErrorKind::ResponsesOnly);
    // The same model over Responses answers.
    let mut stream = stream_of(&client(&server), "gpt-5.5-pro", "hello").await;
    assert!(drain(&mut stream).await.error.is_none());
}

/// The faults of Chat Completions, over Responses: a retried rate limit, a dropped
/// connection, a line that is not JSON, and silence, each ending as it should with the
/// text that came before it kept.
#[tokio::test]
async fn the_fault_matrix_holds_for_responses() {
    let server = server(MockConfig {
        reply: "one two three four five six seven".into(),
        chunk_chars: 4,
        // Pieces a moment apart, so the headers are out before a connection breaks.
        delay: Duration::from_millis(5),
        ..Default::default()
    })
    .await;
    let retrying = crate::quick_retrying_client(&server);
    let mut stream = stream_of(&retrying, "gpt-4o-mini", "[mock:error-429-rate-limit*1] hi").await;
    assert_eq!(
        drain(&mut stream).await.text,
        "one two three four five six seven"
    );

    let client = client(&server);
    let dropped = drain(&mut stream_of(&client, "gpt-4o-mini", "[mock:drop-after:2]").await).await;
    assert_eq!(dropped.text, "one two ");
    assert!(
        matches!(dropped.error, Some(OpenAiError::Dropped)),
        "{dropped:?}"
    );

    let garbage = drain(&mut stream_of(&client, "gpt-4o-mini", "[mock:garbage]").await).await;
    assert_eq!(garbage.text, "one two ");
    assert_eq!(
        garbage.error.map(|e| e.kind()),
        Some(ErrorKind::InvalidResponse)
    );

    let mut config = ClientConfig::new(server.base_url());
    config.idle_timeout = Duration::from_millis(200);
    config.first_token_timeout = Duration::from_millis(200);
    let impatient = OpenAiClient::new(config).unwrap();
    let stalled = drain(&mut stream_of(&impatient, "gpt-4o-mini", "[mock:stall]").await).await;
    assert_eq!(stalled.text, "one two ");
    assert!(
        matches!(stalled.error, Some(OpenAiError::Timeout(_))),
        "{stalled:?}"
    );
    let silent = drain(&mut stream_of(&impatient, "gpt-5.4-mini", "[mock:silent]").await).await;
    assert_eq!(silent.text, "");
    assert!(
        matches!(silent.error, Some(OpenAiError::Timeout(_))),
        "{silent:?}"
    );
}

/// A tool loop's two rounds on each API: offered a function, the model calls it (the mock
/// as a scenario says); the call and its result sent back, the reply quotes the result.
#[tokio::test]
async fn a_function_call_and_its_result_make_a_round_trip_on_both_apis() {
    let server = server(MockConfig {
        delay: Duration::ZERO,
        chunk_chars: 3,
        ..Default::default()
    })
    .await;
    let client = client(&server);
    let tool = tally_openai::ChatTool {
        function: tally_openai::FunctionTool {
            name: "get_time".into(),
            description: "Current time in a time zone".into(),
            parameters: serde_json::json!({"type": "object", "properties": {"timezone": {"type": "string"}}})
                .as_object()
                .cloned()
                .unwrap(),
        },
    };
    for (api, model) in [
        (Api::ChatCompletions, "gpt-4o-mini"),
        (Api::Responses, "gpt-5.4-mini"),
    ] {
        let mut request = ask(r#"What time is it? [mock:call:get_time {"timezone":"UTC"}]"#);
        request.model = model.into();
        request.tools = vec![tool.clone()];
        let mut stream = client
            .stream(Some(&key()), api, &request, |_| {})
            .await
            .unwrap();
        let first = drain(&mut stream).await;
        assert!(first.error.is_none(), "{api:?}: {:?}", first.error);
        assert_eq!(first.finish, Some(FinishReason::ToolCalls), "{api:?}");
        assert_eq!(first.text, "", "{api:?}");
        let calls = stream.tool_calls().to_vec();
        assert_eq!(calls.len(), 1, "{api:?}");
        assert_eq!(
            (calls[0].name.as_str(), calls[0].arguments.as_str()),
            ("get_time", r#"{"timezone":"UTC"}"#),
            "{api:?}: the arguments, merged from their pieces"
        );
        let usage = first.usage.expect("a call round is billed");
        assert!(usage.completion_tokens > 0, "{api:?}");

        request.messages.push(tally_openai::ChatMessage {
            tool_calls: calls.iter().map(Into::into).collect(),
            ..tally_openai::ChatMessage::new(tally_openai::Role::Assistant, "")
        });
        request
            .messages
            .push(tally_openai::ChatMessage::tool_result(
                &calls[0].id,
                "12:00 UTC",
            ));
        let mut stream = client
            .stream(Some(&key()), api, &request, |_| {})
            .await
            .unwrap();
        let second = drain(&mut stream).await;
        assert_eq!(second.text, "The tool answered: 12:00 UTC", "{api:?}");
        assert_eq!(second.finish, Some(FinishReason::Stop), "{api:?}");
        let received = server.requests().pop().unwrap();
        assert_eq!(received.functions[0].name, "get_time", "{api:?}");
        assert_eq!(received.messages.last().unwrap().role, "tool", "{api:?}");
    }
}
