//! The pre-send estimate per keystroke in a 100,000-token conversation, against the
//! baseline of counting the whole conversation again on every keystroke.
//!
//! `cargo bench -p tally-core --bench estimate`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tally_core::api::DraftRequest;
use tally_core::{Engine, EngineConfig};
use tally_spend::{Encoding, count_chat_prompt};
use tally_store::{MessageOutcome, MessageStatus, Store};

/// Words of varied prose and code, repeated into messages of about 500 tokens.
const WORDS: &str = "The budget month starts on the first; replies stream in while the meter \
    counts every token. fn main() { let total: i64 = rows.iter().map(|r| r.cost).sum(); } \
    Prices change, so the catalog carries the day it was checked. 東京の天気は晴れです。 🎉";

fn conversation(dir: &std::path::Path, target_tokens: u64) -> (i64, Vec<(String, String)>) {
    let mut store = Store::open_in(dir).unwrap();
    let conversation = store.create_conversation("Long", "gpt-4o-mini", 1).unwrap();
    let text = WORDS.repeat(8);
    let mut messages = Vec::new();
    while count_chat_prompt(
        Encoding::O200kBase,
        messages
            .iter()
            .map(|(r, c): &(String, String)| (r.as_str(), c.as_str())),
    ) < target_tokens
    {
        let (_, reply) = store
            .begin_exchange(conversation.id, &text, "gpt-4o-mini", 2)
            .unwrap();
        let outcome = MessageOutcome {
            status: MessageStatus::Complete,
            finish_reason: Some("stop".into()),
            error_code: None,
            error_message: None,
        };
        store.finish_reply(reply.id, &text, &outcome, 3).unwrap();
        messages.push(("user".into(), text.clone()));
        messages.push(("assistant".into(), text.clone()));
    }
    (conversation.id, messages)
}

fn keystroke(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let tokens = if std::env::var_os("TALLY_BENCH_SMOKE").is_some() {
        5_000
    } else {
        100_000
    };
    let (id, messages) = conversation(dir.path(), tokens);
    let engine = Engine::open(EngineConfig::new(dir.path())).unwrap();
    let draft = |text: &str| DraftRequest {
        tools: None,
        conversation_id: Some(id),
        model: None,
        text: text.into(),
        attachments: None,
    };
    let first = engine.estimate_draft_now(&draft("Summarise")).unwrap();
    assert!(first.input_tokens >= tokens, "{first:?}");
    let typed = "Could you summarise the main points of this conversation so far, please?";
    let mut group = c.benchmark_group("pre-send estimate, 100k-token conversation");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let mut n = 0;
    group.bench_function("tally (per keystroke)", |b| {
        b.iter(|| {
            // A different prefix each time, as typing gives.
            n = (n % typed.len()) + 1;
            engine.estimate_draft_now(&draft(&typed[..n])).unwrap()
        })
    });
    group.bench_function("baseline: count the whole conversation", |b| {
        b.iter(|| {
            count_chat_prompt(
                Encoding::O200kBase,
                messages
                    .iter()
                    .map(|(r, c)| (r.as_str(), c.as_str()))
                    .chain([("user", typed)]),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, keystroke);
criterion_main!(benches);
