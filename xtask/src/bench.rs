//! `cargo xtask bench`: the criterion benches of the hot paths, summed up in one table of
//! medians beside their baselines, and written as JSON under `target/bench/`.
//! `--smoke` runs every bench once on small data (CI does, so they cannot rot).

use std::path::Path;

use serde_json::{Value, json};

use crate::steps::{Result, cargo, root, run_cmd, step};

/// The benches, by package.
const BENCHES: &[(&str, &str)] = &[
    ("tally-store", "ledger"),
    ("tally-core", "estimate"),
    ("tally-spend", "tokens"),
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
        name: "client-added latency per chunk",
        id: "latency: chunk bytes in → Delta out",
        baseline: None,
        unit: Unit::Time,
        target: "",
    },
];

pub fn bench(smoke: bool) -> Result {
    if smoke {
        return step("benches, once each on small data", || {
            let mut test = cargo();
            test.args(["test", "--benches"]);
            for (package, _) in BENCHES {
                test.args(["-p", package]);
            }
            test.env("TALLY_BENCH_SMOKE", "1");
            run_cmd(test)
        });
    }
    for (package, name) in BENCHES {
        step(&format!("cargo bench -p {package} --bench {name}"), || {
            let mut run = cargo();
            run.args(["bench", "-p", package, "--bench", name]);
            run_cmd(run)
        })?;
    }
    let results = read_criterion(&root().join("target/criterion"))?;
    let mut rows = Vec::new();
    println!(
        "\n{:<46} {:>22} {:>22} {:>9}  target",
        "figure", "Tally (median ± MAD)", "baseline (median)", "time ×"
    );
    for figure in FIGURES {
        let Some(ours) = results.iter().find(|r| r.id == figure.id) else {
            println!("{:<46} (not measured)", figure.name);
            continue;
        };
        let baseline = figure
            .baseline
            .and_then(|id| results.iter().find(|r| r.id == id));
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
    let out = root().join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let report = serde_json::to_string_pretty(&json!({ "unix_time": stamp, "figures": rows }))
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
fn read_criterion(dir: &Path) -> Result<Vec<Measured>> {
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
            } else if path.ends_with("new/benchmark.json") {
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
