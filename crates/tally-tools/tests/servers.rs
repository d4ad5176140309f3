//! tally-tools against real MCP servers no one here wrote: `mcp-server-time` (PyPI) and
//! `@modelcontextprotocol/server-everything` (npm) over stdio, a Streamable HTTP server and
//! a faulty stdio server built with the official `mcp` Python SDK (`tests/servers/`), and
//! programs that are missing, exit at once or never answer. `cargo xtask test` installs
//! them into `.tools/mcp` first.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use tally_tools::{
    LaunchEnv, McpServers, ServerId, ServerSpec, ServerState, Status, ToolsError, Transport,
};
use tokio::sync::mpsc;

/// The longest a test waits for a server's next state before it fails.
const WAIT: Duration = Duration::from_secs(60);
const CALL: Duration = Duration::from_secs(30);

fn tools_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/mcp");
    assert!(
        dir.join("bin/mcp-server-time").is_file(),
        "the test servers are not installed in {}: run `cargo xtask setup`",
        dir.display()
    );
    dir
}

fn python() -> String {
    tools_dir().join("bin/python").display().to_string()
}

fn script(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/servers")
        .join(name)
        .display()
        .to_string()
}

/// An environment like a desktop session's: HOME, a PATH without the test servers, and a
/// secret that must not reach any server.
fn desktop_env(login_path: Option<PathBuf>) -> LaunchEnv {
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    let vars: Vec<(OsString, OsString)> = vec![
        ("HOME".into(), home),
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("OPENAI_API_KEY".into(), "sk-must-not-reach-a-server".into()),
    ];
    LaunchEnv::new(vars, login_path.map(OsString::from))
}

/// Servers with a channel that hears every change of state.
fn servers(env: LaunchEnv) -> (McpServers, mpsc::UnboundedReceiver<(ServerId, ServerState)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let servers = McpServers::new(env, move |id, state| {
        let _ = tx.send((id, state.clone()));
    });
    (servers, rx)
}

/// The next state of `id` that is not `Starting`, or a failure after [`WAIT`].
async fn settled(
    rx: &mut mpsc::UnboundedReceiver<(ServerId, ServerState)>,
    id: ServerId,
) -> ServerState {
    loop {
        match tokio::time::timeout(WAIT, rx.recv()).await {
            Err(_) => panic!("server {id} did not become ready or fail within {WAIT:?}"),
            Ok(None) => panic!("the servers were dropped"),
            Ok(Some((got, state))) if got == id && state.status != Status::Starting => {
                return state;
            }
            Ok(Some(_)) => {}
        }
    }
}

/// The settled state of each of `ids`, whatever order they settle in.
async fn all_settled(
    rx: &mut mpsc::UnboundedReceiver<(ServerId, ServerState)>,
    ids: &[ServerId],
) -> Vec<ServerState> {
    let mut states = std::collections::HashMap::new();
    while states.len() < ids.len() {
        match tokio::time::timeout(WAIT, rx.recv()).await {
            Err(_) => panic!("servers {ids:?} did not all settle within {WAIT:?}: {states:?}"),
            Ok(None) => panic!("the servers were dropped"),
            Ok(Some((id, state))) if ids.contains(&id) && state.status != Status::Starting => {
                states.insert(id, state);
            }
            Ok(Some(_)) => {}
        }
    }
    ids.iter().map(|id| states.remove(id).unwrap()).collect()
}

fn stdio(name: &str, command: &str, args: &[&str]) -> ServerSpec {
    ServerSpec {
        name: name.into(),
        transport: Transport::Stdio {
            command: command.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: [("TALLY_TEST_GIVEN".to_string(), "given".to_string())].into(),
            cwd: None,
        },
    }
}

