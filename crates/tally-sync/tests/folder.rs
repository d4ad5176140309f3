//! The storage as a shared folder on disk (what Syncthing or Dropbox would carry between
//! computers): files written by one computer open on another with the same passphrase, and
//! nothing else opens.

use secrecy::SecretString;
use tally_sync::{Location, Segment, SyncError, SyncFolder, VAULT_FILE};

fn shared_folder() -> (tempfile::TempDir, Location) {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::Folder {
        path: dir.path().to_path_buf(),
    };
    (dir, location)
}

fn passphrase(text: &str) -> SecretString {
    SecretString::from(text)
}

#[tokio::test]
async fn a_file_one_computer_writes_opens_on_another_with_the_same_passphrase() {
    let (_dir, location) = shared_folder();
    let (first, created) = SyncFolder::open(&location, &passphrase("tulip orbit 42"))
        .await
        .unwrap();
    assert!(created, "the first computer writes the vault");
    let segment = Segment::new("aaaa1111", "000001780000000.0000000000").unwrap();
    first.put(&segment, b"changes from A").await.unwrap();

    let (second, created) = SyncFolder::open(&location, &passphrase("tulip orbit 42"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(second.list().await.unwrap(), vec![segment.clone()]);
    assert_eq!(second.get(&segment).await.unwrap(), b"changes from A");
}

#[tokio::test]
async fn a_wrong_passphrase_is_refused_as_wrong() {
    let (_dir, location) = shared_folder();
    SyncFolder::open(&location, &passphrase("right one"))
        .await
        .unwrap();
    let refused = SyncFolder::open(&location, &passphrase("wrong one")).await;
    assert!(
        matches!(refused, Err(SyncError::WrongPassphrase)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_storage_sees_no_change_in_the_clear() {
    let (dir, location) = shared_folder();
    let (folder, _) = SyncFolder::open(&location, &passphrase("p")).await.unwrap();
    let segment = Segment::new("aaaa1111", "1").unwrap();
    folder
        .put(&segment, b"My secret plans for the garden")
        .await
        .unwrap();
    let written = std::fs::read(dir.path().join(segment.path())).unwrap();
    assert!(!written.windows(6).any(|w| w == b"secret"));
    let vault = std::fs::read_to_string(dir.path().join(VAULT_FILE)).unwrap();
    assert!(
        !vault.contains("\"p\""),
        "the passphrase is not in the vault"
    );
}

#[tokio::test]
async fn a_damaged_cut_short_or_moved_file_is_refused_and_nothing_of_it_returned() {
    let (dir, location) = shared_folder();
    let (folder, _) = SyncFolder::open(&location, &passphrase("p")).await.unwrap();
    let original = Segment::new("aaaa1111", "1").unwrap();
    folder.put(&original, &b"x".repeat(10_000)).await.unwrap();
    let bytes = std::fs::read(dir.path().join(original.path())).unwrap();
    let write = |segment: &Segment, content: &[u8]| {
        let path = dir.path().join(segment.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let cases: [(&str, Segment, Vec<u8>); 4] = [
        (
            "a byte changed",
            Segment::new("aaaa1111", "2").unwrap(),
            flipped,
        ),
        (
            "cut short (still being copied)",
            Segment::new("aaaa1111", "3").unwrap(),
            bytes[..bytes.len() / 2].to_vec(),
        ),
        (
            "moved to another computer's folder",
            Segment::new("bbbb2222", "1").unwrap(),
            bytes.clone(),
        ),
        (
            "not Tally's",
            Segment::new("aaaa1111", "4").unwrap(),
            b"{}".to_vec(),
        ),
    ];
    for (case, segment, content) in cases {
        write(&segment, &content);
        let result = folder.get(&segment).await;
        assert!(
            matches!(result, Err(SyncError::Damaged { .. })),
            "{case}: {result:?}"
        );
    }
    assert_eq!(folder.get(&original).await.unwrap().len(), 10_000);
}

#[tokio::test]
async fn what_a_sync_program_leaves_beside_the_files_is_not_read() {
    let (dir, location) = shared_folder();
    let (folder, _) = SyncFolder::open(&location, &passphrase("p")).await.unwrap();
    let segment = Segment::new("aaaa1111", "1").unwrap();
    folder.put(&segment, b"ok").await.unwrap();
    let device_dir = dir.path().join("devices/aaaa1111");
    for name in [
        ".syncthing.1.tsync.tmp",
        "1 (conflicted copy 2026-11-30).tsync",
        "~1.tsync",
        "notes.txt",
    ] {
        std::fs::write(device_dir.join(name), b"junk").unwrap();
    }
    std::fs::create_dir_all(dir.path().join("devices/Not-A-Device")).unwrap();
    assert_eq!(folder.list().await.unwrap(), vec![segment]);
}

#[tokio::test]
async fn a_vault_from_a_newer_version_is_refused_as_newer_and_a_damaged_one_as_damaged() {
    let cases = [
        (r#"{"tally_sync": 99, "something_new": true}"#, "newer"),
        ("{ not json", "damaged"),
        (
            r#"{"tally_sync": 1, "key_derivation": {"algorithm": "argon2id", "memory_kib": 99999999, "iterations": 3, "parallelism": 1, "salt": "AAAAAAAAAAAAAAAAAAAAAA=="}, "check": ""}"#,
            "damaged",
        ),
    ];
    for (vault, expected) in cases {
        let (dir, location) = shared_folder();
        std::fs::write(dir.path().join(VAULT_FILE), vault).unwrap();
        let result = SyncFolder::open(&location, &passphrase("p")).await;
        let found = match &result {
            Err(SyncError::Newer { found: 99 }) => "newer",
            Err(SyncError::Damaged { .. }) => "damaged",
            _ => "something else",
        };
        assert_eq!(found, expected, "{vault}: {result:?}");
    }
}
