use std::time::Duration;

use tally_core::ChatEvent;
use tally_core::api::{ErrorCode, MessageStatus, Role};

use crate::{Events, KEY, ask, engine, mock};

#[tokio::test]
async fn a_reply_streams_in_and_is_saved_with_its_cost() {
    let reply = "Hello! Here is a **reply** in many small pieces.";
    let server = mock(reply, 4, 5).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let events = Events::default();
    engine
        .send(ask(None, "  Say hello  "), events.sink())
        .await
        .unwrap();

    let all = events.all();
    let ChatEvent::Started {
        conversation_id,
        title,
        ..
    } = all[0].clone()
    else {
        panic!("first event {:?}", all[0])
    };
    assert_eq!(title, "Say hello");
    assert!(events.deltas().len() >= 3);
    assert_eq!(events.deltas().concat(), reply);
    assert!(all.iter().any(|e| matches!(e, ChatEvent::Usage { .. })));
    let ChatEvent::Done {
        status,
        finish_reason,
        cost,
        estimated,
        endpoint,
        usage,
        ask_price_of,
    } = events.last()
    else {
        panic!("{:?}", events.last())
    };
    assert_eq!(status, MessageStatus::Complete);
    assert_eq!(finish_reason.as_deref(), Some("stop"));
    assert!(!estimated);
    assert_eq!(endpoint, "chat");
    assert_eq!(usage.web_searches, 0);
    assert_eq!(ask_price_of, None, "a priced model's price is not asked");
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0 && !usage.estimated);

    // The request asked for usage; the ledger holds exactly the cost from it.
    assert!(server.requests()[0].stream_options.unwrap().include_usage);
    assert_eq!(
        server.requests()[0].messages.last().unwrap().content,
        "Say hello"
    );
    let view = engine.conversation_get(conversation_id).unwrap();
    assert_eq!(view.messages.len(), 2);
    assert_eq!(view.messages[0].role, Role::User);
    assert_eq!(view.messages[1].content, reply);
    assert_eq!(view.messages[1].status, MessageStatus::Complete);
    let list = crate::recent(&engine);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, conversation_id);
    let expected = tally_spend::cost(
        &tally_spend::TokenUsage {
            prompt: tally_spend::count_chat_prompt(
                tally_spend::Encoding::O200kBase,
                [("user", "Say hello")],
            ),
            completion: tally_spend::count_text(tally_spend::Encoding::O200kBase, reply),
            ..Default::default()
        },
        tally_spend::ModelCatalog::builtin()
            .lookup("gpt-4o-mini")
            .unwrap(),
    );
    assert_eq!(cost, Some(expected));
    assert!(expected > 0);

    // A second message continues the same branch and sends the history.
    engine
        .send(
            ask(Some(conversation_id), "And again"),
            Events::default().sink(),
        )
        .await
        .unwrap();
    let sent = &server.requests()[1].messages;
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[1].role, "assistant");
    assert_eq!(
        engine
            .conversation_get(conversation_id)
            .unwrap()
            .messages
            .len(),
        4
    );
}

#[tokio::test]
async fn stop_drops_the_connection_and_keeps_the_partial_reply() {
    let server = mock(&"word ".repeat(400), 5, 20).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let events = Events::default();
    let sending = tokio::spawn({
        let engine = engine.clone();
        let sink = events.sink();
        async move { engine.send(ask(None, "long please"), sink).await }
    });
    // Wait for some text, and for it to be flushed to the database while streaming.
    events.wait_for_pieces(5).await;
    let Some(ChatEvent::Started {
        conversation_id,
        assistant_message_id: reply_id,
        ..
    }) = events.all().first().cloned()
    else {
        panic!("the reply did not start first: {:?}", events.all())
    };
    crate::until("the partial reply saved while it streams", || {
        engine.conversation_get(conversation_id).unwrap().messages[1]
            .content
            .len()
            > 5
    })
    .await;
    let saved = engine.conversation_get(conversation_id).unwrap().messages;
    assert_eq!(saved[1].id, reply_id);
    assert_eq!(saved[1].status, MessageStatus::Streaming);
    assert!(!saved[1].content.is_empty(), "flushed while streaming");

    assert!(engine.stop(conversation_id));
    sending.await.unwrap().unwrap();
    let ChatEvent::Done {
        status,
        estimated,
        cost,
        ..
    } = events.last()
    else {
        panic!()
    };
    assert_eq!(status, MessageStatus::Stopped);
    assert!(estimated && cost.unwrap() > 0);
    let stats = server
        .wait_for(Duration::from_secs(5), |s| s.streams_dropped == 1)
        .await;
    assert_eq!(stats.streams_dropped, 1, "the HTTP connection was closed");
    let saved = engine.conversation_get(conversation_id).unwrap().messages;
    assert_eq!(saved[1].status, MessageStatus::Stopped);
    assert_eq!(saved[1].content, events.deltas().concat());
    assert!(!engine.stop(conversation_id), "nothing left to stop");
}

