//! JSON replies: a conversation asks for JSON (any object, or one matching a pasted
//! schema), the request carries the format on either API, and each reply is checked
//! against the schema when it ends.

use tally_core::api::{
    ChatOptions, ConversationSettings, ErrorCode, JsonCheckView, ReplyFormat, SendRequest,
};

use crate::{Events, KEY, MODEL, ask, engine, mock};

/// Settings that ask `model` for replies in `format` (matching `schema`).
fn json_settings(model: &str, format: ReplyFormat, schema: Option<&str>) -> ConversationSettings {
    ConversationSettings {
        model: model.into(),
        system_prompt: None,
        options: ChatOptions {
            reply_format: format,
            json_schema: schema.map(str::to_string),
            ..ChatOptions::default()
        },
    }
}

fn in_json(model: &str, format: ReplyFormat, schema: Option<&str>, text: &str) -> SendRequest {
    SendRequest {
        settings: Some(json_settings(model, format, schema)),
        ..ask(None, text)
    }
}

/// The last reply's text and check, in the only conversation.
fn last_reply(engine: &tally_core::Engine) -> (String, Option<JsonCheckView>) {
    let id = crate::recent(engine)[0].id;
    let reply = engine
        .conversation_get(id)
        .unwrap()
        .messages
        .last()
        .unwrap()
        .clone();
    (reply.content, reply.json_check)
}

const ANSWER: &str = r#"{"type": "object", "properties": {"answer": {"type": "string"}},
    "required": ["answer"], "additionalProperties": false}"#;
const CITY: &str = r#"{"type": "object", "properties": {"city": {"type": "string"}},
    "required": ["city"]}"#;

#[tokio::test]
async fn a_reply_matching_the_schema_is_checked_and_said_to_match() {
    let server = mock("It is sunny.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let request = in_json(
        MODEL,
        ReplyFormat::JsonSchema,
        Some(ANSWER),
        "Weather in JSON?",
    );
    engine
        .send(request, Events::default().sink())
        .await
        .unwrap();
    let (content, check) = last_reply(&engine);
    assert_eq!(content, r#"{"answer":"It is sunny."}"#);
    let check = check.unwrap();
    assert_eq!((check.is_json, check.matches_schema), (true, Some(true)));
    let sent = &server.requests()[0];
    assert_eq!(sent.reply_format.as_ref().unwrap().kind, "json_schema");
}

#[tokio::test]
async fn a_reply_that_does_not_match_says_where() {
    let server = mock("It is sunny.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let request = in_json(MODEL, ReplyFormat::JsonSchema, Some(CITY), "Which city?");
    engine
        .send(request, Events::default().sink())
        .await
        .unwrap();
    let check = last_reply(&engine).1.unwrap();
    assert_eq!(check.matches_schema, Some(false));
    assert!(
        check.problems.iter().any(|p| p.contains("city")),
        "{check:?}"
    );
}

#[tokio::test]
async fn json_mode_tells_the_model_when_no_message_says_json_and_works_on_responses() {
    let server = mock("Hello.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let request = in_json("gpt-5.1-codex", ReplyFormat::Json, None, "Say hello.");
    engine
        .send(request, Events::default().sink())
        .await
        .unwrap();
    let sent = &server.requests()[0];
    assert!(sent.responses);
    assert_eq!(sent.reply_format.as_ref().unwrap().kind, "json_object");
    assert!(
        sent.messages[0].content.contains("JSON"),
        "{:?}",
        sent.messages
    );
    let (content, check) = last_reply(&engine);
    assert!(content.starts_with('{'), "{content}");
    let check = check.unwrap();
    assert_eq!((check.is_json, check.matches_schema), (true, None));
}

#[tokio::test]
async fn a_text_reply_has_no_check_and_a_bad_schema_is_refused_in_words() {
    let server = mock("Hello.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    engine
        .send(ask(None, "Hi"), Events::default().sink())
        .await
        .unwrap();
    assert!(last_reply(&engine).1.is_none());
    assert!(server.requests()[0].reply_format.is_none());

    let id = crate::recent(&engine)[0].id;
    for (schema, words) in [
        (None, "Paste the JSON Schema"),
        (Some("{\"type\": "), "not valid JSON"),
        (Some(r#"{"type": 5}"#), "not a valid JSON Schema"),
    ] {
        let error = engine
            .conversation_settings_set(id, json_settings(MODEL, ReplyFormat::JsonSchema, schema))
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput);
        assert!(error.to_string().contains(words), "{schema:?}: {error}");
    }
    // A good schema is kept with the conversation, as pasted.
    let pasted = format!("  {CITY}  ");
    let saved = engine
        .conversation_settings_set(
            id,
            json_settings(MODEL, ReplyFormat::JsonSchema, Some(&pasted)),
        )
        .unwrap();
    assert_eq!(saved.settings.options.reply_format, ReplyFormat::JsonSchema);
    assert_eq!(saved.settings.options.json_schema.as_deref(), Some(CITY));
}
