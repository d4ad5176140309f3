//! Sync between two computers (two engines, each with its own data folder and keychain
//! slots in a private, real Secret Service) through a shared folder, as Syncthing or Dropbox
//! would carry it.

use std::sync::Arc;

use tally_core::api::{
    BudgetInput, ErrorCode, SyncLocationInput, SyncSetupInput, SyncStatus, SyncView,
};
use tally_core::{Engine, EngineConfig};
use tally_keychain::test_support::{Setup, in_child};

use crate::{Events, KEY, ask, mock, prepared, recent};

const PASSPHRASE: &str = "correct horse battery";

/// A computer: its own data folder and its own keychain slots.
fn computer(server: &mock_openai::MockServer, name: &str) -> (tempfile::TempDir, Arc<Engine>) {
    computer_waiting(server, name, tally_sync::TimeLimits::default())
}

/// [`computer`], giving the sync storage `limits` to answer.
fn computer_waiting(
    server: &mock_openai::MockServer,
    name: &str,
    limits: tally_sync::TimeLimits,
) -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path());
    config.sync_time_limits = limits;
    config.api_base_override = Some(server.base_url());
    config.env_api_key = Some(tally_core::SecretString::from(KEY));
    config.keychain_service = format!("Tally-test-{}-{name}", std::process::id());
    config.pdf_reader = Some(crate::pdf_reader());
    (dir, prepared(Engine::open(config).unwrap()))
}

fn setup(folder: &std::path::Path, passphrase: &str) -> SyncSetupInput {
    SyncSetupInput {
        location: SyncLocationInput::Folder {
            path: folder.display().to_string(),
        },
        passphrase: passphrase.into(),
    }
}

