//! `cargo xtask bench`: the criterion benches of the hot paths, summed up in one table of
//! medians beside their baselines, and written as JSON under `target/bench/`.
//! `--smoke` runs every bench once on small data (CI does, so they cannot rot).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::process::{Result, cargo, root, run_cmd, run_logged, step, under_display};
use crate::setup::{self, build_ui};

/// The benches, by package.
const BENCHES: &[(&str, &str)] = &[
    ("tally-store", "ledger"),
    ("tally-store", "history"),
    ("tally-core", "estimate"),
    ("tally-core", "import"),
    ("tally-core", "tool_round"),
    ("tally-core", "sync"),
    ("tally-spend", "tokens"),
    ("tally-attach", "pictures"),
    ("tally-openai", "stream"),
];

/// How a figure is shown.
#[derive(Clone, Copy)]
enum Unit {
    /// Time per iteration.
    Time,
    /// Bytes per second (criterion's `Throughput::Bytes`).
    BytesPerSecond,
    /// Elements per second (criterion's `Throughput::Elements`).
    ElementsPerSecond,
}

struct Figure {
    name: &'static str,
    id: &'static str,
    baseline: Option<&'static str>,
    unit: Unit,
    target: &'static str,
}

const FIGURES: &[Figure] = &[
    Figure {
        name: "month total, 1M-row ledger over a year",
        id: "month total, 1M-row ledger spread over a year/tally (quarter-hour sums)",
        baseline: Some("month total, 1M-row ledger spread over a year/baseline: SUM over the rows"),
        unit: Unit::Time,
        target: "≤ 2 ms",
    },
    Figure {
        name: "month total, 1M-row ledger all this month",
        id: "month total, 1M-row ledger all in this month/tally (quarter-hour sums)",
        baseline: Some("month total, 1M-row ledger all in this month/baseline: SUM over the rows"),
        unit: Unit::Time,
        target: "≤ 2 ms",
    },
    Figure {
        name: "sidebar: first page of 10k conversations",
        id: "history of 1005000 messages/sidebar: first page (tally)",
        baseline: Some("history of 1005000 messages/sidebar: baseline, bare rusqlite"),
        unit: Unit::Time,
        target: "≤ 1 ms",
    },
    Figure {
        name: "open a 5,000-message conversation (query)",
        id: "history of 1005000 messages/open a 5,000-message conversation (tally)",
        baseline: Some(
            "history of 1005000 messages/open a 5,000-message conversation: baseline, bare rusqlite",
        ),
        unit: Unit::Time,
        target: "",
    },
    Figure {
        name: "search, rare word",
        id: "history of 1005000 messages/search, rare word (tally)",
        baseline: Some("history of 1005000 messages/search, rare word: baseline, ranked FTS5"),
        unit: Unit::Time,
        target: "",
    },
    Figure {
        name: "search, typical word",
        id: "history of 1005000 messages/search, typical word (tally)",
        baseline: Some("history of 1005000 messages/search, typical word: baseline, ranked FTS5"),
        unit: Unit::Time,
        target: "≤ 20 ms",
    },
    Figure {
        name: "search, very common word",
        id: "history of 1005000 messages/search, very common word (tally)",
        baseline: Some(
            "history of 1005000 messages/search, very common word: baseline, ranked FTS5",
        ),
        unit: Unit::Time,
        target: "",
    },
    Figure {
        name: "pre-send estimate per keystroke, 100k tokens",
        id: "pre-send estimate, 100k-token conversation/tally (per keystroke)",
        baseline: Some(
            "pre-send estimate, 100k-token conversation/baseline: count the whole conversation",
        ),
        unit: Unit::Time,
        target: "≤ 2 ms",
    },
    Figure {
        name: "tokenizer throughput, o200k_base",
        id: "tokenizer throughput/o200k_base",
        baseline: None,
        unit: Unit::BytesPerSecond,
        target: "",
    },
    Figure {
        name: "tokenizer throughput, cl100k_base",
        id: "tokenizer throughput/cl100k_base",
        baseline: None,
        unit: Unit::BytesPerSecond,
        target: "",
    },
    Figure {
        name: "tokenizer first use, o200k_base",
        id: "tokenizer first use (load tables)/o200k_base",
        baseline: None,
        unit: Unit::Time,
        target: "off the UI thread",
    },
    Figure {
        name: "tokenizer first use, cl100k_base",
        id: "tokenizer first use (load tables)/cl100k_base",
        baseline: None,
        unit: Unit::Time,
        target: "off the UI thread",
    },
    Figure {
        name: "SSE parse + deserialize",
        id: "sse/tally_openai ChatStream, 1400-byte network pieces",
        baseline: Some("sse/baseline: serde_json alone on pre-split lines"),
        unit: Unit::ElementsPerSecond,
        target: "",
    },
    Figure {
        name: "Responses SSE parse + deserialize",
        id: "responses sse/tally_openai ChatStream, 1400-byte network pieces",
        baseline: Some("responses sse/baseline: serde_json alone on pre-split lines"),
        unit: Unit::ElementsPerSecond,
        target: "",
    },
    Figure {
        name: "import ChatGPT: 1,000 conversations",
        id: "import ChatGPT's conversations.json/tally: 1,000 conversations, 11,000 messages",
        baseline: Some("import ChatGPT's conversations.json/baseline: only read the JSON"),
        unit: Unit::Time,
        target: "",
    },
    Figure {
        name: "a round of one tool call (Tally's overhead: the difference)",
        id: "a round of one tool call/tally: a new chat, one call, the answer",
        baseline: Some(
            "a round of one tool call/baseline: the two requests and the call, made directly",
        ),
        unit: Unit::Time,
        target: "",
    },
    Figure {
        name: "the same new chat without tools (what any reply costs Tally)",
        id: "a round of one tool call/tally: a new chat answered without tools",
        baseline: Some("a round of one tool call/baseline: its one request, made directly"),
        unit: Unit::Time,
        target: "",
    },
    Figure {
        name: "sync: a new computer's first sync, 10k conversations / 1M messages, from a snapshot",
        id: "sync through WebDAV on loopback/a new computer's first sync: 10000 conversations, 1000000 messages, from a snapshot",
        baseline: None,
        unit: Unit::Time,
        target: "",
    },
    Figure {
        name: "sync: one new reply, sent by one computer's sync and received by the other's",
        id: "sync through WebDAV on loopback/one new reply: sent by one computer's sync, received by the other's",
        baseline: None,
        unit: Unit::Time,
        target: "≤ 1 s",
    },
    Figure {
        name: "a 12-megapixel JPEG to its chip (read, upright, stripped, scaled, counted)",
        id: "attach a picture/a 12-megapixel JPEG to its chip with a token count",
        baseline: None,
        unit: Unit::Time,
        target: "≤ 300 ms",
    },
    Figure {
        name: "a 100-page text PDF to its chip (read in a process apart, counted)",
        id: "attach a PDF/a 100-page text PDF to its chip with a token count",
        baseline: None,
        unit: Unit::Time,
        target: "≤ 300 ms",
    },
    Figure {
        name: "a 20-page scan's pages drawn as pictures (in a process apart, made safe)",
        id: "attach a scan/a 20-page scan's pages drawn as pictures",
        baseline: None,
        unit: Unit::Time,
        target: "",
    },
    Figure {
        name: "client-added latency per chunk",
        id: "latency: chunk bytes in → Delta out",
        baseline: None,
        unit: Unit::Time,
        target: "",
    },
];

