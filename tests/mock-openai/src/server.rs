use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use tally_spend::{Encoding, count_chat_prompt, count_text};
use tokio::sync::{Notify, oneshot};

use crate::wire::{WireFile, wire_file};

pub(crate) mod pictures;
pub(crate) mod responses;
pub(crate) mod tool_calls;

pub use pictures::ReceivedPicture;

const DEFAULT_REPLY: &str = "Hello! I am the **mock** OpenAI server.\n\n\
Here is what I can do:\n\n\
- stream a reply in small pieces\n\
- render *markdown* like `inline code`\n\
- say hello in other scripts: Привет, こんにちは 👋\n\n\
```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n";

/// How the server answers.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The text of generated replies.
    pub reply: String,
    /// Characters per content chunk (at least 1).
    pub chunk_chars: usize,
    /// Pause before each chunk after the first.
    pub delay: Duration,
    /// Port to bind on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Whether a request without a key is refused, as OpenAI refuses it (401). `false`
    /// serves it, as a local model server that asks for no key does; a key that is sent
    /// is still checked.
    pub needs_key: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            reply: DEFAULT_REPLY.to_string(),
            chunk_chars: 6,
            delay: Duration::from_millis(20),
            port: 0,
            needs_key: true,
        }
    }
}

/// A chat request as the server received it (without the key). A Responses request is
/// kept in the same form: its `instructions` as a system message, its input messages as
/// messages, `max_output_tokens` as `max_completion_tokens`.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedRequest {
    /// It came to `POST /v1/responses`.
    #[serde(skip)]
    pub responses: bool,
    /// Responses: whether OpenAI was asked to keep it (`store`; the API's default is yes).
    #[serde(skip)]
    pub store: Option<bool>,
    /// Responses: what the reply should carry back (`include`).
    #[serde(skip)]
    pub include: Vec<String>,
    /// Responses: the encrypted content of each reasoning item sent back, in order.
    #[serde(skip)]
    pub reasoning_items: Vec<String>,
    pub model: String,
    pub messages: Vec<ReceivedMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<ReceivedStreamOptions>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub top_p: Option<f32>,
    #[serde(default)]
    pub presence_penalty: Option<f32>,
    #[serde(default)]
    pub frequency_penalty: Option<f32>,
    /// A reasoning model's effort (Chat Completions: `reasoning_effort`; Responses:
    /// `reasoning.effort`).
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    /// Responses: the reasoning summary asked for (`reasoning.summary`).
    #[serde(skip)]
    pub reasoning_summary: Option<String>,
    /// Responses: the `web_search` tool was offered.
    #[serde(skip)]
    pub web_search: bool,
    /// Responses: the most tool calls allowed (`max_tool_calls`).
    #[serde(skip)]
    pub max_tool_calls: Option<u32>,
    /// The functions offered (Chat Completions' `tools`; Responses' `function` tools).
    #[serde(
        default,
        rename = "tools",
        deserialize_with = "tool_calls::functions_of_chat_tools"
    )]
    pub functions: Vec<ReceivedFunction>,
    /// A reply in JSON was asked for (Chat Completions' `response_format`; Responses'
    /// `text.format`), unless its type is `text`.
    #[serde(default, rename = "response_format")]
    pub reply_format: Option<ReceivedFormat>,
}

/// The format a request asks the reply in.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ReceivedFormat {
    /// `text`, `json_object` or `json_schema`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl ReceivedRequest {
    /// Whether the reply must be JSON: then the mock answers `{"answer": <its reply>}`.
    pub fn wants_json(&self) -> bool {
        self.reply_format.as_ref().is_some_and(|f| f.kind != "text")
    }
}

/// The reply as the request asks it: the text, or (JSON asked for) the text in an object.
fn in_format(request: &ReceivedRequest, reply: &str) -> String {
    if request.wants_json() {
        serde_json::json!({ "answer": reply }).to_string()
    } else {
        reply.to_string()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "WireMessage")]
pub struct ReceivedMessage {
    pub role: String,
    /// Its text (the text parts, joined). A message whose `content` is null (an
    /// assistant's calls alone) arrives empty.
    pub content: String,
    /// The pictures among its parts.
    pub pictures: Vec<ReceivedPicture>,
}

#[derive(Deserialize)]
struct WireMessage {
    role: String,
    #[serde(default, deserialize_with = "pictures::content")]
    content: pictures::Content,
}

impl From<WireMessage> for ReceivedMessage {
    fn from(wire: WireMessage) -> Self {
        Self {
            role: wire.role,
            content: wire.content.text,
            pictures: wire.content.pictures,
        }
    }
}

