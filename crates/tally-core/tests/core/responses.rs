//! Models served on the Responses API: asked there because the catalog says so, or
//! because Chat Completions refused them, which is then remembered.

use tally_core::ChatEvent;
use tally_core::api::{LedgerQuery, MessageStatus, PriceInput, SendRequest};

use crate::{Events, Setup, ask, mock};

fn started(events: &Events) -> i64 {
    match events.all()[0] {
        ChatEvent::Started {
            conversation_id, ..
        } => conversation_id,
        ref other => panic!("expected Started, got {other:?}"),
    }
}

fn done(events: &Events) -> (MessageStatus, Option<i64>) {
    match events.last() {
        ChatEvent::Done { status, cost, .. } => (status, cost),
        other => panic!("expected Done, got {other:?}"),
    }
}

#[tokio::test]
async fn a_model_the_catalog_serves_on_responses_is_asked_there_and_billed_at_its_price() {
    let reply = "A considered answer from a pro model.";
    let server = mock(reply, 6, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let events = Events::default();
    let request = SendRequest {
        model: Some("gpt-5.5-pro".into()),
        ..ask(None, "Think hard about this.")
    };
    engine.send(request, events.sink()).await.unwrap();
    let (status, cost) = done(&events);
    assert_eq!(status, MessageStatus::Complete);
    assert_eq!(events.deltas().concat(), reply);
    let received = server.requests();
    assert_eq!(
        received.len(),
        1,
        "no request went to Chat Completions first"
    );
    assert!(received[0].responses);
    assert_eq!(received[0].store, Some(false), "nothing kept at OpenAI");
    // The ledger bills what the server reported, at the catalog's gpt-5.5-pro price.
    let rows = engine.ledger_page(&LedgerQuery::default()).unwrap();
    let row = &rows[0];
    let price = tally_spend::ModelCatalog::builtin()
        .lookup("gpt-5.5-pro")
        .unwrap()
        .clone();
    let billed = server.stats().usage_reported;
    let expected = tally_spend::cost(
        &tally_spend::TokenUsage {
            prompt: billed.prompt,
            cached_prompt: billed.cached,
            cache_write: billed.cache_write,
            completion: billed.completion,
            reasoning: billed.reasoning,
            web_searches: 0,
        },
        &price,
    );
    assert_eq!((row.cost_nanos, cost), (Some(expected), Some(expected)));
    assert!(row.reasoning_tokens > 0);
}

/// A model released after this version, whose name appears nowhere in the code: Chat
/// Completions refuses it with the real 404, it is asked on Responses at once (the user
/// sees one reply, metered in tokens at an unknown price), and from then on, across a
/// restart, it goes straight to Responses.
#[tokio::test]
async fn a_model_chat_completions_refuses_is_switched_to_responses_and_remembered() {
    let model = format!("gpt-{}-pro", std::process::id() % 1000 + 1000);
    let server = mock("Hello from tomorrow's model.", 6, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let events = Events::default();
    let request = SendRequest {
        model: Some(model.clone()),
        ..ask(None, "Hello?")
    };
    engine.send(request, events.sink()).await.unwrap();
    let (status, cost) = done(&events);
    assert_eq!(status, MessageStatus::Complete);
    assert_eq!(events.deltas().concat(), "Hello from tomorrow's model.");
    assert_eq!(cost, None, "price unknown: metered in tokens");
    let apis: Vec<bool> = server.requests().iter().map(|r| r.responses).collect();
    assert_eq!(apis, [false, true]);
    let rows = engine.ledger_page(&LedgerQuery::default()).unwrap();
    assert_eq!(rows.len(), 1, "the refused request billed nothing");
    assert!(rows[0].prompt_tokens > 0);

    let conversation = started(&events);
    drop(engine);
    let engine = setup.open();
    let again = Events::default();
    engine
        .send(ask(Some(conversation), "And again?"), again.sink())
        .await
        .unwrap();
    assert_eq!(done(&again).0, MessageStatus::Complete);
    let apis: Vec<bool> = server.requests().iter().map(|r| r.responses).collect();
    assert_eq!(apis, [false, true, true], "remembered across a restart");
    // The whole conversation went again: nothing is stored at OpenAI.
    let last = server.requests().last().unwrap().clone();
    let texts: Vec<&str> = last.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        ["Hello?", "Hello from tomorrow's model.", "And again?"]
    );

    // Its price was asked under the first reply, once: not again after the restart.
    assert_eq!(
        (asks_price(&events), asks_price(&again)),
        (Some(model.clone()), None)
    );
    // Priced now (as the user types it under the reply): its requests so far get their cost,
    // and the next reply is billed at it.
    engine
        .price_set(PriceInput {
            model: model.clone(),
            input: "2".into(),
            cached_input: String::new(),
            output: "8".into(),
            context_window: 128_000,
            max_output: 16_384,
        })
        .unwrap();
    let rows = engine.ledger_page(&LedgerQuery::default()).unwrap();
    assert!(rows.iter().all(|r| r.cost_nanos.is_some()), "{rows:?}");
    let third = Events::default();
    engine
        .send(ask(Some(conversation), "Priced now?"), third.sink())
        .await
        .unwrap();
    assert!(done(&third).1.is_some() && asks_price(&third).is_none());
}

fn asks_price(events: &Events) -> Option<String> {
    match events.last() {
        ChatEvent::Done { ask_price_of, .. } => ask_price_of,
        other => panic!("expected Done, got {other:?}"),
    }
}

/// A Responses reply cut by the output limit (`response.incomplete`, reason
/// `max_output_tokens`) is a length cut: its text is kept and it can be continued.
#[tokio::test]
async fn an_incomplete_responses_reply_is_a_length_cut() {
    let server = mock("unused", 6, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let events = Events::default();
    let request = SendRequest {
        model: Some("gpt-5.5-pro".into()),
        ..ask(None, "[mock:responses-stream-incomplete] Tell me a story")
    };
    engine.send(request, events.sink()).await.unwrap();
    let ChatEvent::Done {
        status,
        finish_reason,
        ..
    } = events.last()
    else {
        panic!("{:?}", events.last())
    };
    assert_eq!(status, MessageStatus::Complete);
    assert_eq!(finish_reason.as_deref(), Some("length"));
    assert_eq!(
        events.deltas().concat(),
        "Once upon a time in a small town by the sea, there"
    );
}

/// The model's summary of its reasoning streams as `Thinking` events, is saved with the
/// reply with its API and reasoning items, and is shown when the conversation opens again;
/// a Chat Completions reply has none.
#[tokio::test]
async fn a_replys_thinking_streams_and_is_saved_with_it() {
    let server = mock("A plain reply.", 6, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let events = Events::default();
    let request = SendRequest {
        model: Some("gpt-5.5-pro".into()),
        ..ask(
            None,
            "[mock:responses-stream-reasoning-summary] Which weekday?",
        )
    };
    engine.send(request, events.sink()).await.unwrap();
    let thinking: String = events
        .all()
        .into_iter()
        .filter_map(|e| match e {
            ChatEvent::Thinking { text } => Some(text),
            _ => None,
        })
        .collect();
    let expected = "**Checking the dates**\n\nThe user asks which weekday 1 March 2027 falls on.";
    assert_eq!(thinking, expected);
    let conversation = started(&events);
    let chat = Events::default();
    engine
        .send(
            SendRequest {
                model: Some("gpt-4o-mini".into()),
                ..ask(None, "And on Chat Completions?")
            },
            chat.sink(),
        )
        .await
        .unwrap();
    drop(engine);
    let engine = setup.open();
    let view = engine.conversation_get(conversation).unwrap();
    let reply = &view.messages[1];
    assert_eq!(reply.content, "1 March 2027 is a Monday.");
    assert_eq!(reply.thinking.as_deref(), Some(expected));
    assert_eq!(reply.endpoint.as_deref(), Some("responses"));
    let plain = engine.conversation_get(started(&chat)).unwrap();
    assert_eq!(plain.messages[1].endpoint.as_deref(), Some("chat"));
    assert_eq!(plain.messages[1].thinking, None);
}

/// Nothing is stored at OpenAI, so the next turn sends each earlier reply's reasoning items
/// back with it, as they came; a conversation moved to another model sends none (that
/// model cannot read them).
#[tokio::test]
async fn the_next_turn_sends_the_reasoning_back_to_the_same_model_only() {
    let server = mock("Thought about it.", 6, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let first = Events::default();
    let request = SendRequest {
        model: Some("gpt-5.5-pro".into()),
        ..ask(None, "First question")
    };
    engine.send(request, first.sink()).await.unwrap();
    let conversation = started(&first);
    let second = Events::default();
    engine
        .send(ask(Some(conversation), "Second question"), second.sink())
        .await
        .unwrap();
    let requests = server.requests();
    assert!(requests[0].reasoning_items.is_empty());
    assert_eq!(requests[1].reasoning_items.len(), 1);
    assert!(requests[1].reasoning_items[0].starts_with("gAAAAABmock-reasoning-"));

    // The same conversation on another model: no reasoning goes with its history.
    let mut settings = engine.conversation_get(conversation).unwrap().settings;
    settings.model = "gpt-5.4-pro".into();
    engine
        .conversation_settings_set(conversation, settings)
        .unwrap();
    let third = Events::default();
    engine
        .send(ask(Some(conversation), "Third question"), third.sink())
        .await
        .unwrap();
    let last = server.requests().last().unwrap().clone();
    assert!(last.responses);
    assert!(
        last.reasoning_items.is_empty(),
        "{:?}",
        last.reasoning_items
    );
}