/// `smoke`: every bench once on small data. `app_only`: only the real-app figures.
pub fn bench(smoke: bool, app_only: bool) -> Result {
    if smoke {
        return smoke_run();
    }
    // Criterion results older than this run are an earlier run's, not this one's.
    let run_started = std::time::SystemTime::now();
    // A display, WebDriver, a keychain and Chromium, as the tests use.
    step("system packages", || setup::system_packages(true))?;
    if !app_only {
        // The tool-round bench calls mcp-server-time.
        step("the MCP servers the benches start", setup::mcp_test_servers)?;
        // The sync bench syncs through WsgiDAV.
        step(
            "the storage servers the benches start",
            setup::sync_test_servers,
        )?;
    }
    let inputs = prepare(app_only)?;
    idle_memory_beside_criterion(&inputs, app_only)?;
    step("app timings (real windows under Xvfb)", || {
        app_script(&inputs, "timing", None)
    })?;
    let mut browser = Value::Null;
    step(
        "the UI in Chromium: a reply streamed into a long conversation",
        || {
            browser = browser_stream(false)?;
            Ok(())
        },
    )?;
    let mut app = Value::Object(Default::default());
    for part in ["idle", "timing"] {
        if let Value::Object(figures) = read_app_part(part)? {
            app.as_object_mut().expect("an object").extend(figures);
        }
    }
    let app = with_sizes(&inputs, app);
    // With --app, the criterion figures of an earlier run are not shown as if new.
    let results = if app_only {
        Vec::new()
    } else {
        read_criterion(&root().join("target/criterion"), run_started)?
    };
    let (mut rows, missing) = print_criterion_table(&results, app_only);
    rows.extend(print_app_table(&app));
    rows.extend(print_browser_table(&browser));
    write_report(rows, app, browser)?;
    // A figure whose bench was renamed or removed fails the run, after the table.
    if !missing.is_empty() {
        return Err(format!(
            "no result of this run has the id of {} (a bench renamed or removed? update FIGURES in \
             xtask/src/bench.rs): {}",
            if missing.len() == 1 {
                "this figure"
            } else {
                "these figures"
            },
            missing.join("; ")
        ));
    }
    Ok(())
}

