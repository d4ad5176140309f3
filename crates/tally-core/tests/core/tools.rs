//! The model calling MCP tools through the engine, against `mcp-server-time` from PyPI and
//! the mock API: each call asked about, run, denied or stopped; each round metered; the
//! calls kept with the reply and sent back when the conversation goes on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tally_core::ChatEvent;
use tally_core::api::{
    ChatOptions, ConversationSettings, McpServerInput, McpStatus, McpTransport, SendRequest,
    ToolCallStatus, ToolCallView, ToolDecision, ToolRef,
};
use tally_core::{Engine, Notice};

use crate::{Events, KEY, MODEL, ask, engine, mock};

const TIME_CALL: &str = r#"[mock:call:get_current_time {"timezone":"UTC"}]"#;

/// `mcp-server-time` from PyPI, as Settings adds it.
fn time_server() -> McpServerInput {
    let program = crate::mcp::tools_bin().join("mcp-server-time");
    McpServerInput {
        id: None,
        name: "time".into(),
        transport: McpTransport::Stdio {
            command: program.display().to_string(),
            args: vec!["--local-timezone=UTC".into()],
            env: BTreeMap::new(),
            cwd: None,
        },
        enabled: true,
        token: None,
    }
}

/// An engine with `mcp-server-time` added and ready.
async fn with_time_server(mock: &mock_openai::MockServer) -> (tempfile::TempDir, Arc<Engine>) {
    let (dir, engine) = engine(mock, Some(KEY));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    engine.on_notice(move |notice| {
        if let Notice::McpServerChanged(state) = notice {
            let _ = tx.send(state);
        }
    });
    let view = engine.mcp_server_save(time_server()).await.unwrap();
    let state = tokio::time::timeout(crate::mcp::WAIT, async {
        loop {
            let state = rx.recv().await.expect("the engine is alive");
            if state.id == view.id && state.status != McpStatus::Starting {
                return state;
            }
        }
    })
    .await
    .expect("mcp-server-time did not start");
    assert_eq!(state.status, McpStatus::Ready, "{state:?}");
    (dir, engine)
}

/// A new conversation that lets the model call the time server's `get_current_time`.
fn with_time_tool(text: &str) -> SendRequest {
    SendRequest {
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
        ..ask(None, text)
    }
}

/// Sends `request` in the background; returns its events and the task.
fn sending(
    engine: &Arc<Engine>,
    request: SendRequest,
) -> (
    Events,
    tokio::task::JoinHandle<Result<(), tally_core::CoreError>>,
) {
    let events = Events::default();
    let (engine, sink) = (Arc::clone(engine), events.sink());
    let task = tokio::spawn(async move { engine.send(request, sink).await });
    (events, task)
}

/// The call the engine asks about, once it does: (conversation, call id, at most).
async fn asked(events: &Events) -> (i64, String, Option<i64>) {
    events
        .wait_for("a question about a tool call", |events| {
            events
                .iter()
                .any(|e| matches!(e, ChatEvent::ToolApproval { .. }))
        })
        .await;
    let all = events.all();
    let conversation = all
        .iter()
        .find_map(|e| match e {
            ChatEvent::Started {
                conversation_id, ..
            } => Some(*conversation_id),
            _ => None,
        })
        .unwrap();
    let (id, at_most) = all
        .iter()
        .find_map(|e| match e {
            ChatEvent::ToolApproval { call_id, at_most } => Some((call_id.clone(), *at_most)),
            _ => None,
        })
        .unwrap();
    (conversation, id, at_most)
}

/// Sends `request`, gives `decision` to the first call asked about, and waits for the
/// reply to end. Returns its events and its conversation.
async fn answered(
    engine: &Arc<Engine>,
    request: SendRequest,
    decision: ToolDecision,
) -> (Events, i64) {
    let (events, task) = sending(engine, request);
    let (conversation, call_id, _) = asked(&events).await;
    engine
        .tool_call_decide(conversation, &call_id, decision)
        .unwrap();
    task.await.unwrap().unwrap();
    (events, conversation)
}

/// A new chat offering the time tool, whose model calls it.
fn time_question() -> SendRequest {
    with_time_tool(&format!("Time? {TIME_CALL}"))
}

fn last_call(events: &Events) -> ToolCallView {
    events
        .all()
        .into_iter()
        .filter_map(|e| match e {
            ChatEvent::ToolCall { call } => Some(call),
            _ => None,
        })
        .next_back()
        .expect("a tool call event")
}

