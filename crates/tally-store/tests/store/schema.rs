use tally_store::{DB_FILE_NAME, Store, migrations};

#[test]
fn migrations_are_valid() {
    migrations().validate().unwrap();
}

#[test]
fn opens_in_wal_mode_at_the_latest_version_and_reopens() {
    let (dir, store) = crate::open();
    assert_eq!(store.journal_mode().unwrap(), "wal");
    let version = store.schema_version().unwrap();
    assert!(version >= 1);
    drop(store);
    assert!(dir.path().join(DB_FILE_NAME).is_file());
    let again = Store::open_in(dir.path()).unwrap();
    assert_eq!(again.schema_version().unwrap(), version);
}

#[test]
fn creates_missing_data_folders() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/c");
    Store::open_in(&nested).unwrap();
    assert!(nested.join(DB_FILE_NAME).is_file());
}

#[test]
fn settings_round_trip() {
    let (_dir, store) = crate::open();
    assert_eq!(store.setting("default_model").unwrap(), None);
    store.set_setting("default_model", "gpt-4o").unwrap();
    store.set_setting("default_model", "gpt-4o-mini").unwrap();
    assert_eq!(
        store.setting("default_model").unwrap().as_deref(),
        Some("gpt-4o-mini")
    );
}

/// A database at schema version 1, with data in it, migrates to the latest version and
/// keeps its data.
#[test]
fn upgrades_from_version_1_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        migrations().to_version(&mut conn, 1).unwrap();
        conn.execute_batch(
            "INSERT INTO conversations (id, title, model, created_at, updated_at) VALUES (1, 'Old', 'gpt-4o', 1, 1);
             INSERT INTO messages (id, conversation_id, role, content, status, created_at, updated_at)
                 VALUES (1, 1, 'user', 'hello from v1', 'complete', 1, 1);
             UPDATE conversations SET current_leaf_id = 1;",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 2);
    assert_eq!(store.current_branch(1).unwrap()[0].content, "hello from v1");
    assert!(store.request_log(10).unwrap().is_empty());
}
