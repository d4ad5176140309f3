//! Backups with SQLite's backup API, restoring one, and recovery from a damaged file.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use tally_store::{
    BACKUP_EVERY_MS, BACKUPS_KEPT, BackupReason, DAMAGED_DIR, DB_FILE_NAME, Store, UNDO_KEPT,
    list_backups, migrations,
};

const NOW: i64 = 1_795_435_200_000;

fn titles(store: &Store) -> Vec<String> {
    let mut titles: Vec<String> = store
        .conversation_page(None, 100)
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect();
    titles.sort();
    titles
}

/// Overwrites `len` bytes at `offset` of the database file with garbage.
fn damage(data_dir: &Path, offset: u64, len: usize) {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(data_dir.join(DB_FILE_NAME))
        .unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(&vec![0xA5; len]).unwrap();
}

#[test]
fn backups_are_checked_copies_and_only_the_newest_seven_are_kept() {
    let (dir, mut store) = crate::open();
    store.create_conversation("First", "m", 1).unwrap();
    let first = store.back_up(BackupReason::Manual, NOW).unwrap();
    assert!(first.size_bytes > 0);
    assert_eq!(first.reason, BackupReason::Manual);
    // A backup is a database of its own with the data at that moment.
    let copy = Store::open(&first.path).unwrap();
    assert_eq!(titles(&copy), ["First"]);
    drop(copy);

    for i in 1..=9 {
        store.back_up(BackupReason::Daily, NOW + i).unwrap();
    }
    let kept = list_backups(dir.path()).unwrap();
    assert_eq!(kept.len(), BACKUPS_KEPT);
    assert_eq!(kept[0].created_at, NOW + 9, "newest first");
    assert_eq!(kept[6].created_at, NOW + 3);
    // Nothing half-written is left behind.
    let files = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .count();
    assert_eq!(files, BACKUPS_KEPT);
}

#[test]
fn the_daily_backup_is_made_at_most_once_a_day() {
    let (dir, store) = crate::open();
    assert!(store.back_up_if_due(NOW).unwrap().is_some(), "none yet");
    assert!(store.back_up_if_due(NOW + 1000).unwrap().is_none());
    assert!(
        store
            .back_up_if_due(NOW + BACKUP_EVERY_MS - 1)
            .unwrap()
            .is_none()
    );
    let next = store
        .back_up_if_due(NOW + BACKUP_EVERY_MS)
        .unwrap()
        .unwrap();
    assert_eq!(next.reason, BackupReason::Daily);
    // A clock set back does not stop backups for good.
    assert!(
        store
            .back_up_if_due(NOW - 10 * BACKUP_EVERY_MS)
            .unwrap()
            .is_some()
    );
    assert_eq!(list_backups(dir.path()).unwrap().len(), 3);
}

#[test]
fn restoring_a_backup_replaces_the_data_and_can_itself_be_undone() {
    let (dir, mut store) = crate::open();
    store.create_conversation("Before", "m", 1).unwrap();
    let backup = store.back_up(BackupReason::Manual, NOW).unwrap();
    store.create_conversation("After", "m", 2).unwrap();

    store.restore_backup(&backup.name, NOW + 5).unwrap();
    assert_eq!(titles(&store), ["Before"]);
    // The database stays usable, and so does search over it.
    store.create_conversation("New", "m", 3).unwrap();
    assert_eq!(store.search("before", 5).unwrap().hits.len(), 1);

    let undo = list_backups(dir.path())
        .unwrap()
        .into_iter()
        .find(|b| b.reason == BackupReason::BeforeRestore)
        .expect("a backup of the state before the restore");
    store.restore_backup(&undo.name, NOW + 6).unwrap();
    assert_eq!(titles(&store), ["After", "Before"]);
    assert!(
        store
            .restore_backup("tally-1-nothing.sqlite3", NOW)
            .is_err()
    );

    // Reopened, it is what was restored.
    drop(store);
    assert_eq!(
        titles(&Store::open_in(dir.path()).unwrap()),
        ["After", "Before"]
    );
}

