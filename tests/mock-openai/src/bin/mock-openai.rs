//! `mock-openai [--port N] [--reply TEXT] [--chunk-chars N] [--delay-ms N] [--no-key]`
//!
//! `--no-key` serves requests that carry no key, as a local model server does.
//!
//! Serves the mock API on 127.0.0.1 and prints `mock-openai listening on <base url>` as
//! its first line, then serves until killed.

use std::time::Duration;

use mock_openai::{MockConfig, MockServer};

fn main() {
    let mut config = MockConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--port" => config.port = value().parse().unwrap_or_else(|_| usage("bad --port")),
            "--reply" => config.reply = value(),
            "--chunk-chars" => {
                config.chunk_chars = value()
                    .parse()
                    .unwrap_or_else(|_| usage("bad --chunk-chars"))
            }
            "--delay-ms" => {
                config.delay = Duration::from_millis(
                    value().parse().unwrap_or_else(|_| usage("bad --delay-ms")),
                )
            }
            "--no-key" => config.needs_key = false,
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async move {
        let server = MockServer::start(config).await.expect("bind 127.0.0.1");
        println!("mock-openai listening on {}", server.base_url());
        std::future::pending::<()>().await;
    });
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("mock-openai: {problem}");
    }
    eprintln!(
        "usage: mock-openai [--port N] [--reply TEXT] [--chunk-chars N] [--delay-ms N] [--no-key]"
    );
    std::process::exit(if problem.is_empty() { 0 } else { 2 });
}
