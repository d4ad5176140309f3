use serde_json::json;

use crate::{KEY, Shell, no_args};

#[test]
fn settings_round_trip_and_refuse_bad_values() {
    let shell = Shell::start();
    let settings = shell.invoke("settings_get", no_args()).unwrap();
    assert_eq!(settings["defaultModel"], "gpt-4o-mini");
    assert_eq!(settings["onboarded"], false);
    assert_eq!(settings["apiBaseFromEnv"], true);

    let updated = shell
        .invoke(
            "settings_set",
            json!({"update": {"defaultModel": "gpt-4o", "onboarded": true}}),
        )
        .unwrap();
    assert_eq!(updated["defaultModel"], "gpt-4o");
    assert_eq!(updated["onboarded"], true);

    let error = shell
        .invoke("settings_set", json!({"update": {"defaultModel": "   "}}))
        .unwrap_err();
    assert_eq!(error["code"], "invalid_input");
    assert!(error["message"].as_str().unwrap().contains("Pick a model"));
}

#[test]
fn key_status_never_returns_the_key() {
    let shell = Shell::start();
    let status = shell.invoke("key_status", no_args()).unwrap();
    assert_eq!(status["source"], "environment");
    assert_eq!(status["lastFour"], "abcd");
    assert!(!status.to_string().contains(KEY));
    let tested = shell.invoke("key_test", no_args()).unwrap();
    assert!(
        tested["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "gpt-4o-mini")
    );

    let refused = shell
        .invoke("key_set", json!({"key": "hello"}))
        .unwrap_err();
    assert_eq!(refused["code"], "invalid_input");
}

#[test]
fn chat_send_streams_saves_and_lists_the_conversation() {
    let shell = Shell::start();
    assert_eq!(
        shell.invoke("conversation_list", no_args()).unwrap(),
        json!([])
    );
    shell
        .invoke(
            "chat_send",
            json!({"request": {"conversationId": null, "text": "Hi there"}, "onEvent": "__CHANNEL__:1"}),
        )
        .unwrap();
    let list = shell.invoke("conversation_list", no_args()).unwrap();
    let id = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["title"], "Hi there");
    let view = shell.invoke("conversation_get", json!({"id": id})).unwrap();
    let messages = view["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["status"], "complete");
    assert!(messages[1]["content"].as_str().unwrap().contains("mock"));
    assert_eq!(shell.mock.stats().streams_completed, 1);

    // Retry and Continue stream through the same channel mechanism.
    shell
        .invoke(
            "chat_retry",
            json!({"conversationId": id, "onEvent": "__CHANNEL__:3"}),
        )
        .unwrap();
    shell
        .invoke(
            "chat_continue",
            json!({"conversationId": id, "onEvent": "__CHANNEL__:4"}),
        )
        .unwrap();
    let view = shell.invoke("conversation_get", json!({"id": id})).unwrap();
    let reply = view["messages"][1]["content"].as_str().unwrap();
    assert_eq!(
        reply.matches("mock").count(),
        2,
        "retried, then continued: {reply}"
    );
    assert_eq!(shell.mock.stats().streams_completed, 3);
    assert_eq!(
        shell
            .invoke("chat_stop", json!({"conversationId": id}))
            .unwrap(),
        false
    );
}

#[test]
fn bad_input_gets_a_code_and_a_plain_message() {
    let shell = Shell::start();
    let empty = shell
        .invoke(
            "chat_send",
            json!({"request": {"conversationId": null, "text": "  \n "}, "onEvent": "__CHANNEL__:2"}),
        )
        .unwrap_err();
    assert_eq!(
        empty,
        json!({"code": "invalid_input", "message": "Type a message first."})
    );
    let missing = shell
        .invoke("conversation_get", json!({"id": 999}))
        .unwrap_err();
    assert_eq!(missing["code"], "invalid_input");
    let link = shell
        .invoke("link_open", json!({"url": "javascript:alert(1)"}))
        .unwrap_err();
    assert_eq!(link["code"], "invalid_input");
}
