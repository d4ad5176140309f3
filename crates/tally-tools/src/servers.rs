//! The running servers: each one's state, its tools, a call with a timeout, and stopping.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use process_wrap::tokio::{CommandWrap, ProcessGroup};
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{Peer, RoleClient, RunningService, RunningServiceCancellationToken};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ServiceError, ServiceExt};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::launch::LaunchEnv;
use crate::output::ToolOutput;
use crate::spec::{ServerSpec, Transport};
use crate::stderr::StderrTail;
use crate::{ToolsError, output};

/// The caller's id of a server (Tally's database row).
pub type ServerId = i64;

/// How long a server may take to start and answer `initialize` and `tools/list` (npx and
/// uvx may download the server the first time).
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a stopped server may take to exit after its input is closed and SIGTERM
/// (rmcp's own graceful shutdown waits 3 s for each) before its whole group is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(8);
/// How long a failed program's last words are waited for once it has been stopped.
const LAST_WORDS: Duration = Duration::from_secs(2);
/// Bounds on what a server says about its tools.
const MAX_TOOLS: usize = 256;
const MAX_DESCRIPTION_BYTES: usize = 4096;
const MAX_SCHEMA_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Starting,
    Ready,
    Failed,
}

/// A tool a server offers.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolInfo {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    /// The JSON Schema of its arguments, as the server gave it.
    pub input_schema: serde_json::Map<String, serde_json::Value>,
    /// The server's hint that the tool changes nothing.
    pub read_only: bool,
    /// The server's hint that the tool may delete or overwrite (MCP's default for a tool
    /// that is not read-only).
    pub destructive: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServerState {
    pub status: Status,
    pub tools: Vec<ToolInfo>,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// The last lines the program wrote to stderr (a local server only).
    pub stderr: Vec<String>,
}

impl ServerState {
    fn starting() -> Self {
        Self {
            status: Status::Starting,
            tools: Vec::new(),
            error: None,
            stderr: Vec::new(),
        }
    }

    fn failed(error: String, stderr: Vec<String>) -> Self {
        Self {
            status: Status::Failed,
            tools: Vec::new(),
            error: Some(error),
            stderr,
        }
    }
}

type Listener = Box<dyn Fn(ServerId, &ServerState) + Send + Sync>;

/// The servers Tally started. Dropping it kills every program it started, with their
/// children; [`McpServers::stop_all`] first asks them to exit.
pub struct McpServers {
    shared: Arc<Shared>,
    start_timeout: Duration,
}

struct Shared {
    launch: LaunchEnv,
    slots: Mutex<HashMap<ServerId, Slot>>,
    /// Told of every change of a server's state, in order, while the state is locked: it
    /// must not call back into `McpServers`.
    listener: Listener,
    /// Wakes whoever waits for a server to settle ([`McpServers::settled`]).
    changed: tokio::sync::Notify,
    generations: AtomicU64,
}

struct Slot {
    name: String,
    generation: u64,
    state: ServerState,
    peer: Option<Peer<RoleClient>>,
    running: Running,
}

/// What stopping a server needs: its task, the service's token once connected, and the
/// process group of a local program (0 until it is started).
struct Running {
    task: JoinHandle<()>,
    cancel: Option<RunningServiceCancellationToken>,
    group: Arc<AtomicU32>,
    stderr: Arc<StderrTail>,
}

