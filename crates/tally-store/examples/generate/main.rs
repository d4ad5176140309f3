//! Fills a data folder with a large, realistic history for benchmarks:
//! `generate DIR CONVERSATIONS MESSAGES` writes that many conversations (each a chain of
//! alternating user and assistant messages of varied text, with ledger rows for the
//! replies) and marks onboarding done, so Tally opens straight to the chat.

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
        eprintln!("usage: generate DIR CONVERSATIONS MESSAGES");
        std::process::exit(2);
    };
    let dir = std::path::Path::new(dir);
    let store = Store::open_in(dir).expect("open the database");
    store.set_setting("onboarded", "true").expect("settings");
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
