//! The reply-stream parser's speed: throughput in chunks (Chat Completions) and events
//! (Responses) per second, each against serde_json alone on pre-split lines (the floor), and the latency the client adds between a
//! chunk's bytes arriving and its `Delta` leaving (p50/p99 printed, mean by criterion).
//!
//! `cargo bench -p tally-openai --bench stream`

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::stream;
use tally_openai::{
    ChatChunk, ChatStream, OpenAiError, ResponsesEvent, StreamEvent, StreamTimeouts,
};

const CHUNKS: usize = 10_000;

fn timeouts() -> StreamTimeouts {
    StreamTimeouts {
        first_token: Duration::from_secs(60),
        idle: Duration::from_secs(60),
    }
}

/// One content chunk in the shape of `stream-basic.http`.
fn data_line(i: usize) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-AbC123\",\"object\":\"chat.completion.chunk\",\"created\":1763880000,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" word{i}\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null,\"obfuscation\":\"9sK\"}}\n\n"
    )
}

fn body() -> Vec<u8> {
    let mut body: String = (0..CHUNKS).map(data_line).collect();
    body.push_str("data: [DONE]\n\n");
    body.into_bytes()
}

/// One text delta in the shape of `responses-stream-basic.http`.
fn responses_line(i: usize) -> String {
    format!(
        "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"sequence_number\":{i},\"item_id\":\"msg_b01\",\"output_index\":1,\"content_index\":0,\"delta\":\" word{i}\",\"logprobs\":[],\"obfuscation\":\"q\"}}\n\n"
    )
}

fn responses_body() -> Vec<u8> {
    let mut body: String = (0..CHUNKS).map(responses_line).collect();
    body.push_str("event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":99999,\"response\":{\"status\":\"completed\",\"usage\":{\"input_tokens\":9,\"output_tokens\":10000,\"total_tokens\":10009}}}\n\n");
    body.into_bytes()
}

fn parse_all(runtime: &tokio::runtime::Runtime, body: &[u8], piece: usize) -> usize {
    parse_body(runtime, body, piece, false)
}

fn parse_body(
    runtime: &tokio::runtime::Runtime,
    body: &[u8],
    piece: usize,
    responses: bool,
) -> usize {
    let pieces: Vec<Result<Bytes, OpenAiError>> = body
        .chunks(piece)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    runtime.block_on(async {
        let mut parsed = ChatStream::from_byte_stream(stream::iter(pieces), timeouts(), None);
        if responses {
            parsed = parsed.responses();
        }
        let mut deltas = 0;
        while let Some(event) = parsed.next().await {
            if let StreamEvent::Delta(text) = event.unwrap() {
                deltas += black_box(text).len().min(1);
            }
        }
        deltas
    })
}

fn throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let body = body();
    assert_eq!(parse_all(&runtime, &body, 1400), CHUNKS);
    let lines: Vec<String> = (0..CHUNKS)
        .map(|i| {
            data_line(i)
                .trim_start_matches("data: ")
                .trim_end()
                .to_string()
        })
        .collect();

    let mut group = c.benchmark_group("sse");
    group.throughput(Throughput::Elements(CHUNKS as u64));
    group
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_secs(1));
    group.bench_function("tally_openai ChatStream, 1400-byte network pieces", |b| {
        b.iter(|| parse_all(&runtime, &body, 1400))
    });
    group.bench_function("baseline: serde_json alone on pre-split lines", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|line| {
                    serde_json::from_str::<ChatChunk>(line)
                        .unwrap()
                        .choices
                        .len()
                })
                .sum::<usize>()
        })
    });
    group.finish();

    let body = responses_body();
    assert_eq!(parse_body(&runtime, &body, 1400, true), CHUNKS);
    let lines: Vec<String> = (0..CHUNKS)
        .map(|i| {
            let line = responses_line(i);
            line[line.find("data: ").unwrap() + 6..]
                .trim_end()
                .to_string()
        })
        .collect();
    let mut group = c.benchmark_group("responses sse");
    group.throughput(Throughput::Elements(CHUNKS as u64));
    group
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_secs(1));
    group.bench_function("tally_openai ChatStream, 1400-byte network pieces", |b| {
        b.iter(|| parse_body(&runtime, &body, 1400, true))
    });
    group.bench_function("baseline: serde_json alone on pre-split lines", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter(|line| {
                    matches!(
                        serde_json::from_str::<ResponsesEvent>(line).unwrap(),
                        ResponsesEvent::OutputTextDelta { .. }
                    )
                })
                .count()
        })
    });
    group.finish();
}

/// Feeds one chunk at a time through a channel and times each until its `Delta` is out.
fn added_latency(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let measure = |count: usize| -> Vec<Duration> {
        runtime.block_on(async {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Bytes, OpenAiError>>();
            let body = stream::unfold(rx, |mut rx| async {
                rx.recv().await.map(|item| (item, rx))
            });
            let mut parsed = ChatStream::from_byte_stream(body, timeouts(), None);
            let mut samples = Vec::with_capacity(count);
            for i in 0..count {
                let bytes = Bytes::from(data_line(i));
                let sent = Instant::now();
                tx.send(Ok(bytes)).unwrap();
                match parsed.next().await {
                    Some(Ok(StreamEvent::Delta(_))) => samples.push(sent.elapsed()),
                    other => panic!("{other:?}"),
                }
            }
            samples
        })
    };
    let mut samples = measure(CHUNKS);
    samples.sort();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    println!(
        "client-added latency per chunk over {CHUNKS} chunks: p50 {:?}, p99 {:?}, max {:?}",
        pct(0.50),
        pct(0.99),
        samples.last().unwrap()
    );
    c.bench_function("latency: chunk bytes in → Delta out", |b| {
        b.iter_custom(|iters| measure(iters as usize).into_iter().sum())
    });
}

criterion_group!(benches, throughput, added_latency);
criterion_main!(benches);
