//! Fills a data folder with a large, realistic history for benchmarks:
//! `generate DIR CONVERSATIONS MESSAGES [LONG]` writes that many conversations (each a
//! chain of alternating user and assistant messages of varied text, with ledger rows for
//! the replies), then one more, the newest, of LONG messages, and marks onboarding done,
//! so Tally opens straight to the chat (with automatic titles off). A folder that already has a history is only
//! upgraded to the current schema, so a kept history never upgrades during a benchmark.

mod history;

use rusqlite::Connection;
use tally_store::{DB_FILE_NAME, Store};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(conversations), Some(messages)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<i64>().ok()),
        args.get(3).and_then(|n| n.parse::<i64>().ok()),
    ) else {
        eprintln!("usage: generate DIR CONVERSATIONS MESSAGES [LONG]");
        std::process::exit(2);
    };
    let long = args.get(4).and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
    let dir = std::path::Path::new(dir);
    let store = Store::open_in(dir).expect("open the database");
    if !store.conversation_page(None, 1).expect("read").is_empty() {
        println!("{} already holds a history", dir.display());
        return;
    }
    store.set_setting("onboarded", "true").expect("settings");
    // The latency bench matches each reply to the mock's log of sent replies: a background
    // title request after the first reply would be one more.
    store.set_setting("auto_titles", "false").expect("settings");
    drop(store);
    let mut conn = Connection::open(dir.join(DB_FILE_NAME)).expect("open the database");
    let per_conversation = if conversations > 0 {
        messages / conversations
    } else {
        0
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    history::fill(&mut conn, conversations, per_conversation, now, 42).expect("write the history");
    if long > 0 {
        history::fill(&mut conn, 1, long, now + 1, 43).expect("write the long conversation");
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    let size = std::fs::metadata(dir.join(DB_FILE_NAME))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "{conversations} conversations, {} messages, and one of {long}: {:.0} MB",
        conversations * per_conversation,
        size as f64 / 1e6
    );
}