/// A function a request offers the model.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ReceivedFunction {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ReceivedStreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

/// Counters the tests assert on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub chat_requests: usize,
    pub model_requests: usize,
    /// Requests (chat or models) that came without an `Authorization` header.
    pub keyless_requests: usize,
    pub streams_completed: usize,
    /// Streams whose connection the client closed before the server finished.
    pub streams_dropped: usize,
    /// The usage the server reported, summed over every reply that reported one.
    pub usage_reported: UsageTotals,
}

/// Token counts summed over replies, as the server reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageTotals {
    pub replies: u64,
    pub prompt: u64,
    pub cached: u64,
    pub cache_write: u64,
    pub completion: u64,
    pub reasoning: u64,
}

struct Shared {
    config: MockConfig,
    requests: Mutex<Vec<ReceivedRequest>>,
    chat_requests: AtomicUsize,
    model_requests: AtomicUsize,
    keyless_requests: AtomicUsize,
    completed: AtomicUsize,
    dropped: AtomicUsize,
    next_id: AtomicU64,
    /// Requests served so far per counted scenario (`NAME*N`).
    served: Mutex<std::collections::HashMap<String, usize>>,
    usage_reported: Mutex<UsageTotals>,
    /// When each generated reply's first content chunk left, as UTC epoch microseconds.
    first_content_sent: Mutex<Vec<u128>>,
    changed: Notify,
}

/// A running mock server. Dropping it shuts the server down.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl MockServer {
    /// Binds 127.0.0.1 and serves on the current tokio runtime.
    pub async fn start(config: MockConfig) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        // Each chunk leaves when written, as from OpenAI's servers: without this, Nagle's
        // algorithm holds small chunks back for a delayed ACK (~40 ms) on a reused connection.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let shared = Arc::new(Shared {
            config,
            requests: Mutex::default(),
            chat_requests: AtomicUsize::new(0),
            model_requests: AtomicUsize::new(0),
            keyless_requests: AtomicUsize::new(0),
            completed: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            served: Mutex::default(),
            usage_reported: Mutex::default(),
            first_content_sent: Mutex::default(),
            changed: Notify::new(),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/responses", post(responses::respond))
            .route("/v1/models", get(models))
            // Not OpenAI's: for benchmarks that compare the app's clock with the server's.
            .route("/_mock/first-content-sent", get(first_content_sent))
            .with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            shared,
            shutdown: Some(tx),
        })
    }

    /// Starts a server on a runtime of its own, for callers without one (shell tests).
    pub fn start_in_background(config: MockConfig) -> io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("mock runtime");
            runtime.block_on(async move {
                let server = MockServer::start(config).await;
                let done = server.as_ref().ok().map(|s| s.shared.clone());
                let _ = tx.send(server);
                // Serve until the process ends; the handle's drop stops accepting.
                if let Some(shared) = done {
                    loop {
                        shared.changed.notified().await;
                    }
                }
            });
        });
        rx.recv().map_err(io::Error::other)?
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:41234/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn stats(&self) -> Stats {
        Stats {
            chat_requests: self.shared.chat_requests.load(Ordering::SeqCst),
            model_requests: self.shared.model_requests.load(Ordering::SeqCst),
            keyless_requests: self.shared.keyless_requests.load(Ordering::SeqCst),
            streams_completed: self.shared.completed.load(Ordering::SeqCst),
            streams_dropped: self.shared.dropped.load(Ordering::SeqCst),
            usage_reported: *self.shared.usage_reported.lock().unwrap(),
        }
    }

    /// Waits until `done(stats)` holds, or `timeout` passes; returns the last stats.
    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&Stats) -> bool) -> Stats {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            let stats = self.stats();
            if done(&stats) || tokio::time::Instant::now() >= deadline {
                return stats;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// When each generated reply's first content chunk was handed to the connection, as a JSON
/// list of UTC epoch microseconds, oldest first.
async fn first_content_sent(State(shared): State<Arc<Shared>>) -> Response {
    let sent = shared.first_content_sent.lock().unwrap().clone();
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&sent).unwrap(),
    )
        .into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        shared.keyless_requests.fetch_add(1, Ordering::SeqCst);
        return !shared.config.needs_key;
    };
    // Any well-formed bearer key is accepted, except keys containing "invalid", which get
    // the real API's 401: that is how tests and `run --mock` try the wrong-key path.
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| key.starts_with("sk-") && !key.contains("invalid"))
}

