//! The engine end to end without a window: real SQLite files, the mock API on loopback,
//! and (for key storage) a private real Secret Service.

mod attachments;
mod backups;
mod bindings;
mod budget;
mod context;
mod history;
mod json;
mod keys;
mod kill;
mod mcp;
mod redo;
mod responses;
mod scenarios;
mod search;
mod send;
mod settings;
mod sync;
mod titles;
mod tools;
mod transfer;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mock_openai::{MockConfig, MockServer};
use tally_core::api::{ConversationSummary, SendRequest};
use tally_core::{ChatEvent, Clock, Engine, EngineConfig, TimeZone};

pub const KEY: &str = "sk-proj-TestKeyForTallyOnly0000000000abcd";

/// An engine on a fresh data folder, talking to `server`, with the key from the
/// environment (as `OPENAI_API_KEY` would give it) and its own keychain service name.
pub fn engine(server: &MockServer, key: Option<&str>) -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(dir.path());
    config.api_base_override = Some(server.base_url());
    config.env_api_key = key.map(tally_core::SecretString::from);
    config.keychain_service = format!("Tally-test-{}", std::process::id());
    config.flush_interval = Duration::from_millis(100);
    config.pdf_reader = Some(pdf_reader());
    (dir, prepared(Engine::open(config).unwrap()))
}

/// What reads PDFs in the tests: this crate's helper, as the app runs itself.
pub fn pdf_reader() -> tally_core::PdfReader {
    tally_core::PdfReader::new(env!("CARGO_BIN_EXE_tally-core-read-pdf"), Vec::new())
}

/// The model the tests' conversations start with: one without reasoning, whose usage the
/// mock reports without reasoning tokens, so expected costs are worked out from the text.
pub const MODEL: &str = "gpt-4o-mini";

/// An engine as most tests want it. They count requests and ledger rows: the background
/// title request would add one after every new conversation (`titles.rs` tests it on its
/// own). And they work out costs: new chats use [`MODEL`], not the shipped default.
pub fn prepared(engine: Arc<Engine>) -> Arc<Engine> {
    engine
        .settings_set(tally_core::api::SettingsUpdate {
            auto_titles: Some(false),
            default_model: Some(MODEL.into()),
            ..Default::default()
        })
        .unwrap();
    engine
}

/// 2026-11-23 12:00 UTC.
pub const NOV_23: i64 = 1_795_435_200_000;
pub const DAY: i64 = 86_400_000;

/// A data folder and a clock the test moves, for engines opened on them.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub now: Arc<AtomicI64>,
    base_url: String,
}

impl Setup {
    pub fn new(server: &MockServer) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            now: Arc::new(AtomicI64::new(NOV_23)),
            base_url: server.base_url(),
        }
    }

    /// An engine on this data folder and clock (call again to "restart the app").
    pub fn open(&self) -> Arc<Engine> {
        let mut config = EngineConfig::new(self.dir.path());
        config.api_base_override = Some(self.base_url.clone());
        config.env_api_key = Some(tally_core::SecretString::from(KEY));
        config.keychain_service = format!("Tally-test-{}", std::process::id());
        config.time_zone = TimeZone::get("Europe/Berlin").unwrap();
        let now = self.now.clone();
        config.clock = Clock::from_fn(move || now.load(Ordering::SeqCst));
        config.pdf_reader = Some(pdf_reader());
        prepared(Engine::open(config).unwrap())
    }
}

/// The first page of the sidebar's recent (unpinned) conversations.
pub fn recent(engine: &Engine) -> Vec<ConversationSummary> {
    engine
        .conversation_list(&Default::default())
        .unwrap()
        .recent
}

/// A message to send: in `conversation_id`, or a new conversation with the default model.
pub fn ask(conversation_id: Option<i64>, text: &str) -> SendRequest {
    SendRequest {
        conversation_id,
        text: text.into(),
        model: None,
        allow_over_budget: None,
        edit_of: None,
        settings: None,
        attachments: None,
    }
}

pub async fn mock(reply: &str, chunk_chars: usize, delay_ms: u64) -> MockServer {
    MockServer::start(MockConfig {
        reply: reply.into(),
        chunk_chars,
        delay: Duration::from_millis(delay_ms),
        port: 0,
        needs_key: true,
    })
    .await
    .unwrap()
}

/// How long a test waits for something before it fails saying what (instead of hanging).
pub const WAIT: Duration = Duration::from_secs(10);

/// Waits until `done()` holds, looking again every 10 ms, for state that announces no event
/// (a row the engine saves); fails after [`WAIT`] naming `what`.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {WAIT:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Collects the events of one send, and wakes whoever waits for one.
#[derive(Clone, Default)]
pub struct Events(Arc<Received>);

#[derive(Default)]
pub struct Received {
    events: Mutex<Vec<ChatEvent>>,
    arrived: tokio::sync::Notify,
}

impl Events {
    pub fn sink(&self) -> impl Fn(ChatEvent) + Send + Sync + 'static {
        let received = self.0.clone();
        move |e| {
            received.events.lock().unwrap().push(e);
            received.arrived.notify_waiters();
        }
    }

    pub fn all(&self) -> Vec<ChatEvent> {
        self.0.events.lock().unwrap().clone()
    }

    /// Waits for the events so far to satisfy `done`; fails after [`WAIT`] naming `what`.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[ChatEvent]) -> bool) {
        let waiting = async {
            loop {
                let arrived = self.0.arrived.notified();
                tokio::pin!(arrived);
                // Registered before looking, so an event between the look and the wait
                // still wakes it.
                arrived.as_mut().enable();
                if done(&self.0.events.lock().unwrap()) {
                    return;
                }
                arrived.await;
            }
        };
        if tokio::time::timeout(WAIT, waiting).await.is_err() {
            panic!("waited {WAIT:?} for {what}; the events: {:?}", self.all());
        }
    }

    /// Waits for `count` pieces of the reply's text.
    pub async fn wait_for_pieces(&self, count: usize) {
        let what = format!("{count} pieces of the reply");
        self.wait_for(&what, |events| {
            events
                .iter()
                .filter(|e| matches!(e, ChatEvent::Delta { .. }))
                .count()
                >= count
        })
        .await;
    }

    pub fn deltas(&self) -> Vec<String> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                ChatEvent::Delta { text } => Some(text),
                _ => None,
            })
            .collect()
    }

    pub fn last(&self) -> ChatEvent {
        self.all().last().cloned().expect("at least one event")
    }
}