/// Each bench once on small data, the app's on debug builds (a step of `cargo xtask test`).
fn smoke_run() -> Result {
    step("benches, once each on small data", || {
        // The whole workspace, as the Rust tests built it: a selection of packages would
        // unify features differently and compile much of the tree again.
        let mut test = cargo();
        test.args(["test", "--workspace", "--bench", "*"]);
        test.env("TALLY_BENCH_SMOKE", "1");
        run_cmd(test)
    })?;
    let inputs = prepare_smoke()?;
    step("app benchmarks, once each on debug builds", || {
        app_script(&inputs, "all", None)?;
        read_app_part("all").map(|_| ())
    })?;
    step(
        "the UI in Chromium: a reply streamed into a long conversation (briefly)",
        || browser_stream(true).map(|_| ()),
    )
}

/// Idle memory is sampled beside the criterion benches: an idle app uses no CPU, and how
/// busy the other core is does not change how much memory it holds. This saves a minute
/// of waiting; the timed app figures run alone afterwards.
fn idle_memory_beside_criterion(inputs: &AppInputs, app_only: bool) -> Result {
    let logs = root().join("target/bench/logs");
    let (idle, criterion) = std::thread::scope(|scope| {
        let idle = scope.spawn(|| {
            step(
                "idle memory (beside the benches; output in target/bench/logs)",
                || app_script(inputs, "idle", Some(&logs.join("idle-memory.log"))),
            )
        });
        let criterion = BENCHES
            .iter()
            .filter(|_| !app_only)
            .try_for_each(|(package, name)| {
                step(&format!("cargo bench -p {package} --bench {name}"), || {
                    let mut run = bench_cargo();
                    run.arg("bench");
                    bench_targets(&mut run, BENCHES);
                    run.args(["--bench", name]);
                    // The history bench queries the history the app is launched with.
                    run.env("TALLY_BENCH_HISTORY_DIR", &inputs.big_db);
                    run_cmd(run)
                })
            });
        let idle = idle
            .join()
            .unwrap_or_else(|_| Err("the idle memory's thread panicked".into()));
        (idle, criterion)
    });
    criterion?;
    idle
}

/// Prints the criterion figures; returns their report rows and the ids no result of this
/// run has.
fn print_criterion_table(results: &[Measured], app_only: bool) -> (Vec<Value>, Vec<&'static str>) {
    let mut missing = Vec::new();
    let mut rows = Vec::new();
    println!(
        "\n{:<46} {:>22} {:>22} {:>9}  target",
        "figure", "Tally (median ± MAD)", "baseline (median)", "time ×"
    );
    for figure in FIGURES.iter().filter(|_| !app_only) {
        let Some(ours) = results.iter().find(|r| r.id == figure.id) else {
            println!("{:<46} (not measured)", figure.name);
            missing.push(figure.id);
            continue;
        };
        let baseline = figure
            .baseline
            .and_then(|id| results.iter().find(|r| r.id == id));
        if let (Some(id), None) = (figure.baseline, baseline) {
            missing.push(id);
        }
        let ratio = baseline.map(|b| ours.median_ns / b.median_ns);
        println!(
            "{:<46} {:>22} {:>22} {:>9}  {}",
            figure.name,
            format!(
                "{} ± {}",
                show(figure.unit, ours, ours.median_ns),
                show_spread(figure.unit, ours)
            ),
            baseline.map_or(String::new(), |b| show(figure.unit, b, b.median_ns)),
            ratio.map_or(String::new(), |r| format!("×{r:.3}")),
            figure.target
        );
        rows.push(json!({
            "figure": figure.name,
            "id": figure.id,
            "median_ns": ours.median_ns,
            "mad_ns": ours.mad_ns,
            "throughput": ours.throughput,
            "baseline_id": figure.baseline,
            "baseline_median_ns": baseline.map(|b| b.median_ns),
            "target": figure.target,
        }));
    }
    (rows, missing)
}