async fn models(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    shared.model_requests.fetch_add(1, Ordering::SeqCst);
    shared.changed.notify_waiters();
    let file = if authorized(&shared, &headers) {
        "models"
    } else {
        "error-401-invalid-key"
    };
    replay_whole(&wire_file(file).expect("recorded file"))
}

async fn chat(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    shared.chat_requests.fetch_add(1, Ordering::SeqCst);
    shared.changed.notify_waiters();
    if !authorized(&shared, &headers) {
        return replay_whole(&wire_file("error-401-invalid-key").expect("recorded file"));
    }
    let request: ReceivedRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return invalid_body(&e.to_string()),
    };
    shared.requests.lock().unwrap().push(request.clone());
    if let Some(refused) = picture_refusal(&request) {
        return refused;
    }
    let scenario = headers
        .get("x-mock-scenario")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| marker_in(&request));
    let step = scenario.map(|s| step_for(&shared, &s));
    // Reasoning models refuse what the real API refuses them; the Responses API's models
    // are not served here at all.
    let refusal = if responses::only_on_responses(&request.model) {
        Some("error-404-responses-only-model")
    } else {
        refusal_for(&request)
    };
    let step = match (step, refusal) {
        (None | Some(Step::Ok), Some(refusal)) => Some(Step::Wire(refusal.to_string())),
        (step, _) => step,
    };
    if !request.stream && matches!(step, None | Some(Step::Ok)) {
        return completion(&shared, &request);
    }
    answer(&shared, &request, step.unwrap_or(Step::Ok))
}

/// A reply to `request` as `step` says, in the stream shape of the API it came to.
fn answer(shared: &Arc<Shared>, request: &ReceivedRequest, step: Step) -> Response {
    let generated = if request.responses {
        responses::generated
    } else {
        generated
    };
    let plain = Generated::plain(shared.config.delay);
    match step {
        Step::Ok => generated(shared, request, plain),
        Step::Stall => generated(
            shared,
            request,
            Generated {
                stall: Stall::AfterTwoChunks,
                ..plain
            },
        ),
        Step::Silent => generated(
            shared,
            request,
            Generated {
                stall: Stall::AfterRole,
                ..plain
            },
        ),
        Step::DropAfter(n) => generated(
            shared,
            request,
            Generated {
                drop_after: Some(n),
                ..plain
            },
        ),
        Step::Garbage => generated(
            shared,
            request,
            Generated {
                garbage_after: Some(2),
                ..plain
            },
        ),
        Step::Echo => generated(
            shared,
            request,
            Generated {
                reply: echoed(request),
                ..plain
            },
        ),
        Step::Slow(ms) => generated(
            shared,
            request,
            Generated {
                delay: Duration::from_millis(ms),
                ..plain
            },
        ),
        Step::RetryAfter(seconds) => rate_limited_for(seconds.to_string()),
        Step::RetryAfterRaw(value) => rate_limited_for(value),
        Step::EndlessLine => hostile::endless_line(),
        Step::EndlessReply => hostile::endless_reply(&request.model),
        Step::HugeError => hostile::huge_error(),
        Step::EndlessError => hostile::endless_error(),
        Step::Redirect => hostile::redirect(),
        Step::Usage(usage) => generated(
            shared,
            request,
            Generated {
                usage: Some(usage),
                ..plain
            },
        ),
        Step::Call { calls, again } => tool_calls::answer(shared, request, &calls, again, plain),
        Step::Wire(name) => match wire_file(&name) {
            // A stream answers only on the API whose stream it is.
            Some(file)
                if file.is_stream()
                    && responses::is_responses_stream(&name) != request.responses =>
            {
                invalid_body(&format!("{name} is not a stream of this endpoint"))
            }
            Some(file) if file.is_stream() => replay_stream(shared, file),
            Some(file) => replay_whole(&file),
            None => invalid_body(&format!("unknown mock scenario {name}")),
        },
    }
}

