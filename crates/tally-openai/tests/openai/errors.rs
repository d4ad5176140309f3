use std::time::Duration;

use mock_openai::MockConfig;
use tally_openai::{ChatRequest, ErrorKind, OpenAiError, SecretString, classify};

use crate::{client, key, server};

fn hello() -> ChatRequest {
    crate::ask("hello")
}

/// Every recorded error response maps to one kind (table-driven over `wire/`).
#[test]
fn classify_every_recorded_error() {
    let cases = [
        ("error-400-context-length", ErrorKind::ContextTooLong),
        (
            "error-400-unsupported-parameter",
            ErrorKind::UnsupportedParameter,
        ),
        (
            "error-400-unsupported-value",
            ErrorKind::UnsupportedParameter,
        ),
        ("error-401-invalid-key", ErrorKind::InvalidKey),
        ("error-404-model", ErrorKind::ModelNotFound),
        ("error-404-responses-only-model", ErrorKind::ResponsesOnly),
        ("error-429-insufficient-quota", ErrorKind::QuotaExhausted),
        ("error-429-rate-limit", ErrorKind::RateLimited),
        ("error-429-spend-limit", ErrorKind::QuotaExhausted),
        ("error-500", ErrorKind::ServerError),
        ("error-502-html", ErrorKind::ServerError),
        ("error-503", ErrorKind::ServerError),
    ];
    let recorded: Vec<_> = mock_openai::wire_names()
        .filter(|n| n.starts_with("error-"))
        .collect();
    assert_eq!(recorded.len(), cases.len(), "a recorded error has no case");
    for (name, expected) in cases {
        let file = mock_openai::wire_file(name).unwrap();
        let (kind, _) = classify(file.status, file.body.as_bytes());
        assert_eq!(kind, expected, "{name}");
    }
}

#[test]
fn classify_bodies_that_are_not_json() {
    let cases: &[(u16, &[u8], ErrorKind)] = &[
        (502, b"", ErrorKind::ServerError),
        (500, b"{not json", ErrorKind::ServerError),
        (401, b"<html>nope</html>", ErrorKind::InvalidKey),
        (429, b"", ErrorKind::RateLimited),
        (400, b"{\"error\":null}", ErrorKind::BadRequest),
        (403, b"{}", ErrorKind::PermissionDenied),
    ];
    for (status, body, expected) in cases {
        assert_eq!(classify(*status, body).0, *expected, "{status}");
    }
}

/// The same, end to end over HTTP: status, request id and retry-after survive.
#[tokio::test]
async fn errors_over_http() {
    let server = server(MockConfig::default()).await;
    let client = crate::client_without_retries(server.base_url());
    for name in mock_openai::wire_names().filter(|n| n.starts_with("error-")) {
        let mut request = hello();
        request.messages[0].content = format!("[mock:{name}]");
        let error = client
            .stream_chat(Some(&key()), &request, |_| {})
            .await
            .err()
            .unwrap();
        let file = mock_openai::wire_file(name).unwrap();
        match &error {
            OpenAiError::Api { status, kind, .. } => {
                assert_eq!(*status, file.status, "{name}");
                assert_eq!(
                    *kind,
                    classify(file.status, file.body.as_bytes()).0,
                    "{name}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
        if name == "error-429-rate-limit" {
            let OpenAiError::Api {
                retry_after,
                request_id,
                ..
            } = &error
            else {
                unreachable!()
            };
            assert_eq!(*retry_after, Some(Duration::from_millis(1500)));
            assert_eq!(request_id.as_deref(), Some("req_rl0001"));
        }
    }
}

#[tokio::test]
async fn wrong_key_is_invalid_key_and_never_echoed() {
    let server = server(MockConfig::default()).await;
    let client = client(&server);
    let wrong = SecretString::from("sk-proj-invalid-000000000000000000".to_string());
    let error = client
        .stream_chat(Some(&wrong), &hello(), |_| {})
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::InvalidKey);
    assert!(!format!("{error} {error:?}").contains("sk-proj"));
    let error = client.list_models(Some(&wrong)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidKey);
}

/// Without a key, a request carries no `Authorization` header at all: a server that asks
/// for none serves it, one that needs a key refuses it as a wrong key.
#[tokio::test]
async fn a_request_without_a_key_has_no_authorization_header() {
    let open = server(MockConfig {
        needs_key: false,
        ..MockConfig::default()
    })
    .await;
    let mut stream = client(&open)
        .stream_chat(None, &hello(), |_| {})
        .await
        .unwrap();
    while let Some(event) = stream.next().await {
        event.unwrap();
    }
    client(&open).list_models(None).await.unwrap();
    assert_eq!(open.stats().keyless_requests, 2);
    client(&open).list_models(Some(&key())).await.unwrap();
    assert_eq!(
        open.stats().keyless_requests,
        2,
        "a key was sent, and counted keyless"
    );

    let closed = server(MockConfig::default()).await;
    let error = client(&closed)
        .stream_chat(None, &hello(), |_| {})
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::InvalidKey);
    assert_eq!(closed.stats().keyless_requests, 1);
}

#[tokio::test]
async fn unreachable_server_is_a_network_error() {
    // Bind and drop to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = crate::client_without_retries(format!("http://127.0.0.1:{port}/v1"));
    let error = client
        .stream_chat(Some(&key()), &hello(), |_| {})
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::Network, "{error:?}");
}

#[test]
fn base_url_must_be_http() {
    for bad in ["", "ftp://x/v1", "not a url", "file:///etc"] {
        let result = tally_openai::OpenAiClient::new(tally_openai::ClientConfig::new(bad));
        assert!(
            matches!(result, Err(OpenAiError::InvalidBaseUrl(_))),
            "{bad}"
        );
    }
}

/// The key goes only over https, or plain http to this computer.
#[test]
fn the_key_goes_only_over_https_or_to_loopback() {
    for (base, allowed) in [
        ("https://api.openai.com/v1", true),
        ("https://gateway.example.com/v1", true),
        ("http://127.0.0.1:4000/v1", true),
        ("http://localhost:11434/v1", true),
        ("http://[::1]:8080/v1", true),
        ("http://ollama.localhost/v1", false),
        ("http://gateway.example.com/v1", false),
        ("http://192.168.1.20:8000/v1", false),
        ("http://127.0.0.1.example.com/v1", false),
    ] {
        let result = tally_openai::OpenAiClient::new(tally_openai::ClientConfig::new(base));
        match result {
            Ok(_) => assert!(allowed, "{base} was allowed"),
            Err(OpenAiError::InsecureBaseUrl(_)) => assert!(!allowed, "{base} was refused"),
            Err(other) => panic!("{base}: {other:?}"),
        }
    }
}