impl McpServers {
    /// `listener` hears every change of state; it must return quickly and not call back.
    pub fn new(
        launch: LaunchEnv,
        listener: impl Fn(ServerId, &ServerState) + Send + Sync + 'static,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                launch,
                slots: Mutex::new(HashMap::new()),
                listener: Box::new(listener),
                changed: tokio::sync::Notify::new(),
                generations: AtomicU64::new(0),
            }),
            start_timeout: START_TIMEOUT,
        }
    }

    /// The same servers, with another limit on how long one may take to start.
    pub fn with_start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The process group of a local server's program (its pid; 0 for a remote server or
    /// one that never started), for diagnostics and tests.
    pub fn process_group(&self, id: ServerId) -> Option<u32> {
        let slots = self.shared.lock();
        slots
            .get(&id)
            .map(|slot| slot.running.group.load(Ordering::Relaxed))
    }

    /// Starts `spec` as server `id` (stopping what ran under that id first). It is
    /// `Starting` at once; the listener hears when it is ready or has failed.
    pub async fn start(&self, id: ServerId, spec: ServerSpec, bearer: Option<SecretString>) {
        self.stop(id).await;
        let generation = self.shared.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let group = Arc::new(AtomicU32::new(0));
        let stderr = StderrTail::new();
        // The run's task is spawned under the lock, so its first change of state is told
        // after `Starting`.
        let overtaken = {
            let mut slots = self.shared.lock();
            let task = tokio::spawn(run(
                Run {
                    shared: Arc::downgrade(&self.shared),
                    id,
                    generation,
                    group: group.clone(),
                    stderr: stderr.clone(),
                },
                spec.clone(),
                bearer,
                self.start_timeout,
            ));
            let slot = Slot {
                name: spec.name,
                generation,
                state: ServerState::starting(),
                peer: None,
                running: Running {
                    task,
                    cancel: None,
                    group,
                    stderr,
                },
            };
            (self.shared.listener)(id, &slot.state);
            slots.insert(id, slot)
        };
        // A start of the same server at the same time (a double click on Restart, a save
        // while Tally opens) put its own run there meanwhile: that one is stopped.
        if let Some(overtaken) = overtaken {
            stop_running(overtaken.running).await;
        }
    }

    /// The state of server `id`, if it was started.
    pub fn state(&self, id: ServerId) -> Option<ServerState> {
        self.shared.lock().get(&id).map(|slot| slot.state.clone())
    }

    /// Server `id`'s state once it is no longer starting (ready or failed), waiting for at
    /// most `within`; `None` for a server that is not there. A server still starting then
    /// is returned as it is.
    pub async fn settled(&self, id: ServerId, within: Duration) -> Option<ServerState> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            // Registered before looking, so a change between the look and the wait wakes it.
            changed.as_mut().enable();
            let state = self.state(id)?;
            if state.status != Status::Starting {
                return Some(state);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.state(id);
            }
        }
    }

    /// Stops server `id` and forgets it: its input is closed, then SIGTERM, then its whole
    /// process group is killed. Nothing happens for an id that is not running.
    pub async fn stop(&self, id: ServerId) {
        let slot = self.shared.lock().remove(&id);
        // Whoever waits for it to settle waits no longer.
        self.shared.changed.notify_waiters();
        if let Some(slot) = slot {
            stop_running(slot.running).await;
        }
    }

    /// Stops every server at once (when Tally quits).
    pub async fn stop_all(&self) {
        let slots: Vec<Slot> = self.shared.lock().drain().map(|(_, slot)| slot).collect();
        let stops = slots.into_iter().map(|slot| stop_running(slot.running));
        futures_util::future::join_all(stops).await;
    }

    /// Calls `tool` on server `id` with `arguments`, waiting at most `timeout` (then the
    /// server is told to cancel).
    pub async fn call(
        &self,
        id: ServerId,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        timeout: Duration,
    ) -> Result<ToolOutput, ToolsError> {
        let (name, peer, stderr) = {
            let slots = self.shared.lock();
            let Some(slot) = slots.get(&id) else {
                return Err(ToolsError::NotReady("This server is not running.".into()));
            };
            let name = slot.name.clone();
            match (&slot.peer, slot.state.status) {
                (Some(peer), Status::Ready) => (name, peer.clone(), slot.running.stderr.clone()),
                (_, Status::Starting) => {
                    return Err(ToolsError::NotReady(format!("“{name}” is still starting.")));
                }
                _ => {
                    let why = slot.state.error.clone().unwrap_or_default();
                    return Err(ToolsError::NotReady(format!(
                        "“{name}” is not running. {why}"
                    )));
                }
            }
        };
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        match tokio::time::timeout(timeout, peer.call_tool(params)).await {
            Err(_) => Err(ToolsError::Timeout(format!(
                "“{name}” gave no answer in {} s, so Tally stopped waiting.",
                timeout.as_secs()
            ))),
            Ok(Ok(result)) => Ok(ToolOutput::from_result(result)),
            Ok(Err(ServiceError::McpError(error))) => Err(ToolsError::CallFailed(format!(
                "“{name}” refused the call: {}",
                output::bounded(error.message.to_string(), 1000).0
            ))),
            Ok(Err(ServiceError::TransportClosed | ServiceError::TransportSend(_))) => {
                Err(ToolsError::CallFailed(format!(
                    "“{name}” stopped during the call.{}",
                    tail_note(&stderr.lines_at_end(LAST_WORDS).await)
                )))
            }
            Ok(Err(other)) => Err(ToolsError::CallFailed(format!(
                "“{name}” did not answer the call: {}",
                output::bounded(other.to_string(), 1000).0
            ))),
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ServerId, Slot>> {
        // A panic elsewhere must not leave servers unstoppable: the map stays usable.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `change` to server `id` if it is still the run `generation` started; says
    /// whether it was.
    fn update(&self, id: ServerId, generation: u64, change: impl FnOnce(&mut Slot)) -> bool {
        let mut slots = self.lock();
        match slots.get_mut(&id) {
            Some(slot) if slot.generation == generation => {
                change(slot);
                (self.listener)(id, &slot.state);
                self.changed.notify_waiters();
                true
            }
            _ => false,
        }
    }
}

impl Drop for Shared {
    /// The last resort when Tally goes without `stop_all`: every group is killed at once.
    fn drop(&mut self) {
        for slot in self.lock().values() {
            kill_group(slot.running.group.load(Ordering::Relaxed));
        }
    }
}

/// Which run of which server a task is, and what it shares with its slot.
struct Run {
    shared: Weak<Shared>,
    id: ServerId,
    generation: u64,
    group: Arc<AtomicU32>,
    stderr: Arc<StderrTail>,
}

/// One server's life: connect, list its tools, serve calls until it ends.
async fn run(run: Run, spec: ServerSpec, bearer: Option<SecretString>, start_timeout: Duration) {
    let Run {
        shared,
        id,
        generation,
        group,
        stderr,
    } = run;
    let Some(launch) = shared.upgrade().map(|s| s.launch.clone()) else {
        return;
    };
    let connected = tokio::time::timeout(start_timeout, async {
        let service = connect(&launch, &spec, bearer, &group, &stderr).await?;
        let tools = service.peer().list_all_tools().await.map_err(|e| {
            ToolsError::CallFailed(format!(
                "It started but did not list its tools: {}",
                output::bounded(e.to_string(), 500).0
            ))
        })?;
        Ok::<_, ToolsError>((service, tools))
    })
    .await
    .unwrap_or_else(|_| {
        Err(ToolsError::Timeout(format!(
            "It did not answer within {} s of starting.",
            start_timeout.as_secs()
        )))
    });
    let (service, tools) = match connected {
        Ok(connected) => connected,
        Err(error) => {
            match group.load(Ordering::Relaxed) {
                0 => stderr.end(),
                started => kill_group(started),
            }
            let lines = stderr.lines_at_end(LAST_WORDS).await;
            if let Some(shared) = shared.upgrade() {
                shared.update(id, generation, |slot| {
                    slot.state = ServerState::failed(error.to_string(), lines);
                });
            }
            return;
        }
    };
    let tools = tools_of(tools);
    let cancel = service.cancellation_token();
    let peer = service.peer().clone();
    let current = shared.upgrade().is_some_and(|shared| {
        shared.update(id, generation, |slot| {
            slot.state = ServerState {
                status: Status::Ready,
                tools,
                error: None,
                stderr: Vec::new(),
            };
            slot.peer = Some(peer);
            slot.running.cancel = Some(cancel);
        })
    });
    if !current {
        let _ = service.cancel().await;
        return;
    }
    let quit = service.waiting().await;
    // Still current: nobody asked it to stop, so it stopped on its own.
    let lines = stderr.lines_at_end(LAST_WORDS).await;
    if let Some(shared) = shared.upgrade() {
        shared.update(id, generation, |slot| {
            slot.peer = None;
            slot.state =
                ServerState::failed(format!("The server stopped by itself ({quit:?})."), lines);
        });
    }
}

async fn connect(
    launch: &LaunchEnv,
    spec: &ServerSpec,
    bearer: Option<SecretString>,
    group: &AtomicU32,
    stderr: &Arc<StderrTail>,
) -> Result<RunningService<RoleClient, ClientConfig>, ToolsError> {
    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("Tally", env!("CARGO_PKG_VERSION")),
    );
    let service = match &spec.transport {
        Transport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            let program = launch.resolve(command)?;
            if let Some(folder) = cwd
                && !std::path::Path::new(folder).is_dir()
            {
                return Err(ToolsError::InvalidServer(format!(
                    "The working folder {folder} does not exist."
                )));
            }
            let mut wrap = CommandWrap::from(launch.command(&program, args, env, cwd.as_deref()));
            wrap.wrap(ProcessGroup::leader());
            let (transport, err) = TokioChildProcess::builder(wrap)
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| {
                    ToolsError::ProgramMissing(format!("Tally could not start {command}: {e}."))
                })?;
            group.store(transport.id().unwrap_or(0), Ordering::Relaxed);
            match err {
                Some(err) => stderr.read_from(err),
                None => stderr.end(),
            }
            client.serve(transport).await.map_err(|e| {
                ToolsError::CallFailed(format!(
                    "It started but did not answer as an MCP server: {}{}",
                    output::bounded(e.to_string(), 500).0,
                    tail_note(&stderr.lines())
                ))
            })?
        }
        Transport::Http { url } => {
            stderr.end();
            let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
            if let Some(token) = &bearer {
                config = config.auth_header(token.expose_secret());
            }
            let transport = StreamableHttpClientTransport::from_config(config);
            client.serve(transport).await.map_err(|e| {
                let text = e.to_string();
                if e.auth_challenge().is_some() || text.contains("401") || text.contains("403") {
                    ToolsError::CallFailed(
                        "The server refused Tally: it needs a token, or the token given is \
                         wrong."
                            .into(),
                    )
                } else {
                    ToolsError::CallFailed(format!(
                        "Tally could not connect to {url}: {}",
                        output::bounded(text, 500).0
                    ))
                }
            })?
        }
    };
    Ok(service)
}

