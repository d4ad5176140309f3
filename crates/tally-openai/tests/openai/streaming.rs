use std::time::Duration;

use mock_openai::MockConfig;
use tally_openai::{ClientConfig, ErrorKind, FinishReason, OpenAiClient, OpenAiError, StreamEvent};

use crate::{ask, client, key, server};

/// Collects a whole stream: text, finish reason, usage, and the error that ended it.
async fn drain(
    stream: &mut tally_openai::ChatStream,
) -> (
    String,
    Option<FinishReason>,
    Option<tally_openai::Usage>,
    Option<OpenAiError>,
    usize,
) {
    let (mut text, mut finish, mut usage, mut deltas) = (String::new(), None, None, 0);
    while let Some(event) = stream.next().await {
        match event {
            Ok(StreamEvent::Delta(t)) => {
                deltas += 1;
                text.push_str(&t)
            }
            Ok(StreamEvent::Finished(r)) => finish = Some(r),
            Ok(StreamEvent::Usage(u)) => usage = Some(u),
            Ok(StreamEvent::Thinking(t)) => panic!("Chat Completions brought thinking: {t}"),
            Ok(other @ (StreamEvent::Searching { .. } | StreamEvent::Citation(_))) => {
                panic!("Chat Completions brought {other:?}")
            }
            Err(e) => return (text, finish, usage, Some(e), deltas),
        }
    }
    (text, finish, usage, None, deltas)
}

#[tokio::test]
async fn generated_reply_streams_in_pieces_with_usage() {
    let reply = "Hello, world! Привет 👋 — a reply in several pieces.";
    let server = server(MockConfig {
        reply: reply.into(),
        chunk_chars: 5,
        delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let mut stream = client(&server)
        .stream_chat(Some(&key()), &ask("hi"), |_| {})
        .await
        .unwrap();
    assert!(stream.request_id().unwrap().starts_with("req_"));
    let (text, finish, usage, error, deltas) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text, reply);
    assert!(deltas >= 10);
    assert_eq!(finish, Some(FinishReason::Stop));
    let usage = usage.expect("usage chunk");
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    let received = server.requests();
    assert!(received[0].stream_options.unwrap().include_usage);
    assert_eq!(server.stats().streams_completed, 1);
}

#[tokio::test]
async fn recorded_basic_stream() {
    let server = server(MockConfig::default()).await;
    let mut stream = client(&server)
        .stream_chat(Some(&key()), &ask("[mock:stream-basic]"), |_| {})
        .await
        .unwrap();
    assert_eq!(
        stream.request_id(),
        Some("req_7f3c2a91d0b54e6f8a1b2c3d4e5f6a7b")
    );
    let (text, finish, usage, error, _) = drain(&mut stream).await;
    assert!(error.is_none());
    assert_eq!(text, "Hello! How can I help you today? Привет 👋");
    assert_eq!(finish, Some(FinishReason::Stop));
    assert_eq!(usage.unwrap().total_tokens, 36);
}

#[tokio::test]
async fn recorded_length_stream_reports_cached_tokens() {
    let server = server(MockConfig::default()).await;
    let mut stream = client(&server)
        .stream_chat(Some(&key()), &ask("[mock:stream-length]"), |_| {})
        .await
        .unwrap();
    let (_, finish, usage, error, _) = drain(&mut stream).await;
    assert!(error.is_none());
    assert_eq!(finish, Some(FinishReason::Length));
    assert_eq!(usage.unwrap().cached_tokens(), 1024);
}

#[tokio::test]
async fn error_line_mid_stream_keeps_the_partial_text() {
    let server = server(MockConfig::default()).await;
    let mut stream = client(&server)
        .stream_chat(Some(&key()), &ask("[mock:stream-error-midstream]"), |_| {})
        .await
        .unwrap();
    let (text, _, _, error, _) = drain(&mut stream).await;
    assert_eq!(text, "The first half of the answer");
    let error = error.unwrap();
    assert!(
        matches!(
            error,
            OpenAiError::Stream {
                kind: ErrorKind::ServerError,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn dropped_connection_is_reported_after_the_partial_text() {
    let server = server(MockConfig::default()).await;
    let mut stream = client(&server)
        .stream_chat(Some(&key()), &ask("[mock:stream-no-usage]"), |_| {})
        .await
        .unwrap();
    let (text, finish, usage, error, _) = drain(&mut stream).await;
    assert_eq!(text, "This answer stops in the midd");
    assert!(finish.is_none() && usage.is_none());
    assert_eq!(error.unwrap().kind(), ErrorKind::Network);
}

#[tokio::test]
async fn tool_call_stream_is_read_without_text() {
    let server = server(MockConfig::default()).await;
    let mut stream = client(&server)
        .stream_chat(Some(&key()), &ask("[mock:stream-tool-calls]"), |_| {})
        .await
        .unwrap();
    let (text, finish, usage, error, _) = drain(&mut stream).await;
    assert!(error.is_none());
    assert_eq!(text, "");
    assert_eq!(finish, Some(FinishReason::ToolCalls));
    assert_eq!(usage.unwrap().total_tokens, 137);
}

#[tokio::test]
async fn a_stalled_stream_times_out() {
    let server = server(MockConfig {
        delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let mut config = ClientConfig::new(server.base_url());
    config.idle_timeout = Duration::from_millis(300);
    let client = OpenAiClient::new(config).unwrap();
    let mut stream = client
        .stream_chat(Some(&key()), &ask("[mock:stall]"), |_| {})
        .await
        .unwrap();
    let (text, _, _, error, _) = drain(&mut stream).await;
    assert!(!text.is_empty());
    assert_eq!(error.unwrap().kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn a_silent_model_gets_its_first_token_timeout() {
    let server = server(MockConfig {
        delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let mut config = ClientConfig::new(server.base_url());
    config.first_token_timeout = Duration::from_millis(300);
    config.idle_timeout = Duration::from_secs(30);
    let client = OpenAiClient::new(config).unwrap();
    let started = std::time::Instant::now();
    let mut stream = client
        .stream_chat(Some(&key()), &ask("[mock:silent]"), |_| {})
        .await
        .unwrap();
    let (text, _, _, error, _) = drain(&mut stream).await;
    assert!(text.is_empty());
    assert_eq!(error.unwrap().kind(), ErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the idle timeout did not apply"
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let server = server(MockConfig {
        chunk_chars: 1,
        delay: Duration::from_millis(20),
        ..Default::default()
    })
    .await;
    let mut stream = client(&server)
        .stream_chat(Some(&key()), &ask("hi"), |_| {})
        .await
        .unwrap();
    // Read a little, then hang up.
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    drop(stream);
    let stats = server
        .wait_for(Duration::from_secs(5), |s| s.streams_dropped == 1)
        .await;
    assert_eq!(stats.streams_dropped, 1, "{stats:?}");
    assert_eq!(stats.streams_completed, 0);
}

#[tokio::test]
async fn models_are_listed() {
    let server = server(MockConfig::default()).await;
    let models = client(&server).list_models(Some(&key())).await.unwrap();
    assert!(models.data.iter().any(|m| m.id == "gpt-4o-mini"));
}