/// Writes the run's figures to `target/bench/<unix time>.json` and `latest.json`.
fn write_report(rows: Vec<Value>, app: Value, browser: Value) -> Result {
    let out = root().join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let report = serde_json::to_string_pretty(&json!({
        "unix_time": stamp,
        "figures": rows,
        "app": app,
        "browser_stream": browser,
    }))
    .map_err(|e| e.to_string())?;
    for name in [format!("{stamp}.json"), "latest.json".to_string()] {
        std::fs::write(out.join(name), &report).map_err(|e| e.to_string())?;
    }
    println!("\nWritten to target/bench/latest.json and target/bench/{stamp}.json");
    Ok(())
}

struct Measured {
    id: String,
    median_ns: f64,
    mad_ns: f64,
    /// Bytes or elements per iteration, when the bench declared a throughput.
    throughput: Option<f64>,
}

/// Every benchmark criterion has results for under `dir`.
/// The criterion results under `dir` written since `since`.
fn read_criterion(dir: &Path, since: std::time::SystemTime) -> Result<Vec<Measured>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.ends_with("new/benchmark.json")
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|modified| modified >= since)
            {
                let read = |p: &Path| -> Option<Value> {
                    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
                };
                let (Some(info), Some(estimates)) =
                    (read(&path), read(&path.with_file_name("estimates.json")))
                else {
                    continue;
                };
                let number = |v: &Value, key: &str| v.get(key)?.get("point_estimate")?.as_f64();
                let throughput = info.get("throughput").and_then(|t| {
                    t.get("Bytes")
                        .or_else(|| t.get("Elements"))
                        .and_then(Value::as_f64)
                });
                if let (Some(id), Some(median), Some(mad)) = (
                    info.get("full_id").and_then(Value::as_str),
                    number(&estimates, "median"),
                    number(&estimates, "median_abs_dev"),
                ) {
                    found.push(Measured {
                        id: id.to_string(),
                        median_ns: median,
                        mad_ns: mad,
                        throughput,
                    });
                }
            }
        }
    }
    Ok(found)
}

fn show(unit: Unit, measured: &Measured, ns: f64) -> String {
    match (unit, measured.throughput) {
        (Unit::BytesPerSecond, Some(bytes)) => format!("{:.1} MB/s", bytes / ns * 1e3),
        (Unit::ElementsPerSecond, Some(n)) => format!("{:.0} k/s", n / ns * 1e6),
        _ => time(ns),
    }
}

fn show_spread(unit: Unit, measured: &Measured) -> String {
    match unit {
        // Spread of a rate, as a share of the median.
        Unit::BytesPerSecond | Unit::ElementsPerSecond => {
            format!("{:.1}%", measured.mad_ns / measured.median_ns * 100.0)
        }
        Unit::Time => time(measured.mad_ns),
    }
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The history the "large database" launch is measured with, and the length of the one
/// long conversation in it (opened to first paint).
const BIG_HISTORY: (u32, u32) = (10_000, 1_000_000);
const SMOKE_HISTORY: (u32, u32) = (100, 1_000);
const LONG_CONVERSATION: u32 = 5_000;
const SMOKE_LONG_CONVERSATION: u32 = 500;
/// The model the first-token bench over the Responses API sends to: the catalog serves it
/// only there.
const RESPONSES_MODEL: &str = "gpt-5.4-pro";
/// Raised whenever the generator writes a different history, so a kept one is not reused.
/// 2: the long conversation is the newest (it was among the oldest). 3: the second newest
/// is a conversation of up to 2,000 messages with 200 pictures.
const HISTORY_LAYOUT: u32 = 3;

/// Where a full run builds the criterion benches (the bench profile): a target folder of
/// their own, so cargo builds them while it builds the release app in `target/` (one
/// target folder takes one build at a time).
fn bench_target() -> PathBuf {
    root().join("target/bench-build")
}

/// Cargo for the bench profile's target folder, with criterion's results where they
/// always were.
fn bench_cargo() -> Command {
    with_bench_target(cargo())
}

/// `bench_cargo` at a lower priority, for the work done beside the release build: that
/// build takes longest, so it gets the cores first and this fills the gaps.
fn bench_cargo_niced() -> Command {
    let mut nice = Command::new("nice");
    nice.args(["-n", "10"])
        .arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root());
    with_bench_target(nice)
}

