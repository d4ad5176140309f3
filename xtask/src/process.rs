//! Running things: the workspace's root, commands that fail with their name (or with
//! their log's last lines), timed steps, and node scripts under a virtual display with a
//! private keychain. Every other xtask module builds on these; this one uses none of them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub type Result<T = ()> = std::result::Result<T, String>;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// Runs a command, failing with its name if it fails.
pub fn run_cmd(mut command: Command) -> Result {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Runs a command to its end and returns what it printed, failing with its name and what
/// it wrote to stderr.
pub fn output_of(command: &mut Command) -> Result<Vec<u8>> {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!(
            "{shown} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// [`output_of`], as text.
pub fn text_of(command: &mut Command) -> Result<String> {
    output_of(command).map(|out| String::from_utf8_lossy(&out).into_owned())
}

/// Runs a command with its output in `log` (for work done beside a step whose output is
/// shown); a failure shows the log's last lines.
pub fn run_logged(mut command: Command, log: &Path) -> Result {
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let copy = file.try_clone().map_err(|e| e.to_string())?;
    command.stdout(copy).stderr(file);
    run_cmd(command).map_err(|e| {
        let output = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = output.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!("{e}\n(last lines of {}:)\n{tail}", log.display())
    })
}

pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

pub fn npm(args: &[&str]) -> Command {
    let mut c = Command::new("npm");
    c.args(args).current_dir(root().join("ui"));
    c
}

/// Runs `name`'s step and prints how long it took.
pub fn step(name: &str, f: impl FnOnce() -> Result) -> Result {
    step_value(name, f)
}

/// [`step`], for a step that makes something.
pub fn step_value<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("\n==> {name}");
    let started = Instant::now();
    let made = f()?;
    println!("<== {name}: {:.1} s", started.elapsed().as_secs_f64());
    Ok(made)
}

/// Runs a node `script` (its file, after any of node's flags) under a virtual display, inside a private D-Bus session with an
/// unlocked gnome-keyring and a fresh HOME (passed to the script as `home_var`; `tag` tells
/// the HOMEs of scripts running at once apart). Output goes to `log` if given.
pub fn under_display(
    script: &str,
    vars: &[(&str, PathBuf)],
    home_var: &str,
    tag: &str,
    log: Option<&Path>,
) -> Result {
    let home = std::env::temp_dir().join(format!("tally-display-{}{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let mut command = Command::new("xvfb-run");
    command
        .args(["-a", "-s", "-screen 0 1280x800x24", "dbus-run-session", "--", "sh", "-c"])
        .arg(format!(
            "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec node {script}"
        ))
        .current_dir(root())
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_RUNTIME_DIR", &home)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("OPENAI_API_KEY")
        .env_remove("TALLY_API_BASE")
        .env(home_var, &home);
    for (name, value) in vars {
        command.env(name, value);
    }
    let result = match log {
        Some(log) => run_logged(command, log),
        None => run_cmd(command),
    };
    let _ = std::fs::remove_dir_all(&home);
    result
}
