//! Arbitrary bytes, split into arbitrary network chunks, through the SSE stream parser:
//! it may report errors, never panic or hang.
#![no_main]

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use libfuzzer_sys::fuzz_target;
use tally_openai::{ChatStream, OpenAiError, StreamTimeouts};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, so splits inside lines and characters are tried.
    let Some((&size, body)) = data.split_first() else {
        return;
    };
    let size = usize::from(size).max(1);
    let chunks: Vec<Result<Bytes, OpenAiError>> = body
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let timeouts = StreamTimeouts {
            first_token: Duration::from_secs(1),
            idle: Duration::from_secs(1),
        };
        let mut parsed = ChatStream::from_byte_stream(stream::iter(chunks), timeouts, None);
        while let Some(event) = parsed.next().await {
            if event.is_err() {
                break;
            }
        }
        let _ = parsed.tool_calls();
    });
});
