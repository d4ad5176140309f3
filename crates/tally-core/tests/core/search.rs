//! Web search, metered: a conversation that lets the model search is asked on the
//! Responses API with the tool and a cap on its calls; each search is billed at the
//! catalog's fee in the request's ledger row, counted in the estimate's worst case and by
//! the hard stop before it happens; the sources are saved with the reply.

use std::sync::Arc;

use tally_core::api::{
    BudgetInput, ChatOptions, ConversationSettings, DraftRequest, ErrorCode, ExportFormat,
    ExportRequest, LedgerQuery, MessageStatus, SendRequest,
};
use tally_core::{ChatEvent, Engine};
use tally_spend::{ModelCatalog, TokenUsage};

use crate::{Events, MODEL, Setup, ask, mock};

/// A new chat with web search on.
fn searching(text: &str) -> SendRequest {
    SendRequest {
        settings: Some(ConversationSettings {
            model: MODEL.into(),
            system_prompt: None,
            options: ChatOptions {
                web_search: true,
                ..ChatOptions::default()
            },
        }),
        ..ask(None, text)
    }
}

fn conversation_of(events: &Events) -> i64 {
    match events.all()[0] {
        ChatEvent::Started {
            conversation_id, ..
        } => conversation_id,
        ref other => panic!("expected Started, got {other:?}"),
    }
}

