//! Real storage servers on 127.0.0.1 for tests (feature `test-support`): WsgiDAV (WebDAV)
//! and moto's server (S3), from PyPI, installed by `cargo xtask setup` into `.tools/sync`.
//! Each is stopped, with whatever it started, when dropped. And small disks that fill up
//! (a tmpfs in a private mount namespace): under WsgiDAV, or under a test of its own.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::Location;

/// The longest a server may take to start listening before the test fails.
const START: Duration = Duration::from_secs(60);

pub fn tools() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/sync/bin");
    assert!(
        dir.join("wsgidav").is_file() && dir.join("moto_server").is_file(),
        "the storage servers are not installed in {}: run `cargo xtask setup`",
        dir.display()
    );
    dir
}

/// A server the test started; stopped (with what it started) when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
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

    /// Stops the server answering (`SIGSTOP`): connections are taken and left waiting,
    /// as with a storage that has stalled.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on `after` a while, from another thread: a server that
    /// answers late. (The pause is the fault; nothing asserts on time.)
    pub fn resume_after(&self, after: Duration) -> std::thread::JoinHandle<()> {
        let group = self.child.id();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            signal_group(group, "-CONT");
        })
    }

    fn signal(&self, signal: &str) {
        signal_group(self.child.id(), signal);
    }

    pub fn stop(&mut self) {
        // The whole group: a server's workers go with it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal_group(group: u32, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, "--", &format!("-{group}")])
        .status()
        .unwrap();
    assert!(sent.success(), "kill {signal} the server");
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

/// WsgiDAV serving `dir/dav` to one user, `tally`, with password `sesame`.
pub fn webdav(dir: &Path) -> Server {
    webdav_at(dir, free_port())
}

/// [`webdav`] on `port` (a server started again where the last one was).
pub fn webdav_at(dir: &Path, port: u16) -> Server {
    let config = webdav_config(dir, port);
    let mut command = Command::new(tools().join("wsgidav"));
    command.arg("--config").arg(&config);
    Server::start(command, port, dir.join("wsgidav.log"))
}

/// WsgiDAV serving a folder on a disk of its own, `bytes` large: a tmpfs mounted in a
/// private mount namespace (`unshare` from util-linux), so a test can fill it up.
pub fn webdav_on_small_disk(dir: &Path, bytes: u64) -> SmallDisk {
    let port = free_port();
    let config = webdav_config(dir, port);
    let root = dir.join("dav");
    let mut command = Command::new("unshare");
    command
        .args(["--map-root-user", "--mount", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o "size=$1" tally-test-disk "$2" && exec "$3" --config "$4""#)
        .arg("sh")
        .arg(bytes.to_string())
        .arg(&root)
        .arg(tools().join("wsgidav"))
        .arg(&config);
    let server = Server::start(command, port, dir.join("wsgidav.log"));
    SmallDisk { server, root }
}

/// A WebDAV server on a small disk of its own ([`webdav_on_small_disk`]).
pub struct SmallDisk {
    pub server: Server,
    root: PathBuf,
}

impl SmallDisk {
    /// Fills the disk until it has no byte left.
    pub fn fill(&self) {
        fill(&seen_from_outside(self.server.child.id(), &self.root));
    }

    /// Frees what [`SmallDisk::fill`] took.
    pub fn free(&self) {
        free(&seen_from_outside(self.server.child.id(), &self.root));
    }
}

/// Runs `test` (the calling test's name) again in a child process, in a private mount
/// namespace (`unshare`) with a tmpfs disk of `bytes` mounted on a fresh folder: a folder
/// another program syncs, on a disk that fills up. (The test's own process has to be in the
/// namespace: storage libraries resolve a path through `/proc/PID/root` back outside it.)
/// Returns the folder in that child, where the test body should run; in the parent it
/// waits for the child, fails if the child failed, and returns `None`.
pub fn on_small_disk(test: &str, bytes: u64) -> Option<PathBuf> {
    const MARK: &str = "TALLY_SYNC_TEST_SMALL_DISK";
    if let Some(folder) = std::env::var_os(MARK) {
        return Some(folder.into());
    }
    // Empty here: the disk is mounted on it in the child's namespace only.
    let folder = std::env::temp_dir().join(format!(
        "tally-small-disk-{}-{}",
        std::process::id(),
        test.replace("::", "-")
    ));
    std::fs::create_dir_all(&folder).unwrap();
    let output = Command::new("unshare")
        .args(["--map-root-user", "--mount", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o "size=$1" tally-test-disk "$2" && shift 2 && exec "$@""#)
        .arg("sh")
        .arg(bytes.to_string())
        .arg(&folder)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(MARK, &folder)
        .output()
        .expect("start unshare (util-linux)");
    let _ = std::fs::remove_dir(&folder);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child test {test} on a small disk failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    None
}

/// `path` inside the mount namespace of process `pid`, seen from outside it.
fn seen_from_outside(pid: u32, path: &Path) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/root")).join(path.strip_prefix("/").unwrap())
}

/// Fills the disk that holds `folder` until it has no byte left.
pub fn fill(folder: &Path) {
    let mut filler = std::fs::File::create(folder.join("filler")).unwrap();
    let block = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match filler.write(&block) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the disk after {written} bytes: {e}"),
        }
    }
    // The last partial block, a byte at a time.
    while filler.write(&[0]).is_ok_and(|n| n == 1) {}
}

/// Frees what [`fill`] took.
pub fn free(folder: &Path) {
    std::fs::remove_file(folder.join("filler")).unwrap();
}

/// WsgiDAV's configuration for serving `dir/dav` on `port`.
fn webdav_config(dir: &Path, port: u16) -> PathBuf {
    let root = dir.join("dav");
    std::fs::create_dir_all(&root).unwrap();
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
    config
}

pub fn webdav_location(server: &Server, password: &str) -> Location {
    Location::WebDav {
        url: format!("http://127.0.0.1:{}/", server.port),
        username: Some("tally".into()),
        password: Some(SecretString::from(password)),
    }
}

/// moto's S3 server, with a bucket named `tally`.
pub fn s3(dir: &Path) -> Server {
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

pub fn s3_location(server: &Server) -> Location {
    Location::S3 {
        endpoint: format!("http://127.0.0.1:{}", server.port),
        region: "us-east-1".into(),
        bucket: "tally".into(),
        access_key_id: "tally-test".into(),
        secret_access_key: SecretString::from("tally-test-secret"),
    }
}
