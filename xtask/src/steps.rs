//! The steps of `run`, `test`, `setup` and `bindings`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::cycles;
use crate::package;
use crate::process::{
    Result, cargo, npm, output_of, root, run_cmd, step, step_value, under_display,
};
use crate::setup::{self, build_ui};

/// What `test` installs and builds before it checks anything.
pub fn setup() -> Result {
    step("system packages", || setup::system_packages(true))?;
    build_ui()?;
    step("the Python oracles' virtual environment", || {
        setup::python_sdk().map(|_| ())
    })?;
    step("the MCP servers the tests start", setup::mcp_test_servers)?;
    step(
        "the storage servers sync's tests start",
        setup::sync_test_servers,
    )
}

pub fn run(mock: bool) -> Result {
    step("system packages", || setup::system_packages(false))?;
    build_ui()?;
    step("build Tally", || {
        let mut build = cargo();
        build.args(["build", "-p", "tally-app"]);
        if mock {
            build.args(["-p", "mock-openai"]);
        }
        run_cmd(build)
    })?;
    let target = root().join("target/debug");
    let mut app = Command::new(target.join("tally"));
    let _mock = if mock {
        let (child, base) = start_mock(&target, &[])?;
        println!("Using the mock OpenAI server at {base}: any key starting with sk- works.");
        app.env("TALLY_API_BASE", base);
        Some(KillOnDrop(child))
    } else {
        None
    };
    run_cmd(app)
}

