//! `cargo xtask run [--mock]`, `cargo xtask test`, `cargo xtask setup`, `cargo xtask bench`,
//! `cargo xtask bindings`, `cargo xtask fuzz`, `cargo xtask package`.
//!
//! Each command first sets up whatever is missing on a Debian or Ubuntu machine (system
//! packages, the UI's npm packages, tauri-driver), builds the UI, then builds and runs the
//! app or the whole test suite. Tools it installs go under `.tools/` in the clone.

mod bench;
mod cycles;
mod package;
mod process;
mod setup;
mod steps;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => steps::run(args.iter().any(|a| a == "--mock")),
        Some("test") => steps::test(),
        Some("setup") => steps::setup(),
        Some("bench") => bench::bench(
            args.iter().any(|a| a == "--smoke"),
            args.iter().any(|a| a == "--app"),
        ),
        Some("bindings") => steps::bindings(),
        Some("package") => package::package(
            args.iter().any(|a| a == "--debug"),
            args.iter().any(|a| a == "--installed-tests"),
        ),
        Some("fuzz") => match args.get(1).map(|s| s.parse::<u32>()) {
            None => steps::fuzz(600, false),
            Some(Ok(seconds)) => steps::fuzz(seconds, false),
            Some(Err(_)) => Err("usage: cargo xtask fuzz [SECONDS]".into()),
        },
        _ => {
            eprintln!(
                "usage:\n  cargo xtask run [--mock]   set up what is missing and start Tally\n  \
                 cargo xtask test           set up what is missing and run every test\n  \
                 cargo xtask setup          only set up what is missing (packages, npm, UI build)\n  \
                 cargo xtask bench [--smoke|--app]  the benches as one table (--smoke: each once,\n  \
                                            on small data; --app: only the real-app figures)\n  \
                 cargo xtask bindings       regenerate ui/src/lib/ipc/bindings.ts\n  \
                 cargo xtask package [--debug]  the .deb and .rpm of a release (or debug) build\n  \
                 cargo xtask package --installed-tests  the test command's package step alone\n  \
                 cargo xtask fuzz [SECONDS] fuzz the SSE parser (default 600 s)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: {message}");
            ExitCode::FAILURE
        }
    }
}