#[tokio::test]
async fn empty_messages_are_refused_and_nothing_is_written() {
    let server = mock("x", 1, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    for text in ["", "   ", "\n\t "] {
        let error = engine
            .send(ask(None, text), Events::default().sink())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput);
    }
    assert!(crate::recent(&engine).is_empty());
    assert_eq!(server.stats().chat_requests, 0);
}

#[tokio::test]
async fn without_any_key_nothing_is_sent() {
    let server = mock("x", 1, 0).await;
    let (_dir, engine) = engine(&server, None);
    let error = engine
        .send(ask(None, "hi"), Events::default().sink())
        .await
        .unwrap_err();
    assert!(matches!(
        error.code(),
        ErrorCode::MissingApiKey | ErrorCode::KeychainUnavailable
    ));
    assert_eq!(server.stats().chat_requests, 0);
}

#[tokio::test]
async fn a_wrong_key_fails_plainly_and_keeps_the_message() {
    let server = mock("x", 1, 0).await;
    let (_dir, engine) = engine(&server, Some("sk-proj-invalid-key-000000000000000"));
    let events = Events::default();
    engine
        .send(ask(None, "my precious question"), events.sink())
        .await
        .unwrap();
    let ChatEvent::Failed {
        code,
        message,
        status,
    } = events.last()
    else {
        panic!()
    };
    assert_eq!(code, ErrorCode::InvalidApiKey);
    assert_eq!(status, MessageStatus::Error);
    assert!(message.starts_with("OpenAI did not accept this key"));
    let id = crate::recent(&engine)[0].id;
    let messages = engine.conversation_get(id).unwrap().messages;
    assert_eq!(messages[0].content, "my precious question");
    assert_eq!(messages[1].error_code.as_deref(), Some("invalid_api_key"));
}

#[tokio::test]
async fn an_unreachable_server_is_a_plain_network_error() {
    let server = mock("x", 1, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let events = Events::default();
    engine
        .send(ask(None, "hello?"), events.sink())
        .await
        .unwrap();
    let ChatEvent::Failed { code, message, .. } = events.last() else {
        panic!()
    };
    assert_eq!(code, ErrorCode::Network);
    assert!(message.contains("could not reach"));
}

#[tokio::test]
async fn a_dropped_stream_is_interrupted_with_an_estimated_cost() {
    let server = mock("x", 1, 10).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let events = Events::default();
    engine
        .send(ask(None, "[mock:stream-no-usage]"), events.sink())
        .await
        .unwrap();
    let ChatEvent::Failed { status, code, .. } = events.last() else {
        panic!("{:?}", events.last())
    };
    assert_eq!(status, MessageStatus::Interrupted);
    assert_eq!(code, ErrorCode::Network);
    let id = crate::recent(&engine)[0].id;
    let reply = engine.conversation_get(id).unwrap().messages[1].clone();
    assert_eq!(reply.content, "This answer stops in the midd");
    assert_eq!(reply.status, MessageStatus::Interrupted);
    let log = engine.request_log(10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].http_status, Some(200));
    assert_eq!(log[0].error_code.as_deref(), Some("network"));
    assert!(events.deltas().concat() == reply.content);
}

#[tokio::test]
async fn unfinished_replies_are_interrupted_on_the_next_start() {
    let server = mock(&"slow ".repeat(200), 5, 30).await;
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = tally_core::EngineConfig::new(dir.path());
        c.api_base_override = Some(server.base_url());
        c.env_api_key = Some(tally_core::SecretString::from(KEY));
        c.flush_interval = Duration::from_millis(50);
        c
    };
    let engine = tally_core::Engine::open(config()).unwrap();
    let events = Events::default();
    let task = tokio::spawn({
        let engine = engine.clone();
        let sink = events.sink();
        async move { engine.send(ask(None, "go"), sink).await }
    });
    events.wait_for_pieces(5).await;
    crate::until("the partial reply saved", || {
        crate::recent(&engine).first().is_some_and(|c| {
            !engine.conversation_get(c.id).unwrap().messages[1]
                .content
                .is_empty()
        })
    })
    .await;
    // Simulate a crash: the task dies without finishing the reply.
    task.abort();
    let _ = task.await;
    drop(engine);
    let engine = tally_core::Engine::open(config()).unwrap();
    let id = crate::recent(&engine)[0].id;
    let reply = engine.conversation_get(id).unwrap().messages[1].clone();
    assert_eq!(reply.status, MessageStatus::Interrupted);
    assert!(!reply.content.is_empty());
}

