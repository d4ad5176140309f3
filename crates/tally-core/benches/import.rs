//! Importing ChatGPT's `conversations.json`: 1,000 conversations of 11 messages each (five
//! exchanges and one regenerated reply), into an empty database, against the baseline of only reading the
//! file (JSON parsing, no writes).
//!
//! `cargo bench -p tally-core --bench import`

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde::Serialize;
use tally_core::{Engine, EngineConfig};

const TEXT: &str = "How should I split a monthly budget between rent, food and savings? \
    A common rule is 50/30/20: half for needs, 30 % for wants and 20 % for savings. \
    東京の家賃は高いです。 Here is a table:\n\n| item | share |\n|---|---:|\n| rent | 35 % |";

#[derive(Serialize)]
struct Node {
    id: String,
    message: Option<serde_json::Value>,
    parent: Option<String>,
    children: Vec<String>,
}

fn message(id: &str, role: &str, text: &str, at: f64) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "author": { "role": role, "name": null, "metadata": {} },
        "create_time": at,
        "content": { "content_type": "text", "parts": [text] },
        "status": "finished_successfully",
        "recipient": "all",
        "metadata": { "model_slug": if role == "assistant" { Some("gpt-4o") } else { None } }
    })
}

/// A file of `count` conversations shaped like ChatGPT's export.
fn chatgpt_file(count: usize) -> String {
    let conversations: Vec<serde_json::Value> = (0..count)
        .map(|c| {
            let mut mapping = serde_json::Map::new();
            let node = |id: &str, message, parent: Option<&str>, children: Vec<String>| {
                serde_json::to_value(Node {
                    id: id.into(),
                    message,
                    parent: parent.map(str::to_string),
                    children,
                })
                .unwrap()
            };
            mapping.insert("root".into(), node("root", None, None, vec!["u0".into()]));
            let at = 1_731_000_000.0 + c as f64 * 100.0;
            for turn in 0..5 {
                let (u, a) = (format!("u{turn}"), format!("a{turn}"));
                let parent = if turn == 0 {
                    "root".to_string()
                } else {
                    format!("a{}", turn - 1)
                };
                let mut replies = vec![a.clone()];
                if turn == 2 {
                    replies.push("a2r".into());
                }
                let text = format!("{c}-{turn} {TEXT}");
                mapping.insert(
                    u.clone(),
                    node(
                        &u,
                        Some(message(&u, "user", &text, at)),
                        Some(&parent),
                        replies,
                    ),
                );
                let next = if turn < 4 {
                    vec![format!("u{}", turn + 1)]
                } else {
                    vec![]
                };
                mapping.insert(
                    a.clone(),
                    node(
                        &a,
                        Some(message(&a, "assistant", &text, at + 1.0)),
                        Some(&u),
                        next,
                    ),
                );
            }
            mapping.insert(
                "a2r".into(),
                node(
                    "a2r",
                    Some(message("a2r", "assistant", TEXT, at + 2.0)),
                    Some("u2"),
                    vec![],
                ),
            );
            serde_json::json!({
                "title": format!("Budget question {c}"),
                "create_time": at,
                "update_time": at + 50.0,
                "mapping": mapping,
                "current_node": "a4",
                "conversation_id": format!("conv-{c}"),
                "id": format!("conv-{c}"),
                "default_model_slug": "gpt-4o",
            })
        })
        .collect();
    serde_json::to_string(&conversations).unwrap()
}

fn import(c: &mut Criterion) {
    let count = if std::env::var_os("TALLY_BENCH_SMOKE").is_some() {
        20
    } else {
        1_000
    };
    let file = chatgpt_file(count);
    let mut group = c.benchmark_group("import ChatGPT's conversations.json");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("tally: 1,000 conversations, 11,000 messages", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let engine = Engine::open(EngineConfig::new(dir.path())).unwrap();
                (dir, engine)
            },
            |(dir, engine)| {
                let summary = engine.import_text(&file, |_| {}).unwrap();
                assert_eq!(summary.imported as usize, count);
                assert_eq!(summary.messages as usize, count * 11);
                (dir, engine)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("baseline: only read the JSON", |b| {
        b.iter(|| {
            serde_json::from_str::<Vec<serde_json::Value>>(&file)
                .unwrap()
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
