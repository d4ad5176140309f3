//! Running a test against a real, private Secret Service (feature `test-support`).
//!
//! [`in_child`] re-runs the calling test in a child process inside its own D-Bus session
//! with an unlocked gnome-keyring and a fresh HOME, so tests never touch the developer's
//! keychain and never fall back to a fake.

use std::path::PathBuf;

use std::process::Command;

/// How a test's child process is set up.
#[derive(Clone, Copy)]
pub enum Setup {
    /// A private session bus with gnome-keyring's unlocked Secret Service.
    UnlockedKeyring,
    /// A private session bus with no Secret Service on it.
    BusWithoutKeyring,
    /// No session bus at all.
    NoBus,
}

const MARK: &str = "TALLY_KEYCHAIN_TEST_CHILD";

/// Runs `test` (the calling test's name) again in a child process prepared per `setup`,
/// and returns `true` in that child, where the test body should run. In the parent it
/// waits for the child, fails if the child failed, and returns `false`.
pub fn in_child(test: &str, setup: Setup) -> bool {
    if std::env::var_os(MARK).is_some() {
        return true;
    }
    for tool in ["dbus-run-session", "gnome-keyring-daemon"] {
        assert!(
            which(tool).is_some(),
            "{tool} is missing: install dbus and gnome-keyring (`cargo xtask test` does)"
        );
    }
    let home = tempfile_dir();
    let exe = std::env::current_exe().unwrap();
    let test_args = [
        exe.to_str().unwrap().to_string(),
        "--exact".into(),
        test.into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ];
    let mut command = match setup {
        Setup::UnlockedKeyring => {
            let mut c = Command::new("dbus-run-session");
            c.args(["--", "sh", "-c"])
                .arg("printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec \"$@\"")
                .arg("sh")
                .args(&test_args);
            c
        }
        Setup::BusWithoutKeyring => {
            let mut c = Command::new("dbus-run-session");
            c.arg("--").args(&test_args);
            c
        }
        Setup::NoBus => {
            let mut c = Command::new(&test_args[0]);
            c.args(&test_args[1..]);
            c
        }
    };
    command
        .env(MARK, "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_RUNTIME_DIR", home.path())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY");
    if let Setup::NoBus = setup {
        let dead = format!("unix:path={}/no-bus", home.path().display());
        command.env("DBUS_SESSION_BUS_ADDRESS", dead);
    }
    let output = command
        .output()
        .expect("start the test in a private session");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child test {test} failed:\n{stdout}\n{stderr}"
    );
    false
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

fn tempfile_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("tally-keychain-")
        .tempdir()
        .unwrap()
}
