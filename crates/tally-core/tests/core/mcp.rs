//! MCP servers in Settings, against real servers: the official Python SDK's Streamable HTTP
//! server with a bearer token (kept in the private keychain, never in the database) and
//! `mcp-server-time` from PyPI, imported from a pasted `mcpServers` list. tally-tools'
//! own tests cover the faults; these cover what the engine adds.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tally_core::api::{ErrorCode, McpServerInput, McpServerStateView, McpStatus, McpTransport};
use tally_core::{Engine, Notice};
use tally_keychain::test_support::{Setup, in_child};
use tokio::sync::mpsc;

use crate::{KEY, engine, mock};

pub const WAIT: Duration = Duration::from_secs(60);

fn test_servers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tally-tools/tests/servers")
}

pub fn tools_bin() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/mcp/bin");
    assert!(
        bin.join("mcp-server-time").is_file(),
        "the test servers are not installed: run `cargo xtask setup`"
    );
    bin
}

struct HttpServer {
    child: Child,
    url: String,
}

impl HttpServer {
    fn start(token: &str) -> Self {
        let mut child = Command::new(tools_bin().join("python"))
            .arg(test_servers().join("streamable_http_server.py"))
            .args(["--token", token])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().strip_prefix("listening ").unwrap().to_string();
        Self { child, url }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every change of a server's state the engine tells.
fn changes(engine: &Engine) -> mpsc::UnboundedReceiver<McpServerStateView> {
    let (tx, rx) = mpsc::unbounded_channel();
    engine.on_notice(move |notice| {
        if let Notice::McpServerChanged(state) = notice {
            let _ = tx.send(state);
        }
    });
    rx
}

async fn settled(
    rx: &mut mpsc::UnboundedReceiver<McpServerStateView>,
    id: i64,
) -> McpServerStateView {
    loop {
        let state = tokio::time::timeout(WAIT, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("server {id} did not settle within {WAIT:?}"))
            .expect("the engine is alive");
        if state.id == id && state.status != McpStatus::Starting {
            return state;
        }
    }
}

fn http_input(url: &str, token: Option<&str>) -> McpServerInput {
    McpServerInput {
        id: None,
        name: "Remote".into(),
        transport: McpTransport::Http { url: url.into() },
        enabled: true,
        token: token.map(str::to_string),
    }
}

/// Against a real, private Secret Service (the token's home).
#[test]
fn a_server_added_in_settings_starts_with_its_token_from_the_keychain_and_can_be_turned_off_and_removed()
 {
    if !in_child(
        "mcp::a_server_added_in_settings_starts_with_its_token_from_the_keychain_and_can_be_turned_off_and_removed",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(token_in_the_keychain());
}

async fn token_in_the_keychain() {
    let mock = mock("Sure.", 100, 0).await;
    let (dir, engine) = engine(&mock, Some(KEY));
    let mut rx = changes(&engine);
    let server = HttpServer::start("token-kept-in-the-keychain");

    let view = engine
        .mcp_server_save(http_input(&server.url, Some("token-kept-in-the-keychain")))
        .await
        .unwrap();
    assert!(view.has_token && view.enabled);
    assert_eq!(view.state.status, McpStatus::Starting);
    let state = settled(&mut rx, view.id).await;
    assert_eq!(state.status, McpStatus::Ready, "{state:?}");
    let tools: Vec<_> = state.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tools, ["add", "shout", "sleep"]);
    assert_eq!(
        engine.mcp_server_list().unwrap()[0].state.status,
        McpStatus::Ready
    );

    // The token is in the keychain only: not in the database, not in what the UI gets.
    let database = std::fs::read(dir.path().join(tally_store::DB_FILE_NAME)).unwrap();
    let needle = b"token-kept-in-the-keychain";
    assert!(!database.windows(needle.len()).any(|w| w == needle));
    let listed = serde_json::to_string(&engine.mcp_server_list().unwrap()).unwrap();
    assert!(!listed.contains("token-kept"));

    // Saved again without a token: the stored one is used.
    let mut unchanged = http_input(&server.url, None);
    unchanged.id = Some(view.id);
    engine.mcp_server_save(unchanged).await.unwrap();
    assert_eq!(settled(&mut rx, view.id).await.status, McpStatus::Ready);

    // A wrong token fails in words; restarting after the right one is back works.
    let mut wrong = http_input(&server.url, Some("wrong"));
    wrong.id = Some(view.id);
    engine.mcp_server_save(wrong).await.unwrap();
    let state = settled(&mut rx, view.id).await;
    assert_eq!(state.status, McpStatus::Failed);
    assert!(state.error.unwrap().contains("token"));

    let off = engine.mcp_server_set_enabled(view.id, false).await.unwrap();
    assert_eq!(off.state.status, McpStatus::Off);
    engine.mcp_server_remove(view.id).await.unwrap();
    assert!(engine.mcp_server_list().unwrap().is_empty());
    let slot = tally_keychain::ApiKeyStore::new(&format!("Tally-test-{}", std::process::id()))
        .for_mcp_server(view.id);
    assert!(slot.get().unwrap().is_none(), "the token left the keychain");
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_mcp_servers_list_adds_what_it_can_and_says_what_it_left_out() {
    let mock = mock("Sure.", 100, 0).await;
    let (_dir, engine) = engine(&mock, Some(KEY));
    let mut rx = changes(&engine);
    let time = tools_bin().join("mcp-server-time");
    let pasted = serde_json::json!({"mcpServers": {
        "time": {"command": time, "args": ["--local-timezone=UTC"]},
        "old": {"type": "sse", "url": "https://example.com/sse"},
        "off": {"command": "uvx", "args": ["something"], "disabled": true},
    }})
    .to_string();
    let report = engine.mcp_import_json(&pasted).await.unwrap();
    assert_eq!(report.added, ["off", "time"]);
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0].reason.contains("SSE"));
    let time_id = report.servers.iter().find(|s| s.name == "time").unwrap().id;
    let state = settled(&mut rx, time_id).await;
    assert_eq!(state.status, McpStatus::Ready, "{state:?}");
    assert!(state.tools.iter().any(|t| t.name == "get_current_time"));
    let off = report.servers.iter().find(|s| s.name == "off").unwrap();
    assert_eq!(off.state.status, McpStatus::Off);

    // The same list again: every name is taken.
    let again = engine.mcp_import_json(&pasted).await.unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.skipped.len(), 3);
    engine.mcp_shutdown().await;
}

#[tokio::test]
async fn servers_tally_cannot_use_are_refused_in_words() {
    let mock = mock("Sure.", 100, 0).await;
    let (_dir, engine) = engine(&mock, Some(KEY));
    let plain = http_input("http://mcp.example.com/mcp", None);
    let mut unnamed = http_input("https://mcp.example.com/mcp", None);
    unnamed.name = " ".into();
    for input in [plain, unnamed] {
        let error = engine.mcp_server_save(input).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
    }
    let mut first = http_input("https://mcp.example.com/mcp", None);
    first.enabled = false;
    engine.mcp_server_save(first.clone()).await.unwrap();
    first.name = "remote".into();
    let error = engine.mcp_server_save(first).await.unwrap_err();
    assert!(error.to_string().contains("already set up"), "{error}");
    let error = engine.mcp_import_json("not json").await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidInput);
}
