//! Every way the API can fail, end to end against the mock: what the user sees, what the
//! messages table keeps, the ledger row, and how many requests reached the server. The
//! closing note's table is this table.

use tally_core::ChatEvent;
use tally_core::api::{ErrorCode, MessageStatus, SendRequest};
use tally_store::Store;

use crate::{Events, KEY, engine, mock};

/// What the user ends up with.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Seen {
    Done(MessageStatus),
    Failed(MessageStatus, ErrorCode),
}

struct Row {
    scenario: &'static str,
    seen: Seen,
    requests: usize,
    /// Text kept in the reply: none, some of it, or the whole mock reply.
    text: Text,
    /// Ledger: `None` for a zero-token row (the API billed nothing), else estimated?
    ledger_estimated: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Text {
    None,
    Partial,
    Whole,
}

const REPLY: &str = "One two three four five six seven.";

#[tokio::test]
async fn every_failure_is_handled_as_the_table_says() {
    use ErrorCode as C;
    use MessageStatus as S;
    use Seen::*;
    let rows = [
        Row {
            scenario: "ok",
            seen: Done(S::Complete),
            requests: 1,
            text: Text::Whole,
            ledger_estimated: Some(false),
        },
        Row {
            scenario: "slow:20",
            seen: Done(S::Complete),
            requests: 1,
            text: Text::Whole,
            ledger_estimated: Some(false),
        },
        Row {
            scenario: "stream-length",
            seen: Done(S::Complete),
            requests: 1,
            text: Text::Partial,
            ledger_estimated: Some(false),
        },
        Row {
            scenario: "retry-after:0,retry-after:0,ok",
            seen: Done(S::Complete),
            requests: 3,
            text: Text::Whole,
            ledger_estimated: Some(false),
        },
        Row {
            scenario: "retry-after:0",
            seen: Failed(S::Error, C::RateLimited),
            requests: 3,
            text: Text::None,
            ledger_estimated: None,
        },
        Row {
            scenario: "error-500*1",
            seen: Done(S::Complete),
            requests: 2,
            text: Text::Whole,
            ledger_estimated: Some(false),
        },
        Row {
            scenario: "error-502-html*1",
            seen: Done(S::Complete),
            requests: 2,
            text: Text::Whole,
            ledger_estimated: Some(false),
        },
        Row {
            scenario: "error-503",
            seen: Failed(S::Error, C::ServerError),
            requests: 3,
            text: Text::None,
            ledger_estimated: None,
        },
        Row {
            scenario: "error-429-insufficient-quota",
            seen: Failed(S::Error, C::QuotaExhausted),
            requests: 1,
            text: Text::None,
            ledger_estimated: None,
        },
        Row {
            scenario: "error-429-spend-limit",
            seen: Failed(S::Error, C::QuotaExhausted),
            requests: 1,
            text: Text::None,
            ledger_estimated: None,
        },
        Row {
            scenario: "error-401-invalid-key",
            seen: Failed(S::Error, C::InvalidApiKey),
            requests: 1,
            text: Text::None,
            ledger_estimated: None,
        },
        Row {
            scenario: "error-400-context-length",
            seen: Failed(S::Error, C::ContextTooLong),
            requests: 1,
            text: Text::None,
            ledger_estimated: None,
        },
        Row {
            scenario: "error-404-model",
            seen: Failed(S::Error, C::ModelNotFound),
            requests: 1,
            text: Text::None,
            ledger_estimated: None,
        },
        Row {
            scenario: "stream-error-midstream",
            seen: Failed(S::Error, C::ServerError),
            requests: 1,
            text: Text::Partial,
            ledger_estimated: Some(true),
        },
        Row {
            scenario: "stream-no-usage",
            seen: Failed(S::Interrupted, C::Network),
            requests: 1,
            text: Text::Partial,
            ledger_estimated: Some(true),
        },
        Row {
            scenario: "drop-after:3",
            seen: Failed(S::Interrupted, C::Network),
            requests: 1,
            text: Text::Partial,
            ledger_estimated: Some(true),
        },
        Row {
            scenario: "garbage",
            seen: Failed(S::Interrupted, C::ServerError),
            requests: 1,
            text: Text::Partial,
            ledger_estimated: Some(true),
        },
    ];
    let server = mock(REPLY, 4, 1).await;
    let (dir, engine) = engine(&server, Some(KEY));
    for row in rows {
        let name = row.scenario;
        let before = server.stats().chat_requests;
        let events = Events::default();
        let request = SendRequest {
            conversation_id: None,
            text: format!("[mock:{name}] go"),
            model: None,
            allow_over_budget: None,
            edit_of: None,
            settings: None,
            attachments: None,
        };
        engine.send(request, events.sink()).await.unwrap();

        let seen = match events.last() {
            ChatEvent::Done { status, .. } => Seen::Done(status),
            ChatEvent::Failed {
                status,
                code,
                message,
            } => {
                assert!(
                    !message.is_empty() && !message.contains("sk-"),
                    "{name}: {message}"
                );
                Seen::Failed(status, code)
            }
            other => panic!("{name}: ended with {other:?}"),
        };
        assert_eq!(seen, row.seen, "{name}: what the user sees");
        assert_eq!(
            server.stats().chat_requests - before,
            row.requests,
            "{name}: requests"
        );

        // The messages table keeps the user's message and whatever text arrived.
        let ChatEvent::Started {
            conversation_id, ..
        } = events.all()[0].clone()
        else {
            panic!()
        };
        let messages = engine.conversation_get(conversation_id).unwrap().messages;
        assert_eq!(messages[0].content, format!("[mock:{name}] go"), "{name}");
        let reply = &messages[1];
        let expected_status = match row.seen {
            Seen::Done(s) | Seen::Failed(s, _) => s,
        };
        assert_eq!(reply.status, expected_status, "{name}: stored status");
        assert_eq!(
            reply.content,
            events.deltas().concat(),
            "{name}: stored text"
        );
        match row.text {
            Text::None => assert!(reply.content.is_empty(), "{name}"),
            Text::Whole => assert_eq!(reply.content, REPLY, "{name}"),
            Text::Partial => {
                assert!(
                    !reply.content.is_empty() && reply.content != REPLY,
                    "{name}"
                )
            }
        }

        // Exactly one ledger row per send.
        let rows = Store::open_in(dir.path()).unwrap().usage_rows().unwrap();
        let ledger = rows.last().unwrap();
        assert_eq!(ledger.message_id, Some(reply.id), "{name}: one ledger row");
        match row.ledger_estimated {
            None => {
                assert_eq!(ledger.prompt_tokens + ledger.completion_tokens, 0, "{name}");
                assert_eq!(ledger.cost_nanos, Some(0), "{name}: nothing billed");
            }
            Some(estimated) => {
                assert_eq!(ledger.estimated, estimated, "{name}: estimated");
                assert!(ledger.prompt_tokens > 0, "{name}");
                assert!(ledger.cost_nanos.unwrap() > 0, "{name}");
            }
        }
    }
}
