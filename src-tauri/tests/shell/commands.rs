use serde_json::json;

use crate::{KEY, Shell, no_args};

#[test]
fn settings_round_trip_and_refuse_bad_values() {
    let shell = Shell::start();
    let settings = shell.invoke("settings_get", no_args()).unwrap();
    assert_eq!(settings["defaultModel"], "gpt-5.4-mini");
    assert_eq!(settings["onboarded"], false);
    assert_eq!(settings["apiBaseFromEnv"], true);
    // Before a key test the pickers offer the catalog's models, with prices in words.
    let models = shell.invoke("models_list", no_args()).unwrap();
    assert_eq!(models["fromKey"], false);
    assert_eq!(models["models"][0]["id"], "gpt-5.5");
    assert_eq!(
        models["models"][0]["priceWords"],
        "$5.00 in, $30.00 out per million tokens"
    );

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
fn about_gives_the_packages_version_and_the_data_folder() {
    let shell = Shell::start();
    let about = shell.invoke("app_about", no_args()).unwrap();
    // tauri.conf.json's version, which the packages carry, is the crate's.
    assert_eq!(about["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(about["dataDir"], shell.data_dir().display().to_string());
    assert_eq!(
        about["pricesCheckedOn"].as_str().unwrap().len(),
        "2026-11-29".len()
    );
}

#[test]
fn an_update_is_installed_only_after_a_check_found_it() {
    let shell = Shell::start();
    let error = shell
        .invoke("update_install", json!({"onProgress": "__CHANNEL__:1"}))
        .unwrap_err();
    assert_eq!(error["code"], "not_found");
    assert_eq!(error["message"], "Check for updates first.");
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
        .invoke("key_set", json!({"key": "not one word"}))
        .unwrap_err();
    assert_eq!(refused["code"], "invalid_input");
}

#[test]
fn chat_send_streams_saves_and_lists_the_conversation() {
    let shell = Shell::start();
    assert_eq!(
        shell.invoke("conversation_list", no_args()).unwrap(),
        json!({"pinned": [], "recent": [], "next": null})
    );
    shell
        .invoke(
            "chat_send",
            json!({"request": {"conversationId": null, "text": "Hi there"}, "onEvent": "__CHANNEL__:1"}),
        )
        .unwrap();
    let list = shell
        .invoke("conversation_list", json!({"query": {"limit": 10}}))
        .unwrap();
    let list = &list["recent"];
    let id = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["title"], "Hi there");
    let view = shell.invoke("conversation_get", json!({"id": id})).unwrap();
    let messages = view["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["status"], "complete");
    assert!(messages[1]["content"].as_str().unwrap().contains("mock"));
    assert_eq!(view["earlierCount"], 0);
    // Opened from its end: the reply alone, and the one message before it.
    let tail = shell
        .invoke("conversation_get", json!({"id": id, "tail": 1}))
        .unwrap();
    assert_eq!(tail["messages"].as_array().unwrap().len(), 1);
    assert_eq!(tail["messages"][0]["id"], messages[1]["id"]);
    assert_eq!(tail["earlierCount"], 1);
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

    // "Summarize and continue in a new chat" streams into a conversation of its own.
    shell
        .invoke(
            "chat_summarize",
            json!({"conversationId": id, "onEvent": "__CHANNEL__:5"}),
        )
        .unwrap();
    let list = shell
        .invoke("conversation_list", json!({"query": {}}))
        .unwrap();
    let recent = list["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 2);
    assert!(
        recent[0]["title"]
            .as_str()
            .unwrap()
            .ends_with("(continued)")
    );
    assert_eq!(shell.mock.stats().streams_completed, 4);
}

#[test]
fn conversations_are_renamed_pinned_trashed_and_restored() {
    let shell = Shell::start();
    shell
        .invoke(
            "chat_send",
            json!({"request": {"conversationId": null, "text": "Plan a trip"}, "onEvent": "__CHANNEL__:1"}),
        )
        .unwrap();
    let id = shell.invoke("conversation_list", no_args()).unwrap()["recent"][0]["id"].clone();
    let renamed = shell
        .invoke("conversation_rename", json!({"id": id, "title": "Kyoto"}))
        .unwrap();
    assert_eq!(renamed["title"], "Kyoto");
    let refused = shell
        .invoke("conversation_rename", json!({"id": id, "title": " "}))
        .unwrap_err();
    assert_eq!(refused["code"], "invalid_input");
    let pinned = shell
        .invoke("conversation_pin", json!({"id": id, "pinned": true}))
        .unwrap();
    assert_eq!(pinned["pinned"], true);
    assert_eq!(
        shell.invoke("conversation_list", no_args()).unwrap()["pinned"][0]["title"],
        "Kyoto"
    );
    let trashed = shell
        .invoke("conversation_trash", json!({"id": id}))
        .unwrap();
    assert!(trashed["deletedAt"].is_i64());
    assert_eq!(shell.invoke("trash_list", no_args()).unwrap()[0]["id"], id);
    shell
        .invoke("conversation_restore", json!({"id": id}))
        .unwrap();
    assert_eq!(shell.invoke("trash_list", no_args()).unwrap(), json!([]));
    shell
        .invoke("conversation_trash", json!({"id": id}))
        .unwrap();
    assert_eq!(
        shell.invoke("trash_delete", json!({"id": id})).unwrap(),
        json!([])
    );
    assert_eq!(shell.invoke("trash_empty", no_args()).unwrap(), 0);
    assert_eq!(
        shell
            .invoke("conversation_get", json!({"id": id}))
            .unwrap_err()["code"],
        "not_found"
    );
}

#[test]
fn bad_input_and_what_is_gone_get_their_codes_and_plain_messages() {
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
    assert_eq!(missing["code"], "not_found");
    let link = shell
        .invoke("link_open", json!({"url": "javascript:alert(1)"}))
        .unwrap_err();
    assert_eq!(link["code"], "invalid_input");
}

#[test]
fn budget_meter_estimate_and_events_cross_ipc() {
    let shell = Shell::start();
    let meter = shell.invoke("spend_summary", no_args()).unwrap();
    assert_eq!(meter["level"], "none");
    assert_eq!(meter["spentNanos"], 0);
    let refused = shell
        .invoke(
            "budget_set",
            json!({"budget": {"amount": "ten", "resetDay": 1, "thresholds": [50], "hardStop": false}}),
        )
        .unwrap_err();
    assert_eq!(refused["code"], "invalid_input");
    let meter = shell
        .invoke(
            "budget_set",
            json!({"budget": {"amount": "0.00001", "resetDay": 1, "thresholds": [50, 100], "hardStop": true}}),
        )
        .unwrap();
    assert_eq!(meter["budget"]["monthlyNanos"], 10_000);
    assert_eq!(meter["budget"]["hardStop"], true);

    let estimate = shell
        .invoke(
            "cost_estimate",
            json!({"draft": {"conversationId": null, "text": "hello world"}}),
        )
        .unwrap();
    assert_eq!(estimate["model"], "gpt-5.4-mini");
    // 3 framing + 1 role + 2 text + 3 reply priming.
    assert_eq!(estimate["inputTokens"], 9);

    shell
        .invoke(
            "chat_send",
            json!({"request": {"conversationId": null, "text": "hi"}, "onEvent": "__CHANNEL__:1"}),
        )
        .unwrap();
    // The reply cost more than the tiny budget: both thresholds alerted, as events.
    let events = shell.events.lock().unwrap().clone();
    let alerts: Vec<&serde_json::Value> = events
        .iter()
        .filter(|(name, _)| name == tally_app::BUDGET_ALERT)
        .map(|(_, payload)| &payload["threshold"])
        .collect();
    assert_eq!(alerts, [&json!(50), &json!(100)]);
    let (name, last) = events.last().unwrap();
    assert_eq!(name, tally_app::SPEND_UPDATED);
    assert_eq!(last["level"], "over");

    let blocked = shell
        .invoke(
            "chat_send",
            json!({"request": {"conversationId": null, "text": "again"}, "onEvent": "__CHANNEL__:2"}),
        )
        .unwrap_err();
    assert_eq!(blocked["code"], "budget_exceeded");
    shell
        .invoke(
            "chat_send",
            json!({"request": {"conversationId": null, "text": "again", "allowOverBudget": true}, "onEvent": "__CHANNEL__:3"}),
        )
        .unwrap();

    let report = shell.invoke("usage_report", no_args()).unwrap();
    assert_eq!(report["spend"]["requests"], 2);
    let rows = shell.invoke("ledger_list", json!({"query": {}})).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    let dismissed = shell.invoke("budget_alerts_dismiss", no_args()).unwrap();
    assert_eq!(dismissed["alerts"], json!([]));
    let prices = shell.invoke("prices_list", no_args()).unwrap();
    assert!(!prices["checkedOn"].as_str().unwrap().is_empty());
}

#[test]
fn a_model_written_title_arrives_as_an_event() {
    let shell = Shell::start();
    let settings = shell
        .invoke("settings_set", json!({"update": {"autoTitles": true}}))
        .unwrap();
    assert_eq!(settings["autoTitles"], true);
    shell
        .invoke(
            "chat_send",
            json!({"request": {"conversationId": null, "text": "Plan three days in Kyoto please"}, "onEvent": "__CHANNEL__:1"}),
        )
        .unwrap();
    let id = shell.invoke("conversation_list", no_args()).unwrap()["recent"][0]["id"].clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let titled = loop {
        let events = shell.events.lock().unwrap().clone();
        if let Some((_, payload)) = events
            .into_iter()
            .find(|(name, _)| name == tally_app::CONVERSATION_TITLED)
        {
            break payload;
        }
        assert!(std::time::Instant::now() < deadline, "no title event");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    // The mock titles a conversation with the first words of its first message.
    assert_eq!(
        titled,
        json!({"conversationId": id, "title": "Plan three days in Kyoto please"})
    );
}
