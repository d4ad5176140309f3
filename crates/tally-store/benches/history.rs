//! History queries on 10,000 conversations / 1,000,000 messages: the sidebar's list,
//! opening a 5,000-message conversation, and search for a rare, a typical and a very
//! common word, each against the same SQL run through bare rusqlite (for search: plain
//! ranked FTS5, which Tally replaces by newest-first for very common words).
//!
//! `cargo bench -p tally-store --bench history` writes its own history in a temporary
//! folder; `cargo xtask bench` has it write (once, and keep) the data folders the app is
//! launched with, and query that history.

#[path = "../examples/generate/history.rs"]
mod history;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rusqlite::Connection;
use tally_store::{DB_FILE_NAME, Store};

const NOW: i64 = 1_795_435_200_000;
/// Conversations the sidebar loads at a time (as `tally-core` asks for them).
const SIDEBAR_PAGE: u32 = 100;

fn history_queries(c: &mut Criterion) {
    let smoke = std::env::var_os("TALLY_BENCH_SMOKE").is_some();
    let (conversations, per_conversation, long) = if smoke {
        (100, 10, 500)
    } else {
        (10_000, 100, 5_000)
    };
    // `cargo xtask bench` passes the data folders the app is launched with: the large
    // history (written here unless kept from an earlier run: generating a million messages
    // takes a minute, so it is done once for both) and an empty one to be written afresh.
    // With TALLY_BENCH_PREPARE_ONLY this only writes them, while the release app builds.
    let shared = std::env::var_os("TALLY_BENCH_HISTORY_DIR")
        .filter(|_| !smoke)
        .map(std::path::PathBuf::from);
    if let Some(dir) = &shared {
        let messages = conversations * per_conversation;
        println!(
            "{}",
            history::prepare_folder(dir, conversations, messages, long)
        );
    }
    if let Some(empty) = std::env::var_os("TALLY_BENCH_EMPTY_DIR") {
        let empty = std::path::Path::new(&empty);
        let _ = std::fs::remove_dir_all(empty);
        println!("{}", history::prepare_folder(empty, 0, 0, 0));
    }
    // And an empty one whose new chats start with the model it names.
    if let (Some(dir), Some(model)) = (
        std::env::var_os("TALLY_BENCH_RESPONSES_DIR"),
        std::env::var("TALLY_BENCH_RESPONSES_MODEL").ok(),
    ) {
        let dir = std::path::Path::new(&dir);
        let _ = std::fs::remove_dir_all(dir);
        println!("{}", history::prepare_folder(dir, 0, 0, 0));
        println!("{}", history::start_chats_with(dir, &model));
    }
    if std::env::var_os("TALLY_BENCH_PREPARE_ONLY").is_some() {
        return;
    }
    let own = tempfile::tempdir().unwrap();
    let dir = shared.as_deref().unwrap_or(own.path());
    let long_id = if shared.is_some() {
        // The long conversation is the newest one.
        Store::open_in(dir)
            .unwrap()
            .conversation_page(None, 1)
            .unwrap()[0]
            .id
    } else {
        drop(Store::open_in(dir).unwrap());
        let mut conn = Connection::open(dir.join(DB_FILE_NAME)).unwrap();
        history::fill(&mut conn, conversations, per_conversation, NOW, 1).unwrap();
        history::fill(&mut conn, 1, long, NOW + 1, 2).unwrap()
    };
    let conn = Connection::open(dir.join(DB_FILE_NAME)).unwrap();
    let store = Store::open_in(dir).unwrap();
    assert_eq!(
        store.conversation_page(None, SIDEBAR_PAGE).unwrap().len() as i64,
        (conversations + 1).min(i64::from(SIDEBAR_PAGE))
    );
    assert_eq!(store.current_branch(long_id).unwrap().len() as i64, long);

    let mut group = c.benchmark_group(format!(
        "history of {} messages",
        conversations * per_conversation + long
    ));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("sidebar: first page (tally)", |b| {
        b.iter(|| {
            (
                store.pinned_conversations().unwrap(),
                store.conversation_page(None, SIDEBAR_PAGE).unwrap(),
            )
        })
    });
    group.bench_function("sidebar: baseline, bare rusqlite", |b| {
        // The same two queries as Tally's: the pinned ones, then the first page.
        let mut pinned = conn
            .prepare(
                "SELECT id, title, model, system_prompt, current_leaf_id, created_at, updated_at,
                        pinned_at, deleted_at, temperature, top_p, max_output_tokens,
                        presence_penalty, frequency_penalty FROM conversations
                 WHERE deleted_at IS NULL AND pinned_at IS NOT NULL
                 ORDER BY pinned_at DESC, id DESC",
            )
            .unwrap();
        let mut page = conn
            .prepare(
                "SELECT id, title, model, system_prompt, current_leaf_id, created_at, updated_at,
                        pinned_at, deleted_at, temperature, top_p, max_output_tokens,
                        presence_penalty, frequency_penalty FROM conversations
                 WHERE deleted_at IS NULL AND pinned_at IS NULL AND (updated_at, id) < (?1, ?2)
                 ORDER BY updated_at DESC, id DESC LIMIT ?3",
            )
            .unwrap();
        let row = |r: &rusqlite::Row<'_>| {
            (0..14)
                .map(|i| r.get::<_, rusqlite::types::Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        };
        b.iter(|| {
            let pinned: Vec<_> = pinned
                .query_map([], row)
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let page: Vec<_> = page
                .query_map(rusqlite::params![i64::MAX, i64::MAX, SIDEBAR_PAGE], row)
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            (pinned, page)
        })
    });
    group.bench_function("open a 5,000-message conversation (tally)", |b| {
        b.iter(|| store.current_branch(long_id).unwrap())
    });
    group.bench_function(
        "open a 5,000-message conversation: baseline, bare rusqlite",
        |b| {
            let leaf: i64 = conn
                .query_row(
                    "SELECT current_leaf_id FROM conversations WHERE id = ?1",
                    [long_id],
                    |r| r.get(0),
                )
                .unwrap();
            let mut statement = conn
                .prepare(
                    "WITH RECURSIVE branch(id, depth) AS (
                     SELECT ?1, 0
                     UNION ALL
                     SELECT m.parent_id, b.depth + 1 FROM messages m JOIN branch b ON m.id = b.id
                     WHERE m.parent_id IS NOT NULL
                 )
                 SELECT m.id, m.conversation_id, m.parent_id, m.role, m.content, m.status,
                        m.finish_reason, m.model, m.error_code, m.error_message, m.created_at,
                        m.updated_at
                 FROM branch b JOIN messages m ON m.id = b.id ORDER BY b.depth DESC",
                )
                .unwrap();
            b.iter(|| {
                statement
                    .query_map([leaf], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, Option<i64>>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, Option<String>>(6)?,
                            r.get::<_, Option<String>>(7)?,
                            r.get::<_, Option<String>>(8)?,
                            r.get::<_, Option<String>>(9)?,
                            r.get::<_, i64>(10)?,
                            r.get::<_, i64>(11)?,
                        ))
                    })
                    .unwrap()
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .unwrap()
            })
        },
    );
    for (kind, word) in [
        ("rare", "zyzzyva"),
        ("typical", "tagalong"),
        ("very common", "the"),
    ] {
        group.bench_function(format!("search, {kind} word (tally)"), |b| {
            b.iter(|| store.search(word, 50).unwrap())
        });
        if kind == "very common" {
            // Ranking every message with "the" takes over a second a time: ten samples.
            group.sample_size(10);
        }
        group.bench_function(format!("search, {kind} word: baseline, ranked FTS5"), |b| {
            let mut statement = conn
                .prepare(
                    "SELECT rowid FROM message_search WHERE message_search MATCH ?1
                     ORDER BY rank LIMIT 50",
                )
                .unwrap();
            b.iter(|| {
                statement
                    .query_map([word], |r| r.get::<_, i64>(0))
                    .unwrap()
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, history_queries);
criterion_main!(benches);
