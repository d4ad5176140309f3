//! Installing what a fresh machine lacks.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{Result, cargo, npm, root, run_cmd, run_logged, step};

/// What Tauri needs to build and run on Debian/Ubuntu.
const APP_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "build-essential",
    "curl",
    "file",
    "libxdo-dev",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "pkg-config",
    "dbus",
    "gnome-keyring",
];

/// What the tests add: a display, WebDriver for WebKit, a real keychain, a browser,
/// SQLite's own shell to check the app's database from outside, and xdotool to answer the
/// app's native dialogs (which WebDriver cannot reach) as a person would, with the keyboard,
/// ImageMagick's `import` to keep screenshots of the display (WebKitWebDriver's own
/// screenshot never answers when the page is painted without the GPU compositor), and
/// Debian's own checkers for the packages (`rpm` reads the `.rpm`'s header).
const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "dbus",
    "dbus-x11",
    "gnome-keyring",
    "libsecret-tools",
    "sqlite3",
    "chromium",
    "python3-venv",
    "xdotool",
    "imagemagick",
    // The Linux packages checked as a distribution would check them.
    "lintian",
    "desktop-file-utils",
    "appstream",
    "rpm",
    // A small disk of its own for a storage server, to test a full sync storage
    // (`unshare` and `mount`, in a private mount namespace).
    "util-linux",
    "mount",
    // How the in-app updater installs a package when there is no pkexec (the desktop's
    // password prompt) to ask: as root, as the tests run, it asks for nothing.
    "sudo",
];

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Installs missing system packages with apt-get (as root, or through sudo).
pub fn system_packages(for_tests: bool) -> Result {
    let mut wanted: Vec<&str> = APP_PACKAGES.to_vec();
    if for_tests {
        wanted.extend(TEST_PACKAGES);
    }
    if which("node").is_none() {
        wanted.extend(["nodejs", "npm"]);
    }
    if which("dpkg-query").is_none() || which("apt-get").is_none() {
        println!(
            "xtask: not a Debian or Ubuntu system: make sure these are installed: {}",
            wanted.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("xtask: installing system packages: {}", missing.join(" "));
    let as_root = std::env::var("USER").as_deref() == Ok("root")
        || Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut cmd = if as_root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run_cmd(apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    run_cmd(install)
}

/// `npm ci` when `node_modules` does not match the committed lockfile.
pub fn node_modules() -> Result {
    npm_ci_when_changed(&root().join("ui"))
}

/// `npm ci` in `dir` unless its `node_modules` was installed from this very lockfile.
fn npm_ci_when_changed(dir: &Path) -> Result {
    let lock = std::fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("{}: {e}", dir.join("package-lock.json").display()))?;
    let stamp_path = dir.join("node_modules/.tally-lock-stamp");
    let stamp = format!("{:x}", fnv1a(&lock));
    if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
    run_cmd(npm)?;
    std::fs::write(&stamp_path, stamp).map_err(|e| e.to_string())
}

/// The debug builds the app benchmarks' smoke run and the end-to-end tests start: the app,
/// the empty window, the mock and the data generator. One selection for both, so the
/// second build finds everything built (another selection would unify features
/// differently and compile Tauri and its plugins again: a minute and a half).
pub fn debug_apps_build() -> Command {
    let mut build = cargo();
    build.args([
        "build",
        "-p",
        "tally-app",
        "-p",
        "empty-window",
        "-p",
        "mock-openai",
    ]);
    build.args(["-p", "tally-store", "--bins", "--example", "generate"]);
    build
}

/// `tauri-driver` under `.tools/`, for the end-to-end tests.
pub fn tauri_driver() -> Result<PathBuf> {
    cargo_tool("tauri-driver", "2.0.6", None)
}

/// `tauri_driver`, with the install's output (if it has to install) in `log`.
pub fn tauri_driver_logged(log: &Path) -> Result<PathBuf> {
    cargo_tool("tauri-driver", "2.0.6", Some(log))
}

/// `cargo-fuzz` under `.tools/`, for the parser's fuzz target.
pub fn cargo_fuzz() -> Result<PathBuf> {
    cargo_tool("cargo-fuzz", "0.13.2", None)
}

/// `cargo_fuzz`, with the install's output (if it has to install) in `log`.
pub fn cargo_fuzz_logged(log: &Path) -> Result<PathBuf> {
    cargo_tool("cargo-fuzz", "0.13.2", Some(log))
}

/// A tool from crates.io, installed once under `.tools/` at an exact version (the install's
/// output in `log` if given).
fn cargo_tool(name: &str, version: &str, log: Option<&Path>) -> Result<PathBuf> {
    let tools = root().join(".tools");
    let binary = tools.join("bin").join(name);
    if binary.is_file() {
        return Ok(binary);
    }
    // With a log, the install runs beside a build that is waited for: it gives way.
    let mut install = Command::new(if log.is_some() { "nice" } else { "cargo" });
    if log.is_some() {
        install.args(["-n", "10", "cargo"]);
    }
    install
        .args(["install", name, "--version", version, "--locked", "--root"])
        .arg(&tools);
    match log {
        Some(log) => run_logged(install, log)?,
        None => run_cmd(install)?,
    }
    Ok(binary)
}

/// A Python virtual environment under `.tools/py` with the official `openai` SDK, used to
/// prove the mock server speaks the real wire format, and PyPI's `tiktoken`, the reference
/// for Tally's token counts.
pub fn python_sdk() -> Result<PathBuf> {
    python_venv(
        &root().join(".tools/py"),
        &root().join("tests/mock-openai/sdk-check/requirements.txt"),
    )
}

/// The real MCP servers tally-tools' tests start, under `.tools/mcp`: `mcp-server-time` and
/// the official `mcp` SDK (for the test's own Streamable HTTP and stdio servers) from PyPI,
/// and `@modelcontextprotocol/server-everything` from npm, each at the exact version its
/// file in `crates/tally-tools/tests/servers/` pins.
pub fn mcp_test_servers() -> Result {
    let servers = root().join("crates/tally-tools/tests/servers");
    let tools = root().join(".tools/mcp");
    python_venv(&tools, &servers.join("requirements.txt"))?;
    let npm_dir = tools.join("npm");
    std::fs::create_dir_all(&npm_dir).map_err(|e| e.to_string())?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(servers.join(file), npm_dir.join(file)).map_err(|e| e.to_string())?;
    }
    npm_ci_when_changed(&npm_dir)
}

/// The storage servers tally-sync's tests sync through, under `.tools/sync`: WsgiDAV (WebDAV)
/// and moto's server (S3) from PyPI, at the exact versions
/// `crates/tally-sync/tests/servers/requirements.txt` pins.
pub fn sync_test_servers() -> Result {
    python_venv(
        &root().join(".tools/sync"),
        &root().join("crates/tally-sync/tests/servers/requirements.txt"),
    )
    .map(|_| ())
}

/// Tauri's command-line tool (its bundler makes the `.deb` and `.rpm`), under
/// `.tools/tauri-cli` from the exact version `packaging/tauri-cli` pins: npm's prebuilt
/// binary installs in a second, where `cargo install tauri-cli` compiles for minutes. Kept
/// apart from the UI's packages so the UI's lockfile does not change.
pub fn tauri_cli() -> Result<PathBuf> {
    let pinned = root().join("packaging/tauri-cli");
    let dir = root().join(".tools/tauri-cli");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(pinned.join(file), dir.join(file)).map_err(|e| e.to_string())?;
    }
    npm_ci_when_changed(&dir)?;
    Ok(dir.join("node_modules/.bin/tauri"))
}

/// A virtual environment at `venv` with `requirements` installed, made anew when they change.
fn python_venv(venv: &Path, requirements: &Path) -> Result<PathBuf> {
    let python = venv.join("bin/python");
    let wanted =
        std::fs::read(requirements).map_err(|e| format!("{}: {e}", requirements.display()))?;
    let stamp = venv.join(".tally-requirements");
    if python.is_file() && std::fs::read(&stamp).ok().as_deref() == Some(wanted.as_slice()) {
        return Ok(python);
    }
    let mut create = Command::new("python3");
    create.args(["-m", "venv", "--clear"]).arg(venv);
    run_cmd(create)?;
    let mut install = Command::new(&python);
    install
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements);
    run_cmd(install)?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(python)
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|p| p.join(tool))
        .find(|p| p.is_file())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

/// The UI's npm packages, then its build (`ui/dist`, which the app embeds).
pub fn build_ui() -> Result {
    step("set up the UI's npm packages", node_modules)?;
    step("build the UI", || run_cmd(npm(&["run", "build"])))
}