fn with_bench_target(mut cargo: Command) -> Command {
    cargo
        .env("CARGO_TARGET_DIR", bench_target())
        .env("CRITERION_HOME", root().join("target/criterion"));
    cargo
}

/// Adds `-p` for each package of `benches`. Every cargo call on the bench profile's target
/// folder selects the same packages: another selection unifies features differently and
/// rebuilds them.
fn bench_targets(cargo: &mut Command, benches: &[(&str, &str)]) {
    let mut packages: Vec<&str> = benches.iter().map(|(package, _)| *package).collect();
    packages.sort_unstable();
    packages.dedup();
    for package in packages {
        cargo.args(["-p", package]);
    }
}

/// What the app figures are measured with.
struct AppInputs {
    smoke: bool,
    /// The folder holding `tally` and `empty-window`.
    apps: PathBuf,
    mock: PathBuf,
    driver: PathBuf,
    empty_db: PathBuf,
    /// An empty database whose new chats start with a model served only on Responses.
    responses_db: PathBuf,
    big_db: PathBuf,
}

impl AppInputs {
    fn new(smoke: bool, apps: PathBuf, mock: PathBuf, driver: PathBuf) -> Self {
        let profile = if smoke { "debug" } else { "release" };
        let (conversations, messages) = if smoke { SMOKE_HISTORY } else { BIG_HISTORY };
        let long = if smoke {
            SMOKE_LONG_CONVERSATION
        } else {
            LONG_CONVERSATION
        };
        let data = root().join("target/bench/data");
        Self {
            smoke,
            apps,
            mock,
            driver,
            empty_db: data.join(format!("{profile}-empty")),
            responses_db: data.join(format!("{profile}-empty-responses")),
            big_db: data.join(format!(
                "{profile}-{conversations}-{messages}-{long}-v{HISTORY_LAYOUT}"
            )),
        }
    }

    fn history(&self) -> (u32, u32, u32) {
        if self.smoke {
            (SMOKE_HISTORY.0, SMOKE_HISTORY.1, SMOKE_LONG_CONVERSATION)
        } else {
            (BIG_HISTORY.0, BIG_HISTORY.1, LONG_CONVERSATION)
        }
    }

    /// Writes the empty database and (unless kept from an earlier run) the large history.
    fn generate(&self, generator: &Path) -> Result {
        let _ = std::fs::remove_dir_all(&self.empty_db);
        let _ = std::fs::remove_dir_all(&self.responses_db);
        let generate = |dir: &Path, conversations: u32, messages: u32, long: u32| {
            let mut generate = Command::new(generator);
            generate
                .arg(dir)
                .arg(conversations.to_string())
                .arg(messages.to_string())
                .arg(long.to_string());
            generate
        };
        step("an empty database", || {
            run_cmd(generate(&self.empty_db, 0, 0, 0))
        })?;
        step(
            &format!("an empty database whose chats start with {RESPONSES_MODEL}"),
            || {
                let mut generate = generate(&self.responses_db, 0, 0, 0);
                generate.arg(RESPONSES_MODEL);
                run_cmd(generate)
            },
        )?;
        // The large history is kept between runs (generating it takes a while); a kept one
        // is only upgraded to the current schema.
        let (conversations, messages, long) = self.history();
        step(
            &format!("a history of {conversations} conversations, {messages} messages"),
            || run_cmd(generate(&self.big_db, conversations, messages, long)),
        )
    }
}

