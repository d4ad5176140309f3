use std::time::Duration;

use mock_openai::MockConfig;
use tally_openai::{Attempt, ClientEvent, ErrorKind, RetryNotice};

use crate::{ask, key, quick_retrying_client, server};

/// Collects what the client reports.
#[derive(Default)]
struct Seen {
    notices: Vec<RetryNotice>,
    failed: Vec<Attempt>,
}

impl Seen {
    fn observe(&mut self) -> impl FnMut(ClientEvent<'_>) + '_ {
        |event| match event {
            ClientEvent::Retrying(n) => self.notices.push(n.clone()),
            ClientEvent::AttemptFailed(a) => self.failed.push(a.clone()),
            ClientEvent::Adapted(a) => panic!("nothing to adapt here: {a:?}"),
        }
    }
}

#[tokio::test]
async fn server_errors_are_retried_until_one_succeeds() {
    let server = server(MockConfig::default()).await;
    let client = quick_retrying_client(&server);
    let mut seen = Seen::default();
    let stream = client
        .stream_chat(Some(&key()), &ask("[mock:error-500*2]"), seen.observe())
        .await
        .unwrap();
    assert_eq!(server.stats().chat_requests, 3);
    // Every attempt is accounted for: two failures, then the stream's own.
    assert_eq!(
        seen.failed.iter().map(|a| a.number).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(seen.failed.iter().all(|a| a.status == Some(500)
        && a.request_id.as_deref() == Some("req_500x0001")
        && a.error_kind == Some(ErrorKind::ServerError)));
    assert_eq!(stream.attempt().number, 3);
    assert_eq!(stream.attempt().status, Some(200));
    assert_eq!(stream.attempt().rate_limits.remaining_requests, Some(4999));
    let notices = seen.notices;
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
    let mut seen = Seen::default();
    let error = client
        .stream_chat(
            Some(&key()),
            &ask("[mock:error-502-html*9]"),
            seen.observe(),
        )
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::ServerError);
    assert_eq!(seen.notices.len(), 2);
    assert_eq!(seen.failed.len(), 3);
    assert!(
        seen.failed
            .iter()
            .all(|a| a.status == Some(502) && a.request_id.is_none())
    );
    assert_eq!(server.stats().chat_requests, 3);
}

#[tokio::test]
async fn the_server_delay_is_honoured() {
    let server = server(MockConfig::default()).await;
    let client = quick_retrying_client(&server);
    let mut seen = Seen::default();
    let started = std::time::Instant::now();
    client
        .stream_chat(
            Some(&key()),
            &ask("[mock:error-429-rate-limit*1]"),
            seen.observe(),
        )
        .await
        .unwrap();
    assert_eq!(seen.failed[0].rate_limits.remaining_tokens, Some(0));
    assert_eq!(
        seen.failed[0].rate_limits.reset_tokens.as_deref(),
        Some("1.5s")
    );
    assert_eq!(
        seen.failed[0].error_code.as_deref(),
        Some("rate_limit_exceeded")
    );
    assert_eq!(seen.notices.len(), 1);
    assert_eq!(
        seen.notices[0].delay,
        Duration::from_millis(1500),
        "retry-after-ms wins"
    );
    assert_eq!(seen.notices[0].kind, ErrorKind::RateLimited);
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
        let mut seen = Seen::default();
        let result = client
            .stream_chat(
                Some(&key()),
                &ask(&format!("[mock:{name}]")),
                seen.observe(),
            )
            .await;
        assert!(result.is_err(), "{name}");
        assert!(seen.notices.is_empty(), "{name}");
        assert_eq!(seen.failed.len(), 1, "{name}");
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
    let mut seen = Seen::default();
    let error = client
        .stream_chat(Some(&key()), &ask("hi"), seen.observe())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::Network);
    let kinds: Vec<_> = seen.notices.iter().map(|n| n.kind).collect();
    assert_eq!(kinds, [ErrorKind::Network, ErrorKind::Network]);
    assert!(seen.failed.iter().all(|a| a.status.is_none()));
}

#[tokio::test]
async fn a_refused_parameter_is_adapted_once_and_reported() {
    use tally_openai::{Adaptation, Capabilities, RequestOptions};
    let server = server(MockConfig::default()).await;
    let client = quick_retrying_client(&server);
    // A reasoning model asked with a chat model's parameters (as for an unknown model).
    let options = RequestOptions {
        max_output_tokens: Some(300),
        temperature: Some(0.7),
        ..RequestOptions::default()
    };
    let request = ask("hi").with_options(&options, Capabilities::for_reasoning(false));
    let request = tally_openai::ChatRequest {
        model: "o4-mini".into(),
        ..request
    };
    let mut learned = Vec::new();
    let mut failed = 0;
    client
        .stream_chat(Some(&key()), &request, |event| match event {
            ClientEvent::Adapted(a) => learned.push(a),
            ClientEvent::AttemptFailed(_) => failed += 1,
            ClientEvent::Retrying(_) => panic!("adaptation is not a retry"),
        })
        .await
        .unwrap();
    assert_eq!(
        learned,
        [Adaptation::UseMaxCompletionTokens, Adaptation::NoSampling]
    );
    assert_eq!(failed, 2);
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    let last = &sent[2];
    assert_eq!(
        (
            last.max_tokens,
            last.max_completion_tokens,
            last.temperature
        ),
        (None, Some(300), None)
    );

    // With the table's capabilities, the first request is already right.
    let right = ask("hi").with_options(&options, Capabilities::for_reasoning(true));
    let right = tally_openai::ChatRequest {
        model: "o4-mini".into(),
        ..right
    };
    client
        .stream_chat(Some(&key()), &right, |_| {})
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 4);
}