/// What one request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A normal generated reply.
    Ok,
    /// A recorded transcript from `wire/`.
    Wire(String),
    /// Two chunks, then silence.
    Stall,
    /// The role chunk, then silence (a reasoning model thinking).
    Silent,
    /// N content chunks, then the connection breaks.
    DropAfter(usize),
    /// Two content chunks, then a data line that is not JSON.
    Garbage,
    /// A normal reply whose text is the last user message without its `[mock:echo]`
    /// marker (tests of how replies render, e.g. the XSS corpus, split across chunks).
    Echo,
    /// A normal reply with this many milliseconds between chunks.
    Slow(u64),
    /// The recorded 429 rate limit, but asking for a wait of this many seconds.
    RetryAfter(u64),
    /// A normal reply reporting this usage:
    /// `usage:PROMPT/CACHED/COMPLETION/REASONING[/CACHE_WRITES]`.
    Usage(Usage),
    /// The recorded 429, with this exact `retry-after` value (`retry-after-raw:1e300`).
    RetryAfterRaw(String),
    /// A hostile server: an SSE line that never ends (bounded here at 64 MiB).
    EndlessLine,
    /// A hostile server: reply text that never ends (bounded here at 64 MiB).
    EndlessReply,
    /// A hostile server: a 500 whose error body is huge (16 MiB).
    HugeError,
    /// A hostile server: a 500 whose error body starts and never finishes.
    EndlessError,
    /// A 307 redirect to another address.
    Redirect,
    /// The model calls the request's functions (`call:NAME {JSON} | NAME {JSON}`); once
    /// the request carries their results, it answers quoting them. With `call-again:` it
    /// calls them again after every round of results (a model stuck in a loop).
    Call {
        calls: Vec<tool_calls::PlannedCall>,
        again: bool,
    },
}

impl Step {
    fn parse(text: &str) -> Step {
        let text = text.trim();
        let number = |prefix: &str| {
            text.strip_prefix(prefix)
                .and_then(|n| n.trim().parse().ok())
        };
        if text == "ok" {
            Step::Ok
        } else if text == "stall" {
            Step::Stall
        } else if text == "silent" {
            Step::Silent
        } else if text == "garbage" {
            Step::Garbage
        } else if text == "echo" {
            Step::Echo
        } else if let Some(n) = number("drop-after:") {
            Step::DropAfter(n as usize)
        } else if let Some(ms) = number("slow:") {
            Step::Slow(ms)
        } else if let Some(seconds) = number("retry-after:") {
            Step::RetryAfter(seconds)
        } else if let Some(usage) = text.strip_prefix("usage:").and_then(Usage::parse) {
            Step::Usage(usage)
        } else if let Some(value) = text.strip_prefix("retry-after-raw:") {
            Step::RetryAfterRaw(value.to_string())
        } else if text == "endless-line" {
            Step::EndlessLine
        } else if text == "endless-reply" {
            Step::EndlessReply
        } else if text == "huge-error" {
            Step::HugeError
        } else if text == "endless-error" {
            Step::EndlessError
        } else if text == "redirect" {
            Step::Redirect
        } else if let Some(calls) = text.strip_prefix("call:") {
            Step::Call {
                calls: tool_calls::parse(calls),
                again: false,
            }
        } else if let Some(calls) = text.strip_prefix("call-again:") {
            Step::Call {
                calls: tool_calls::parse(calls),
                again: true,
            }
        } else {
            Step::Wire(text.to_string())
        }
    }
}

/// The step for this request of a scenario. A scenario is one step for every request
/// (`stall`, `call:…`), `NAME*N` (N times NAME, then normal replies), or a sequence `A,B,C`
/// (one per request, the last one repeating), e.g.
/// `error-429-rate-limit,error-429-rate-limit,ok`.
fn step_for(shared: &Shared, scenario: &str) -> Step {
    // A call's arguments are JSON, whose commas and stars are not separators here.
    if scenario.trim_start().starts_with("call:")
        || scenario.trim_start().starts_with("call-again:")
    {
        return Step::parse(scenario);
    }
    let steps: Vec<Step> = match scenario.split_once('*') {
        Some((name, count)) => {
            let count: usize = count.trim().parse().unwrap_or(1);
            let mut steps = vec![Step::parse(name); count];
            steps.push(Step::Ok);
            steps
        }
        None => scenario.split(',').map(Step::parse).collect(),
    };
    let mut served = shared.served.lock().unwrap();
    let n = served.entry(scenario.to_string()).or_insert(0);
    let step = steps[(*n).min(steps.len() - 1)].clone();
    *n += 1;
    step
}

fn rate_limited_for(retry_after: String) -> Response {
    let mut file = wire_file("error-429-rate-limit").expect("recorded file");
    file.headers
        .retain(|(name, _)| name != "retry-after-ms" && name != "retry-after");
    file.headers.push(("retry-after".into(), retry_after));
    replay_whole(&file)
}

/// Answers no real server gives, for the client's bounds. Each is bounded here too, so a
/// client that failed to stop reading would still see an end.
mod hostile {
    use futures_util::StreamExt;

    use super::*;

    const MIB: usize = 1 << 20;

    /// `first`, then `piece` again and again until `total` bytes have gone.
    fn repeated(first: String, piece: String, total: usize) -> Body {
        let count = total / piece.len().max(1);
        let pieces = std::iter::once(first).chain(std::iter::repeat_n(piece, count));
        Body::from_stream(stream::iter(
            pieces.map(|p| Ok::<_, io::Error>(Bytes::from(p))),
        ))
    }

