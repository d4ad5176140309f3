//! The context window's second half: a refusal for length trims and asks again, the
//! estimate holds the conversation's reply limit, and "Summarize and continue in a new
//! chat" streams a metered summary into a new conversation.

use tally_core::ChatEvent;
use tally_core::api::{
    ChatOptions, ConversationSettings, DraftRequest, ErrorCode, LedgerQuery, MessageStatus,
    StartKind,
};

use crate::{Events, KEY, ask, engine, mock};

/// A conversation of `turns` exchanges (about 40 tokens each way) in a model Tally has no
/// price or window for, so only the server can say it is too long.
async fn long_unknown_model_chat(engine: &std::sync::Arc<tally_core::Engine>, turns: usize) -> i64 {
    let mut first = ask(None, &format!("turn 0 {}", "word ".repeat(40)));
    first.settings = Some(ConversationSettings {
        model: "mystery-local".into(),
        system_prompt: Some("Be brief.".into()),
        options: ChatOptions::default(),
    });
    let events = Events::default();
    engine.send(first, events.sink()).await.unwrap();
    let id = crate::recent(engine)[0].id;
    for turn in 1..turns {
        let request = ask(Some(id), &format!("turn {turn} {}", "word ".repeat(40)));
        engine
            .send(request, Events::default().sink())
            .await
            .unwrap();
    }
    id
}