/// Debug builds of everything, one after the other, and the small data.
fn prepare_smoke() -> Result<AppInputs> {
    build_ui()?;
    step(
        "build the app, the empty window, the mock and the data generator",
        || run_cmd(setup::debug_apps_build()),
    )?;
    let debug = root().join("target/debug");
    let inputs = AppInputs::new(
        true,
        debug.clone(),
        debug.join("mock-openai"),
        setup::tauri_driver()?,
    );
    inputs.generate(&debug.join("examples/generate"))?;
    Ok(inputs)
}

/// Everything a full run measures, built at once on separate target folders: the release
/// app, the empty window and the mock in `target/release` (output in `target/bench/logs/`),
/// tauri-driver, and in the foreground the criterion benches in the bench profile, then the
/// data, written by the history bench. On two cores this takes minutes less than one build
/// after the other.
fn prepare(app_only: bool) -> Result<AppInputs> {
    build_ui()?;
    let logs = root().join("target/bench/logs");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let release = root().join("target/release");
    let mut inputs = AppInputs::new(
        false,
        release.clone(),
        release.join("mock-openai"),
        PathBuf::new(),
    );
    let title = format!(
        "build the release app, the empty window and the mock (output in {}), tauri-driver \
         and the benches; then the data",
        logs.display()
    );
    step(&title, || {
        std::thread::scope(|scope| {
            let release = scope.spawn(|| {
                let mut build = cargo();
                build.args([
                    "build",
                    "--release",
                    "-p",
                    "tally-app",
                    "-p",
                    "empty-window",
                ]);
                build.args(["-p", "mock-openai", "--bins"]);
                run_logged(build, &logs.join("release-build.log"))
            });
            let driver = scope.spawn(|| setup::tauri_driver_logged(&logs.join("tauri-driver.log")));
            let here = (|| {
                // With --app, only the history bench, which writes the data.
                let benches = if app_only { &BENCHES[1..2] } else { BENCHES };
                let mut build = bench_cargo_niced();
                build.args(["build", "--profile", "bench"]);
                bench_targets(&mut build, benches);
                for (_, name) in benches {
                    build.args(["--bench", name]);
                }
                run_cmd(build)?;
                step(
                    "the data: an empty folder, and a large history unless kept",
                    || {
                        let mut write = bench_cargo_niced();
                        write.arg("bench");
                        bench_targets(&mut write, benches);
                        write
                            .args(["--bench", "history"])
                            .env("TALLY_BENCH_PREPARE_ONLY", "1")
                            .env("TALLY_BENCH_HISTORY_DIR", &inputs.big_db)
                            .env("TALLY_BENCH_EMPTY_DIR", &inputs.empty_db)
                            .env("TALLY_BENCH_RESPONSES_DIR", &inputs.responses_db)
                            .env("TALLY_BENCH_RESPONSES_MODEL", RESPONSES_MODEL);
                        run_cmd(write)
                    },
                )
            })();
            let release = release
                .join()
                .unwrap_or_else(|_| Err("the release build's thread panicked".into()));
            let driver = driver
                .join()
                .unwrap_or_else(|_| Err("tauri-driver's install panicked".into()));
            here?;
            release?;
            inputs.driver = driver?;
            Ok(())
        })
    })?;
    Ok(inputs)
}

/// The JSON `tests/bench/app.mjs` writes for `part`.
fn app_part_file(part: &str) -> PathBuf {
    root().join(format!("target/bench/app-{part}.json"))
}

/// Runs `part` of `tests/bench/app.mjs` (`idle`, `timing` or `all`) under a virtual
/// display; its figures go to `app_part_file(part)`.
fn app_script(inputs: &AppInputs, part: &str, log: Option<&Path>) -> Result {
    let out = app_part_file(part);
    let _ = std::fs::remove_file(&out);
    let (runs, sends, idle) = if inputs.smoke {
        ("1", "3", "1000")
    } else {
        ("5", "50", "10000")
    };
    under_display(
        "tests/bench/app.mjs",
        &[
            ("TALLY_BENCH_PART", part.into()),
            ("TALLY_BENCH_APP", inputs.apps.join("tally")),
            ("TALLY_BENCH_EMPTY", inputs.apps.join("empty-window")),
            ("TALLY_BENCH_MOCK", inputs.mock.clone()),
            ("TALLY_BENCH_DRIVER", inputs.driver.clone()),
            ("TALLY_BENCH_EMPTY_DB", inputs.empty_db.clone()),
            ("TALLY_BENCH_RESPONSES_DB", inputs.responses_db.clone()),
            ("TALLY_BENCH_BIG_DB", inputs.big_db.clone()),
            ("TALLY_BENCH_LONG", inputs.history().2.to_string().into()),
            ("TALLY_BENCH_OUT", out),
            ("TALLY_BENCH_RUNS", runs.into()),
            ("TALLY_BENCH_SENDS", sends.into()),
            ("TALLY_BENCH_IDLE_MS", idle.into()),
        ],
        "TALLY_BENCH_HOME",
        part,
        log,
    )
}