    pub(super) fn endless_line() -> Response {
        sse_response(
            repeated("data: {\"x\":\"".into(), "a".repeat(64 * 1024), 64 * MIB),
            "req_mock_endless_line",
        )
    }

    pub(super) fn endless_reply(model: &str) -> Response {
        let chunk = |content: &str| {
            format!(
                "data: {{\"id\":\"chatcmpl-endless\",\"object\":\"chat.completion.chunk\",\"created\":{CREATED},\"model\":{},\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"finish_reason\":null}}]}}\n\n",
                serde_json::to_string(model).unwrap(),
                serde_json::to_string(content).unwrap()
            )
        };
        sse_response(
            repeated(chunk(""), chunk(&"more words ".repeat(1500)), 64 * MIB),
            "req_mock_endless_reply",
        )
    }

    /// A 500 with `body` as its JSON error.
    fn server_error(body: Body) -> Response {
        let mut response = body.into_response();
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }

    pub(super) fn huge_error() -> Response {
        server_error(repeated(
            "{\"error\":{\"message\":\"".into(),
            "x".repeat(64 * 1024),
            16 * MIB,
        ))
    }

    pub(super) fn endless_error() -> Response {
        let start = stream::once(async {
            Ok::<_, io::Error>(Bytes::from_static(b"{\"error\":{\"message\":\"Internal"))
        });
        // Never more, for at most ten minutes.
        let hang = stream::once(async {
            tokio::time::sleep(Duration::from_secs(600)).await;
            Ok::<_, io::Error>(Bytes::from_static(b"\"}}"))
        });
        server_error(Body::from_stream(start.chain(hang)))
    }

    pub(super) fn redirect() -> Response {
        (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, "http://127.0.0.1:9/v1/chat/completions")],
        )
            .into_response()
    }
}

/// The o-series and gpt-5 family take `max_completion_tokens` and only the default
/// temperature, as the real API enforces.
fn refusal_for(request: &ReceivedRequest) -> Option<&'static str> {
    if !is_reasoning_model(&request.model) {
        None
    } else if request.max_tokens.is_some() {
        Some("error-400-unsupported-parameter")
    } else if request.temperature.is_some_and(|t| t != 1.0) {
        Some("error-400-unsupported-value")
    } else {
        None
    }
}

/// Tally asks for a conversation's title with a system message starting so.
const TITLE_REQUEST: &str = "Write a title";

/// The reply to a title request: like a model would, the gist of the first message, here
/// its first six words (without scenario markers or closing punctuation).
fn title_for(request: &ReceivedRequest) -> Option<String> {
    let asks = request
        .messages
        .first()
        .is_some_and(|m| m.role == "system" && m.content.starts_with(TITLE_REQUEST));
    if !asks {
        return None;
    }
    let text = &request.messages.iter().find(|m| m.role == "user")?.content;
    let first = text.split("\n\n---\n\n").next().unwrap_or_default();
    let words: Vec<&str> = first
        .split_whitespace()
        .filter(|w| !(w.starts_with("[mock:") && w.ends_with(']')))
        .take(6)
        .collect();
    Some(
        words
            .join(" ")
            .trim_end_matches(['.', '!', '?', ',', ':'])
            .to_string(),
    )
}

fn last_user_text(request: &ReceivedRequest) -> Option<&str> {
    let message = request.messages.iter().rev().find(|m| m.role == "user")?;
    Some(&message.content)
}

/// `[mock:NAME]` in the last user message picks a scenario (for tests that drive the UI).
fn marker_in(request: &ReceivedRequest) -> Option<String> {
    let text = last_user_text(request)?;
    let start = text.find("[mock:")? + "[mock:".len();
    let end = text[start..].find(']')? + start;
    Some(text[start..end].trim().to_string())
}

/// The last user message without the `[mock:echo]` marker (and the space after it).
fn echoed(request: &ReceivedRequest) -> Option<String> {
    let text = last_user_text(request)?;
    let marker = "[mock:echo]";
    Some(match text.find(marker) {
        Some(at) => {
            let rest = &text[at + marker.len()..];
            format!("{}{}", &text[..at], rest.strip_prefix(' ').unwrap_or(rest))
        }
        None => text.to_string(),
    })
}

