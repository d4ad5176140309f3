use tally_core::ChatEvent;
use tally_core::api::{ErrorCode, MessageStatus, SendRequest, StartKind};

use crate::{Events, KEY, engine, mock};

fn ask(text: &str) -> SendRequest {
    crate::ask(None, text)
}

fn started(events: &Events) -> (i64, i64, i64, StartKind) {
    match events.all()[0].clone() {
        ChatEvent::Started {
            conversation_id,
            user_message_id,
            assistant_message_id,
            kind,
            ..
        } => (conversation_id, user_message_id, assistant_message_id, kind),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn retry_writes_a_new_reply_to_the_same_message() {
    let server = mock("A fresh answer.", 5, 1).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let first = Events::default();
    engine
        .send(ask("[mock:stream-no-usage*1] Why?"), first.sink())
        .await
        .unwrap();
    let (conversation, user, broken, _) = started(&first);

    let again = Events::default();
    engine
        .retry(conversation, None, false, again.sink())
        .await
        .unwrap();
    let (_, parent, fresh, kind) = started(&again);
    assert_eq!((parent, kind), (user, StartKind::Retry));
    assert_ne!(fresh, broken);
    assert!(matches!(
        again.last(),
        ChatEvent::Done {
            status: MessageStatus::Complete,
            ..
        }
    ));

    // The branch on screen now ends with the new reply; the cut-off one was not sent.
    let messages = engine.conversation_get(conversation).unwrap().messages;
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (messages[1].id, messages[1].content.as_str()),
        (fresh, "A fresh answer.")
    );
    let sent = &server.requests()[1].messages;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].role, "user");
}

#[tokio::test]
async fn continue_appends_to_a_reply_cut_by_the_length_limit() {
    let server = mock(" and the rest.", 5, 1).await;
    let (dir, engine) = engine(&server, Some(KEY));
    let first = Events::default();
    engine
        .send(ask("[mock:stream-length]"), first.sink())
        .await
        .unwrap();
    let (conversation, user, reply, _) = started(&first);
    let ChatEvent::Done { finish_reason, .. } = first.last() else {
        panic!()
    };
    assert_eq!(finish_reason.as_deref(), Some("length"));

    let more = Events::default();
    engine
        .continue_reply(conversation, false, more.sink())
        .await
        .unwrap();
    assert_eq!(
        started(&more),
        (conversation, user, reply, StartKind::Continue)
    );
    assert_eq!(more.deltas().concat(), " and the rest.");
    let messages = engine.conversation_get(conversation).unwrap().messages;
    assert_eq!(messages.len(), 2);
    assert_eq!(
        messages[1].content,
        "Here is the first part of a long answer, and and the rest."
    );
    assert_eq!(messages[1].status, MessageStatus::Complete);
    assert_eq!(messages[1].finish_reason.as_deref(), Some("stop"));

    // The request carried the partial reply and an instruction to go on.
    let sent = &server.requests()[1].messages;
    assert_eq!(sent[sent.len() - 2].role, "assistant");
    assert_eq!(sent[sent.len() - 1].role, "user");
    assert!(sent[sent.len() - 1].content.starts_with("Continue"));

    // Two ledger rows: the chat and the continuation.
    let store = tally_store::Store::open_in(dir.path()).unwrap();
    let purposes: Vec<_> = store
        .usage_rows()
        .unwrap()
        .iter()
        .map(|r| r.purpose)
        .collect();
    assert_eq!(
        purposes,
        [tally_store::Purpose::Chat, tally_store::Purpose::Continue]
    );
}

