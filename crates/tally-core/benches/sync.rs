//! Sync through a real WebDAV server on 127.0.0.1 (WsgiDAV, from `.tools/sync`): a new
//! computer's first sync of 10,000 conversations / 1,000,000 messages from a snapshot, and
//! one new reply going from one computer to another (sent by the first's sync, received by
//! the second's). Each computer keeps its passphrase in a real Secret Service: the bench
//! runs itself again inside a private D-Bus session with an unlocked gnome-keyring.
//!
//! `cargo bench -p tally-core --bench sync` (`cargo xtask setup` installs the server);
//! `… --bench sync -- "one new reply"` measures only the second, after an untimed first sync.

#[path = "../../tally-store/examples/generate/history.rs"]
#[allow(
    dead_code,
    reason = "shared with the store's benches, which use all of it"
)]
mod history;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use mock_openai::{MockConfig, MockServer};
use tally_core::api::{SendRequest, SyncLocationInput, SyncSetupInput};
use tally_core::{Engine, EngineConfig};

const MARK: &str = "TALLY_BENCH_IN_KEYRING";
const KEY: &str = "sk-proj-BenchKeyForTallyOnly00000000000abcd";

fn setup(port: u16) -> SyncSetupInput {
    SyncSetupInput {
        location: SyncLocationInput::WebDav {
            url: format!("http://127.0.0.1:{port}/"),
            username: "tally".into(),
            password: Some("sesame".into()),
        },
        passphrase: "bench passphrase".into(),
    }
}

fn computer(dir: &std::path::Path, name: &str, api: &str) -> Arc<Engine> {
    let mut config = EngineConfig::new(dir);
    config.keychain_service = format!("Tally-bench-{}-{name}", std::process::id());
    config.api_base_override = Some(api.into());
    config.env_api_key = Some(tally_core::SecretString::from(KEY));
    Engine::open(config).unwrap()
}

fn sync(c: &mut Criterion) {
    let smoke = std::env::var_os("TALLY_BENCH_SMOKE").is_some();
    let (conversations, per_conversation) = if smoke { (100, 10) } else { (10_000, 100) };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mock = runtime
        .block_on(MockServer::start(MockConfig {
            reply: "Noted.".into(),
            chunk_chars: 100,
            delay: Duration::ZERO,
            port: 0,
            needs_key: true,
        }))
        .unwrap();
    let server_dir = tempfile::tempdir().unwrap();
    let server = tally_sync::test_support::webdav(server_dir.path());

    // The first computer: the history, written straight into its database, all sent to
    // the storage, then a snapshot of it.
    let a_dir = tempfile::tempdir().unwrap();
    drop(tally_store::Store::open_in(a_dir.path()).unwrap());
    {
        let mut conn =
            rusqlite::Connection::open(a_dir.path().join(tally_store::DB_FILE_NAME)).unwrap();
        // The history ends now, so its newest conversations fall in the budget month
        // whatever the date (it spans the past year).
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        history::fill(&mut conn, conversations, per_conversation, now, 7).unwrap();
    }
    let a = computer(a_dir.path(), "a", &mock.base_url());
    let started = Instant::now();
    runtime.block_on(a.sync_enable(setup(server.port))).unwrap();
    runtime.block_on(a.sync_write_snapshot()).unwrap();
    println!(
        "the first computer sent {} messages and wrote a snapshot in {:.1} s",
        conversations * per_conversation,
        started.elapsed().as_secs_f64()
    );

    let mut group = c.benchmark_group("sync through WebDAV on loopback");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    let label = format!(
        "a new computer's first sync: {conversations} conversations, {} messages, from a snapshot",
        conversations * per_conversation
    );
    let last_b = std::cell::RefCell::new(None);
    group.bench_function(label, |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().unwrap();
                let b = computer(dir.path(), "b", &mock.base_url());
                let started = Instant::now();
                let view = runtime.block_on(b.sync_enable(setup(server.port))).unwrap();
                total += started.elapsed();
                assert!(view.received > 0, "{view:?}");
                *last_b.borrow_mut() = Some((dir, b));
            }
            total
        })
    });
    // The second computer of the last first sync (a new one when a filter left that out).
    let (_b_dir, b) = last_b.into_inner().unwrap_or_else(|| {
        let dir = tempfile::tempdir().unwrap();
        let b = computer(dir.path(), "b", &mock.base_url());
        runtime.block_on(b.sync_enable(setup(server.port))).unwrap();
        (dir, b)
    });
    // Over the last 12 budget months, not this one alone: on the first of a month the
    // history's rows are all in earlier months.
    let report = b.usage_report().unwrap();
    let spent: i64 = report.months.iter().map(|m| m.requests).sum();
    assert!(
        spent > 0,
        "the other computer's spending arrived: {:?}",
        report.months
    );

    group.bench_function(
        "one new reply: sent by one computer's sync, received by the other's",
        |bench| {
            bench.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let request = SendRequest {
                        conversation_id: None,
                        text: "One more question".into(),
                        model: None,
                        allow_over_budget: None,
                        edit_of: None,
                        settings: None,
                        attachments: None,
                    };
                    runtime.block_on(a.send(request, |_| {})).unwrap();
                    let started = Instant::now();
                    runtime.block_on(a.sync_now()).unwrap();
                    let view = runtime.block_on(b.sync_now()).unwrap();
                    total += started.elapsed();
                    assert!(view.received >= 2, "the reply arrived: {view:?}");
                }
                total
            })
        },
    );
    group.finish();
}

/// Runs the benches inside a private D-Bus session with an unlocked gnome-keyring and a
/// HOME of its own (never the developer's keychain), then exits with their status.
fn in_private_keyring() {
    if std::env::var_os(MARK).is_some() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("dbus-run-session")
        .args(["--", "sh", "-c"])
        .arg(
            "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null \
             && exec \"$@\"",
        )
        .arg("sh")
        .arg(std::env::current_exe().unwrap())
        .args(std::env::args_os().skip(1))
        .env(MARK, "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .status()
        .expect("dbus-run-session runs (`cargo xtask setup` installs it)");
    std::process::exit(status.code().unwrap_or(1));
}

criterion_group!(benches, sync);

fn main() {
    in_private_keyring();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
