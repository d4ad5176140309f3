//! The tokenizer: throughput on mixed text (prose, code, CJK, emoji), and its first-use
//! latency (loading an encoding's tables, which Tally does once, off the UI thread).
//!
//! `cargo bench -p tally-spend --bench tokens`

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tally_spend::{Encoding, count_text};

fn corpus() -> String {
    let parts = [
        "The quick brown fox jumps over the lazy dog while the meter counts every token. ",
        "fn total(rows: &[Row]) -> i64 { rows.iter().map(|r| r.cost_nanos).sum() }\n",
        "我们今天去公园散步，天气非常好。機械学習は人工知能の一分野です。",
        "Emoji 😀👍🏽🇩🇪 and    runs   of   spaces\n\n\tand tabs. ",
    ];
    let repeat = if std::env::var_os("TALLY_BENCH_SMOKE").is_some() {
        10
    } else {
        4_000
    };
    parts.concat().repeat(repeat)
}

fn throughput(c: &mut Criterion) {
    let text = corpus();
    let mut group = c.benchmark_group("tokenizer throughput");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(text.len() as u64));
    for (name, encoding) in [
        ("o200k_base", Encoding::O200kBase),
        ("cl100k_base", Encoding::Cl100kBase),
    ] {
        count_text(encoding, "warm up");
        group.bench_function(name, |b| b.iter(|| count_text(encoding, &text)));
    }
    group.finish();
}

fn first_use(c: &mut Criterion) {
    let mut group = c.benchmark_group("tokenizer first use (load tables)");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    group.bench_function("o200k_base", |b| {
        b.iter(|| tiktoken_rs::o200k_base().unwrap())
    });
    group.bench_function("cl100k_base", |b| {
        b.iter(|| tiktoken_rs::cl100k_base().unwrap())
    });
    group.finish();
}

criterion_group!(benches, throughput, first_use);
criterion_main!(benches);