fn invalid_body(why: &str) -> Response {
    let body = serde_json::json!({"error": {"message": why, "type": "invalid_request_error", "param": null, "code": null}});
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn with_headers(mut response: Response, file: &WireFile) -> Response {
    *response.status_mut() = StatusCode::from_u16(file.status).unwrap_or(StatusCode::OK);
    for (name, value) in &file.headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn replay_whole(file: &WireFile) -> Response {
    with_headers(Body::from(file.body.clone()).into_response(), file)
}

/// Counts a stream as completed when it ends, or as dropped when the client hangs up first.
struct StreamGuard {
    shared: Arc<Shared>,
    finished: bool,
}

impl StreamGuard {
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.shared.completed
        } else {
            &self.shared.dropped
        };
        counter.fetch_add(1, Ordering::SeqCst);
        self.shared.changed.notify_waiters();
    }
}

enum Piece {
    Send(String),
    Abort,
    Hang,
}

/// A body sending `pieces` with `delay` between them; the time piece `first_content` leaves
/// is recorded for benchmarks.
fn paced_body(
    pieces: Vec<Piece>,
    delay: Duration,
    shared: &Arc<Shared>,
    first_content: Option<usize>,
) -> Body {
    let guard = StreamGuard {
        shared: shared.clone(),
        finished: false,
    };
    let state = (pieces.into_iter().enumerate(), guard);
    let body = stream::unfold(state, move |(mut pieces, mut guard)| async move {
        let Some((i, piece)) = pieces.next() else {
            guard.finish();
            return None;
        };
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if Some(i) == first_content {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros())
                .unwrap_or(0);
            guard.shared.first_content_sent.lock().unwrap().push(now);
        }
        match piece {
            Piece::Send(text) => Some((Ok(Bytes::from(text)), (pieces, guard))),
            Piece::Abort => {
                // Counted as completed: the server, not the client, broke it off.
                guard.finish();
                Some((
                    Err(io::Error::other("connection closed by the peer")),
                    (pieces, guard),
                ))
            }
            Piece::Hang => {
                std::future::pending::<()>().await;
                None
            }
        }
    });
    Body::from_stream(body)
}

fn sse_response(body: Body, request_id: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", v);
    }
    headers.insert("openai-processing-ms", HeaderValue::from_static("212"));
    headers.insert("openai-version", HeaderValue::from_static("2020-10-01"));
    headers.insert(
        "x-ratelimit-limit-requests",
        HeaderValue::from_static("5000"),
    );
    headers.insert(
        "x-ratelimit-remaining-requests",
        HeaderValue::from_static("4999"),
    );
    headers.insert(
        "x-ratelimit-reset-requests",
        HeaderValue::from_static("12ms"),
    );
    response
}

fn replay_stream(shared: &Arc<Shared>, file: WireFile) -> Response {
    let mut pieces: Vec<Piece> = file.events().into_iter().map(Piece::Send).collect();
    if file.aborts {
        pieces.push(Piece::Abort);
    }
    with_headers(
        paced_body(pieces, shared.config.delay, shared, None).into_response(),
        &file,
    )
}

// The chunk shape of stream-basic.http, field for field and in the same order.
#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    service_tier: &'static str,
    system_fingerprint: &'static str,
    choices: Vec<ChunkChoice<'a>>,
    usage: Option<Usage>,
    obfuscation: &'static str,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: ChunkDelta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

#[derive(Serialize, Default)]
struct ChunkDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<Option<()>>,
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: PromptDetails,
    completion_tokens_details: CompletionDetails,
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
struct PromptDetails {
    cached_tokens: u64,
    audio_tokens: u64,
    /// Only where a scenario reports cache writes (`usage:…/W`): the recorded streams
    /// carry no such field.
    #[serde(skip_serializing_if = "is_zero")]
    cache_write_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
struct CompletionDetails {
    reasoning_tokens: u64,
    audio_tokens: u64,
    accepted_prediction_tokens: u64,
    rejected_prediction_tokens: u64,
}

const CREATED: u64 = 1_763_880_000;
const FINGERPRINT: &str = "fp_0ba0d124f1";

fn served_model(requested: &str) -> String {
    // The real API answers with the dated snapshot of an alias.
    match requested {
        "gpt-4o-mini" => "gpt-4o-mini-2024-07-18".into(),
        "gpt-4o" => "gpt-4o-2024-08-06".into(),
        other => other.into(),
    }
}

impl Usage {
    fn new(prompt: u64, cached: u64, completion: u64, reasoning: u64) -> Self {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
            prompt_tokens_details: PromptDetails {
                cached_tokens: cached,
                audio_tokens: 0,
                cache_write_tokens: 0,
            },
            completion_tokens_details: CompletionDetails {
                reasoning_tokens: reasoning,
                audio_tokens: 0,
                accepted_prediction_tokens: 0,
                rejected_prediction_tokens: 0,
            },
        }
    }

