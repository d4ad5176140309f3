use std::time::Duration;

use mock_openai::MockConfig;
use tally_openai::{ChatMessage, ChatRequest, ErrorKind, RetryNotice, Role};

use crate::{key, quick_retrying_client, server};

fn ask(text: &str) -> ChatRequest {
    ChatRequest::streaming(
        "gpt-4o-mini",
        vec![ChatMessage {
            role: Role::User,
            content: text.into(),
        }],
    )
}

#[tokio::test]
async fn server_errors_are_retried_until_one_succeeds() {
    let server = server(MockConfig::default()).await;
    let client = quick_retrying_client(&server);
    let mut notices: Vec<RetryNotice> = Vec::new();
    let stream = client
        .stream_chat(&key(), &ask("[mock:error-500*2]"), |n| {
            notices.push(n.clone())
        })
        .await;
    assert!(stream.is_ok());
    assert_eq!(server.stats().chat_requests, 3);
    assert_eq!(
        notices.iter().map(|n| n.attempt).collect::<Vec<_>>(),
        [2, 3]
    );
    assert!(notices.iter().all(|n| n.kind == ErrorKind::ServerError));
    // min(20 ms · 2ⁿ) · (1 − 0.25 · jitter)
    assert!(
        notices[0].delay <= Duration::from_millis(20)
            && notices[0].delay >= Duration::from_millis(15)
    );
    assert!(
        notices[1].delay <= Duration::from_millis(40)
            && notices[1].delay >= Duration::from_millis(30)
    );
}

#[tokio::test]
async fn retries_give_up_after_two() {
    let server = server(MockConfig::default()).await;
    let client = quick_retrying_client(&server);
    let mut notices = 0;
    let error = client
        .stream_chat(&key(), &ask("[mock:error-502-html*9]"), |_| notices += 1)
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::ServerError);
    assert_eq!(notices, 2);
    assert_eq!(server.stats().chat_requests, 3);
}

#[tokio::test]
async fn the_server_delay_is_honoured() {
    let server = server(MockConfig::default()).await;
    let client = quick_retrying_client(&server);
    let mut notices: Vec<RetryNotice> = Vec::new();
    let started = std::time::Instant::now();
    client
        .stream_chat(&key(), &ask("[mock:error-429-rate-limit*1]"), |n| {
            notices.push(n.clone())
        })
        .await
        .unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].delay,
        Duration::from_millis(1500),
        "retry-after-ms wins"
    );
    assert_eq!(notices[0].kind, ErrorKind::RateLimited);
    assert!(started.elapsed() >= Duration::from_millis(1500));
}

#[tokio::test]
async fn billing_and_client_errors_are_never_retried() {
    let server = server(MockConfig::default()).await;
    let client = quick_retrying_client(&server);
    for name in [
        "error-429-insufficient-quota",
        "error-429-spend-limit",
        "error-401-invalid-key",
        "error-400-context-length",
        "error-404-model",
    ] {
        let before = server.stats().chat_requests;
        let mut retried = false;
        let result = client
            .stream_chat(&key(), &ask(&format!("[mock:{name}]")), |_| retried = true)
            .await;
        assert!(result.is_err(), "{name}");
        assert!(!retried, "{name}");
        assert_eq!(server.stats().chat_requests, before + 1, "{name}");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = tally_openai::ClientConfig::new(format!("http://127.0.0.1:{port}/v1"));
    config.retry.initial_backoff = Duration::from_millis(5);
    let client = tally_openai::OpenAiClient::new(config).unwrap();
    let mut notices = Vec::new();
    let error = client
        .stream_chat(&key(), &ask("hi"), |n| notices.push(n.kind))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::Network);
    assert_eq!(notices, [ErrorKind::Network, ErrorKind::Network]);
}