#[test]
fn an_upgrade_backs_up_the_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        migrations().to_version(&mut conn, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO conversations (id, title, model, created_at, updated_at)
             VALUES (1, 'Kept from v4', 'm', 1, 1);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert!(store.schema_version().unwrap() > 4);
    let backups = list_backups(dir.path()).unwrap();
    assert_eq!(backups.len(), 1);
    assert!(matches!(backups[0].reason, BackupReason::BeforeUpgrade(v) if v > 4));
    let old = rusqlite::Connection::open(&backups[0].path).unwrap();
    let version: i64 = old
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 4);
    let title: String = old
        .query_row("SELECT title FROM conversations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(title, "Kept from v4");

    // A fresh database has nothing to back up.
    let fresh = tempfile::tempdir().unwrap();
    Store::open_in(fresh.path()).unwrap();
    assert!(list_backups(fresh.path()).unwrap().is_empty());
}

#[test]
fn a_file_that_cannot_be_opened_is_moved_aside_and_the_newest_good_backup_restored() {
    let (dir, mut store) = crate::open();
    store.create_conversation("Old", "m", 1).unwrap();
    store.back_up(BackupReason::Daily, NOW).unwrap();
    store.create_conversation("Newer", "m", 2).unwrap();
    let newest = store.back_up(BackupReason::Daily, NOW + 1).unwrap();
    store.create_conversation("Lost", "m", 3).unwrap();
    drop(store);
    // The newest backup is damaged too: the one before it is used.
    std::fs::write(&newest.path, b"not a database at all").unwrap();
    damage(dir.path(), 0, 100);

    let (store, recovery) = Store::open_or_recover(dir.path(), NOW + 2).unwrap();
    let recovery = recovery.expect("a recovery");
    assert_eq!(titles(&store), ["Old"]);
    assert_eq!(recovery.restored.unwrap().created_at, NOW);
    assert!(
        recovery
            .damaged_copy
            .starts_with(dir.path().join(DAMAGED_DIR))
    );
    assert!(recovery.damaged_copy.is_file(), "the damaged file is kept");

    // A healthy file opens as it is.
    drop(store);
    let (store, recovery) = Store::open_or_recover(dir.path(), NOW + 3).unwrap();
    assert!(recovery.is_none());
    assert_eq!(titles(&store), ["Old"]);
}

#[test]
fn without_a_backup_a_damaged_file_gives_way_to_a_new_database() {
    let (dir, mut store) = crate::open();
    store.create_conversation("Gone", "m", 1).unwrap();
    drop(store);
    damage(dir.path(), 0, 100);
    let (store, recovery) = Store::open_or_recover(dir.path(), NOW).unwrap();
    let recovery = recovery.unwrap();
    assert!(recovery.restored.is_none());
    assert!(titles(&store).is_empty());
    assert!(recovery.damaged_copy.is_file());
}

#[test]
fn damage_found_by_the_daily_check_is_repaired_at_the_next_start() {
    let (dir, mut store) = crate::open();
    store.create_conversation("Safe", "m", 1).unwrap();
    store.back_up(BackupReason::Daily, NOW).unwrap();
    // Enough rows that damage in the middle of the file hits table and index pages.
    for i in 0..300 {
        let c = store.create_conversation(&format!("c{i}"), "m", 2).unwrap();
        store
            .begin_exchange(c.id, &"words to index ".repeat(50), "m", 3)
            .unwrap();
    }
    drop(store);
    let size = std::fs::metadata(dir.path().join(DB_FILE_NAME))
        .unwrap()
        .len();
    damage(dir.path(), size / 2, 64 * 1024);

    let store = Store::open_in(dir.path()).expect("the header is intact, so it opens");
    let found = store.back_up_if_due(NOW + BACKUP_EVERY_MS).unwrap_err();
    assert!(found.is_damage(), "{found}");
    assert_eq!(
        list_backups(dir.path()).unwrap().len(),
        1,
        "no damaged copy counts as a backup"
    );
    drop(store);

    let (store, recovery) = Store::open_or_recover(dir.path(), NOW + BACKUP_EVERY_MS).unwrap();
    assert_eq!(recovery.unwrap().restored.unwrap().created_at, NOW);
    assert_eq!(titles(&store), ["Safe"]);
    assert_eq!(store.integrity_check(), "ok");
}