#[tokio::test]
async fn a_search_is_shown_billed_in_the_ledger_and_its_sources_are_kept() {
    let server = mock("Tram 28 runs every ten minutes.", 8, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let events = Events::default();
    engine
        .send(searching("When does tram 28 run?"), events.sink())
        .await
        .unwrap();

    // gpt-4o-mini prefers Chat Completions; searching, it is asked on Responses.
    let received = server.requests();
    assert_eq!(received.len(), 1);
    assert!(received[0].responses && received[0].web_search);
    assert_eq!(received[0].max_tool_calls, Some(3), "the cap on searches");
    let all = events.all();
    assert!(all.iter().any(|e| matches!(
        e,
        ChatEvent::Searching { query: Some(q) } if q == "When does tram 28 run?"
    )));
    let source = (
        mock_openai::MOCK_SOURCE_URL.to_string(),
        mock_openai::MOCK_SOURCE_TITLE.to_string(),
    );
    let cited: Vec<_> = all
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Citation { url, title } => Some((url.clone(), title.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(cited, std::slice::from_ref(&source));
    let ChatEvent::Done {
        status,
        cost,
        endpoint,
        usage,
        ..
    } = events.last()
    else {
        panic!("{:?}", events.last())
    };
    assert_eq!(status, MessageStatus::Complete);
    assert_eq!(endpoint, "responses");
    assert_eq!(usage.web_searches, 1);

    // The ledger row: the tokens the server reported (what the search read among them)
    // at gpt-4o-mini's price, plus one call at the catalog's fee.
    let rows = engine.ledger_page(&LedgerQuery::default()).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.web_search_calls, 1);
    assert!(row.prompt_tokens > mock_openai::SEARCH_CONTENT_TOKENS);
    let catalog = ModelCatalog::builtin();
    let price = catalog.lookup(MODEL).unwrap();
    let tokens_only = tally_spend::cost(
        &TokenUsage {
            prompt: row.prompt_tokens,
            completion: row.completion_tokens,
            ..TokenUsage::default()
        },
        price,
    );
    let expected = tokens_only + catalog.web_search.per_call;
    assert_eq!((row.cost_nanos, cost), (Some(expected), Some(expected)));

    // Saved with the reply, and in its cost breakdown.
    let view = engine.conversation_get(conversation_of(&events)).unwrap();
    let reply = &view.messages[1];
    assert_eq!(
        reply
            .citations
            .iter()
            .map(|c| (c.url.clone(), c.title.clone()))
            .collect::<Vec<_>>(),
        [source]
    );
    let usage = reply.usage.expect("the reply's usage");
    assert_eq!(
        (usage.web_searches, usage.prompt_tokens),
        (1, row.prompt_tokens)
    );
    assert!(view.settings.options.web_search);

    // The usage page shows the search fees apart.
    let report = engine.usage_report().unwrap();
    assert_eq!(report.web_search_calls, 1);
    assert_eq!(report.web_search_fees_nanos, catalog.web_search.per_call);
    assert_eq!(report.by_model[0].web_search_calls, 1);

    // The next turn of the same conversation searches again; one without search does not.
    let next = Events::default();
    engine
        .send(
            ask(Some(conversation_of(&events)), "And on Sundays?"),
            next.sink(),
        )
        .await
        .unwrap();
    assert!(server.requests()[1].web_search);
    engine
        .send(ask(None, "No search here"), Events::default().sink())
        .await
        .unwrap();
    let plain = &server.requests()[2];
    assert!(
        !plain.web_search && !plain.responses,
        "plain chat stays on Chat Completions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estimate_and_the_hard_stop_count_every_search_a_reply_may_make() {
    // Slow enough that the first reply is still in flight when the second is sent.
    let server = mock("one two three four five six seven eight nine ten", 3, 30).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let plain = engine
        .estimate_draft(DraftRequest {
            tools: None,
            conversation_id: None,
            model: None,
            text: "hello".into(),
            attachments: None,
        })
        .await
        .unwrap();
    assert_eq!(plain.web_search, None);
    // New chats search by default from now on (the Settings default).
    let mut defaults = engine.settings_get().unwrap().chat_defaults;
    defaults.options.web_search = true;
    defaults.options.max_output_tokens = Some(100);
    engine
        .settings_set(tally_core::api::SettingsUpdate {
            chat_defaults: Some(defaults),
            ..Default::default()
        })
        .unwrap();
    let estimate = engine
        .estimate_draft(DraftRequest {
            tools: None,
            conversation_id: None,
            model: None,
            text: "hello".into(),
            attachments: None,
        })
        .await
        .unwrap();
    let catalog = ModelCatalog::builtin();
    let price = catalog.lookup(MODEL).unwrap();
    let search = estimate.web_search.expect("searches in the estimate");
    assert_eq!((search.max_calls, search.fee_nanos), (3, 10_000_000));
    // Three calls at the fee, and what each may read, beside the tokens' worst case.
    let worst = tally_spend::worst_case_cost(estimate.input_tokens, 100, 3, price);
    assert_eq!(estimate.max_cost_nanos, Some(worst));
    assert!(worst > 3 * catalog.web_search.per_call);
    assert_eq!(
        estimate.min_cost_nanos, plain.min_cost_nanos,
        "no search is certain"
    );

    // With a hard stop, a request in flight holds its round of searches against the
    // budget before they happen: a budget its tokens alone leave room in is full while it
    // runs, and the next message is refused before it leaves.
    engine
        .budget_set(BudgetInput {
            amount: "0.02".into(),
            reset_day: 1,
            thresholds: vec![50, 80, 100],
            hard_stop: true,
        })
        .unwrap();
    let first = Events::default();
    let running = {
        let (engine, sink) = (Arc::clone(&engine), first.sink());
        tokio::spawn(async move { engine.send(ask(None, "search this"), sink).await })
    };
    first.wait_for_pieces(1).await;
    let refused = engine
        .send(ask(None, "and this"), Events::default().sink())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BudgetExceeded);
    running.await.unwrap().unwrap();
    assert_eq!(server.requests().len(), 1, "the refused message never left");
    // Once the first is billed (far less than its worst case), there is room again.
    engine
        .send(ask(None, "and now this"), Events::default().sink())
        .await
        .unwrap();
}

/// An OpenAI-compatible server without the Responses API answers 404 there: a chat that
/// searches is answered on Chat Completions instead, unsearched, and nothing is billed
/// for the refused request.
#[tokio::test]
async fn a_server_without_responses_answers_a_searching_chat_unsearched() {
    let server = mock("Answered without a search.", 8, 0).await;
    let engine = Setup::new(&server).open();
    let events = Events::default();
    engine
        .send(
            searching("[mock:error-404-model*1] look it up"),
            events.sink(),
        )
        .await
        .unwrap();
    let ChatEvent::Done { status, usage, .. } = events.last() else {
        panic!("{:?}", events.last())
    };
    assert_eq!((status, usage.web_searches), (MessageStatus::Complete, 0));
    let received = server.requests();
    let asked: Vec<(bool, bool)> = received
        .iter()
        .map(|r| (r.responses, r.web_search))
        .collect();
    assert_eq!(asked, [(true, true), (false, false)]);
    let rows = engine.ledger_page(&LedgerQuery::default()).unwrap();
    assert_eq!(rows.len(), 1, "the refused request billed nothing");
}

#[tokio::test]
async fn searches_before_a_dropped_connection_are_billed_all_the_same() {
    let server = mock("one two three four five six", 4, 5).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let events = Events::default();
    engine
        .send(searching("[mock:drop-after:2] look it up"), events.sink())
        .await
        .unwrap();
    let ChatEvent::Failed { status, .. } = events.last() else {
        panic!("{:?}", events.last())
    };
    assert_eq!(status, MessageStatus::Interrupted);
    let rows = engine.ledger_page(&LedgerQuery::default()).unwrap();
    let row = &rows[0];
    assert!(row.estimated, "no usage came: estimated");
    assert_eq!(row.web_search_calls, 1);
    assert!(row.cost_nanos.unwrap() >= ModelCatalog::builtin().web_search.per_call);
}

#[tokio::test]
async fn sources_travel_in_tally_files_and_a_hostile_file_cannot_plant_a_link() {
    let server = mock("Found it.", 8, 0).await;
    let a_setup = Setup::new(&server);
    let a = a_setup.open();
    let events = Events::default();
    a.send(searching("find it"), events.sink()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let file = export_all(&a, folder.path());
    assert!(file.contains(mock_openai::MOCK_SOURCE_URL));

    // Into another database: the sources, the setting and the billed call come along.
    let b = Setup::new(&server).open();
    b.import_text(&file, |_| {}).unwrap();
    let id = crate::recent(&b)[0].id;
    let view = b.conversation_get(id).unwrap();
    assert!(view.settings.options.web_search);
    assert_eq!(view.messages[1].citations.len(), 1);
    assert_eq!(
        b.ledger_page(&LedgerQuery::default()).unwrap()[0].web_search_calls,
        1
    );

    // A file whose sources are not web pages: they are left out, the reply is not; and
    // one that repeats a source: it is kept once.
    let twice = serde_json::json!({"url": "https://example.org/twice", "title": "Twice"});
    let repeated = file.replace(
        "\"citations\": [",
        &format!("\"citations\": [{twice},{twice},"),
    );
    assert_ne!(repeated, file, "the file lists sources");
    let repeated = repeated.replace(&uid_of(&file), "a-uid-for-the-repeating-copy");
    let d = Setup::new(&server).open();
    d.import_text(&repeated, |_| {}).unwrap();
    let view = d.conversation_get(crate::recent(&d)[0].id).unwrap();
    let urls: Vec<&str> = view.messages[1]
        .citations
        .iter()
        .map(|c| c.url.as_str())
        .collect();
    assert_eq!(
        urls,
        ["https://example.org/twice", mock_openai::MOCK_SOURCE_URL]
    );

    let hostile = file.replace(mock_openai::MOCK_SOURCE_URL, "javascript:alert(1)");
    let hostile = hostile.replace(&uid_of(&file), "another-uid-for-the-hostile-copy");
    let c = Setup::new(&server).open();
    c.import_text(&hostile, |_| {}).unwrap();
    let id = crate::recent(&c)[0].id;
    let view = c.conversation_get(id).unwrap();
    assert!(!view.messages[1].content.is_empty());
    assert!(view.messages[1].citations.is_empty());
}

fn export_all(engine: &Arc<Engine>, folder: &std::path::Path) -> String {
    let result = engine
        .export_conversations(
            &ExportRequest {
                conversation_id: None,
                format: ExportFormat::Json,
            },
            folder,
        )
        .unwrap();
    std::fs::read_to_string(result.path).unwrap()
}

/// The first conversation's uid in a Tally file.
fn uid_of(file: &str) -> String {
    let at = file.find("\"uid\"").expect("a uid");
    let rest = &file[at + 5..];
    let start = rest.find('"').unwrap() + 1;
    let end = start + rest[start..].find('"').unwrap();
    rest[start..end].to_string()
}
