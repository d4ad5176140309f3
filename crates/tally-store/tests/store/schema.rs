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