    /// `PROMPT/CACHED/COMPLETION/REASONING[/CACHE_WRITES]`; cached and cache writes
    /// within prompt, reasoning within completion, as the API reports them.
    fn parse(text: &str) -> Option<Self> {
        let numbers: Vec<u64> = text
            .split('/')
            .map(|n| n.trim().parse().ok())
            .collect::<Option<_>>()?;
        let (prompt, cached, completion, reasoning, writes) = match numbers[..] {
            [p, c, k, r] => (p, c, k, r, 0),
            [p, c, k, r, w] => (p, c, k, r, w),
            _ => return None,
        };
        if cached.saturating_add(writes) > prompt || reasoning > completion {
            return None;
        }
        let mut usage = Self::new(prompt, cached, completion, reasoning);
        usage.prompt_tokens_details.cache_write_tokens = writes;
        Some(usage)
    }
}

/// Adds a reported usage to the server's totals.
fn count_usage(shared: &Shared, usage: &Usage) {
    let mut totals = shared.usage_reported.lock().unwrap();
    totals.replies += 1;
    totals.prompt += usage.prompt_tokens;
    totals.cached += usage.prompt_tokens_details.cached_tokens;
    totals.cache_write += usage.prompt_tokens_details.cache_write_tokens;
    totals.completion += usage.completion_tokens;
    totals.reasoning += usage.completion_tokens_details.reasoning_tokens;
}

fn usage_for(request: &ReceivedRequest, reply: &str) -> Usage {
    let encoding = Encoding::guess(&request.model);
    // The functions offered are part of the prompt the model reads.
    let prompt = count_chat_prompt(
        encoding,
        request
            .messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str())),
    ) + tool_calls::definition_tokens(encoding, &request.functions)
        + picture_tokens(request);
    // Reasoning models think before they answer, and bill the thinking as output.
    let reasoning = if is_reasoning_model(&request.model) {
        REASONING_TOKENS
    } else {
        0
    };
    Usage::new(
        prompt,
        0,
        count_text(encoding, reply) + reasoning,
        reasoning,
    )
}

/// The input tokens of every picture `request` carries, by its model's rule.
fn picture_tokens(request: &ReceivedRequest) -> u64 {
    request
        .messages
        .iter()
        .flat_map(|m| &m.pictures)
        .filter_map(|p| {
            Some(pictures::tokens(
                &request.model,
                p.size.clone().ok()?,
                &p.detail,
            ))
        })
        .sum()
}

/// What the real API answers a request whose pictures it cannot take: an unreadable
/// picture, or any picture sent to a model without vision.
fn picture_refusal(request: &ReceivedRequest) -> Option<Response> {
    let mut pictures = request.messages.iter().flat_map(|m| &m.pictures).peekable();
    pictures.peek()?;
    if !pictures::sees(&request.model) {
        return Some(invalid_body(
            "Invalid content type. image_url is only supported by certain models.",
        ));
    }
    pictures.find_map(|p| p.size.as_ref().err()).map(|_| {
        invalid_body(
            "You uploaded an unsupported image. Please make sure your image is valid and has \
             one of the following formats: ['png', 'jpeg', 'gif', 'webp'].",
        )
    })
}

/// Reasoning tokens the mock reports for every reply of a reasoning model.
pub const REASONING_TOKENS: u64 = 64;

fn is_reasoning_model(model: &str) -> bool {
    model.starts_with("gpt-5")
        || (model.starts_with('o') && model[1..].starts_with(|c: char| c.is_ascii_digit()))
}

