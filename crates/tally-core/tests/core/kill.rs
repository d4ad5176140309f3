//! SIGKILL at any write, not only mid-reply: a backup, a restore, an import, a schema
//! upgrade and a price change, each killed at random moments. Afterwards Tally opens, the
//! database passes `integrity_check`, and nothing committed before the kill is missing.
//!
//! The victim is this test binary itself, run again as a child with `TALLY_KILL_VICTIM`
//! set: it prepares nothing, only writes in a loop (or once, for the upgrade) until killed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tally_core::api::PriceInput;
use tally_core::{Engine, EngineConfig};
use tally_store::{BackupReason, Purpose, Store, UsageRow, migrations};

const TEST: &str = "kill::a_kill_at_any_write_loses_nothing_committed";
const ROUNDS: usize = 20;
/// What the victim prints once it starts writing.
const WRITING: &str = "tally-kill-victim-writing";
const CONVERSATIONS: usize = 30;
/// A model with no shipped price: its ledger rows are repriced by a price change.
const LOCAL_MODEL: &str = "local-kill-test-model";

#[test]
fn a_kill_at_any_write_loses_nothing_committed() {
    if let Ok(victim) = std::env::var("TALLY_KILL_VICTIM") {
        let dir = std::env::var("TALLY_KILL_DIR").expect("a data folder");
        run_victim(&victim, Path::new(&dir));
        return;
    }
    for victim in ["backup", "restore", "import", "upgrade", "price"] {
        for round in 0..ROUNDS {
            let dir = tempfile::tempdir().unwrap();
            let committed = if victim == "upgrade" {
                prepare_old_schema(dir.path())
            } else {
                prepare(dir.path())
            };
            kill_while(victim, dir.path(), round);
            check_after_kill(victim, round, dir.path(), &committed);
        }
    }
}

/// What was committed before the kill: titles, and ledger rows by request id.
struct Committed {
    titles: Vec<String>,
    requests: Vec<String>,
}

fn config(dir: &Path) -> EngineConfig {
    let mut config = EngineConfig::new(dir);
    config.api_base_override = Some("http://127.0.0.1:9/v1".into());
    config.keychain_service = format!("Tally-test-kill-{}", std::process::id());
    config
}

fn usage(conversation_id: i64, i: usize, model: &str, cost: Option<i64>) -> UsageRow {
    UsageRow {
        created_at: 1_000 + i as i64,
        conversation_id: Some(conversation_id),
        message_id: None,
        purpose: Purpose::Chat,
        model: model.into(),
        prompt_tokens: 100,
        cached_tokens: 0,
        cache_write_tokens: 0,
        completion_tokens: 50,
        reasoning_tokens: 0,
        web_search_calls: 0,
        cost_nanos: cost,
        estimated: false,
        request_id: Some(format!("req_{i}")),
        status: "complete".into(),
        first_token_ms: Some(100),
        duration_ms: Some(900),
    }
}

/// A history with backups, and ledger rows of a model with no price yet.
fn prepare(dir: &Path) -> Committed {
    let mut store = Store::open_in(dir).unwrap();
    let mut committed = Committed {
        titles: Vec::new(),
        requests: Vec::new(),
    };
    for i in 0..CONVERSATIONS {
        let title = format!("Committed {i}");
        let c = store.create_conversation(&title, "gpt-4o-mini", 1).unwrap();
        store
            .begin_exchange(c.id, &"words worth keeping ".repeat(200), "gpt-4o-mini", 2)
            .unwrap();
        let (model, cost) = if i % 2 == 0 {
            (LOCAL_MODEL, None)
        } else {
            ("gpt-4o-mini", Some(1_000))
        };
        store.record_usage(&usage(c.id, i, model, cost)).unwrap();
        committed.titles.push(title);
        committed.requests.push(format!("req_{i}"));
    }
    store.back_up(BackupReason::Manual, 10).unwrap();
    committed
}

/// A database at schema version 1 with a history, so that opening it upgrades it.
fn prepare_old_schema(dir: &Path) -> Committed {
    let mut conn = rusqlite::Connection::open(dir.join(tally_store::DB_FILE_NAME)).unwrap();
    migrations().to_version(&mut conn, 1).unwrap();
    let mut committed = Committed {
        titles: Vec::new(),
        requests: Vec::new(),
    };
    let tx = conn.transaction().unwrap();
    for i in 0..CONVERSATIONS * 20 {
        let title = format!("Committed {i}");
        tx.execute(
            "INSERT INTO conversations (id, title, model, created_at, updated_at)
             VALUES (?1, ?2, 'gpt-4o', 1, 1)",
            rusqlite::params![i as i64 + 1, title],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at)
             VALUES (?1, 'user', ?2, 'complete', 1, 1)",
            rusqlite::params![i as i64 + 1, "words worth keeping ".repeat(100)],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO usage_ledger (created_at, conversation_id, purpose, model, prompt_tokens,
                 cached_tokens, completion_tokens, reasoning_tokens, cost_nanos, estimated,
                 request_id, status)
             VALUES (?1, ?2, 'chat', 'gpt-4o', 10, 0, 5, 0, 1000, 0, ?3, 'complete')",
            rusqlite::params![1_000 + i as i64, i as i64 + 1, format!("req_{i}")],
        )
        .unwrap();
        committed.titles.push(title);
        committed.requests.push(format!("req_{i}"));
    }
    tx.commit().unwrap();
    committed
}

