//! What a round of tool calls costs beyond the API's own time and the tool's: a new chat
//! whose model calls `mcp-server-time` once (allowed for good, so nobody is asked) and then
//! answers with the result, through the engine (two requests to the mock, the call, every
//! save, the two ledger rows, the events), against the baseline of the same two requests
//! and the same call made directly with tally-openai's client and tally-tools. The same
//! pair without tools (a new chat answered at once; its one request made directly) says
//! what any reply costs Tally, so the round's own overhead is the difference of the two
//! differences.
//!
//! Needs the MCP test servers (`cargo xtask setup`). `cargo bench -p tally-core --bench tool_round`

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mock_openai::{MockConfig, MockServer};
use tally_core::api::{
    ChatOptions, ConversationSettings, McpServerInput, McpStatus, McpTransport, SendRequest,
    SettingsUpdate, ToolDecision, ToolRef,
};
use tally_core::{ChatEvent, Engine, EngineConfig};
use tally_openai::{
    Api, ChatMessage, ChatRequest, ChatTool, ClientConfig, FunctionTool, MessageToolCall,
    OpenAiClient, Role, SecretString,
};
use tally_tools::{LaunchEnv, McpServers, ServerSpec, Status, Transport};

const KEY: &str = "sk-proj-TestKeyForTallyOnly0000000000abcd";
const MODEL: &str = "gpt-4o-mini";
const ASK: &str = r#"What time is it? [mock:call:get_current_time {"timezone":"UTC"}]"#;
const PLAIN: &str = "What time is it?";
const WAIT: Duration = Duration::from_secs(60);

fn time_server() -> PathBuf {
    let program =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/mcp/bin/mcp-server-time");
    assert!(
        program.is_file(),
        "the MCP test servers are not installed: run `cargo xtask setup`"
    );
    program
}

fn new_chat_with_the_tool() -> SendRequest {
    SendRequest {
        conversation_id: None,
        text: ASK.into(),
        model: None,
        allow_over_budget: None,
        edit_of: None,
        settings: Some(ConversationSettings {
            model: MODEL.into(),
            system_prompt: None,
            options: ChatOptions {
                tools: vec![ToolRef {
                    server: "time".into(),
                    tool: "get_current_time".into(),
                }],
                ..ChatOptions::default()
            },
        }),
        attachments: None,
    }
}