/// Starts the mock server and returns it with its base URL.
pub fn start_mock(
    target: &std::path::Path,
    args: &[&str],
) -> Result<(std::process::Child, String)> {
    let mut child = Command::new(target.join("mock-openai"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start mock-openai: {e}"))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let base = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|b| b.starts_with("http://"))
        .ok_or_else(|| format!("mock-openai printed {line:?}"))?
        .to_string();
    Ok((child, base))
}

pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn bindings() -> Result {
    let mut test = cargo();
    test.args(["test", "-p", "tally-core", "--test", "core", "bindings"])
        .env("UPDATE_BINDINGS", "1");
    run_cmd(test)
}

pub fn test() -> Result {
    let started = Instant::now();
    step("system packages", || setup::system_packages(true))?;
    // The two tools later steps need compile on the core the UI's steps leave idle (niced:
    // they give way), instead of each in a step of its own with the other core unused. A
    // failed UI step still waits for them: nothing this command starts outlives it.
    let logs = root().join("target/xtask-logs");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let (checked, tools) = std::thread::scope(|scope| {
        let tools = scope.spawn(|| {
            let driver = setup::tauri_driver_logged(&logs.join("tauri-driver.log"))?;
            setup::cargo_fuzz_logged(&logs.join("cargo-fuzz.log"))?;
            Ok::<_, String>(driver)
        });
        let checked = formatting_and_ui_checks();
        (checked, tools.join())
    });
    checked?;
    let driver = step_value(
        "the tools installed beside them (tauri-driver, cargo-fuzz)",
        || tools.map_err(|_| "the tools' install panicked".to_string())?,
    )?;
    step("clippy", || {
        let mut clippy = cargo();
        clippy.args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]);
        run_cmd(clippy)
    })?;
    step("the MCP servers the tests start", setup::mcp_test_servers)?;
    step(
        "the storage servers sync's tests start",
        setup::sync_test_servers,
    )?;
    step("Rust tests (unit, crate integration, shell)", || {
        let mut test = cargo();
        test.args(["test", "--workspace"]);
        run_cmd(test)
    })?;
    // The benches once each on small data, so they cannot rot (`cargo xtask bench` measures).
    crate::bench::bench(true, false)?;
    step(
        "the official openai Python SDK as the mock's oracle",
        || {
            let python = setup::python_sdk()?;
            run_cmd(built_by_the_rust_tests())?;
            let target = root().join("target/debug");
            let (child, base) = start_mock(&target, &["--delay-ms", "5"])?;
            let _mock = KillOnDrop(child);
            // Every recorded transcript but `models` (not a chat answer), and a generated reply.
            let mut scenarios: Vec<String> =
                std::fs::read_dir(root().join("tests/mock-openai/wire"))
                    .map_err(|e| e.to_string())?
                    .filter_map(|entry| {
                        let name = entry.ok()?.file_name().to_string_lossy().into_owned();
                        name.strip_suffix(".http").map(str::to_string)
                    })
                    .filter(|name| name != "models")
                    .collect();
            scenarios.sort();
            scenarios.push("ok".into());
            // The generated streams and the faults over the Responses API too.
            for fault in ["ok", "drop-after:3", "error-500", "error-429-rate-limit"] {
                scenarios.push(format!("responses:{fault}"));
            }
            // Web search offered: a search, then the reply with its cited source.
            for fault in ["ok", "drop-after:3"] {
                scenarios.push(format!("responses+search:{fault}"));
            }
            // Functions offered, on both APIs: two calls at once, a call of a function not
            // offered (answered in text), the round after a call, quoting its result, and a
            // model that calls again after it.
            for api in ["", "responses+"] {
                let both = r#"call:get_time {"timezone":"Europe/Lisbon"} | add {"a":2,"b":3}"#;
                scenarios.push(format!("{api}tools:{both}"));
                scenarios.push(format!("{api}tools:call:delete_everything"));
                scenarios.push(format!(
                    r#"{api}tools+results:call:get_time {{"timezone":"UTC"}}"#
                ));
                // A model stuck in a loop: it calls again after the results.
                scenarios.push(format!(
                    r#"{api}tools+results:call-again:get_time {{"timezone":"UTC"}}"#
                ));
            }
            let tally = output_of(
                Command::new(target.join("examples/parse_scenarios"))
                    .arg(&base)
                    .args(&scenarios),
            )?;
            let results = root().join("target/tally-openai-scenarios.jsonl");
            std::fs::write(&results, tally).map_err(|e| e.to_string())?;
            let mut check = Command::new(python);
            check
                .arg(root().join("tests/mock-openai/sdk-check/check.py"))
                .arg(base)
                .arg(results);
            run_cmd(check)
        },
    )?;
    step("token counts against PyPI's tiktoken", || {
        let python = setup::python_sdk()?;
        run_cmd(built_by_the_rust_tests())?;
        let mut compare = Command::new(python);
        compare
            .arg(root().join("crates/tally-spend/tests/tiktoken-parity/compare.py"))
            .arg(root().join("target/debug/examples/tiktoken_oracle"))
            .arg(root().join("target/tiktoken-parity"));
        run_cmd(compare)
    })?;
    step("fuzz the SSE parser (30 s, unoptimised)", || fuzz(30, true))?;
    step(
        "end-to-end tests (real app, Xvfb, WebDriver, private keychain)",
        || {
            run_cmd(setup::debug_apps_build())?;
            e2e(&driver)
        },
    )?;
    step(
        "Linux packages of the debug app: lintian, desktop-file-validate, appstreamcli; installed, upgraded, updated in the app and removed",
        || package::installed_tests(&driver),
    )?;
    println!(
        "\nAll checks passed in {:.0} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Formatting, lint and the UI's own tests: what runs before clippy.
fn formatting_and_ui_checks() -> Result {
    build_ui()?;
    step("Rust formatting", || {
        let mut fmt = cargo();
        fmt.args(["fmt", "--all", "--check"]);
        run_cmd(fmt)
    })?;
    step("no import cycle between a crate's modules", cycles::check)?;
    step("UI formatting and lint", || run_cmd(npm(&["run", "lint"])))?;
    step("UI type check (svelte-check)", || {
        run_cmd(npm(&["run", "check"]))
    })?;
    step("UI unit tests (vitest)", || run_cmd(npm(&["test"])))?;
    step(
        "UI in Chromium: every screen in both themes, axe, the XSS corpus, the keyboard",
        || {
            let mut browser = Command::new("node");
            browser
                .args(["--test-reporter=spec", "tests/browser/run.mjs"])
                .current_dir(root().join("ui"));
            run_cmd(browser)
        },
    )
}

/// The mock server and the examples the oracles run, as `cargo test --workspace` built
/// them (it builds every example and the binaries its tests start). Asking for them with
/// the same selection costs nothing after the tests; a `cargo build -p` of a few packages
/// would unify their features differently and compile much of the tree again (minutes).
fn built_by_the_rust_tests() -> Command {
    let mut build = cargo();
    build.args(["test", "--workspace", "--no-run"]);
    build
}

/// Runs the SSE parser's fuzz target for `seconds`. cargo-fuzz needs nightly features
/// (sanitizers); the toolchain here is stable, which allows them with RUSTC_BOOTSTRAP.
/// `unoptimized`: built without optimisations (the test command's short run, where the
/// build is most of the time: minutes less on a fresh machine); a long run is optimised.
pub fn fuzz(seconds: u32, unoptimized: bool) -> Result {
    let cargo_fuzz = setup::cargo_fuzz()?;
    let mut run = Command::new(cargo_fuzz);
    run.args(["fuzz", "run"]);
    if unoptimized {
        run.arg("--dev");
    }
    run.args(["sse_stream", "--", &format!("-max_total_time={seconds}")])
        .current_dir(root().join("crates/tally-openai"))
        .env("RUSTC_BOOTSTRAP", "1");
    run_cmd(run)
}

/// Runs `tests/e2e/run.mjs` (node:test, told with the spec reporter) under a virtual
/// display, inside a private D-Bus session with an unlocked gnome-keyring and a fresh HOME.
fn e2e(driver: &std::path::Path) -> Result {
    under_display(
        "--test-reporter=spec tests/e2e/run.mjs",
        &[
            ("TALLY_E2E_APP", root().join("target/debug/tally")),
            ("TALLY_E2E_MOCK", root().join("target/debug/mock-openai")),
            ("TALLY_E2E_DRIVER", driver.to_path_buf()),
        ],
        "TALLY_E2E_HOME",
        "",
        None,
    )
}