#[tokio::test]
async fn a_refusal_for_length_leaves_out_more_turns_and_asks_again() {
    let server = mock(&"reply ".repeat(40), 50, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let id = long_unknown_model_chat(&engine, 6).await;
    let before = server.requests().len();

    let events = Events::default();
    let text = "[mock:error-400-context-length*1] and now?";
    engine
        .send(ask(Some(id), text), events.sink())
        .await
        .unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), before + 2, "refused once, then asked again");
    let (refused, sent) = (&requests[before], &requests[before + 1]);
    assert_eq!(
        refused.messages.len(),
        1 + 12 + 1,
        "everything, the first time"
    );
    assert!(sent.messages.len() < refused.messages.len());
    assert_eq!(
        sent.messages[0].content, "Be brief.",
        "the system prompt stays"
    );
    assert_eq!(sent.messages[1].role, "user", "whole turns go");
    assert_eq!(sent.messages.last().unwrap().content, text);
    let trimmed: Vec<u32> = events
        .all()
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Trimmed { dropped_messages } => Some(*dropped_messages),
            _ => None,
        })
        .collect();
    let left_out = (refused.messages.len() - sent.messages.len()) as u32;
    assert_eq!(trimmed, vec![left_out], "the UI is told how many");
    assert!(matches!(
        events.last(),
        ChatEvent::Done {
            status: MessageStatus::Complete,
            ..
        }
    ));
    // One request billed; the branch on screen keeps every message.
    let rows = engine
        .ledger_page(&LedgerQuery {
            model: Some("mystery-local".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(engine.conversation_get(id).unwrap().messages.len(), 14);
}

#[tokio::test]
async fn a_refusal_for_length_with_nothing_left_to_leave_out_is_explained() {
    let server = mock("never", 50, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let events = Events::default();
    engine
        .send(
            ask(None, "[mock:error-400-context-length] a huge paste"),
            events.sink(),
        )
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 1, "no pointless second request");
    let ChatEvent::Failed { code, message, .. } = events.last() else {
        panic!("{:?}", events.last())
    };
    assert_eq!(code, ErrorCode::ContextTooLong);
    assert!(!message.is_empty());
    let id = crate::recent(&engine)[0].id;
    let saved = engine.conversation_get(id).unwrap().messages;
    assert_eq!(
        saved[0].content,
        "[mock:error-400-context-length] a huge paste"
    );
}

#[tokio::test]
async fn the_estimate_holds_the_conversations_reply_limit() {
    let server = mock("fine", 50, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    engine
        .send(ask(None, "hello"), Events::default().sink())
        .await
        .unwrap();
    let id = crate::recent(&engine)[0].id;
    let draft = DraftRequest {
        tools: None,
        conversation_id: Some(id),
        model: None,
        text: "and then?".into(),
        attachments: None,
    };
    let unlimited = engine.estimate_draft_now(&draft).unwrap();
    assert_eq!(
        unlimited.max_output_tokens,
        Some(16_384),
        "gpt-4o-mini's most"
    );

    let mut settings = engine.conversation_get(id).unwrap().settings;
    settings.options.max_output_tokens = Some(100);
    engine.conversation_settings_set(id, settings).unwrap();
    let limited = engine.estimate_draft_now(&draft).unwrap();
    assert_eq!(limited.max_output_tokens, Some(100));
    assert_eq!(limited.input_tokens, unlimited.input_tokens);
    assert_eq!(limited.min_cost_nanos, unlimited.min_cost_nanos);
    // gpt-4o-mini's output is 600 nano-USD a token: the range shrinks by exactly that.
    let max = |e: &tally_core::api::DraftEstimate| e.max_cost_nanos.unwrap();
    assert_eq!(max(&unlimited) - max(&limited), (16_384 - 100) * 600);
}

#[tokio::test]
async fn summarize_and_continue_streams_a_metered_summary_into_a_new_chat() {
    let server = mock("The summary: budget of $900 for rent, decided.", 8, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let mut first = ask(None, "Plan my budget");
    first.settings = Some(ConversationSettings {
        model: "gpt-4o-mini".into(),
        system_prompt: Some("You are my accountant.".into()),
        options: ChatOptions {
            temperature: Some(0.3),
            ..ChatOptions::default()
        },
    });
    engine.send(first, Events::default().sink()).await.unwrap();
    let old = crate::recent(&engine)[0].clone();
    engine
        .send(ask(Some(old.id), "Rent is $900"), Events::default().sink())
        .await
        .unwrap();

    let events = Events::default();
    engine
        .summarize_into_new_chat(old.id, false, events.sink())
        .await
        .unwrap();
    let ChatEvent::Started {
        conversation_id,
        kind,
        user_text,
        title,
        ..
    } = events.all()[0].clone()
    else {
        panic!("{:?}", events.all())
    };
    assert_ne!(conversation_id, old.id);
    assert_eq!(kind, StartKind::Summary);
    assert!(title.ends_with("(continued)"), "{title}");
    let asked = user_text.expect("the UI shows the request");
    assert!(asked.contains(&old.title), "{asked}");

    // The model read the whole conversation, then the instruction.
    let request = server.requests().last().unwrap().clone();
    let contents: Vec<&str> = request
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(contents[0], "You are my accountant.");
    assert_eq!(contents[1], "Plan my budget");
    assert_eq!(contents[3], "Rent is $900");
    assert!(contents[5].starts_with("Summarize the conversation above"));
    assert_eq!(
        request.temperature,
        Some(0.3),
        "with the conversation's settings"
    );

    // The new chat: the request and the summary, with the same settings; the old one is
    // untouched.
    let new = engine.conversation_get(conversation_id).unwrap();
    assert_eq!(new.messages.len(), 2);
    assert_eq!(new.messages[0].content, asked);
    assert_eq!(
        new.messages[1].content,
        "The summary: budget of $900 for rent, decided."
    );
    assert_eq!(new.messages[1].status, MessageStatus::Complete);
    assert_eq!(
        new.settings.system_prompt.as_deref(),
        Some("You are my accountant.")
    );
    assert_eq!(engine.conversation_get(old.id).unwrap().messages.len(), 4);
    let rows = engine
        .ledger_page(&LedgerQuery {
            purpose: Some("summary".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].conversation_id, Some(conversation_id));
    assert!(rows[0].cost_nanos.unwrap() > 0);
    assert_eq!(new.cost_nanos, rows[0].cost_nanos.unwrap());

    // Going on sends the summary, not the old history.
    engine
        .send(
            ask(Some(conversation_id), "What next?"),
            Events::default().sink(),
        )
        .await
        .unwrap();
    let request = server.requests().last().unwrap().clone();
    let contents: Vec<&str> = request
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(
        contents,
        vec![
            "You are my accountant.",
            asked.as_str(),
            "The summary: budget of $900 for rent, decided.",
            "What next?"
        ]
    );
}

#[tokio::test]
async fn an_empty_conversation_has_nothing_to_summarize() {
    let server = mock("x", 50, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    engine
        .send(
            ask(None, "[mock:error-500*9] hello"),
            Events::default().sink(),
        )
        .await
        .unwrap();
    let id = crate::recent(&engine)[0].id;
    let conversations = crate::recent(&engine).len();
    let error = engine
        .summarize_into_new_chat(id, false, Events::default().sink())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("nothing to summarize"),
        "{error}"
    );
    assert_eq!(crate::recent(&engine).len(), conversations, "no new chat");
}