fn args(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    value.as_object().cloned().expect("an object")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_server_time_found_on_the_login_shells_path_lists_its_tools_and_answers() {
    let bin = tools_dir().join("bin");
    let (servers, mut rx) = servers(desktop_env(Some(bin)));
    servers
        .start(
            1,
            stdio("time", "mcp-server-time", &["--local-timezone=UTC"]),
            None,
        )
        .await;
    let state = settled(&mut rx, 1).await;
    assert_eq!(state.status, Status::Ready, "{state:?}");
    let names: Vec<_> = state.tools.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"get_current_time"), "{names:?}");
    assert!(names.contains(&"convert_time"), "{names:?}");
    let output = servers
        .call(
            1,
            "get_current_time",
            args(json!({"timezone": "Europe/Paris"})),
            CALL,
        )
        .await
        .unwrap();
    assert!(!output.is_error);
    assert!(output.text.contains("Europe/Paris"), "{}", output.text);
    // A tool's own error is an answer, marked as an error.
    let output = servers
        .call(
            1,
            "get_current_time",
            args(json!({"timezone": "Mars/Olympus"})),
            CALL,
        )
        .await
        .unwrap();
    assert!(output.is_error, "{output:?}");
    servers.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settled_waits_for_a_starting_server_and_knows_none_that_is_not_there() {
    let bin = tools_dir().join("bin");
    let (servers, _rx) = servers(desktop_env(Some(bin)));
    servers
        .start(
            1,
            stdio("time", "mcp-server-time", &["--local-timezone=UTC"]),
            None,
        )
        .await;
    let state = servers.settled(1, Duration::from_secs(60)).await.unwrap();
    assert_eq!(state.status, Status::Ready, "{state:?}");
    assert!(servers.settled(2, Duration::from_secs(60)).await.is_none());
    servers.stop_all().await;
    assert!(servers.settled(1, Duration::from_secs(60)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_everything_from_npm_gets_its_own_env_but_none_of_tallys_secrets() {
    let everything = tools_dir().join("npm/node_modules/.bin/mcp-server-everything");
    let (servers, mut rx) = servers(desktop_env(None));
    let spec = stdio("everything", &everything.display().to_string(), &["stdio"]);
    servers.start(2, spec, None).await;
    let state = settled(&mut rx, 2).await;
    assert_eq!(state.status, Status::Ready, "{state:?}");
    let env_tool = state.tools.iter().find(|t| t.name == "get-env").unwrap();
    assert!(env_tool.read_only && !env_tool.destructive);
    let output = servers
        .call(2, "get-env", args(json!({})), CALL)
        .await
        .unwrap();
    assert!(output.text.contains("TALLY_TEST_GIVEN"), "{}", output.text);
    assert!(
        !output.text.contains("sk-must-not-reach"),
        "{}",
        output.text
    );
    assert!(!output.text.contains("OPENAI_API_KEY"), "{}", output.text);
    // A picture in an answer is named, not sent on.
    let output = servers
        .call(2, "get-tiny-image", args(json!({})), CALL)
        .await
        .unwrap();
    assert!(output.text.contains("image/png"), "{}", output.text);
    servers.stop_all().await;
}

/// The Streamable HTTP server of `tests/servers/`, on 127.0.0.1, stopped when dropped.
struct HttpServer {
    child: Child,
    url: String,
}

impl HttpServer {
    fn start(token: &str) -> Self {
        let mut child = Command::new(python())
            .args([&script("streamable_http_server.py"), "--token", token])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the server printed {line:?}"))
            .to_string();
        Self { child, url }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(url: &str) -> ServerSpec {
    ServerSpec {
        name: "remote".into(),
        transport: Transport::Http { url: url.into() },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamable_http_server_is_used_with_its_token_and_refused_without() {
    let server = HttpServer::start("right-token");
    let (servers, mut rx) = servers(desktop_env(None));
    servers
        .start(
            3,
            http(&server.url),
            Some(SecretString::from("right-token")),
        )
        .await;
    let state = settled(&mut rx, 3).await;
    assert_eq!(state.status, Status::Ready, "{state:?}");
    let output = servers
        .call(3, "add", args(json!({"a": 2, "b": 3})), CALL)
        .await
        .unwrap();
    assert!(output.text.contains('5'), "{}", output.text);

    // A call that outlives its timeout is given up; the server still answers the next.
    let error = servers
        .call(
            3,
            "sleep",
            args(json!({"seconds": 20})),
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ToolsError::Timeout(_)), "{error:?}");
    let output = servers
        .call(3, "shout", args(json!({"text": "hi"})), CALL)
        .await
        .unwrap();
    assert_eq!(output.text, "HI");

    for token in [Some("wrong-token"), None] {
        servers
            .start(4, http(&server.url), token.map(SecretString::from))
            .await;
        let state = settled(&mut rx, 4).await;
        assert_eq!(state.status, Status::Failed, "{state:?}");
        let error = state.error.unwrap();
        assert!(error.contains("token"), "{error}");
        assert!(!error.contains("right-token") && !error.contains("wrong-token"));
    }
    servers.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_programs_fail_with_the_reason_and_what_they_wrote() {
    let (servers, mut rx) = servers(desktop_env(None));
    servers
        .start(5, stdio("missing", "uvx-not-installed-here", &[]), None)
        .await;
    let state = settled(&mut rx, 5).await;
    assert_eq!(state.status, Status::Failed);
    assert!(state.error.unwrap().contains("was not found"));

    servers
        .start(
            6,
            stdio(
                "exits",
                "sh",
                &["-c", "echo 'Error: missing config file' >&2; exit 3"],
            ),
            None,
        )
        .await;
    let state = settled(&mut rx, 6).await;
    assert_eq!(state.status, Status::Failed);
    assert!(
        state
            .stderr
            .iter()
            .any(|l| l.contains("missing config file")),
        "{state:?}"
    );

    // Calls to a server that is not ready are refused in words.
    let error = servers
        .call(6, "x", args(json!({})), CALL)
        .await
        .unwrap_err();
    assert!(matches!(error, ToolsError::NotReady(_)));
    let error = servers
        .call(99, "x", args(json!({})), CALL)
        .await
        .unwrap_err();
    assert!(matches!(error, ToolsError::NotReady(_)));
    servers.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_never_answers_initialize_fails_after_the_start_timeout() {
    let (servers, mut rx) = servers(desktop_env(None));
    let servers = servers.with_start_timeout(Duration::from_secs(2));
    servers
        .start(8, stdio("silent", "sleep", &["600"]), None)
        .await;
    let state = settled(&mut rx, 8).await;
    assert_eq!(state.status, Status::Failed);
    assert!(state.error.unwrap().contains("did not answer"));
    let group = servers.process_group(8).expect("it was started");
    wait_until_gone(group).await;

    // One that talks on stdout, but not MCP, is no different.
    servers
        .start(
            7,
            stdio("chatty", "sh", &["-c", "echo hello; sleep 600"]),
            None,
        )
        .await;
    let state = settled(&mut rx, 7).await;
    assert_eq!(state.status, Status::Failed, "{state:?}");
    wait_until_gone(servers.process_group(7).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_crashes_mid_call_fails_the_call_and_shows_why() {
    let (servers, mut rx) = servers(desktop_env(None));
    servers
        .start(
            9,
            stdio("crashy", &python(), &[&script("stdio_server.py")]),
            None,
        )
        .await;
    assert_eq!(settled(&mut rx, 9).await.status, Status::Ready);
    let error = servers
        .call(9, "crash", args(json!({})), CALL)
        .await
        .unwrap_err();
    assert!(matches!(error, ToolsError::CallFailed(_)), "{error:?}");
    assert!(
        error.to_string().contains("stopped during the call"),
        "{error}"
    );
    let state = settled(&mut rx, 9).await;
    assert_eq!(state.status, Status::Failed);
    assert!(
        state.stderr.iter().any(|l| l.contains("asked me to crash")),
        "{state:?}"
    );
    servers.stop_all().await;
}

/// Whether any process of group `group` is alive (zombies count as gone).
fn group_alive(group: u32) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // The fields after the command's closing parenthesis: state, ppid, pgrp, …
        let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.first() != Some(&"Z") && fields.get(2) == Some(&group.to_string().as_str())
    })
}

async fn wait_until_gone(group: u32) {
    let what = format!("the processes of group {group} end with their server");
    wait_until(&what, || !group_alive(group)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_leaves_no_process_behind_not_even_a_grandchild() {
    let (servers, mut rx) = servers(desktop_env(None));
    let spec = stdio(
        "parent",
        &python(),
        &[&script("stdio_server.py"), "--child"],
    );
    servers.start(10, spec.clone(), None).await;
    servers.start(11, spec, None).await;
    for state in all_settled(&mut rx, &[10, 11]).await {
        assert_eq!(state.status, Status::Ready, "{state:?}");
    }
    let first = servers.process_group(10).unwrap();
    let second = servers.process_group(11).unwrap();
    assert!(group_alive(first) && group_alive(second));

    // Stopped as Tally stops them when it quits.
    servers.stop_all().await;
    wait_until_gone(first).await;
    wait_until_gone(second).await;

    // And when Tally goes without asking: dropping the servers kills their groups.
    let (servers, mut rx) = self::servers(desktop_env(None));
    let spec = stdio(
        "parent",
        &python(),
        &[&script("stdio_server.py"), "--child"],
    );
    servers.start(12, spec, None).await;
    assert_eq!(settled(&mut rx, 12).await.status, Status::Ready);
    let group = servers.process_group(12).unwrap();
    drop(servers);
    wait_until_gone(group).await;
}

/// Processes whose command line has `mark` among its arguments.
fn processes_marked(mark: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|line| line.split(|b| *b == 0).any(|arg| arg == mark.as_bytes()))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_starts_of_one_server_at_once_leave_one_program_running() {
    let (servers, mut rx) = servers(desktop_env(None));
    let mark = format!("--mark=concurrent-{}", std::process::id());
    let spec = stdio("twice", &python(), &[&script("stdio_server.py"), &mark]);
    tokio::join!(
        servers.start(13, spec.clone(), None),
        servers.start(13, spec, None)
    );
    assert_eq!(settled(&mut rx, 13).await.status, Status::Ready);
    // A program killed is gone a moment after its signal.
    wait_until("only one program runs", || processes_marked(&mark) == 1).await;
    servers.stop_all().await;
    wait_until("no program runs", || processes_marked(&mark) == 0).await;
}

/// Waits for `done`, failing with `what` after 15 s.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