#[tokio::test]
async fn nothing_to_redo_is_a_plain_refusal() {
    let server = mock("x", 1, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    assert_eq!(
        engine
            .retry(42, None, false, Events::default().sink())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    // A reply that failed with no text cannot be continued, only retried.
    let events = Events::default();
    engine
        .send(ask("[mock:error-401-invalid-key]"), events.sink())
        .await
        .unwrap();
    let (conversation, ..) = started(&events);
    let refused = engine
        .continue_reply(conversation, false, Events::default().sink())
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("no reply to retry or continue")
    );
}

/// Regenerate, edit, switch and delete on one conversation; what is sent to the API is
/// always the branch on screen.
#[tokio::test]
async fn the_message_tree_regenerates_edits_switches_and_deletes() {
    let server = mock("Answer.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let first = Events::default();
    engine
        .send(ask("First question"), first.sink())
        .await
        .unwrap();
    let (conversation, q1, a1, _) = started(&first);
    let second = Events::default();
    engine
        .send(
            crate::ask(Some(conversation), "Second question"),
            second.sink(),
        )
        .await
        .unwrap();
    let (_, q2, a2, _) = started(&second);

    // Regenerate the first reply: a sibling of it, and the branch ends there.
    let regenerated = Events::default();
    engine
        .retry(conversation, Some(a1), false, regenerated.sink())
        .await
        .unwrap();
    let (_, parent, a1b, kind) = started(&regenerated);
    assert_eq!((parent, kind), (q1, StartKind::Retry));
    let sent = server.requests().last().unwrap().messages.len();
    assert_eq!(sent, 1, "only the branch up to the first question");
    let view = engine.conversation_get(conversation).unwrap();
    let ids: Vec<i64> = view.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, [q1, a1b]);
    assert_eq!(view.messages[1].sibling_ids, [a1, a1b]);
    assert!(view.messages[0].sibling_ids.is_empty());

    // ‹ 1/2 ›: back to the first reply and the conversation that followed it.
    let view = engine.conversation_switch(conversation, a1).unwrap();
    let ids: Vec<i64> = view.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, [q1, a1, q2, a2]);

    // Editing the second question branches beside it; the context is the new branch.
    let edited = Events::default();
    let mut edit = crate::ask(Some(conversation), "Second question, edited");
    edit.edit_of = Some(q2);
    engine.send(edit, edited.sink()).await.unwrap();
    let (_, q2b, _, kind) = started(&edited);
    assert_eq!(kind, StartKind::Edit);
    let sent: Vec<String> = server
        .requests()
        .last()
        .unwrap()
        .messages
        .iter()
        .map(|m| m.content.clone())
        .collect();
    assert_eq!(
        sent,
        ["First question", "Answer.", "Second question, edited"]
    );
    let view = engine.conversation_get(conversation).unwrap();
    assert_eq!(view.messages[2].sibling_ids, [q2, q2b]);
    assert_eq!(view.earlier_count, 0);
    // A long conversation opens at its end: the last messages of the same branch, with
    // their versions, and how many come before them.
    let tail = engine.conversation_open(conversation, Some(2)).unwrap();
    assert_eq!(tail.earlier_count, 2);
    assert_eq!(tail.messages, view.messages[2..]);
    assert_eq!(tail.messages[0].parent_id, Some(view.messages[1].id));
    assert_eq!(tail.cost_nanos, view.cost_nanos);
    for asked in [None, Some(4), Some(100)] {
        let whole = engine.conversation_open(conversation, asked).unwrap();
        assert_eq!((whole.earlier_count, &whole.messages), (0, &view.messages));
    }
    let none = engine.conversation_open(conversation, Some(0)).unwrap();
    assert_eq!((none.earlier_count, none.messages.len()), (4, 0));
    // Only the user's own messages in this conversation can be edited.
    let mut wrong = crate::ask(Some(conversation), "x");
    wrong.edit_of = Some(a1);
    let refused = engine
        .send(wrong, Events::default().sink())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidInput);

    // Deleting the edited question goes back to the original one and its reply.
    let view = engine.message_delete(q2b).unwrap();
    let ids: Vec<i64> = view.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, [q1, a1, q2, a2]);
    assert!(view.messages[2].sibling_ids.is_empty());

    // Deleting the last reply leaves the question; Regenerate answers it again.
    let view = engine.message_delete(a2).unwrap();
    assert_eq!(view.messages.last().unwrap().id, q2);
    let answered = Events::default();
    engine
        .retry(conversation, None, false, answered.sink())
        .await
        .unwrap();
    let (_, parent, _, _) = started(&answered);
    assert_eq!(parent, q2);
    assert_eq!(
        engine
            .conversation_get(conversation)
            .unwrap()
            .messages
            .len(),
        4
    );
}

/// A conversation longer than the model's window: the oldest turns are left out (whole
/// turns, the system prompt kept), and the UI is told how many.
#[tokio::test]
async fn the_oldest_turns_are_left_out_to_fit_the_context_window() {
    use tally_core::api::{ChatOptions, ConversationSettings, PriceInput};
    let server = mock(&"word ".repeat(40), 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    // A small local model: 400 tokens of context, replies of up to 100.
    engine
        .price_set(PriceInput {
            model: "tiny-local".into(),
            input: "0".into(),
            cached_input: String::new(),
            output: "0".into(),
            context_window: 400,
            max_output: 100,
        })
        .unwrap();
    let mut first = crate::ask(None, &"hello ".repeat(40));
    first.settings = Some(ConversationSettings {
        model: "tiny-local".into(),
        system_prompt: Some("Be brief.".into()),
        options: ChatOptions::default(),
    });
    let events = Events::default();
    engine.send(first, events.sink()).await.unwrap();
    let (conversation, ..) = started(&events);
    let dropped = |events: &Events| match events.all()[0] {
        ChatEvent::Started {
            dropped_messages, ..
        } => dropped_messages,
        ref other => panic!("{other:?}"),
    };
    assert_eq!(dropped(&events), 0);
    let mut last = 0;
    for i in 0..4 {
        let events = Events::default();
        engine
            .send(
                crate::ask(
                    Some(conversation),
                    &format!("question {i} {}", "word ".repeat(40)),
                ),
                events.sink(),
            )
            .await
            .unwrap();
        last = dropped(&events);
    }
    assert!(last >= 2, "{last}");
    assert_eq!(last % 2, 0, "whole turns");
    let sent = server.requests().last().unwrap().clone();
    assert_eq!(
        sent.messages[0].content, "Be brief.",
        "the system prompt stays"
    );
    assert_eq!(
        sent.messages[1].role, "user",
        "a turn starts with its message"
    );
    assert!(
        sent.messages
            .last()
            .unwrap()
            .content
            .starts_with("question 3")
    );
    // The branch on screen keeps everything: only the request is shorter.
    let kept = engine
        .conversation_get(conversation)
        .unwrap()
        .messages
        .len();
    assert_eq!(kept, 10);
    assert_eq!(sent.messages.len() as u32 + last, 1 + 9);
}
