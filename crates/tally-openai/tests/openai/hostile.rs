//! Servers that send what no real one does: every value bounded, nothing panics, and what
//! arrived before the fault is kept. Each case is a mock scenario (see `mock_openai`'s
//! hostile steps), table-driven where the checks repeat.

use std::time::Duration;

use mock_openai::MockConfig;
use tally_openai::{ClientConfig, ErrorKind, OpenAiClient, OpenAiError, StreamEvent};

use crate::{ask, key, server};

/// A client that never retries, with a short idle timeout so that the slow cases end soon.
fn impatient(server: &mock_openai::MockServer) -> OpenAiClient {
    let mut config = ClientConfig::new(server.base_url());
    config.retry.max_retries = 0;
    config.idle_timeout = Duration::from_secs(2);
    config.first_token_timeout = Duration::from_secs(2);
    OpenAiClient::new(config).unwrap()
}

/// Reads a stream to its end: the text handed out, and how it ended.
async fn read_all(mut stream: tally_openai::ChatStream) -> (usize, Option<OpenAiError>) {
    let mut text = 0;
    while let Some(event) = stream.next().await {
        match event {
            Ok(StreamEvent::Delta(delta)) => text += delta.len(),
            Ok(_) => {}
            Err(e) => return (text, Some(e)),
        }
    }
    (text, None)
}

#[tokio::test]
async fn a_line_without_end_is_cut_at_its_bound() {
    let server = server(MockConfig::default()).await;
    let stream = impatient(&server)
        .stream_chat(Some(&key()), &ask("[mock:endless-line]"), |_| {})
        .await
        .unwrap();
    let (text, ended) = read_all(stream).await;
    assert_eq!(text, 0);
    assert!(
        matches!(ended, Some(OpenAiError::TooLarge("a line"))),
        "{ended:?}"
    );
}

#[tokio::test]
async fn a_reply_without_end_is_cut_at_its_bound_with_its_text_so_far() {
    let server = server(MockConfig::default()).await;
    let stream = impatient(&server)
        .stream_chat(Some(&key()), &ask("[mock:endless-reply]"), |_| {})
        .await
        .unwrap();
    let (text, ended) = read_all(stream).await;
    assert!(
        matches!(ended, Some(OpenAiError::TooLarge("a reply"))),
        "{ended:?}"
    );
    assert!(
        text > tally_openai::MAX_REPLY_BYTES - 20_000 && text <= tally_openai::MAX_REPLY_BYTES,
        "{text}"
    );
}

/// Error bodies that are huge or never finish are read only so far, for only so long:
/// the request fails as a server error, in bounded time.
#[tokio::test]
async fn huge_and_endless_error_bodies_are_bounded_in_size_and_time() {
    let server = server(MockConfig::default()).await;
    for scenario in ["huge-error", "endless-error"] {
        let started = std::time::Instant::now();
        let error = match impatient(&server)
            .stream_chat(Some(&key()), &ask(&format!("[mock:{scenario}]")), |_| {})
            .await
        {
            Ok(_) => panic!("{scenario}: a 500 was taken for a reply"),
            Err(e) => e,
        };
        assert_eq!(
            error.kind(),
            ErrorKind::ServerError,
            "{scenario}: {error:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{scenario} took {:?}",
            started.elapsed()
        );
    }
}

/// No redirect is followed (the key would go along); the error names where it pointed.
#[tokio::test]
async fn a_redirect_is_an_error_that_names_the_address() {
    let server = server(MockConfig::default()).await;
    let error = match impatient(&server)
        .stream_chat(Some(&key()), &ask("[mock:redirect]"), |_| {})
        .await
    {
        Ok(_) => panic!("a redirect was followed"),
        Err(e) => e,
    };
    match error {
        OpenAiError::Redirected(to) => assert_eq!(to, "http://127.0.0.1:9/v1/chat/completions"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.stats().chat_requests, 1);
}

/// A `retry-after` too large for any clock does not panic: Tally waits its own backoff.
#[tokio::test]
async fn an_absurd_retry_after_falls_back_to_the_own_backoff() {
    let server = server(MockConfig::default()).await;
    let mut config = ClientConfig::new(server.base_url());
    config.retry.initial_backoff = Duration::from_millis(10);
    let client = OpenAiClient::new(config).unwrap();
    for value in ["1e300", "inf", "-1", "99999999999999999999999"] {
        let mut delays = Vec::new();
        let scenario = format!("[mock:retry-after-raw:{value},ok]");
        client
            .stream_chat(Some(&key()), &ask(&scenario), |event| {
                if let tally_openai::ClientEvent::Retrying(notice) = event {
                    delays.push(notice.delay);
                }
            })
            .await
            .unwrap_or_else(|e| panic!("{value}: {e:?}"));
        assert_eq!(delays.len(), 1, "{value}");
        assert!(
            delays[0] <= Duration::from_millis(10),
            "{value}: {delays:?}"
        );
    }
}