fn tools_of(tools: Vec<rmcp::model::Tool>) -> Vec<ToolInfo> {
    tools
        .into_iter()
        .filter(|tool| {
            !tool.name.is_empty()
                && tool.name.len() <= 128
                && serde_json::to_vec(&*tool.input_schema).map_or(0, |v| v.len())
                    <= MAX_SCHEMA_BYTES
        })
        .take(MAX_TOOLS)
        .map(|tool| {
            let hints = tool.annotations.clone().unwrap_or_default();
            let read_only = hints.read_only_hint.unwrap_or(false);
            ToolInfo {
                name: tool.name.to_string(),
                title: tool
                    .title
                    .clone()
                    .or(hints.title)
                    .map(|t| output::bounded(t, 200).0),
                description: output::bounded(
                    tool.description.as_deref().unwrap_or("").to_string(),
                    MAX_DESCRIPTION_BYTES,
                )
                .0,
                input_schema: (*tool.input_schema).clone(),
                read_only,
                destructive: !read_only && hints.destructive_hint.unwrap_or(true),
            }
        })
        .collect()
}

fn tail_note(lines: &[String]) -> String {
    match lines.last() {
        Some(last) => format!(" It said: “{last}”"),
        None => String::new(),
    }
}

async fn stop_running(running: Running) {
    let Running {
        mut task,
        cancel,
        group,
        ..
    } = running;
    match cancel {
        // Connected: rmcp closes its input, waits, sends SIGTERM, waits, kills.
        Some(cancel) => {
            cancel.cancel();
            if tokio::time::timeout(STOP_TIMEOUT, &mut task).await.is_err() {
                task.abort();
            }
        }
        None => task.abort(),
    }
    // Whatever the program started and left behind goes with it.
    kill_group(group.load(Ordering::Relaxed));
}

fn kill_group(group: u32) {
    #[cfg(unix)]
    if let Ok(group) = i32::try_from(group)
        && group > 1
    {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(group),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}