/// Every conversation (with its messages) and every ledger row, as a comparable snapshot.
fn everything(store: &Store) -> (Vec<(String, Vec<String>)>, Vec<tally_store::UsageRow>) {
    let mut conversations: Vec<(String, Vec<String>)> = store
        .conversation_page(None, 1000)
        .unwrap()
        .into_iter()
        .map(|c| {
            let texts = store
                .current_branch(c.id)
                .unwrap()
                .into_iter()
                .map(|m| m.content)
                .collect();
            (c.title, texts)
        })
        .collect();
    conversations.sort();
    (conversations, store.usage_rows().unwrap())
}

/// Restore's "before restore" backup prunes the set to seven: it used to delete the very
/// file being restored (the oldest), which SQLite then created empty and copied over the
/// live database. Each of the seven is restored in turn, the oldest first, and each time
/// the data is exactly what that backup held.
#[test]
fn restoring_each_of_the_seven_kept_backups_in_turn_gives_back_exactly_its_data() {
    let (dir, mut store) = crate::open();
    let mut expected = std::collections::HashMap::new();
    for day in 0..BACKUPS_KEPT as i64 {
        let c = store
            .create_conversation(&format!("Day {day}"), "m", day)
            .unwrap();
        store
            .begin_exchange(c.id, &format!("Question of day {day}"), "m", day)
            .unwrap();
        store
            .record_usage(&crate::ledger::row(c.id, Some(1_000 * (day + 1))))
            .unwrap();
        let backup = store
            .back_up(BackupReason::Daily, NOW + day * BACKUP_EVERY_MS)
            .unwrap();
        expected.insert(backup.name.clone(), everything(&store));
    }
    let mut names: Vec<String> = list_backups(dir.path())
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    names.reverse();
    assert_eq!(names.len(), BACKUPS_KEPT);
    for (i, name) in names.iter().enumerate() {
        let now = NOW + (10 + i as i64) * BACKUP_EVERY_MS;
        store.restore_backup(name, now).unwrap();
        assert_eq!(everything(&store), expected[name], "after restoring {name}");
        assert!(
            everything(&store).1.iter().all(|r| r.cost_nanos.is_some()),
            "ledger rows intact"
        );
        assert_eq!(store.integrity_check(), "ok");
        // The seven are all still there; the undo points of the restores are kept apart.
        let kept = list_backups(dir.path()).unwrap();
        for name in &names {
            assert!(kept.iter().any(|b| &b.name == name), "{name} was pruned");
        }
        let undo = kept
            .iter()
            .filter(|b| b.reason == BackupReason::BeforeRestore)
            .count();
        assert_eq!(undo, (i + 1).min(UNDO_KEPT));
    }
}

/// A backup file that is missing, empty, not a database, or not Tally's is refused before
/// anything changes: the live data stays as it was.
#[test]
fn a_missing_empty_or_foreign_backup_is_refused_and_nothing_changes() {
    let (dir, mut store) = crate::open();
    store.create_conversation("Live", "m", 1).unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let foreign = backups.join("tally-0000000000003-manual.sqlite3");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE other (x); INSERT INTO other VALUES (1);")
        .unwrap();
    std::fs::write(backups.join("tally-0000000000002-manual.sqlite3"), b"").unwrap();
    std::fs::write(
        backups.join("tally-0000000000001-manual.sqlite3"),
        b"SQLite format 3\0 and then nothing that makes sense",
    )
    .unwrap();
    for name in [
        "tally-0000000000001-manual.sqlite3",
        "tally-0000000000002-manual.sqlite3",
        "tally-0000000000003-manual.sqlite3",
    ] {
        let refused = store.restore_backup(name, NOW).unwrap_err();
        assert!(
            matches!(refused, tally_store::StoreError::BackupDamaged { .. }),
            "{name}: {refused}"
        );
        assert_eq!(titles(&store), ["Live"], "{name}");
    }
    // A name listed a moment ago whose file is gone: no empty file is created for it.
    let gone = store.back_up(BackupReason::Manual, NOW).unwrap();
    std::fs::remove_file(&gone.path).unwrap();
    let refused = store.restore_backup(&gone.name, NOW + 1).unwrap_err();
    assert!(
        matches!(refused, tally_store::StoreError::NoBackup(_)),
        "{refused}"
    );
    assert!(!gone.path.exists(), "restore created the missing file");
    assert_eq!(titles(&store), ["Live"]);
    // Recovery at start passes over the empty and foreign files too.
    drop(store);
    damage(dir.path(), 0, 100);
    let (store, recovery) = Store::open_or_recover(dir.path(), NOW + 2).unwrap();
    assert!(recovery.unwrap().restored.is_none());
    assert!(titles(&store).is_empty());
}