/// A Tally export of `count` new conversations (fresh uids each time).
fn export_file(count: usize, seed: u64) -> String {
    let conversations: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            serde_json::json!({
                "uid": format!("kill-{seed}-{i}"),
                "title": format!("Imported {seed} {i}"),
                "model": "gpt-4o-mini",
                "systemPrompt": null,
                "currentLeafId": 1,
                "createdAt": 1,
                "updatedAt": 1,
                "pinnedAt": null,
                "temperature": null,
                "topP": null,
                "maxOutputTokens": null,
                "presencePenalty": null,
                "frequencyPenalty": null,
                "messages": [{
                    "id": 1, "parentId": null, "role": "user",
                    "content": "imported words ".repeat(100), "status": "complete",
                    "finishReason": null, "model": null, "errorCode": null,
                    "errorMessage": null, "createdAt": 1, "updatedAt": 1
                }],
                "usage": [],
                "costNanos": 0
            })
        })
        .collect();
    serde_json::json!({ "format": "tally-conversations", "version": 1, "conversations": conversations })
        .to_string()
}

/// The child: announces itself, then writes until it is killed.
fn run_victim(victim: &str, dir: &Path) {
    // The harness prints "test NAME ... " without a line break first: a marker, then.
    let ready = || println!("\n{WRITING}");
    if victim == "upgrade" {
        ready();
        Engine::open(config(dir)).unwrap();
        return;
    }
    let engine = Engine::open(config(dir)).unwrap();
    let first_backup = engine.backups_list().unwrap().pop().unwrap().name;
    ready();
    for n in 0u64.. {
        match victim {
            "backup" => {
                engine.backup_now().unwrap();
            }
            "restore" => {
                let name = if n % 2 == 0 {
                    first_backup.clone()
                } else {
                    engine.backups_list().unwrap()[0].name.clone()
                };
                engine.backup_restore(&name).unwrap();
            }
            "import" => {
                engine.import_text(&export_file(20, n), |_| {}).unwrap();
            }
            "price" => {
                let price = if n % 2 == 0 { "1.00" } else { "2.50" };
                engine
                    .price_set(PriceInput {
                        model: LOCAL_MODEL.into(),
                        input: price.into(),
                        cached_input: String::new(),
                        output: price.into(),
                        context_window: 8192,
                        max_output: 2048,
                    })
                    .unwrap();
                if n % 3 == 2 {
                    engine.price_reset(LOCAL_MODEL).unwrap();
                }
            }
            other => panic!("no victim {other}"),
        }
    }
}

/// Starts the victim on `dir` and kills it (SIGKILL) at a random moment of its writing.
fn kill_while(victim: &str, dir: &Path, round: usize) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads", "1"])
        .env("TALLY_KILL_VICTIM", victim)
        .env("TALLY_KILL_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (said, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains(WRITING) {
                let _ = said.send(());
            }
        }
    });
    if heard.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        panic!(
            "{victim} round {round}: the victim never started writing:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // Somewhere in the first writes: an upgrade or a backup takes tens of milliseconds.
    std::thread::sleep(Duration::from_micros(fastrand::u64(0..150_000)));
    child.kill().unwrap();
    child.wait().unwrap();
}

fn check_after_kill(victim: &str, round: usize, dir: &Path, committed: &Committed) {
    let at = format!("{victim}, round {round}");
    let engine =
        Engine::open(config(dir)).unwrap_or_else(|e| panic!("{at}: Tally did not open: {e}"));
    // A damaged file would have been replaced and the user told; none may be.
    assert_eq!(engine.recovery_notice().unwrap(), None, "{at}");
    drop(engine);
    // A backup cut off halfway leaves nothing behind once Tally has started.
    let unfinished = std::fs::read_dir(dir.join("backups"))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(unfinished, 0, "{at}: half-made backups were left");
    let store = Store::open_in(dir).unwrap();
    assert_eq!(store.integrity_check(), "ok", "{at}");
    let titles: Vec<String> = store
        .conversation_page(None, 100_000)
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect();
    for title in &committed.titles {
        assert!(titles.contains(title), "{at}: {title} is missing");
    }
    let requests: Vec<String> = store
        .usage_rows()
        .unwrap()
        .into_iter()
        .filter_map(|r| r.request_id)
        .collect();
    for request in &committed.requests {
        assert!(
            requests.contains(request),
            "{at}: ledger row {request} is missing"
        );
    }
    // Every backup listed opens and passes its check (read-only: a check must not upgrade
    // an old backup).
    for backup in tally_store::list_backups(dir).unwrap() {
        let copy = rusqlite::Connection::open_with_flags(
            &backup.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap_or_else(|e| panic!("{at}: backup {} does not open: {e}", backup.name));
        let found: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{at}: backup {}: {e}", backup.name));
        assert_eq!(found, "ok", "{at}: {}", backup.name);
    }
}
