//! tally-sync against real storage servers no one here wrote, on 127.0.0.1: WsgiDAV
//! (WebDAV, from PyPI) and moto's server (S3, from PyPI); and a synced folder on a real
//! (tmpfs) disk that fills up. `cargo xtask test` installs the servers into `.tools/sync`
//! first.

use std::time::Duration;

use secrecy::SecretString;
use tally_sync::test_support::{
    fill, free, on_small_disk, s3, s3_location, webdav, webdav_location, webdav_on_small_disk,
};
use tally_sync::{Location, Segment, Snapshot, SyncError, SyncFolder, TimeLimits};

/// Two computers through `location`: what A writes, B lists and reads; a wrong passphrase
/// is refused.
async fn two_computers_share_files_through(location: &Location) {
    let passphrase = SecretString::from("seven lemons");
    let (a, created) = SyncFolder::open(location, &passphrase).await.unwrap();
    assert!(created);
    let first = Segment::new("aaaa1111", "000001780000000.0000000000").unwrap();
    let second = Segment::new("aaaa1111", "000001780000001.0000000000").unwrap();
    a.put(&first, b"first changes").await.unwrap();
    a.put(&second, &vec![7u8; 3 * 1024 * 1024]).await.unwrap();

    let (b, created) = SyncFolder::open(location, &passphrase).await.unwrap();
    assert!(!created);
    assert_eq!(b.list().await.unwrap(), vec![first.clone(), second.clone()]);
    assert_eq!(b.get(&first).await.unwrap(), b"first changes");
    assert_eq!(b.get(&second).await.unwrap().len(), 3 * 1024 * 1024);

    let wrong = SyncFolder::open(location, &SecretString::from("eight lemons")).await;
    assert!(
        matches!(wrong, Err(SyncError::WrongPassphrase)),
        "{wrong:?}"
    );

    // A snapshot, then what it covers removed: the other computer no longer sees either.
    let snapshot = Snapshot::new("aaaa1111", "000001780000002.0000000000").unwrap();
    a.put_snapshot_part(&snapshot, 0, b"everything")
        .await
        .unwrap();
    a.put_snapshot_manifest(&snapshot, b"one part")
        .await
        .unwrap();
    assert_eq!(b.list_snapshots().await.unwrap(), vec![snapshot.clone()]);
    a.remove(std::slice::from_ref(&second)).await.unwrap();
    assert_eq!(b.list().await.unwrap(), vec![first.clone()]);
    a.remove_snapshot(&snapshot).await.unwrap();
    assert_eq!(b.list_snapshots().await.unwrap(), vec![]);
    assert!(b.get_snapshot_part(&snapshot, 0).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_computers_share_files_through_a_real_webdav_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = webdav(dir.path());
    two_computers_share_files_through(&webdav_location(&server, "sesame")).await;
    // What the server keeps is sealed.
    let kept = std::fs::read(
        dir.path()
            .join("dav/devices/aaaa1111/000001780000000.0000000000.tsync"),
    )
    .unwrap();
    assert!(!kept.windows(5).any(|w| w == b"first"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_webdav_password_is_refused_as_access_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = webdav(dir.path());
    let refused = SyncFolder::open(
        &webdav_location(&server, "not it"),
        &SecretString::from("p"),
    )
    .await;
    assert!(matches!(refused, Err(SyncError::Denied(_))), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_computers_share_files_through_real_s3_semantics() {
    let dir = tempfile::tempdir().unwrap();
    let server = s3(dir.path());
    two_computers_share_files_through(&s3_location(&server)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_that_went_away_is_reported_unreachable_within_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = webdav(dir.path());
    let location = webdav_location(&server, "sesame");
    let (folder, _) = SyncFolder::open(&location, &SecretString::from("p"))
        .await
        .unwrap();
    server.stop();

    let segment = Segment::new("aaaa1111", "1").unwrap();
    let written = tokio::time::timeout(Duration::from_secs(60), folder.put(&segment, b"x"))
        .await
        .expect("a failed write ends (retries are bounded)");
    assert!(
        matches!(written, Err(SyncError::Unreachable(_))),
        "{written:?}"
    );
    let listed = tokio::time::timeout(Duration::from_secs(60), folder.list())
        .await
        .expect("a failed list ends");
    assert!(
        matches!(listed, Err(SyncError::Unreachable(_))),
        "{listed:?}"
    );
}

/// Through `location`, on a disk that `fill` fills and `free` frees: a file is refused as
/// "full", and taken whole once there is room.
async fn refused_when_full_and_taken_once_there_is_room(
    location: &Location,
    fill: impl Fn(),
    free: impl Fn(),
) {
    let (folder, _) = SyncFolder::open(location, &SecretString::from("p"))
        .await
        .unwrap();
    let segment = Segment::new("aaaa1111", "000001780000000.0000000000").unwrap();

    fill();
    let refused = folder.put(&segment, &vec![3u8; 256 * 1024]).await;
    assert!(matches!(refused, Err(SyncError::Full)), "{refused:?}");
    free();
    folder.put(&segment, &vec![3u8; 256 * 1024]).await.unwrap();
    assert_eq!(folder.list().await.unwrap(), vec![segment.clone()]);
    assert_eq!(folder.get(&segment).await.unwrap().len(), 256 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_webdav_server_is_reported_full_and_takes_the_file_once_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let disk = webdav_on_small_disk(dir.path(), 8 * 1024 * 1024);
    let location = webdav_location(&disk.server, "sesame");
    refused_when_full_and_taken_once_there_is_room(&location, || disk.fill(), || disk.free()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_folder_on_a_full_disk_is_reported_full_and_takes_the_file_once_there_is_room() {
    let Some(folder) = on_small_disk(
        "a_synced_folder_on_a_full_disk_is_reported_full_and_takes_the_file_once_there_is_room",
        8 * 1024 * 1024,
    ) else {
        return;
    };
    let location = Location::Folder {
        path: folder.clone(),
    };
    refused_when_full_and_taken_once_there_is_room(&location, || fill(&folder), || free(&folder))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_is_given_up_after_the_time_limit_and_a_slow_one_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = webdav(dir.path());
    let limits = TimeLimits {
        request: Duration::from_secs(4),
        silence: Duration::from_secs(2),
    };
    let location = webdav_location(&server, "sesame");
    let (folder, _) = SyncFolder::open_with(&location, &SecretString::from("p"), limits)
        .await
        .unwrap();
    let segment = Segment::new("aaaa1111", "1").unwrap();

    server.pause();
    let written = tokio::time::timeout(Duration::from_secs(60), folder.put(&segment, b"x"))
        .await
        .expect("each try ends at its limit, and the tries are bounded");
    assert!(matches!(written, Err(SyncError::TooSlow)), "{written:?}");
    assert!(folder.list().await.is_err(), "still stalled");

    // Answering late, within the limit: waited for.
    let resumed = server.resume_after(Duration::from_millis(500));
    folder.put(&segment, b"x").await.unwrap();
    resumed.join().unwrap();
    assert_eq!(folder.get(&segment).await.unwrap(), b"x");
}
