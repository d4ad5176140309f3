//! Fills a data folder with a large, realistic history for benchmarks:
//! `generate DIR CONVERSATIONS MESSAGES [LONG [MODEL]]` writes that many conversations (each
//! a chain of alternating user and assistant messages of varied text, with ledger rows for
//! the replies), then one more, the newest, of LONG messages (see `history::prepare_folder`);
//! with MODEL, new chats start with that model.
//! `cargo xtask bench --smoke` uses it; a full run has the history bench write its data.

mod history;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(conversations), Some(messages)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<i64>().ok()),
        args.get(3).and_then(|n| n.parse::<i64>().ok()),
    ) else {
        eprintln!("usage: generate DIR CONVERSATIONS MESSAGES [LONG [MODEL]]");
        std::process::exit(2);
    };
    let long = args.get(4).and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
    let dir = std::path::Path::new(dir);
    println!(
        "{}",
        history::prepare_folder(dir, conversations, messages, long)
    );
    if let Some(model) = args.get(5) {
        println!("{}", history::start_chats_with(dir, model));
    }
}