/// A check that could not run (here: the backup folder cannot be written, as with a full
/// disk) is that failure, not damage: nothing is marked for repair, and the next start
/// keeps the database.
#[test]
fn a_backup_that_fails_on_the_way_is_not_taken_for_damage() {
    let (dir, mut store) = crate::open();
    store.create_conversation("Healthy", "m", 1).unwrap();
    // A file where the backup folder should be: every copy fails with an I/O error.
    std::fs::write(dir.path().join("backups"), b"in the way").unwrap();
    let failed = store.back_up_if_due(NOW).unwrap_err();
    assert!(!failed.is_damage(), "{failed}");
    assert!(!dir.path().join("needs-repair").exists());
    drop(store);
    std::fs::remove_file(dir.path().join("backups")).unwrap();
    let (store, recovery) = Store::open_or_recover(dir.path(), NOW).unwrap();
    assert!(recovery.is_none());
    assert_eq!(titles(&store), ["Healthy"]);
}

/// A mark left by an earlier check is checked again before anything is replaced: a sound
/// database is kept (the mark was a false alarm), a damaged one is repaired.
#[test]
fn a_repair_mark_is_checked_again_before_the_database_is_replaced() {
    let (dir, mut store) = crate::open();
    store.create_conversation("Yesterday", "m", 1).unwrap();
    store.back_up(BackupReason::Daily, NOW).unwrap();
    store.create_conversation("Today", "m", 2).unwrap();
    drop(store);
    tally_store::mark_needs_repair(dir.path(), "disk I/O error").unwrap();
    let (store, recovery) = Store::open_or_recover(dir.path(), NOW + 1).unwrap();
    assert!(recovery.is_none(), "a sound database was replaced");
    assert_eq!(titles(&store), ["Today", "Yesterday"]);
    assert!(!dir.path().join("needs-repair").exists());
}

/// The disk full error is told apart from other failures, so the user gets its own words.
#[test]
fn a_full_disk_is_told_apart() {
    let full = tally_store::StoreError::Sqlite(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
        None,
    ));
    assert!(full.is_disk_full());
    assert!(!full.is_damage());
    let io = tally_store::StoreError::DataDir {
        path: "x".into(),
        source: std::io::Error::from_raw_os_error(28),
    };
    assert!(io.is_disk_full());
    assert!(!tally_store::StoreError::BackupBusy.is_disk_full());
}

/// The database, its backups and the folders that hold them are the user's alone.
#[cfg(unix)]
#[test]
fn the_database_and_its_backups_are_readable_by_the_user_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("Tally");
    let mut store = Store::open_in(&data).unwrap();
    store.create_conversation("Private", "m", 1).unwrap();
    let backup = store.back_up(BackupReason::Manual, NOW).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("backups")), 0o700);
    assert_eq!(mode(&backup.path), 0o600);
    for suffix in ["", "-wal", "-shm"] {
        let path = data.join(format!("{DB_FILE_NAME}{suffix}"));
        assert!(path.exists(), "{suffix}");
        assert_eq!(mode(&path), 0o600, "{suffix}");
    }
}