/// Turns sync on for each of `computers`, through the shared `folder`, in that order (the
/// first sets the passphrase).
async fn sync_through(folder: &std::path::Path, computers: &[&Arc<Engine>]) {
    for engine in computers {
        engine.sync_enable(setup(folder, PASSPHRASE)).await.unwrap();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_conversation_written_on_one_computer_appears_on_the_other_with_its_spending() {
    if !in_child(
        "sync::a_conversation_written_on_one_computer_appears_on_the_other_with_its_spending",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    runtime().block_on(two_computers());
}

async fn two_computers() {
    let server = mock("Paris is the capital of France.", 8, 0).await;
    let shared = tempfile::tempdir().unwrap();
    let (a_dir, a) = computer(&server, "a");
    let (_b_dir, b) = computer(&server, "b");
    a.send(
        ask(None, "What is the capital of France?"),
        Events::default().sink(),
    )
    .await
    .unwrap();
    a.budget_set(BudgetInput {
        amount: "20".into(),
        reset_day: 1,
        thresholds: vec![50, 80, 100],
        hard_stop: true,
    })
    .unwrap();
    let spent_on_a = a.spend_summary().unwrap().spent_nanos;
    assert!(spent_on_a > 0);

    let on = a
        .sync_enable(setup(shared.path(), PASSPHRASE))
        .await
        .unwrap();
    assert_eq!(on.status, SyncStatus::Idle, "{on:?}");
    assert!(
        on.last_result.as_deref().unwrap().starts_with("Sent "),
        "{on:?}"
    );

    // The second computer: a wrong passphrase is refused in words, and nothing is kept.
    let refused = b
        .sync_enable(setup(shared.path(), "not the passphrase"))
        .await
        .unwrap_err()
        .to_ipc();
    assert_eq!(refused.code, ErrorCode::SyncWrongPassphrase);
    assert!(
        refused.message.contains("passphrase"),
        "{}",
        refused.message
    );
    assert_eq!(b.sync_view().unwrap().status, SyncStatus::Off);
    let short = b
        .sync_enable(setup(shared.path(), "short"))
        .await
        .unwrap_err();
    assert_eq!(short.to_ipc().code, ErrorCode::InvalidInput);

    let joined: SyncView = b
        .sync_enable(setup(shared.path(), PASSPHRASE))
        .await
        .unwrap();
    assert!(joined.received > 0, "{joined:?}");
    let on_b = recent(&b);
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0].title, "What is the capital of France?");
    let messages = b.conversation_get(on_b[0].id).unwrap().messages;
    assert_eq!(
        messages.last().unwrap().content,
        "Paris is the capital of France."
    );
    // The money of both counts on both: the budget and the month's spend came along.
    let spend_on_b = b.spend_summary().unwrap();
    assert_eq!(spend_on_b.spent_nanos, spent_on_a);
    assert_eq!(
        spend_on_b.budget.as_ref().unwrap().monthly_nanos,
        20_000_000_000
    );
    let other = joined
        .devices
        .iter()
        .find(|d| !d.this_computer)
        .expect("the first computer is listed");
    assert_eq!((other.spent_nanos, other.requests), (spent_on_a, 1));
    assert!(
        joined
            .overshoot
            .as_deref()
            .unwrap()
            .contains("2 spend while offline")
    );

    // A rename on B reaches A; a move to the Trash on A reaches B.
    b.conversation_rename(on_b[0].id, "France").unwrap();
    b.sync_now().await.unwrap();
    let after = a.sync_now().await.unwrap();
    assert!(
        after.last_result.unwrap().contains("received"),
        "the rename"
    );
    let on_a = recent(&a);
    assert_eq!(on_a[0].title, "France");
    a.conversation_trash(on_a[0].id).unwrap();
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    assert!(recent(&b).is_empty(), "in B's Trash");

    // A persona written on B is offered on A.
    b.persona_save(tally_core::api::PersonaInput {
        id: None,
        name: "Travel planner".into(),
        prompt: "Plan trips by train.".into(),
    })
    .unwrap();
    b.sync_now().await.unwrap();
    let received = a.sync_now().await.unwrap();
    assert!(received.received > 0, "{received:?}");
    assert!(
        a.persona_list()
            .unwrap()
            .iter()
            .any(|p| p.name == "Travel planner" && p.prompt == "Plan trips by train.")
    );

    // A file someone else put there is reported and merged nothing; sync goes on.
    let stranger = shared.path().join("devices/00ff00ff");
    std::fs::create_dir_all(&stranger).unwrap();
    std::fs::write(
        stranger.join("000001780000000.0000000000.tsync"),
        b"TALLYSNC not really",
    )
    .unwrap();
    let view = a.sync_now().await.unwrap();
    assert_eq!(view.status, SyncStatus::Idle);
    assert!(
        view.problem
            .as_deref()
            .unwrap_or_default()
            .contains("could not be read"),
        "{view:?}"
    );

    // The API key and the passphrase are nowhere in the database or the shared files.
    let database = std::fs::read(a_dir.path().join(tally_store::DB_FILE_NAME)).unwrap();
    for secret in [KEY, PASSPHRASE] {
        assert!(
            !database
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} in the database"
        );
    }
    let (folder, _) = tally_sync::SyncFolder::open(
        &tally_sync::Location::Folder {
            path: shared.path().into(),
        },
        &tally_core::SecretString::from(PASSPHRASE),
    )
    .await
    .unwrap();
    for segment in folder.list().await.unwrap() {
        let Ok(plain) = folder.get(&segment).await else {
            continue;
        };
        assert!(!plain.windows(KEY.len()).any(|w| w == KEY.as_bytes()));
    }

    // Off: nothing more is sent, and the passphrase leaves the keychain.
    let off = b.sync_disable().await.unwrap();
    assert_eq!(off.status, SyncStatus::Off);
    assert!(matches!(
        off.location,
        Some(SyncLocationInput::Folder { .. })
    ));
    assert_eq!(
        b.sync_now().await.unwrap_err().to_ipc().code,
        ErrorCode::InvalidInput
    );
}