/// An engine with the time server ready and its tool allowed everywhere.
async fn engine(mock: &MockServer, dir: &std::path::Path) -> Arc<Engine> {
    let mut config = EngineConfig::new(dir);
    config.api_base_override = Some(mock.base_url());
    config.env_api_key = Some(SecretString::from(KEY));
    config.keychain_service = format!("Tally-bench-{}", std::process::id());
    let engine = Engine::open(config).unwrap();
    engine
        .settings_set(SettingsUpdate {
            auto_titles: Some(false),
            ..Default::default()
        })
        .unwrap();
    engine
        .mcp_server_save(McpServerInput {
            id: None,
            name: "time".into(),
            transport: McpTransport::Stdio {
                command: time_server().display().to_string(),
                args: vec!["--local-timezone=UTC".into()],
                env: Default::default(),
                cwd: None,
            },
            enabled: true,
            token: None,
        })
        .await
        .unwrap();
    tokio::time::timeout(WAIT, async {
        while engine.mcp_server_list().unwrap()[0].state.status != McpStatus::Ready {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("mcp-server-time did not start");
    // The first call is asked about; "Always" lets every later one run unasked.
    let asked: Arc<Mutex<Option<(i64, String)>>> = Arc::default();
    let conversation = Arc::new(Mutex::new(0));
    let (seen, started) = (Arc::clone(&asked), Arc::clone(&conversation));
    let sending = {
        let engine = Arc::clone(&engine);
        tokio::spawn(async move {
            engine
                .send(new_chat_with_the_tool(), move |event| match event {
                    ChatEvent::Started {
                        conversation_id, ..
                    } => *started.lock().unwrap() = conversation_id,
                    ChatEvent::ToolApproval { call_id, .. } => {
                        *seen.lock().unwrap() = Some((0, call_id));
                    }
                    _ => {}
                })
                .await
        })
    };
    let call_id = tokio::time::timeout(WAIT, async {
        loop {
            if let Some((_, id)) = asked.lock().unwrap().clone() {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("no question about the first call");
    let id = *conversation.lock().unwrap();
    engine
        .tool_call_decide(id, &call_id, ToolDecision::Always)
        .unwrap();
    sending.await.unwrap().unwrap();
    engine
}

/// The baseline: the two requests and the call, made directly.
struct Direct {
    client: OpenAiClient,
    key: SecretString,
    servers: McpServers,
    tools: Vec<ChatTool>,
}

impl Direct {
    async fn new(mock: &MockServer) -> Self {
        let servers = McpServers::new(LaunchEnv::from_session().await, |_, _| {});
        servers
            .start(
                1,
                ServerSpec {
                    name: "time".into(),
                    transport: Transport::Stdio {
                        command: time_server().display().to_string(),
                        args: vec!["--local-timezone=UTC".into()],
                        env: Default::default(),
                        cwd: None,
                    },
                },
                None,
            )
            .await;
        let tools = tokio::time::timeout(WAIT, async {
            loop {
                if let Some(state) = servers.state(1)
                    && state.status == Status::Ready
                {
                    return state.tools;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("mcp-server-time did not start");
        let tools = tools
            .into_iter()
            .filter(|t| t.name == "get_current_time")
            .map(|t| ChatTool {
                function: FunctionTool {
                    name: t.name,
                    description: t.description,
                    parameters: t.input_schema,
                },
            })
            .collect();
        Self {
            client: OpenAiClient::new(ClientConfig::new(mock.base_url())).unwrap(),
            key: SecretString::from(KEY),
            servers,
            tools,
        }
    }

    async fn round(&self) {
        let mut request =
            ChatRequest::streaming(MODEL.to_string(), vec![ChatMessage::new(Role::User, ASK)]);
        request.tools = self.tools.clone();
        let calls = self.streamed(&request).await.tool_calls().to_vec();
        assert_eq!(calls.len(), 1);
        let arguments = serde_json::from_str(&calls[0].arguments).unwrap();
        let output = self
            .servers
            .call(1, &calls[0].name, arguments, Duration::from_secs(60))
            .await
            .unwrap();
        request.messages.push(ChatMessage {
            tool_calls: calls.iter().map(MessageToolCall::from).collect(),
            ..ChatMessage::new(Role::Assistant, "")
        });
        request
            .messages
            .push(ChatMessage::tool_result(&calls[0].id, output.text));
        self.streamed(&request).await;
    }

    async fn plain(&self) {
        let request =
            ChatRequest::streaming(MODEL.to_string(), vec![ChatMessage::new(Role::User, PLAIN)]);
        self.streamed(&request).await;
    }

    /// `request`'s reply, read to its end.
    async fn streamed(&self, request: &ChatRequest) -> tally_openai::ChatStream {
        let mut stream = self
            .client
            .stream(Some(&self.key), Api::ChatCompletions, request, |_| {})
            .await
            .unwrap();
        while let Some(event) = stream.next().await {
            event.unwrap();
        }
        stream
    }
}

fn tool_round(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mock = runtime.block_on(async {
        MockServer::start(MockConfig {
            reply: "It is noon.".into(),
            chunk_chars: 100,
            delay: Duration::ZERO,
            port: 0,
            needs_key: true,
        })
        .await
        .unwrap()
    });
    let engine = runtime.block_on(engine(&mock, dir.path()));
    let direct = runtime.block_on(Direct::new(&mock));

    let mut group = c.benchmark_group("a round of one tool call");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("tally: a new chat, one call, the answer", |b| {
        b.iter(|| {
            runtime.block_on(async {
                engine
                    .send(new_chat_with_the_tool(), |_: ChatEvent| {})
                    .await
                    .unwrap()
            })
        })
    });
    group.bench_function(
        "baseline: the two requests and the call, made directly",
        |b| b.iter(|| runtime.block_on(direct.round())),
    );
    group.bench_function("tally: a new chat answered without tools", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut request = new_chat_with_the_tool();
                request.text = PLAIN.into();
                engine.send(request, |_: ChatEvent| {}).await.unwrap()
            })
        })
    });
    group.bench_function("baseline: its one request, made directly", |b| {
        b.iter(|| runtime.block_on(direct.plain()))
    });
    group.finish();
    runtime.block_on(async {
        engine.mcp_shutdown().await;
        direct.servers.stop_all().await;
    });
}

criterion_group!(benches, tool_round);
criterion_main!(benches);