/// The ledger rows of `conversation_id`, read from the database file.
fn ledger_rows(dir: &tempfile::TempDir, conversation_id: i64) -> Vec<tally_store::UsageRow> {
    tally_store::Store::open_in(dir.path())
        .unwrap()
        .usage_rows()
        .unwrap()
        .into_iter()
        .filter(|r| r.conversation_id == Some(conversation_id))
        .collect()
}

fn reply_calls(engine: &Engine, conversation_id: i64) -> (String, Vec<ToolCallView>) {
    let view = engine.conversation_get(conversation_id).unwrap();
    let reply = view.messages.last().unwrap().clone();
    (reply.content, reply.tool_calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_call_runs_its_result_is_used_and_each_round_is_metered() {
    let mock = mock("It is noon.", 100, 0).await;
    let (dir, engine) = with_time_server(&mock).await;
    let (events, task) = sending(
        &engine,
        with_time_tool(&format!("What time is it? {TIME_CALL}")),
    );
    let (conversation, call_id, at_most) = asked(&events).await;
    let pending = last_call(&events);
    assert_eq!(
        (
            pending.status,
            pending.server.as_str(),
            pending.tool.as_str()
        ),
        (ToolCallStatus::Pending, "time", "get_current_time")
    );
    assert!(pending.read_only, "the server's hint: {pending:?}");
    assert!(at_most.is_some_and(|n| n > 0), "{at_most:?}");
    // The tool's definition went with the request.
    let first = &mock.requests()[0];
    assert_eq!(first.functions.len(), 1);
    assert_eq!(first.functions[0].name, "get_current_time");

    engine
        .tool_call_decide(conversation, &call_id, ToolDecision::Once)
        .unwrap();
    task.await.unwrap().unwrap();
    let done = last_call(&events);
    assert_eq!(done.status, ToolCallStatus::Done, "{done:?}");
    assert!(done.result.as_deref().unwrap().contains("UTC"), "{done:?}");
    assert!(done.duration_ms.is_some());

    let (content, calls) = reply_calls(&engine, conversation);
    assert!(content.starts_with(mock_openai::AFTER_CALLS), "{content}");
    assert!(content.contains("UTC"), "the result is used: {content}");
    assert_eq!(calls, [done]);

    // Two requests, two ledger rows for the one reply; Done counts both.
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    let roles: Vec<&str> = requests[1]
        .messages
        .iter()
        .map(|m| m.role.as_str())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool"]);
    let rows = ledger_rows(&dir, conversation);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let sum: i64 = rows.iter().map(|r| r.cost_nanos.unwrap()).sum();
    let done_cost = events.all().into_iter().find_map(|e| match e {
        ChatEvent::Done { cost, .. } => cost,
        _ => None,
    });
    assert_eq!(done_cost, Some(sum));

    // The conversation goes on: the call and its result go back with the reply.
    let (more, task) = sending(&engine, ask(Some(conversation), "Thanks [mock:echo]"));
    task.await.unwrap().unwrap();
    drop(more);
    let third = &mock.requests()[2];
    let roles: Vec<&str> = third.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant", "user"]);
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_call_does_not_run_and_the_model_is_told() {
    let mock = mock("It is noon.", 100, 0).await;
    let (_dir, engine) = with_time_server(&mock).await;
    let (_, conversation) = answered(&engine, time_question(), ToolDecision::Deny).await;
    let (content, calls) = reply_calls(&engine, conversation);
    assert_eq!(calls[0].status, ToolCallStatus::Denied);
    assert!(content.contains("did not allow"), "{content}");
    // An answer after the reply ended finds no one waiting, and says so.
    let late = engine
        .tool_call_decide(conversation, &calls[0].id, ToolDecision::Once)
        .unwrap_err();
    assert_eq!(late.code(), tally_core::api::ErrorCode::NotFound);
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_here_runs_the_tool_unasked_in_that_conversation_until_revoked() {
    let mock = mock("It is noon.", 100, 0).await;
    let (_dir, engine) = with_time_server(&mock).await;
    let (_, conversation) = answered(&engine, time_question(), ToolDecision::AlwaysHere).await;
    let permissions = engine.tool_permission_list().unwrap();
    assert_eq!(permissions.len(), 1);
    assert_eq!(
        (permissions[0].tool.as_str(), permissions[0].conversation_id),
        ("get_current_time", Some(conversation))
    );

    // Asked again in the same conversation: it runs without a question.
    let (again, task) = sending(
        &engine,
        ask(Some(conversation), &format!("And now? {TIME_CALL}")),
    );
    task.await.unwrap().unwrap();
    assert!(
        !again
            .all()
            .iter()
            .any(|e| matches!(e, ChatEvent::ToolApproval { .. })),
        "asked although allowed"
    );
    assert_eq!(last_call(&again).status, ToolCallStatus::Done);

    // In another conversation it asks; revoked, it asks here too.
    let (elsewhere, task) = sending(&engine, time_question());
    let (other, call_id, _) = asked(&elsewhere).await;
    engine
        .tool_call_decide(other, &call_id, ToolDecision::Deny)
        .unwrap();
    task.await.unwrap().unwrap();
    assert!(
        engine
            .tool_permission_revoke(permissions[0].id)
            .unwrap()
            .is_empty()
    );
    let (revoked, task) = sending(
        &engine,
        ask(Some(conversation), &format!("Now? {TIME_CALL}")),
    );
    let (_, call_id, _) = asked(&revoked).await;
    engine
        .tool_call_decide(conversation, &call_id, ToolDecision::Once)
        .unwrap();
    task.await.unwrap().unwrap();
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_while_a_call_waits_ends_the_reply_with_the_call_not_run_and_one_ledger_row() {
    let mock = mock("It is noon.", 100, 0).await;
    let (dir, engine) = with_time_server(&mock).await;
    let (events, task) = sending(&engine, time_question());
    let (conversation, _, _) = asked(&events).await;
    assert!(engine.stop(conversation));
    task.await.unwrap().unwrap();
    let (_, calls) = reply_calls(&engine, conversation);
    assert_eq!(calls[0].status, ToolCallStatus::Error);
    assert!(calls[0].result.as_deref().unwrap().contains("did not run"));
    let view = engine.conversation_get(conversation).unwrap();
    assert_eq!(
        view.messages.last().unwrap().status,
        tally_core::api::MessageStatus::Stopped
    );
    assert_eq!(ledger_rows(&dir, conversation).len(), 1);
    assert_eq!(mock.requests().len(), 1);
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_no_server_offers_is_not_offered_and_a_call_of_it_is_refused_in_words() {
    let mock = mock("It is noon.", 100, 0).await;
    let (_dir, engine) = engine(&mock, Some(KEY));
    // The conversation wants a tool of a server that is not there: nothing is offered, and
    // the model's call of an unknown function is answered without running anything.
    let (events, task) = sending(&engine, time_question());
    task.await.unwrap().unwrap();
    assert!(mock.requests()[0].functions.is_empty());
    assert!(
        !events
            .all()
            .iter()
            .any(|e| matches!(e, ChatEvent::ToolApproval { .. }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estimate_counts_what_the_tools_add_to_every_message() {
    let mock = mock("It is noon.", 100, 0).await;
    let (_dir, engine) = with_time_server(&mock).await;
    let draft = |tools: Vec<ToolRef>| tally_core::api::DraftRequest {
        conversation_id: None,
        model: Some(MODEL.into()),
        text: "What time is it?".into(),
        tools: Some(tools),
        attachments: None,
    };
    let without = engine.estimate_draft_now(&draft(Vec::new())).unwrap();
    let time = ToolRef {
        server: "time".into(),
        tool: "get_current_time".into(),
    };
    let with = engine
        .estimate_draft_now(&draft(vec![time.clone()]))
        .unwrap();
    assert_eq!(without.tools_tokens, 0);
    assert!(with.tools_tokens > 20, "{with:?}");
    assert_eq!(with.input_tokens, without.input_tokens + with.tools_tokens);
    assert!(with.min_cost_nanos > without.min_cost_nanos);
    // A tool its server does not offer adds nothing.
    let missing = ToolRef {
        server: "time".into(),
        tool: "no_such_tool".into(),
    };
    assert_eq!(
        engine
            .estimate_draft_now(&draft(vec![missing]))
            .unwrap()
            .tools_tokens,
        0
    );
    engine.mcp_shutdown().await;
}

/// The `Failed` event's code, if the reply failed.
fn failed_code(events: &Events) -> Option<tally_core::api::ErrorCode> {
    events.all().into_iter().find_map(|e| match e {
        ChatEvent::Failed { code, .. } => Some(code),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_keeps_calling_is_stopped_after_eight_rounds_each_metered() {
    let mock = mock("It is noon.", 100, 0).await;
    let (dir, engine) = with_time_server(&mock).await;
    let looping = r#"[mock:call-again:get_current_time {"timezone":"UTC"}]"#;
    let (events, conversation) = answered(
        &engine,
        with_time_tool(&format!("Time? {looping}")),
        ToolDecision::Always,
    )
    .await;

    assert_eq!(
        failed_code(&events),
        Some(tally_core::api::ErrorCode::ToolRounds)
    );
    let (_, calls) = reply_calls(&engine, conversation);
    let statuses: Vec<ToolCallStatus> = calls.iter().map(|c| c.status).collect();
    assert_eq!(statuses[..8], [ToolCallStatus::Done; 8]);
    assert_eq!(
        statuses[8..],
        [ToolCallStatus::Error],
        "the ninth is not run"
    );
    assert!(calls[8].result.as_deref().unwrap().contains("most rounds"));
    // Asked once ("Always"); nine requests, nine ledger rows.
    let questions = events
        .all()
        .iter()
        .filter(|e| matches!(e, ChatEvent::ToolApproval { .. }))
        .count();
    assert_eq!(questions, 1);
    assert_eq!(mock.requests().len(), 9);
    assert_eq!(ledger_rows(&dir, conversation).len(), 9);
    let view = engine.conversation_get(conversation).unwrap();
    assert_eq!(
        view.messages.last().unwrap().status,
        tally_core::api::MessageStatus::Stopped
    );
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hard_stop_ends_a_reply_between_rounds() {
    let mock = mock("It is noon.", 100, 0).await;
    let (dir, engine) = with_time_server(&mock).await;
    // Nothing spent yet lets the first request through; what it costs reaches the budget.
    engine
        .budget_set(tally_core::api::BudgetInput {
            amount: "0.000001".into(),
            reset_day: 1,
            thresholds: vec![100],
            hard_stop: true,
        })
        .unwrap();
    let (events, conversation) = answered(&engine, time_question(), ToolDecision::Once).await;
    assert_eq!(
        failed_code(&events),
        Some(tally_core::api::ErrorCode::BudgetExceeded)
    );
    let (_, calls) = reply_calls(&engine, conversation);
    assert_eq!(calls[0].status, ToolCallStatus::Done, "the call ran");
    assert_eq!(mock.requests().len(), 1, "the next round never left");
    assert_eq!(ledger_rows(&dir, conversation).len(), 1);
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_responses_the_calls_and_results_go_back_as_items() {
    let mock = mock("It is noon.", 100, 0).await;
    let (_dir, engine) = with_time_server(&mock).await;
    let mut request = with_time_tool(&format!("Time? {TIME_CALL}"));
    request.settings.as_mut().unwrap().model = "gpt-5.1-codex".into();
    let (_, conversation) = answered(&engine, request, ToolDecision::Once).await;
    let (content, calls) = reply_calls(&engine, conversation);
    assert_eq!(calls[0].status, ToolCallStatus::Done);
    assert!(content.contains("UTC"), "{content}");
    let requests = mock.requests();
    assert!(requests.iter().all(|r| r.responses));
    // The second request carries the call's output (a `function_call_output` item).
    let roles: Vec<&str> = requests[1]
        .messages
        .iter()
        .map(|m| m.role.as_str())
        .collect();
    assert_eq!(roles.last(), Some(&"tool"), "{roles:?}");
    assert_eq!(requests[1].functions[0].name, "get_current_time");
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replys_tool_calls_go_out_in_tally_json_and_come_back_whole() {
    let mock = mock("It is noon.", 100, 0).await;
    let (_dir, tally) = with_time_server(&mock).await;
    let (_, conversation) = answered(&tally, time_question(), ToolDecision::Once).await;
    let (content, calls) = reply_calls(&tally, conversation);

    let folder = tempfile::tempdir().unwrap();
    let file = tally
        .export_conversations(
            &tally_core::api::ExportRequest {
                conversation_id: Some(conversation),
                format: tally_core::api::ExportFormat::Json,
            },
            folder.path(),
        )
        .unwrap();
    let text = std::fs::read_to_string(&file.path).unwrap();
    // Another computer's Tally, without the server.
    let (_other_dir, other) = engine(&mock, Some(KEY));
    other.import_text(&text, |_| {}).unwrap();
    let imported = crate::recent(&other)[0].id;
    assert_eq!(reply_calls(&other, imported), (content, calls.clone()));
    // The chat's choice of tools came along too.
    let settings = other.conversation_get(imported).unwrap().settings;
    assert_eq!(settings.options.tools[0].tool, "get_current_time");
    // …and the calls go back to the model when the conversation goes on there.
    other
        .send(ask(Some(imported), "Thanks"), Events::default().sink())
        .await
        .unwrap();
    let last = mock.requests().pop().unwrap();
    let roles: Vec<&str> = last.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant", "user"]);
    tally.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_too_long_for_the_window_is_cut_with_a_note() {
    let mock = mock("Done.", 100, 0).await;
    let (_dir, engine) = engine(&mock, Some(KEY));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    engine.on_notice(move |notice| {
        if let Notice::McpServerChanged(state) = notice {
            let _ = tx.send(state);
        }
    });
    // The official Python SDK's stdio server, whose `words` tool returns as many as asked.
    let server = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tally-tools/tests/servers/stdio_server.py");
    let python = crate::mcp::tools_bin().join("python");
    let view = engine
        .mcp_server_save(McpServerInput {
            id: None,
            name: "filler".into(),
            transport: McpTransport::Stdio {
                command: python.display().to_string(),
                args: vec![server.display().to_string()],
                env: BTreeMap::new(),
                cwd: None,
            },
            enabled: true,
            token: None,
        })
        .await
        .unwrap();
    tokio::time::timeout(crate::mcp::WAIT, async {
        while let Some(state) = rx.recv().await {
            if state.id == view.id && state.status == McpStatus::Ready {
                return;
            }
        }
    })
    .await
    .expect("the filler server did not start");
    let mut request = with_time_tool(r#"Words? [mock:call:words {"count":40000}]"#);
    request.settings.as_mut().unwrap().options.tools = vec![ToolRef {
        server: "filler".into(),
        tool: "words".into(),
    }];
    let (_, conversation) = answered(&engine, request, ToolDecision::Once).await;
    let (_, calls) = reply_calls(&engine, conversation);
    let result = calls[0].result.as_deref().unwrap();
    assert!(
        result.contains("[Tally cut this result here"),
        "{}",
        &result[result.len() - 300..]
    );
    // gpt-4o-mini's window of 128k tokens gives one result at most 16,000 of them.
    let tokens = tally_spend::count_text(tally_spend::Encoding::O200kBase, result);
    assert!((10_000..=16_000).contains(&tokens), "{tokens} tokens");
    // What the model got is what is kept.
    let sent = mock.requests().pop().unwrap();
    assert_eq!(sent.messages.last().unwrap().content, result);
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_right_after_a_server_is_added_waits_for_it_to_start() {
    let mock = mock("It is noon.", 100, 0).await;
    let (_dir, engine) = engine(&mock, Some(KEY));
    // Added (as at launch, when the enabled servers start) and sent to at once.
    engine.mcp_server_save(time_server()).await.unwrap();
    let (events, _) = answered(&engine, time_question(), ToolDecision::Once).await;
    assert_eq!(
        mock.requests()[0].functions.len(),
        1,
        "the tool was offered"
    );
    assert_eq!(last_call(&events).status, ToolCallStatus::Done);
    engine.mcp_shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_chosen_in_settings_defaults_are_offered_in_every_new_chat() {
    let mock = mock("It is noon.", 100, 0).await;
    let (_dir, engine) = with_time_server(&mock).await;
    let mut defaults = engine.settings_get().unwrap().chat_defaults;
    defaults.options.tools = vec![ToolRef {
        server: "time".into(),
        tool: "get_current_time".into(),
    }];
    engine
        .settings_set(tally_core::api::SettingsUpdate {
            chat_defaults: Some(defaults),
            ..Default::default()
        })
        .unwrap();
    // A new chat with no settings of its own: the defaults' tools.
    let (events, _) = answered(
        &engine,
        ask(None, &format!("Time? {TIME_CALL}")),
        ToolDecision::Once,
    )
    .await;
    assert_eq!(mock.requests()[0].functions[0].name, "get_current_time");
    assert_eq!(last_call(&events).status, ToolCallStatus::Done);
    engine.mcp_shutdown().await;
}
