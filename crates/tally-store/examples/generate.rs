//! Fills a data folder with a large, realistic history for benchmarks:
//! `generate DIR CONVERSATIONS MESSAGES` writes that many conversations (each a chain of
//! alternating user and assistant messages of varied text, with ledger rows for the
//! replies) and marks onboarding done, so Tally opens straight to the chat.

use rusqlite::{Connection, params};
use tally_store::{DB_FILE_NAME, Store};

const WORDS: &[&str] = &[
    "the",
    "budget",
    "month",
    "reply",
    "stream",
    "token",
    "price",
    "conversation",
    "kitchen",
    "garden",
    "invoice",
    "travel",
    "Paris",
    "recipe",
    "python",
    "function",
    "error",
    "network",
    "summary",
    "weekend",
    "letter",
    "meeting",
    "quarter",
    "report",
    "draft",
    "translate",
    "explain",
    "example",
    "because",
    "however",
    "quickly",
    "carefully",
    "東京",
    "😀",
    "données",
    "über",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "it",
    "that",
    "for",
    "with",
    "on",
    "as",
    "you",
];

fn text(rng: &mut fastrand::Rng, words: usize) -> String {
    let mut out = String::with_capacity(words * 7);
    for i in 0..words {
        if i > 0 {
            out.push(if rng.u8(..20) == 0 { '\n' } else { ' ' });
        }
        out.push_str(WORDS[rng.usize(..WORDS.len())]);
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(conversations), Some(messages)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<i64>().ok()),
        args.get(3).and_then(|n| n.parse::<i64>().ok()),
    ) else {
        eprintln!("usage: generate DIR CONVERSATIONS MESSAGES");
        std::process::exit(2);
    };
    let dir = std::path::Path::new(dir);
    let store = Store::open_in(dir).expect("open the database");
    store.set_setting("onboarded", "true").expect("settings");
    drop(store);
    let mut conn = Connection::open(dir.join(DB_FILE_NAME)).expect("open the database");
    let tx = conn.transaction().expect("transaction");
    let mut rng = fastrand::Rng::with_seed(42);
    let per_conversation = if conversations > 0 {
        messages / conversations
    } else {
        0
    };
    // Spread over the last year, the newest conversation last.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let year = 365 * 86_400_000_i64;
    {
        let mut conversation = tx
            .prepare(
                "INSERT INTO conversations (title, model, created_at, updated_at)
                 VALUES (?1, 'gpt-4o-mini', ?2, ?2)",
            )
            .expect("statement");
        let mut message = tx
            .prepare(
                "INSERT INTO messages (conversation_id, parent_id, role, content, status,
                     finish_reason, model, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'complete', ?5, 'gpt-4o-mini', ?6, ?6)",
            )
            .expect("statement");
        let mut ledger = tx
            .prepare(
                "INSERT INTO usage_ledger (created_at, conversation_id, message_id, purpose,
                     model, prompt_tokens, cached_tokens, completion_tokens, reasoning_tokens,
                     cost_nanos, estimated, status)
                 VALUES (?1, ?2, ?3, 'chat', 'gpt-4o-mini', ?4, 0, ?5, 0, ?6, 0, 'complete')",
            )
            .expect("statement");
        let mut leaf = tx
            .prepare("UPDATE conversations SET current_leaf_id = ?2 WHERE id = ?1")
            .expect("statement");
        for c in 0..conversations {
            let started = now - year + c * year / conversations.max(1);
            let title = text(&mut rng, 4);
            conversation
                .execute(params![title, started])
                .expect("conversation");
            let id = tx.last_insert_rowid();
            let mut parent: Option<i64> = None;
            for m in 0..per_conversation {
                let user = m % 2 == 0;
                let words = if user {
                    rng.usize(5..40)
                } else {
                    rng.usize(20..120)
                };
                let body = text(&mut rng, words);
                let at = started + m * 30_000;
                message
                    .execute(params![
                        id,
                        parent,
                        if user { "user" } else { "assistant" },
                        body,
                        (!user).then_some("stop"),
                        at
                    ])
                    .expect("message");
                let message_id = tx.last_insert_rowid();
                if !user {
                    let prompt = rng.i64(50..4_000);
                    let completion = rng.i64(20..800);
                    let cost = (prompt * 150 + completion * 600) / 1_000;
                    ledger
                        .execute(params![at, id, message_id, prompt, completion, cost])
                        .expect("ledger");
                }
                parent = Some(message_id);
            }
            if let Some(last) = parent {
                leaf.execute(params![id, last]).expect("leaf");
            }
        }
    }
    tx.commit().expect("commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    let size = std::fs::metadata(dir.join(DB_FILE_NAME))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "{conversations} conversations, {} messages, {:.0} MB",
        conversations * per_conversation,
        size as f64 / 1e6
    );
}