#[tokio::test]
async fn a_server_hiccup_is_retried_and_announced() {
    let server = mock("Recovered.", 4, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let events = Events::default();
    engine
        .send(ask(None, "[mock:error-503*1] hi"), events.sink())
        .await
        .unwrap();
    let retrying: Vec<_> = events
        .all()
        .into_iter()
        .filter_map(|e| match e {
            ChatEvent::Retrying {
                attempt,
                in_ms,
                reason,
            } => Some((attempt, in_ms, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(retrying.len(), 1);
    assert_eq!(retrying[0].0, 2);
    assert!((375..=500).contains(&retrying[0].1), "{retrying:?}");
    assert_eq!(retrying[0].2, "OpenAI's service had a problem");
    assert!(matches!(
        events.last(),
        ChatEvent::Done {
            status: MessageStatus::Complete,
            ..
        }
    ));
    assert_eq!(events.deltas().concat(), "Recovered.");
    assert_eq!(server.stats().chat_requests, 2);
    // Both HTTP attempts are in the request log, newest first.
    let log = engine.request_log(10).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].attempt, log[0].http_status), (2, Some(200)));
    assert!(
        log[0]
            .request_id
            .as_deref()
            .unwrap()
            .starts_with("req_mock")
    );
    assert!(log[0].first_byte_ms.is_some() && log[0].total_ms >= log[0].first_byte_ms);
    assert_eq!(log[0].error_code, None);
    assert_eq!(log[0].ratelimit_remaining_requests, Some(4999));
    assert_eq!((log[1].attempt, log[1].http_status), (1, Some(503)));
    assert_eq!(log[1].error_code.as_deref(), Some("server_error"));
    assert_eq!(log[1].request_id.as_deref(), Some("req_503x0001"));
    assert_eq!(log[0].message_id, log[1].message_id);
}

#[tokio::test]
async fn stop_cancels_a_retry_wait() {
    let server = mock("never sent", 4, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let events = Events::default();
    let task = tokio::spawn({
        let engine = engine.clone();
        let sink = events.sink();
        async move {
            engine
                .send(ask(None, "[mock:error-429-rate-limit*1]"), sink)
                .await
        }
    });
    events
        .wait_for("the retry's announcement", |events| {
            events
                .iter()
                .any(|e| matches!(e, ChatEvent::Retrying { .. }))
        })
        .await;
    let ChatEvent::Started {
        conversation_id, ..
    } = events.all()[0].clone()
    else {
        panic!()
    };
    assert!(engine.stop(conversation_id));
    task.await.unwrap().unwrap();
    assert!(matches!(
        events.last(),
        ChatEvent::Done {
            status: MessageStatus::Stopped,
            ..
        }
    ));
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(server.stats().chat_requests, 1, "no retry after Stop");
}

#[tokio::test]
async fn billing_errors_fail_at_once_in_plain_words() {
    let server = mock("x", 1, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let events = Events::default();
    engine
        .send(
            ask(None, "[mock:error-429-insufficient-quota]"),
            events.sink(),
        )
        .await
        .unwrap();
    assert!(
        !events
            .all()
            .iter()
            .any(|e| matches!(e, ChatEvent::Retrying { .. }))
    );
    let ChatEvent::Failed { code, message, .. } = events.last() else {
        panic!()
    };
    assert_eq!(code, ErrorCode::QuotaExhausted);
    assert!(message.contains("no credit left"), "{message}");
    assert_eq!(server.stats().chat_requests, 1);
}

#[tokio::test]
async fn sent_messages_and_replies_are_found_by_search() {
    let server = mock("A reply about the Nishiki market.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let events = Events::default();
    engine
        .send(ask(None, "Where should I eat in Kyoto?"), events.sink())
        .await
        .unwrap();
    let found = engine.search("nishiki").unwrap();
    assert_eq!(found.hits.len(), 1);
    assert!(found.hits[0].snippet.contains("\u{E000}Nishiki\u{E001}"));
    let by_title = engine.search("kyo").unwrap();
    assert_eq!(by_title.hits[0].message_id, None, "the title matches first");
    assert_eq!(engine.search("").unwrap().hits.len(), 0);
    let long = "word ".repeat(200);
    assert_eq!(
        engine.search(&long).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
}
