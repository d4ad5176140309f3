//! The SSE parser on recorded bodies, however the network splits them.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use proptest::prelude::*;
use tally_openai::{ChatStream, OpenAiError, StreamEvent, StreamTimeouts, ToolCall};

/// Everything a stream yields: its events, the error that ended it, its tool calls.
type Outcome = (Vec<StreamEvent>, Option<String>, Vec<ToolCall>);

fn parse(chunks: Vec<Vec<u8>>) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let body = stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, OpenAiError>(Bytes::from(c))),
        );
        let mut stream = ChatStream::from_byte_stream(
            body,
            StreamTimeouts {
                first_token: Duration::from_secs(5),
                idle: Duration::from_secs(5),
            },
            None,
        );
        let mut events = Vec::new();
        let mut error = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(e) => events.push(e),
                Err(e) => error = Some(format!("{:?}", e.kind())),
            }
        }
        (events, error, stream.tool_calls().to_vec())
    })
}

fn recorded(name: &str) -> String {
    mock_openai::wire_file(name).unwrap().body
}

/// The same stream written the other ways servers and proxies write SSE.
fn variants(body: &str) -> Vec<String> {
    let crlf = body.replace('\n', "\r\n");
    let keep_alive = body.replace("\n\n", "\n\n: keep-alive\n\n");
    // One JSON object spread over two `data:` lines (joined with a newline, still JSON).
    let multi_line = body.replace(",\"object\":", ",\ndata: \"object\":");
    vec![body.to_string(), crlf, keep_alive, multi_line]
}

fn split_at(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        chunks.push(bytes[start..cut].to_vec());
        start = cut;
    }
    chunks
}

#[test]
fn recorded_streams_parse_in_every_variant() {
    let basic = parse(vec![recorded("stream-basic").into_bytes()]);
    let text: String = basic
        .0
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Hello! How can I help you today? Привет 👋");
    assert!(basic.1.is_none());
    for variant in variants(&recorded("stream-basic")) {
        assert_eq!(
            parse(vec![variant.clone().into_bytes()]),
            basic,
            "{variant}"
        );
    }

    let (_, error, calls) = parse(vec![recorded("stream-tool-calls").into_bytes()]);
    assert!(error.is_none());
    assert_eq!(
        calls,
        [
            ToolCall {
                index: 0,
                id: "call_Qx81".into(),
                name: "get_current_time".into(),
                arguments: r#"{"timezone": "Europe/Paris"}"#.into(),
            },
            ToolCall {
                index: 1,
                id: "call_Zr22".into(),
                name: "calculate".into(),
                arguments: r#"{"expression":"17*23"}"#.into(),
            },
        ]
    );

    // A body that ends without [DONE] is a dropped connection.
    let (_, error, _) = parse(vec![recorded("stream-no-usage").into_bytes()]);
    assert_eq!(error.as_deref(), Some("Network"));
    let (_, error, _) = parse(vec![recorded("stream-error-midstream").into_bytes()]);
    assert_eq!(error.as_deref(), Some("ServerError"));
}

#[test]
fn unknown_fields_and_garbage() {
    let extra = "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\",\"new_field\":{\"a\":1}},\"brand_new\":true}],\"future\":[1,2]}\n\ndata: [DONE]\n\n";
    let (events, error, _) = parse(vec![extra.as_bytes().to_vec()]);
    assert_eq!(events, [StreamEvent::Delta("hi".into())]);
    assert!(error.is_none());
    let (_, error, _) = parse(vec![b"data: {not json\n\n".to_vec()]);
    assert_eq!(error.as_deref(), Some("InvalidResponse"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any split of the bytes, including inside a UTF-8 character or a CRLF pair, yields
    /// the same events as the whole body at once.
    #[test]
    fn any_split_yields_the_same_events(
        name in prop::sample::select(vec!["stream-basic", "stream-length", "stream-tool-calls", "stream-error-midstream", "stream-no-usage"]),
        variant in 0usize..4,
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let body = variants(&recorded(name)).swap_remove(variant).into_bytes();
        let whole = parse(vec![body.clone()]);
        prop_assert_eq!(parse(split_at(&body, &cuts)), whole);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever a server sends (arbitrary bytes, SSE-shaped lines with any JSON or none,
    /// chunks with absurd values), the stream ends with events or an error and never
    /// panics; every text it hands out came from the body.
    #[test]
    fn any_body_ends_without_a_panic(
        pieces in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..200),
                "data: [^\n]{0,200}\n\n".prop_map(String::into_bytes),
                (any::<i64>(), any::<u64>(), "[a-z\\\\\"]{0,12}").prop_map(|(index, tokens, text)| format!(
                    "data: {{\"choices\":[{{\"index\":{index},\"delta\":{{\"content\":\"{text}\",\"tool_calls\":[{{\"index\":{tokens},\"function\":{{\"arguments\":\"{text}\"}}}}]}},\"finish_reason\":null}}],\"usage\":{{\"prompt_tokens\":{tokens},\"completion_tokens\":{tokens},\"total_tokens\":{tokens}}}}}\n\n"
                ).into_bytes()),
                Just(b"data: [DONE]\n\n".to_vec()),
                Just(b"event: error\ndata: {\"error\":{\"message\":null,\"type\":7}}\n\n".to_vec()),
            ],
            0..20,
        ),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let body: Vec<u8> = pieces.concat();
        let (events, _, _) = parse(split_at(&body, &cuts));
        let text = String::from_utf8_lossy(&body);
        for event in events {
            if let StreamEvent::Delta(delta) = event {
                prop_assert!(text.contains(delta.as_str()) || delta.contains('\\'), "{delta:?}");
            }
        }
    }
}
