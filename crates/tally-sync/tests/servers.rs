//! tally-sync against real storage servers no one here wrote, on 127.0.0.1: WsgiDAV
//! (WebDAV, from PyPI) and moto's server (S3, from PyPI). `cargo xtask test` installs them
//! into `.tools/sync` first.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tally_sync::{Location, Segment, SyncError, SyncFolder};

/// The longest a server may take to start listening before the test fails.
const START: Duration = Duration::from_secs(60);

fn tools() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/sync/bin");
    assert!(
        dir.join("wsgidav").is_file() && dir.join("moto_server").is_file(),
        "the storage servers are not installed in {}: run `cargo xtask setup`",
        dir.display()
    );
    dir
}

/// A server the test started; stopped (with what it started) when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(mut command: Command, port: u16, log: PathBuf) -> Self {
        let out = std::fs::File::create(&log).unwrap();
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", log.parent().unwrap());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect("the server starts");
        let mut server = Self { child, port, log };
        server.wait_listening();
        server
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + START;
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited ({status}): {}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "the server did not listen on {} within {START:?}: {}",
                self.port,
                self.log_text()
            );
            // Polling a port: there is no event to wait for from another process.
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        // The whole group: a server's workers go with it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// WsgiDAV serving `root` to one user, `tally`, with password `sesame`.
fn webdav(dir: &Path) -> Server {
    let root = dir.join("dav");
    std::fs::create_dir_all(&root).unwrap();
    let port = free_port();
    let config = dir.join("wsgidav.yaml");
    std::fs::write(
        &config,
        format!(
            "host: 127.0.0.1\nport: {port}\nverbose: 2\nlogging:\n  enable: true\n\
             provider_mapping:\n  \"/\": \"{}\"\n\
             http_authenticator:\n  accept_basic: true\n  accept_digest: false\n  \
             default_to_digest: false\n  trusted_auth_header: null\n\
             simple_dc:\n  user_mapping:\n    \"*\":\n      \"tally\":\n        \
             password: \"sesame\"\n",
            root.display()
        ),
    )
    .unwrap();
    let mut command = Command::new(tools().join("wsgidav"));
    command.arg("--config").arg(&config);
    Server::start(command, port, dir.join("wsgidav.log"))
}

fn webdav_location(server: &Server, password: &str) -> Location {
    Location::WebDav {
        url: format!("http://127.0.0.1:{}/", server.port),
        username: Some("tally".into()),
        password: Some(SecretString::from(password)),
    }
}

/// moto's S3 server, with a bucket named `tally`.
fn s3(dir: &Path) -> Server {
    let port = free_port();
    let mut command = Command::new(tools().join("moto_server"));
    command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let server = Server::start(command, port, dir.join("moto.log"));
    // moto takes any signature; a bucket is made by a bare PUT.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "PUT /tally HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server
}

fn s3_location(server: &Server) -> Location {
    Location::S3 {
        endpoint: format!("http://127.0.0.1:{}", server.port),
        region: "us-east-1".into(),
        bucket: "tally".into(),
        access_key_id: "tally-test".into(),
        secret_access_key: SecretString::from("tally-test-secret"),
    }
}

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
