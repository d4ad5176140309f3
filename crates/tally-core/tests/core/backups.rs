//! Backups from the engine: daily at most, made and restored from Settings, refused while
//! a reply streams, and a damaged database replaced at start with a notice for the user.

use std::io::{Seek, SeekFrom, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tally_core::Notice;
use tally_core::api::{BackupKind, ErrorCode};

use crate::{DAY, Events, Setup, ask, mock};

fn damage(setup: &Setup, offset: u64, len: usize) {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(setup.dir.path().join("tally.sqlite3"))
        .unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(&vec![0x5A; len]).unwrap();
}

#[tokio::test]
async fn maintenance_backs_up_daily_and_restore_brings_a_backup_back() {
    let server = mock("Sure.", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    engine
        .send(ask(None, "Kept in the backup"), Events::default().sink())
        .await
        .unwrap();

    let daily = engine.maintain().unwrap().expect("the first daily backup");
    assert_eq!(daily.kind, BackupKind::Daily);
    assert!(engine.maintain().unwrap().is_none(), "once a day");
    setup.now.fetch_add(DAY, Ordering::SeqCst);
    assert!(engine.maintain().unwrap().is_some(), "a day later");

    engine
        .send(
            ask(None, "Written after the backup"),
            Events::default().sink(),
        )
        .await
        .unwrap();
    assert_eq!(crate::recent(&engine).len(), 2);
    let manual = engine.backup_now().unwrap();
    assert_eq!(manual.kind, BackupKind::Manual);
    let listed = engine.backups_list().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].name, manual.name, "newest first");

    let spent_before = engine.spend_summary().unwrap().spent_nanos;
    setup.now.fetch_add(1000, Ordering::SeqCst);
    engine.backup_restore(&daily.name).unwrap();
    let titles: Vec<String> = crate::recent(&engine)
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(titles, ["Kept in the backup"]);
    // The meter reads the restored ledger: one request instead of two.
    let spent_after = engine.spend_summary().unwrap().spent_nanos;
    assert!(spent_after < spent_before, "{spent_after} < {spent_before}");
    // The state before the restore was kept, so the restore can be undone.
    let undo = engine.backups_list().unwrap();
    assert_eq!(undo[0].kind, BackupKind::BeforeRestore);
    engine.backup_restore(&undo[0].name).unwrap();
    assert_eq!(crate::recent(&engine).len(), 2);

    assert_eq!(
        engine
            .backup_restore("tally-1-daily.sqlite3")
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn restore_waits_for_a_streaming_reply() {
    let server = mock(&"word ".repeat(200), 5, 20).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let backup = engine.backup_now().unwrap();
    let sending = tokio::spawn({
        let engine = engine.clone();
        async move {
            engine
                .send(ask(None, "A long one"), Events::default().sink())
                .await
        }
    });
    crate::until("the new conversation", || {
        !crate::recent(&engine).is_empty()
    })
    .await;
    let refused = engine.backup_restore(&backup.name).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Busy);
    assert!(refused.to_string().contains("reply"), "{refused}");
    engine.stop(crate::recent(&engine)[0].id);
    sending.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_damaged_database_is_replaced_at_start_and_the_user_is_told() {
    let server = mock("Sure.", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    engine
        .send(
            ask(None, "Saved before the damage"),
            Events::default().sink(),
        )
        .await
        .unwrap();
    engine.backup_now().unwrap();
    assert_eq!(engine.recovery_notice().unwrap(), None);
    drop(engine);
    damage(&setup, 0, 100);

    let engine = setup.open();
    let notice = engine.recovery_notice().unwrap().expect("a notice");
    // 2026-11-23 12:00 UTC is 13:00 in Berlin, the engine's time zone in these tests.
    assert!(
        notice
            .message
            .contains("restored its backup from November 23, 2026 at 13:00"),
        "{}",
        notice.message
    );
    assert!(notice.message.contains("may be missing"));
    assert!(std::path::Path::new(&notice.damaged_copy).is_file());
    assert_eq!(crate::recent(&engine)[0].title, "Saved before the damage");
    // It stays until dismissed, across restarts.
    drop(engine);
    let engine = setup.open();
    assert!(engine.recovery_notice().unwrap().is_some());
    engine.recovery_dismiss().unwrap();
    assert_eq!(engine.recovery_notice().unwrap(), None);
}

#[tokio::test]
async fn damage_found_while_running_is_told_at_once_and_repaired_at_the_next_start() {
    let server = mock("Sure.", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    engine
        .send(ask(None, "Safe"), Events::default().sink())
        .await
        .unwrap();
    engine.maintain().unwrap().expect("a first backup");
    for i in 0..40 {
        engine
            .send(
                ask(None, &format!("Filler {i} {}", "text ".repeat(300))),
                Events::default().sink(),
            )
            .await
            .unwrap();
    }
    // Checkpointed into the database file, which is then damaged under the running app.
    drop(engine);
    let engine = setup.open();
    let size = std::fs::metadata(setup.dir.path().join("tally.sqlite3"))
        .unwrap()
        .len();
    damage(&setup, size / 2, 32 * 1024);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    engine.on_notice(move |n| sink.lock().unwrap().push(n));
    setup.now.fetch_add(DAY, Ordering::SeqCst);
    assert!(
        engine.maintain().unwrap().is_none(),
        "no damaged copy is kept"
    );
    let told = seen.lock().unwrap().clone();
    assert!(
        matches!(&told[..], [Notice::StorageProblem(m)] if m.contains("Restart Tally")),
        "{told:?}"
    );
    drop(engine);

    let engine = setup.open();
    assert!(engine.recovery_notice().unwrap().is_some());
    let titles: Vec<String> = crate::recent(&engine)
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(titles, ["Safe"]);
}