fn chunk_pieces(text: &str, chars: usize) -> Vec<String> {
    let chars_vec: Vec<char> = text.chars().collect();
    chars_vec
        .chunks(chars.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// How a generated reply is served.
#[derive(Clone)]
struct Generated {
    stall: Stall,
    drop_after: Option<usize>,
    garbage_after: Option<usize>,
    delay: Duration,
    /// Reported instead of the usage counted from the request and reply.
    usage: Option<Usage>,
    /// Sent instead of the configured reply.
    reply: Option<String>,
}

impl Generated {
    fn plain(delay: Duration) -> Self {
        Self {
            stall: Stall::Never,
            drop_after: None,
            garbage_after: None,
            delay,
            usage: None,
            reply: None,
        }
    }
}

/// Where a generated stream hangs: `stall` sends two chunks first, `silent` (a reasoning
/// model thinking) only the role chunk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stall {
    Never,
    AfterTwoChunks,
    AfterRole,
}

fn generated(shared: &Arc<Shared>, request: &ReceivedRequest, how: Generated) -> Response {
    let stall = how.stall;
    let n = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let id = format!("chatcmpl-Mock{n:06}");
    let request_id = format!("req_mock{n:024x}");
    let model = served_model(&request.model);
    let title = title_for(request);
    let reply = title
        .as_deref()
        .or(how.reply.as_deref())
        .unwrap_or(shared.config.reply.as_str());
    let formatted = in_format(request, reply);
    let reply = formatted.as_str();
    let data = |chunk: &Chunk| format!("data: {}\n\n", serde_json::to_string(chunk).unwrap());
    let chunk = |choices, usage, obfuscation| Chunk {
        id: &id,
        object: "chat.completion.chunk",
        created: CREATED,
        model: &model,
        service_tier: "default",
        system_fingerprint: FINGERPRINT,
        choices,
        usage,
        obfuscation,
    };
    let choice = |delta, finish_reason| {
        vec![ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason,
        }]
    };
    let mut pieces = vec![Piece::Send(data(&chunk(
        choice(
            ChunkDelta {
                role: Some("assistant"),
                content: Some(""),
                refusal: Some(None),
            },
            None,
        ),
        None,
        "qF3x",
    )))];
    let parts = chunk_pieces(reply, shared.config.chunk_chars);
    let cut = match (stall, how.drop_after.or(how.garbage_after)) {
        (Stall::AfterTwoChunks, _) => 2,
        (Stall::AfterRole, _) => 0,
        (Stall::Never, Some(n)) => n,
        (Stall::Never, None) => parts.len(),
    };
    let sent_parts = &parts[..parts.len().min(cut)];
    for part in sent_parts {
        pieces.push(Piece::Send(data(&chunk(
            choice(
                ChunkDelta {
                    content: Some(part),
                    ..Default::default()
                },
                None,
            ),
            None,
            "9sK",
        ))));
    }
    if how.garbage_after.is_some() {
        pieces.push(Piece::Send(
            "data: {\"id\":\"chatcmpl-garb\",\"choices\":[{\"delta\n\n".into(),
        ));
        pieces.push(Piece::Send("data: [DONE]\n\n".into()));
    } else if how.drop_after.is_some() {
        pieces.push(Piece::Abort);
    } else if stall != Stall::Never {
        pieces.push(Piece::Hang);
    } else {
        pieces.push(Piece::Send(data(&chunk(
            choice(ChunkDelta::default(), Some("stop")),
            None,
            "LmN0p",
        ))));
        if request.stream_options.is_some_and(|o| o.include_usage) {
            let usage = how.usage.unwrap_or_else(|| usage_for(request, reply));
            count_usage(shared, &usage);
            pieces.push(Piece::Send(data(&chunk(vec![], Some(usage), "a1"))));
        }
        pieces.push(Piece::Send("data: [DONE]\n\n".into()));
    }
    // Piece 0 is the role chunk; piece 1 the first content, when there is any.
    let first_content = (!sent_parts.is_empty()).then_some(1);
    sse_response(
        paced_body(pieces, how.delay, shared, first_content),
        &request_id,
    )
}

fn completion(shared: &Arc<Shared>, request: &ReceivedRequest) -> Response {
    #[derive(Serialize)]
    struct Completion<'a> {
        id: String,
        object: &'static str,
        created: u64,
        model: String,
        choices: [CompletionChoice<'a>; 1],
        usage: Usage,
        service_tier: &'static str,
        system_fingerprint: &'static str,
    }
    #[derive(Serialize)]
    struct CompletionChoice<'a> {
        index: u32,
        message: CompletionMessage<'a>,
        logprobs: Option<()>,
        finish_reason: &'static str,
    }
    #[derive(Serialize)]
    struct CompletionMessage<'a> {
        role: &'static str,
        content: &'a str,
        refusal: Option<()>,
        annotations: [(); 0],
    }
    let n = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let reply = shared.config.reply.as_str();
    let usage = usage_for(request, reply);
    count_usage(shared, &usage);
    let body = Completion {
        id: format!("chatcmpl-Mock{n:06}"),
        object: "chat.completion",
        created: CREATED,
        model: served_model(&request.model),
        choices: [CompletionChoice {
            index: 0,
            message: CompletionMessage {
                role: "assistant",
                content: reply,
                refusal: None,
                annotations: [],
            },
            logprobs: None,
            finish_reason: "stop",
        }],
        usage,
        service_tier: "default",
        system_fingerprint: FINGERPRINT,
    };
    let mut response = (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&body).unwrap(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("req_mock{n:024x}")) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}