fn read_app_part(part: &str) -> Result<Value> {
    let out = app_part_file(part);
    serde_json::from_str(
        &std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?,
    )
    .map_err(|e| e.to_string())
}

/// The app figures plus the binaries' and the large history's sizes.
fn with_sizes(inputs: &AppInputs, mut figures: Value) -> Value {
    let (conversations, messages, _) = inputs.history();
    let size = |name: &str| {
        std::fs::metadata(inputs.apps.join(name))
            .map(|m| m.len())
            .ok()
    };
    figures["binary_tally"] = json!(size("tally"));
    figures["binary_empty_window"] = json!(size("empty-window"));
    figures["database_bytes_big"] = json!(
        std::fs::metadata(inputs.big_db.join(tally_db_name()))
            .map(|m| m.len())
            .ok()
    );
    figures["history"] = json!({ "conversations": conversations, "messages": messages });
    figures
}

fn tally_db_name() -> &'static str {
    "tally.sqlite3"
}

/// Prints the app rows of the table and returns them for the JSON report.
fn print_app_table(app: &Value) -> Vec<Value> {
    let median = |key: &str| app[key]["median"].as_f64();
    let p99 = |key: &str| app[key]["p99"].as_f64();
    let mb = |bytes: Option<u64>| bytes.map(|b| b as f64 / 1e6);
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("×{:.2}", a / b),
        _ => String::new(),
    };
    let rows = [
        (
            "first token shown − sent, p50 (ms)",
            median("tally_first_token"),
            median("raw_client_first_token"),
            "≤ 8 ms",
        ),
        (
            "first token shown − sent, p99 (ms)",
            p99("tally_first_token"),
            p99("raw_client_first_token"),
            "≤ 16 ms",
        ),
        (
            "   of it, until the page has it (channel), p50",
            median("tally_first_token_channel"),
            None,
            "",
        ),
        (
            "first token, sent from the page (no WebDriver), p50",
            median("tally_first_token_in_page"),
            median("raw_client_first_token"),
            "≤ 8 ms",
        ),
        (
            "   p99",
            p99("tally_first_token_in_page"),
            p99("raw_client_first_token"),
            "≤ 16 ms",
        ),
        (
            "   of it, until the page has it (channel), p50",
            median("tally_first_token_in_page_channel"),
            None,
            "",
        ),
        (
            "first token over Responses, from the page, p50",
            median("tally_first_token_responses"),
            median("raw_client_first_token"),
            "≤ 15 ms",
        ),
        (
            "   p99",
            p99("tally_first_token_responses"),
            p99("raw_client_first_token"),
            "",
        ),
        (
            "idle memory, PSS of all processes (MB)",
            median("idle_memory_tally"),
            median("idle_memory_empty_window"),
            "≤ ×1.15",
        ),
        (
            "launch → composer, empty DB (ms)",
            median("launch_tally_empty_db"),
            median("launch_empty_window"),
            "",
        ),
        (
            "launch → composer, large history (ms)",
            median("launch_tally_big_db"),
            median("launch_empty_window"),
            "≤ ×1.4",
        ),
        (
            "open the 5,000-message conversation → its end painted (ms)",
            median("open_long_conversation"),
            None,
            "≤ 100 ms",
        ),
        (
            "   → all 5,000 messages in the list (ms)",
            median("open_long_conversation_whole"),
            None,
            "",
        ),
        (
            "open a 2,000-message conversation with 200 pictures → its end painted (ms)",
            median("open_pictures_conversation"),
            None,
            "≤ 100 ms",
        ),
        (
            "   → all 2,000 messages in the list (ms)",
            median("open_pictures_conversation_whole"),
            None,
            "",
        ),
        (
            "release binary (MB)",
            mb(app["binary_tally"].as_u64()),
            mb(app["binary_empty_window"].as_u64()),
            "≤ 20 MB",
        ),
    ];
    println!(
        "\n{:<46} {:>22} {:>22} {:>9}  target",
        "app figure (baselines: empty window, raw client)", "Tally", "baseline", "×"
    );
    rows.iter()
        .map(|(name, ours, baseline, target)| {
            let show = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1}"));
            println!(
                "{:<46} {:>22} {:>22} {:>9}  {}",
                name,
                show(*ours),
                show(*baseline),
                ratio(*ours, *baseline),
                target
            );
            json!({ "figure": name, "tally": ours, "baseline": baseline, "target": target })
        })
        .collect()
}