/// Three computers through a real WebDAV server (WsgiDAV on 127.0.0.1): one offline for a
/// month while the other keeps changing things, a rename on each at different times, the
/// storage going away in the middle, and a third computer that starts from a snapshot.
#[test]
fn three_computers_through_webdav_end_the_same_after_a_month_offline_and_a_snapshot() {
    if !in_child(
        "sync::three_computers_through_webdav_end_the_same_after_a_month_offline_and_a_snapshot",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    runtime().block_on(three_computers());
}

fn webdav_setup(server: &tally_sync::test_support::Server) -> SyncSetupInput {
    SyncSetupInput {
        location: SyncLocationInput::WebDav {
            url: format!("http://127.0.0.1:{}/", server.port),
            username: "tally".into(),
            password: Some("sesame".into()),
        },
        passphrase: PASSPHRASE.into(),
    }
}

fn titles(engine: &Engine) -> Vec<String> {
    let mut titles: Vec<String> = recent(engine).into_iter().map(|c| c.title).collect();
    titles.sort();
    titles
}

/// Each conversation's title with how many messages it holds, sorted.
fn conversations(engine: &Engine) -> Vec<(String, usize)> {
    let mut found: Vec<(String, usize)> = recent(engine)
        .iter()
        .map(|c| {
            (
                c.title.clone(),
                engine.conversation_get(c.id).unwrap().messages.len(),
            )
        })
        .collect();
    found.sort();
    found
}

fn message_count(engine: &Engine) -> usize {
    conversations(engine).iter().map(|(_, n)| n).sum()
}

async fn three_computers() {
    let server_dir = tempfile::tempdir().unwrap();
    let mut server = tally_sync::test_support::webdav(server_dir.path());
    let mock = mock("Noted.", 50, 0).await;
    let (_a_dir, a) = computer(&mock, "a");
    let (_b_dir, b) = computer(&mock, "b");
    let (_c_dir, c) = computer(&mock, "c");
    let send = |engine: Arc<Engine>, text: &'static str, into: Option<i64>| async move {
        engine
            .send(ask(into, text), Events::default().sink())
            .await
            .unwrap();
    };
    send(a.clone(), "Plans for the garden", None).await;
    a.sync_enable(webdav_setup(&server)).await.unwrap();
    b.sync_enable(webdav_setup(&server)).await.unwrap();
    let garden_on_b = recent(&b)[0].id;

    // B goes offline for a month: it renames the garden plans and starts a chat of its own.
    b.conversation_rename(garden_on_b, "Garden (renamed on B, offline)")
        .unwrap();
    send(b.clone(), "Written on the train", None).await;
    // Meanwhile A syncs every day: thirty days of new chats, and a later rename.
    let garden_on_a = recent(&a)[0].id;
    for day in 0..30 {
        let text: &'static str = Box::leak(format!("Day {day} on A").into_boxed_str());
        send(a.clone(), text, None).await;
        a.sync_now().await.unwrap();
    }
    a.conversation_rename(garden_on_a, "Garden (renamed on A, later)")
        .unwrap();
    a.sync_now().await.unwrap();

    // The storage goes away just as B comes back: the sync fails in words, nothing lost.
    let port = server.port;
    server.stop();
    let failed = b.sync_now().await.unwrap_err().to_ipc();
    assert_eq!(
        failed.code,
        ErrorCode::SyncUnreachable,
        "{}",
        failed.message
    );
    assert_eq!(b.sync_view().unwrap().status, SyncStatus::Error);
    let _server = tally_sync::test_support::webdav_at(server_dir.path(), port);
    let back = b.sync_now().await.unwrap();
    assert_eq!(back.status, SyncStatus::Idle, "{back:?}");
    a.sync_now().await.unwrap();

    let expected = {
        let mut t: Vec<String> = (0..30).map(|d| format!("Day {d} on A")).collect();
        t.push("Garden (renamed on A, later)".into());
        t.push("Written on the train".into());
        t.sort();
        t
    };
    assert_eq!(titles(&a), expected);
    assert_eq!(titles(&b), expected);
    assert_eq!(
        b.conversation_get(garden_on_b).unwrap().conversation.title,
        "Garden (renamed on A, later)"
    );
    // The title that lost is kept on both, for the conversation's menu to offer back.
    for (engine, id) in [(&a, garden_on_a), (&b, garden_on_b)] {
        assert_eq!(
            engine.conversation_title_history(id).unwrap(),
            ["Garden (renamed on B, offline)"]
        );
    }

    // A writes a snapshot, then one more chat; C starts from the snapshot and reads on.
    a.sync_write_snapshot().await.unwrap();
    send(a.clone(), "After the snapshot", None).await;
    a.sync_now().await.unwrap();
    // What A wrote before its snapshot is removed, so the newcomer can only have it from
    // the snapshot (as it would once old files are cleared away).
    let dav = server_dir.path().join("dav");
    let snapshots: Vec<_> = std::fs::read_dir(dav.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(snapshots.len(), 1, "one computer wrote a snapshot");
    let a_device = snapshots[0].file_name().unwrap().to_owned();
    let snapshot_name = std::fs::read_dir(&snapshots[0])
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let mut removed = 0;
    for file in std::fs::read_dir(dav.join("devices").join(&a_device)).unwrap() {
        let file = file.unwrap();
        if file.file_name() < snapshot_name {
            std::fs::remove_file(file.path()).unwrap();
            removed += 1;
        }
    }
    assert!(removed > 30, "A's files before the snapshot: {removed}");
    let joined = c.sync_enable(webdav_setup(&_server)).await.unwrap();
    assert_eq!(joined.status, SyncStatus::Idle, "{joined:?}");
    let mut with_after = expected.clone();
    with_after.push("After the snapshot".into());
    with_after.sort();
    assert_eq!(titles(&c), with_after);
    // Every computer's spending counts on the newcomer: 33 replies in all.
    let (spend_a, spend_c) = (a.spend_summary().unwrap(), c.spend_summary().unwrap());
    b.sync_now().await.unwrap();
    assert_eq!(spend_c.requests, 33);
    assert_eq!(spend_c.spent_nanos, spend_a.spent_nanos);
    assert_eq!(b.spend_summary().unwrap().spent_nanos, spend_a.spent_nanos);
}

/// A file a sync program is still copying (cut short) is reported and merged once whole,
/// and what a later file holds waits for it, said in the status; a computer killed after
/// sending its file but before forgetting what it sent sends it again, and the other
/// computer takes it once.
#[test]
fn a_file_still_being_copied_waits_and_a_file_sent_twice_is_taken_once() {
    if !in_child(
        "sync::a_file_still_being_copied_waits_and_a_file_sent_twice_is_taken_once",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    runtime().block_on(half_written_and_twice());
}

async fn half_written_and_twice() {
    let server = mock("Sure.", 50, 0).await;
    let shared = tempfile::tempdir().unwrap();
    let (a_dir, a) = computer(&server, "a");
    let (_b_dir, b) = computer(&server, "b");
    sync_through(shared.path(), &[&a, &b]).await;
    a.send(ask(None, "A question from A"), Events::default().sink())
        .await
        .unwrap();
    a.sync_now().await.unwrap();
    let conversation = recent(&a)[0].id;
    a.send(
        ask(Some(conversation), "A second question"),
        Events::default().sink(),
    )
    .await
    .unwrap();
    a.sync_now().await.unwrap();

    // B sees A's first file half copied and its second whole: what the second holds waits
    // for the conversation the first begins, and the status says so.
    let mut files: Vec<_> = std::fs::read_dir(shared.path().join("devices"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
    let first = files[files.len() - 2].clone();
    let whole = std::fs::read(&first).unwrap();
    std::fs::write(&first, &whole[..whole.len() / 2]).unwrap();
    let waiting = b.sync_now().await.unwrap();
    assert!(
        recent(&b).is_empty(),
        "nothing of a file cut short is taken"
    );
    assert!(
        waiting
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("could not be read"),
        "{waiting:?}"
    );
    let said = waiting.last_result.unwrap_or_default();
    assert!(
        said.contains("changes wait for earlier ones that have not arrived yet"),
        "{said}"
    );
    std::fs::write(&first, &whole).unwrap();
    let merged = b.sync_now().await.unwrap();
    assert_eq!(recent(&b).len(), 1, "taken once whole");
    assert_eq!(merged.problem, None, "{merged:?}");
    let said = merged.last_result.unwrap_or_default();
    assert!(!said.contains("wait"), "nothing waits any more: {said}");
    let on_b = recent(&b);
    assert_eq!(b.conversation_get(on_b[0].id).unwrap().messages.len(), 4);

    // A is killed after writing its file, before forgetting what it sent: its changes are
    // queued again (as they were), and the next sync sends them in a second file.
    let db = rusqlite::Connection::open(a_dir.path().join(tally_store::DB_FILE_NAME)).unwrap();
    db.execute_batch(
        "INSERT INTO sync_outbox (kind, key) SELECT 'conversation', id FROM conversations;
         INSERT INTO sync_outbox (kind, key) SELECT 'message', id FROM messages;
         INSERT INTO sync_outbox (kind, key) SELECT 'ledger', id FROM usage_ledger;",
    )
    .unwrap();
    drop(db);
    let again = a.sync_now().await.unwrap();
    assert!(again.last_result.unwrap().starts_with("Sent "));
    b.sync_now().await.unwrap();
    let on_b = recent(&b);
    assert_eq!(on_b.len(), 1);
    assert_eq!(b.conversation_get(on_b[0].id).unwrap().messages.len(), 4);
    assert_eq!(
        b.spend_summary().unwrap().requests,
        2,
        "each request counted once"
    );
}

/// Two computers through real S3 semantics (moto's server on 127.0.0.1): a conversation and
/// its spending go across, the secret key stays in the keychain.
#[test]
fn two_computers_sync_through_s3_storage() {
    if !in_child(
        "sync::two_computers_sync_through_s3_storage",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    runtime().block_on(through_s3());
}

async fn through_s3() {
    let server_dir = tempfile::tempdir().unwrap();
    let storage = tally_sync::test_support::s3(server_dir.path());
    let s3 = |secret: Option<&str>| SyncSetupInput {
        location: SyncLocationInput::S3 {
            endpoint: format!("http://127.0.0.1:{}", storage.port),
            region: "us-east-1".into(),
            bucket: "tally".into(),
            access_key_id: "tally-test".into(),
            secret_access_key: secret.map(str::to_string),
        },
        passphrase: PASSPHRASE.into(),
    };
    let mock = mock("Through S3.", 50, 0).await;
    let (a_dir, a) = computer(&mock, "a");
    let (_b_dir, b) = computer(&mock, "b");
    a.send(ask(None, "Sent through S3"), Events::default().sink())
        .await
        .unwrap();
    a.sync_enable(s3(Some("tally-test-secret"))).await.unwrap();
    // No secret key given, none kept: refused in words before anything is tried.
    let refused = b.sync_enable(s3(None)).await.unwrap_err().to_ipc();
    assert_eq!(refused.code, ErrorCode::InvalidInput, "{}", refused.message);
    let joined = b.sync_enable(s3(Some("tally-test-secret"))).await.unwrap();
    assert_eq!(joined.status, SyncStatus::Idle, "{joined:?}");
    assert_eq!(titles(&b), ["Sent through S3"]);
    assert_eq!(
        b.spend_summary().unwrap().spent_nanos,
        a.spend_summary().unwrap().spent_nanos
    );
    // The secret key is in the keychain only; Settings gets the place without it.
    match joined.location {
        Some(SyncLocationInput::S3 {
            secret_access_key, ..
        }) => assert_eq!(secret_access_key, None),
        other => panic!("{other:?}"),
    }
    let database = std::fs::read(a_dir.path().join(tally_store::DB_FILE_NAME)).unwrap();
    let secret = b"tally-test-secret";
    assert!(!database.windows(secret.len()).any(|w| w == secret));
    // A restart (a new engine on the same data) syncs with what the keychain kept.
    drop(a);
    let mut config = EngineConfig::new(a_dir.path());
    config.api_base_override = Some(mock.base_url());
    config.keychain_service = format!("Tally-test-{}-a", std::process::id());
    let a = Engine::open(config).unwrap();
    assert_eq!(a.sync_now().await.unwrap().status, SyncStatus::Idle);
}

/// A storage that is full, then one that stalls, then one that answers late: each failure
/// is said in its own words and loses nothing, and the next sync sends what waited.
#[test]
fn a_full_or_stalled_storage_is_said_in_words_and_the_next_sync_sends_what_waited() {
    if !in_child(
        "sync::a_full_or_stalled_storage_is_said_in_words_and_the_next_sync_sends_what_waited",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    runtime().block_on(full_then_stalled());
}

async fn full_then_stalled() {
    let storage = tempfile::tempdir().unwrap();
    let disk = tally_sync::test_support::webdav_on_small_disk(storage.path(), 8 * 1024 * 1024);
    let mock = mock("Noted.", 50, 0).await;
    let limits = tally_sync::TimeLimits {
        request: std::time::Duration::from_secs(4),
        silence: std::time::Duration::from_secs(2),
    };
    let (_a_dir, a) = computer_waiting(&mock, "a", limits);
    let (_b_dir, b) = computer(&mock, "b");
    a.sync_enable(webdav_setup(&disk.server)).await.unwrap();
    b.sync_enable(webdav_setup(&disk.server)).await.unwrap();
    // Full.
    disk.fill();
    a.send(
        ask(None, "Written while the storage is full"),
        Events::default().sink(),
    )
    .await
    .unwrap();
    let full = a.sync_now().await.unwrap_err();
    assert_eq!(full.code(), ErrorCode::SyncFull, "{full}");
    let view = a.sync_view().unwrap();
    assert_eq!(view.status, SyncStatus::Error);
    assert!(
        view.problem
            .as_deref()
            .unwrap_or_default()
            .contains("storage is full"),
        "{view:?}"
    );
    disk.free();
    let sent = a.sync_now().await.unwrap();
    assert_eq!(sent.status, SyncStatus::Idle);
    assert_eq!(sent.problem, None, "{sent:?}");
    b.sync_now().await.unwrap();
    assert_eq!(titles(&b).len(), 1, "what waited went across");
    assert_eq!(message_count(&b), 2);
    assert_eq!(b.spend_summary().unwrap().requests, 1);

    // Stalled.
    let conversation = recent(&a)[0].id;
    a.send(
        ask(Some(conversation), "Written while the storage stalls"),
        Events::default().sink(),
    )
    .await
    .unwrap();
    disk.server.pause();
    let stalled = tokio::time::timeout(std::time::Duration::from_secs(120), a.sync_now())
        .await
        .expect("a stalled storage is given up (each try has a limit, the tries a number)")
        .unwrap_err();
    assert_eq!(stalled.code(), ErrorCode::SyncTooSlow, "{stalled}");
    assert!(stalled.to_string().contains("too slowly"), "{stalled}");
    assert_eq!(a.sync_view().unwrap().status, SyncStatus::Error);

    // Answering late, within the limit.
    let resumed = disk
        .server
        .resume_after(std::time::Duration::from_millis(500));
    a.sync_now().await.unwrap();
    resumed.join().unwrap();
    b.sync_now().await.unwrap();
    assert_eq!(
        message_count(&b),
        4,
        "the stalled sync's changes went across once"
    );
    assert_eq!(b.spend_summary().unwrap().requests, 2);
}

/// A snapshot lets a computer remove its old files; one that had fallen behind them starts
/// again from the newest snapshot, and nothing is lost either way.
#[test]
fn old_files_a_snapshot_covers_are_removed_and_a_computer_behind_them_catches_up() {
    if !in_child(
        "sync::old_files_a_snapshot_covers_are_removed_and_a_computer_behind_them_catches_up",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    runtime().block_on(removed_and_caught_up());
}

async fn removed_and_caught_up() {
    let server = mock("Sure.", 50, 0).await;
    let shared = tempfile::tempdir().unwrap();
    let (a_dir, a) = computer(&server, "a");
    let (_b_dir, b) = computer(&server, "b");
    let (_c_dir, c) = computer(&server, "c");
    sync_through(shared.path(), &[&a, &b, &c]).await;
    let a_device: String = rusqlite::Connection::open(a_dir.path().join(tally_store::DB_FILE_NAME))
        .unwrap()
        .query_row("SELECT device FROM sync_clock", [], |r| r.get(0))
        .unwrap();
    let files_of = |folder: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(shared.path().join(folder))
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let send = |engine: &Arc<Engine>, text: &str| {
        let engine = engine.clone();
        let text = text.to_string();
        async move {
            engine
                .send(ask(None, &text), Events::default().sink())
                .await
                .unwrap();
            engine.sync_now().await.unwrap();
        }
    };

    send(&a, "First").await;
    c.sync_now().await.unwrap();
    // C goes quiet; B keeps up.
    send(&a, "Second").await;
    let second_file = files_of(&format!("devices/{a_device}")).pop().unwrap();
    b.sync_now().await.unwrap();
    a.sync_write_snapshot().await.unwrap();
    send(&a, "Third").await;
    b.sync_now().await.unwrap();
    // A's second snapshot removes what its first covers: the file C has not read among it.
    a.sync_write_snapshot().await.unwrap();
    let snapshots = files_of(&format!("snapshots/{a_device}"));
    assert_eq!(snapshots.len(), 2, "two snapshots stay");
    let left = files_of(&format!("devices/{a_device}"));
    assert!(!left.contains(&second_file), "{left:?}");
    assert!(
        left.iter().all(|f| f.as_str() > snapshots[0].as_str()),
        "only files after the older snapshot stay: {left:?} {snapshots:?}"
    );
    send(&a, "Fourth").await;

    // C, behind the removed files, renames what it has, then catches up from the newest
    // snapshot, with nothing twice; B, which kept up, reads on.
    let first_on_c = recent(&c)[0].id;
    c.conversation_rename(first_on_c, "First, renamed on C")
        .unwrap();
    for engine in [&c, &a, &b] {
        let view = engine.sync_now().await.unwrap();
        assert_eq!(view.problem, None, "{view:?}");
    }
    let expected = ["First, renamed on C", "Fourth", "Second", "Third"];
    for engine in [&a, &b, &c] {
        assert_eq!(titles(engine), expected);
        assert_eq!(message_count(engine), 8);
        assert_eq!(engine.spend_summary().unwrap().requests, 4);
    }

    // A third snapshot removes the first, and the files the second covers.
    a.sync_write_snapshot().await.unwrap();
    let now_kept = files_of(&format!("snapshots/{a_device}"));
    assert_eq!(now_kept.len(), 2);
    assert!(!now_kept.contains(&snapshots[0]), "{now_kept:?}");
}

/// The same files imported on two computers before they sync (a ChatGPT export, a Tally
/// file with its costs): one conversation each, every message and cost once.
#[test]
fn the_same_files_imported_on_two_computers_sync_as_one_copy() {
    if !in_child(
        "sync::the_same_files_imported_on_two_computers_sync_as_one_copy",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    runtime().block_on(imported_twice());
}

async fn imported_twice() {
    let server = mock("Noted.", 50, 0).await;
    let shared = tempfile::tempdir().unwrap();
    // A third computer that does not sync writes the Tally file.
    let (source_dir, source) = computer(&server, "source");
    source
        .send(ask(None, "Plan a picnic"), Events::default().sink())
        .await
        .unwrap();
    let exported = source
        .export_conversations(
            &tally_core::api::ExportRequest {
                conversation_id: None,
                format: tally_core::api::ExportFormat::Json,
            },
            source_dir.path(),
        )
        .unwrap();
    let tally_file = std::fs::read_to_string(&exported.path).unwrap();
    let chatgpt = include_str!("fixtures/chatgpt-conversations.json");

    let (_a_dir, a) = computer(&server, "a");
    let (_b_dir, b) = computer(&server, "b");
    for engine in [&a, &b] {
        engine.import_text(chatgpt, |_| {}).unwrap();
        engine.import_text(&tally_file, |_| {}).unwrap();
    }
    let imported = conversations(&a);
    assert!(imported.len() > 1, "{imported:?}");
    let spent = a.spend_summary().unwrap();
    assert_eq!(spent.requests, 1);

    sync_through(shared.path(), &[&a, &b]).await;
    for engine in [&a, &b, &a] {
        engine.sync_now().await.unwrap();
    }
    for engine in [&a, &b] {
        assert_eq!(conversations(engine), imported);
        assert_eq!(
            engine.spend_summary().unwrap().requests,
            1,
            "the cost counted once"
        );
        assert_eq!(
            engine.spend_summary().unwrap().spent_nanos,
            spent.spent_nanos
        );
    }
}

/// A computer that syncs restores a backup from before its last chat: the next sync brings
/// the chat back from the storage (the other computer has it), once, with its cost once,
/// and no phantom computer.
#[test]
fn a_restore_on_a_computer_that_syncs_gets_back_what_it_synced_since() {
    if !in_child(
        "sync::a_restore_on_a_computer_that_syncs_gets_back_what_it_synced_since",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    runtime().block_on(restored_then_synced());
}

async fn restored_then_synced() {
    let server = mock("Noted.", 50, 0).await;
    let shared = tempfile::tempdir().unwrap();
    let (_a_dir, a) = computer(&server, "a");
    let (_b_dir, b) = computer(&server, "b");
    sync_through(shared.path(), &[&a, &b]).await;
    a.send(ask(None, "Before the backup"), Events::default().sink())
        .await
        .unwrap();
    a.sync_now().await.unwrap();
    let backup = a.backup_now().unwrap();
    a.send(ask(None, "After the backup"), Events::default().sink())
        .await
        .unwrap();
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();

    a.backup_restore(&backup.name).unwrap();
    assert_eq!(titles(&a), ["Before the backup"]);
    let view = a.sync_now().await.unwrap();
    assert_eq!(view.problem, None, "{view:?}");
    for engine in [&a, &b] {
        assert_eq!(titles(engine), ["After the backup", "Before the backup"]);
        assert_eq!(engine.spend_summary().unwrap().requests, 2);
        let devices = engine.sync_view().unwrap().devices;
        assert_eq!(devices.len(), 2, "{devices:?}");
        assert_eq!(
            devices.iter().map(|d| d.requests).sum::<i64>(),
            2,
            "{devices:?}"
        );
    }

    // Again, with A's files since the backup removed by two snapshots: its own newest
    // snapshot brings them back.
    let second_backup = a.backup_now().unwrap();
    for text in ["Before the snapshots", "Between the snapshots"] {
        a.send(ask(None, text), Events::default().sink())
            .await
            .unwrap();
        a.sync_now().await.unwrap();
        a.sync_write_snapshot().await.unwrap();
    }
    a.backup_restore(&second_backup.name).unwrap();
    let view = a.sync_now().await.unwrap();
    assert_eq!(view.problem, None, "{view:?}");
    b.sync_now().await.unwrap();
    for engine in [&a, &b] {
        assert_eq!(
            titles(engine),
            [
                "After the backup",
                "Before the backup",
                "Before the snapshots",
                "Between the snapshots"
            ]
        );
        assert_eq!(engine.spend_summary().unwrap().requests, 4);
    }
}

const KILL_TEST: &str = "sync::a_sync_killed_at_any_moment_loses_nothing_and_the_next_finishes_it";
/// Set in the victim: the data folder it syncs, and its keychain service.
const VICTIM_DIR: &str = "TALLY_SYNC_KILL_DIR";
const VICTIM_SERVICE: &str = "TALLY_SYNC_KILL_SERVICE";
/// What the victim prints once it has opened the storage (the key derived); it then waits
/// for a line on its standard input before syncing on and on.
const SYNCING: &str = "tally-sync-victim-syncing";

/// A sync killed (SIGKILL, the process gone) at a random moment, while sending or while
/// reading another computer's files: nothing is lost, the next sync finishes the job, and
/// both computers end the same, every cost counted once.
#[test]
fn a_sync_killed_at_any_moment_loses_nothing_and_the_next_finishes_it() {
    if let Ok(dir) = std::env::var(VICTIM_DIR) {
        sync_until_killed(&dir);
        return;
    }
    if !in_child(KILL_TEST, Setup::UnlockedKeyring) {
        return;
    }
    runtime().block_on(killed_mid_sync());
}

/// The victim: this test binary again, syncing the data folder it was given over and over.
fn sync_until_killed(dir: &str) {
    let mut config = EngineConfig::new(dir);
    config.keychain_service = std::env::var(VICTIM_SERVICE).unwrap();
    let engine = Engine::open(config).unwrap();
    let runtime = runtime();
    runtime.block_on(engine.sync_now()).unwrap();
    println!("{SYNCING}");
    let mut go = String::new();
    if std::io::stdin().read_line(&mut go).unwrap() == 0 {
        return; // The test is gone.
    }
    loop {
        runtime.block_on(engine.sync_now()).unwrap();
    }
}

/// Starts the victim on `dir`; once it has opened the storage, does `work` (which gives it
/// something to sync; the victim waits meanwhile, as one process writes a database at a
/// time), lets it sync, and kills it at a random moment soon after.
async fn kill_during_sync(
    dir: &std::path::Path,
    service: &str,
    round: usize,
    work: impl std::future::Future<Output = ()>,
) {
    use std::io::BufRead;
    /// Killed when dropped: a test that fails midway leaves no victim syncing.
    struct Victim(std::process::Child);
    impl Drop for Victim {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([KILL_TEST, "--exact", "--nocapture", "--test-threads", "1"])
        .env(VICTIM_DIR, dir)
        .env(VICTIM_SERVICE, service)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map(Victim)
        .unwrap();
    let stdout = child.0.stdout.take().unwrap();
    let (said, heard) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut said = Some(said);
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains(SYNCING)
                && let Some(said) = said.take()
            {
                let _ = said.send(());
            }
        }
    });
    if tokio::time::timeout(std::time::Duration::from_secs(60), heard)
        .await
        .is_err()
    {
        let _ = child.0.kill();
        let mut stderr = String::new();
        if let Some(mut pipe) = child.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        panic!("round {round}: the victim never started syncing:\n{stderr}");
    }
    work.await;
    {
        use std::io::Write;
        let mut stdin = child.0.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
    }
    // Within the sync that takes the work up: a few milliseconds here (the test was
    // measured to kill about half the rounds before that sync ended).
    tokio::time::sleep(std::time::Duration::from_micros(fastrand::u64(0..6_000))).await;
    drop(child);
}

async fn killed_mid_sync() {
    const ROUNDS: usize = 16;
    // The conversation list's first page holds 100: all of them, at the end.
    const CHATS: usize = 6;
    let server = mock("Noted.", 50, 0).await;
    let shared = tempfile::tempdir().unwrap();
    let (a_dir, a) = computer(&server, "a");
    let (b_dir, b) = computer(&server, "b");
    let service = |name: &str| format!("Tally-test-{}-{name}", std::process::id());
    sync_through(shared.path(), &[&a, &b]).await;
    drop(b);
    let reopen_b = || {
        let mut config = EngineConfig::new(b_dir.path());
        config.keychain_service = service("b");
        Engine::open(config).unwrap()
    };
    let shape = |engine: &Engine| {
        let spend = engine.spend_summary().unwrap();
        (conversations(engine), spend.requests, spend.spent_nanos)
    };
    let chats = |round: usize| {
        let a = a.clone();
        async move {
            for i in 0..CHATS {
                a.send(
                    ask(None, &format!("Round {round}, chat {i}")),
                    Events::default().sink(),
                )
                .await
                .unwrap();
            }
        }
    };
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            // A is killed while sending what it writes meanwhile (another process, the
            // same data folder).
            kill_during_sync(a_dir.path(), &service("a"), round, chats(round)).await;
            a.sync_now().await.unwrap();
        } else {
            // B is killed while reading what A sends.
            chats(round).await;
            let send = async { a.sync_now().await.map(drop).unwrap() };
            kill_during_sync(b_dir.path(), &service("b"), round, send).await;
        }
        // Reopened, B finishes the job.
        let b = reopen_b();
        let finished = b.sync_now().await.unwrap();
        assert_eq!(finished.problem, None, "round {round}: {finished:?}");
        a.sync_now().await.unwrap();
        let on_a = shape(&a);
        assert_eq!(on_a.0.len(), CHATS * (round + 1), "round {round}");
        assert_eq!(
            on_a.1,
            (CHATS * (round + 1)) as i64,
            "round {round}: every cost once"
        );
        assert_eq!(shape(&b), on_a, "round {round}");
        drop(b);
        let db = rusqlite::Connection::open(b_dir.path().join(tally_store::DB_FILE_NAME)).unwrap();
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        db.execute(
            "INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .unwrap_or_else(|e| panic!("round {round}: the search index: {e}"));
    }
}