/// Runs `ui/tests/browser/bench-stream.mjs` (Chromium, the built UI, the fake engine) and
/// returns the figures it prints as JSON on its last line.
fn browser_stream(smoke: bool) -> Result<Value> {
    let mut run = Command::new("node");
    run.arg("tests/browser/bench-stream.mjs")
        .current_dir(root().join("ui"));
    if smoke {
        run.arg("--smoke");
    }
    let output = run
        .output()
        .map_err(|e| format!("could not start node: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "bench-stream.mjs failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut lines: Vec<&str> = stdout.lines().collect();
    let last = lines.pop().unwrap_or_default();
    for line in lines {
        println!("{line}");
    }
    serde_json::from_str(last).map_err(|e| format!("bench-stream.mjs printed {last:?}: {e}"))
}

/// Prints the Chromium rows of the table and returns them for the JSON report.
fn print_browser_table(figures: &Value) -> Vec<Value> {
    let messages = figures["messages"].as_u64().unwrap_or(0);
    let rows = [
        (
            format!("open the {messages}-message conversation → its end painted (ms)"),
            figures["first_paint_ms_median"].as_f64(),
            "",
        ),
        (
            format!("   → all {messages} messages in the list (ms)"),
            figures["whole_ms_median"].as_f64(),
            "",
        ),
        (
            "streaming: tasks over 50 ms".to_string(),
            figures["long_tasks"].as_f64(),
            "0",
        ),
        (
            "streaming: frame interval, p99 (ms)".to_string(),
            figures["frame_ms_p99"].as_f64(),
            "≤ 16.7 ms",
        ),
        (
            "streaming: frames dropped".to_string(),
            figures["frames_dropped"].as_f64(),
            "",
        ),
        (
            "streaming: tokens per second delivered".to_string(),
            figures["tokens_per_second"].as_f64(),
            "200",
        ),
    ];
    println!(
        "\n{:<46} {:>22}  target",
        "the UI in Chromium (200 tokens/s for 30 s)", "Tally"
    );
    rows.iter()
        .map(|(name, ours, target)| {
            let shown = ours.map_or("–".to_string(), |v| format!("{v:.1}"));
            println!("{name:<46} {shown:>22}  {target}");
            json!({ "figure": name, "tally": ours, "target": target })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::read_criterion;
    use std::time::{Duration, SystemTime};

    /// Writes a criterion result for `id` under `dir`, last modified at `when`.
    fn result(dir: &std::path::Path, id: &str, when: SystemTime) {
        let new = dir.join(id).join("new");
        std::fs::create_dir_all(&new).unwrap();
        let info = new.join("benchmark.json");
        std::fs::write(&info, format!(r#"{{"full_id":"{id}"}}"#)).unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":2.0},"median_abs_dev":{"point_estimate":0.5}}"#,
        )
        .unwrap();
        std::fs::File::options()
            .write(true)
            .open(&info)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    /// A result an earlier run left behind is not this run's: a renamed bench's old figure
    /// cannot stand in for the new one.
    #[test]
    fn only_results_written_since_the_run_started_count() {
        let dir = std::env::temp_dir().join(format!("xtask-criterion-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let started = SystemTime::now();
        result(&dir, "old name", started - Duration::from_secs(3600));
        result(&dir, "new name", started + Duration::from_secs(1));
        let found = read_criterion(&dir, started).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let ids: Vec<_> = found.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["new name"]);
        assert_eq!(found[0].median_ns, 2.0);
    }
}
