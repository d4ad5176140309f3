//! What a conversation is sent with: per-conversation settings checked against the API's
//! ranges and carried by every request, defaults for new chats, and personas.

use tally_core::api::{
    ChatOptions, ConversationSettings, ErrorCode, PersonaInput, ReasoningEffort, SendRequest,
    SettingsUpdate,
};

use crate::{Events, KEY, engine, mock};

fn settings(model: &str, options: ChatOptions) -> ConversationSettings {
    ConversationSettings {
        model: model.into(),
        system_prompt: None,
        options,
    }
}

#[tokio::test]
async fn settings_are_checked_with_a_plain_message() {
    let server = mock("Sure.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    engine
        .send(crate::ask(None, "Hello"), Events::default().sink())
        .await
        .unwrap();
    let id = crate::recent(&engine)[0].id;
    let option = |f: fn(&mut ChatOptions)| {
        let mut options = ChatOptions::default();
        f(&mut options);
        options
    };
    let cases: [(ChatOptions, &str); 10] = [
        (
            option(|o| o.temperature = Some(2.1)),
            "Temperature goes from 0",
        ),
        (
            option(|o| o.temperature = Some(-0.1)),
            "Temperature goes from 0",
        ),
        (
            option(|o| o.temperature = Some(f64::NAN)),
            "Temperature goes from 0",
        ),
        (option(|o| o.top_p = Some(1.5)), "Top P goes from 0 to 1"),
        (
            option(|o| o.presence_penalty = Some(-2.5)),
            "Presence penalty",
        ),
        (
            option(|o| o.frequency_penalty = Some(3.0)),
            "Frequency penalty",
        ),
        (
            option(|o| o.max_output_tokens = Some(0)),
            "at least 1 token",
        ),
        (
            option(|o| o.max_output_tokens = Some(20_000)),
            "gpt-4o-mini writes at most 16384 tokens",
        ),
        (
            option(|o| {
                o.tools = (0..129)
                    .map(|i| tally_core::api::ToolRef {
                        server: "s".into(),
                        tool: format!("t{i}"),
                    })
                    .collect()
            }),
            "at most 128 tools",
        ),
        (option(|_| {}), ""),
    ];
    for (options, words) in cases {
        let result = engine.conversation_settings_set(id, settings("gpt-4o-mini", options.clone()));
        match (result, words) {
            (Ok(_), "") => {}
            (Err(e), words) if !words.is_empty() => {
                assert_eq!(e.code(), ErrorCode::InvalidInput, "{options:?}");
                assert!(e.to_string().contains(words), "{options:?}: {e}");
            }
            (other, _) => panic!("{options:?}: {other:?}"),
        }
    }
    let refused = engine
        .conversation_settings_set(id, settings("gpt 4o", ChatOptions::default()))
        .unwrap_err();
    assert!(refused.to_string().contains("without spaces"), "{refused}");
}

#[tokio::test]
async fn every_request_carries_the_conversations_settings() {
    let server = mock("Sure.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    // A new chat started with a persona's prompt and its own options.
    let request = SendRequest {
        settings: Some(ConversationSettings {
            model: "gpt-4o".into(),
            system_prompt: Some("  Answer like a pirate.  ".into()),
            options: ChatOptions {
                temperature: Some(0.3),
                top_p: Some(0.9),
                max_output_tokens: Some(500),
                presence_penalty: Some(0.5),
                frequency_penalty: Some(-0.5),
                reasoning_effort: Some(ReasoningEffort::High),
                web_search: false,
                tools: Vec::new(),
                reply_format: Default::default(),
                json_schema: None,
            },
        }),
        ..crate::ask(None, "Hello")
    };
    engine
        .send(request, Events::default().sink())
        .await
        .unwrap();
    let sent = server.requests().last().unwrap().clone();
    assert_eq!(sent.model, "gpt-4o");
    assert_eq!(sent.messages[0].role, "system");
    assert_eq!(sent.messages[0].content, "Answer like a pirate.");
    assert_eq!(sent.temperature, Some(0.3));
    assert_eq!(sent.top_p, Some(0.9));
    assert_eq!(sent.max_tokens, Some(500));
    assert_eq!(
        (sent.presence_penalty, sent.frequency_penalty),
        (Some(0.5), Some(-0.5))
    );
    assert_eq!(sent.reasoning_effort, None, "gpt-4o does not reason");
    let id = crate::recent(&engine)[0].id;
    let view = engine.conversation_get(id).unwrap();
    assert_eq!(
        view.settings.system_prompt.as_deref(),
        Some("Answer like a pirate.")
    );

    // Switched to a reasoning model: sampling options are not sent, the limit is renamed.
    let mut changed = view.settings.clone();
    changed.model = "o4-mini".into();
    engine.conversation_settings_set(id, changed).unwrap();
    engine
        .send(crate::ask(Some(id), "And now?"), Events::default().sink())
        .await
        .unwrap();
    let sent = server.requests().last().unwrap().clone();
    assert_eq!(sent.model, "o4-mini");
    assert_eq!(
        (sent.max_tokens, sent.max_completion_tokens),
        (None, Some(500))
    );
    assert_eq!((sent.temperature, sent.top_p), (None, None));
    assert_eq!(sent.presence_penalty, None);
    assert_eq!(sent.reasoning_effort.as_deref(), Some("high"));

    // On a model served by Responses, the effort goes as `reasoning.effort`, with a
    // summary of the reasoning asked for.
    let mut changed = engine.conversation_get(id).unwrap().settings;
    changed.model = "gpt-5.5-pro".into();
    engine.conversation_settings_set(id, changed).unwrap();
    engine
        .send(crate::ask(Some(id), "And there?"), Events::default().sink())
        .await
        .unwrap();
    let sent = server.requests().last().unwrap().clone();
    assert!(sent.responses);
    assert_eq!(sent.reasoning_effort.as_deref(), Some("high"));
    assert_eq!(sent.reasoning_summary.as_deref(), Some("auto"));
    assert_eq!(sent.max_completion_tokens, Some(500));
}

#[tokio::test]
async fn new_chats_start_with_the_defaults_from_settings() {
    let server = mock("Sure.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let defaults = ConversationSettings {
        model: "gpt-4.1-mini".into(),
        system_prompt: Some("Be brief.".into()),
        options: ChatOptions {
            temperature: Some(0.2),
            ..ChatOptions::default()
        },
    };
    let saved = engine
        .settings_set(SettingsUpdate {
            chat_defaults: Some(defaults.clone()),
            ..SettingsUpdate::default()
        })
        .unwrap();
    assert_eq!(saved.default_model, "gpt-4.1-mini");
    assert_eq!(saved.chat_defaults, defaults);
    engine
        .send(crate::ask(None, "Hi"), Events::default().sink())
        .await
        .unwrap();
    let sent = server.requests().last().unwrap().clone();
    assert_eq!(sent.model, "gpt-4.1-mini");
    assert_eq!(sent.messages[0].content, "Be brief.");
    assert_eq!(sent.temperature, Some(0.2));
    // Bad defaults are refused like a conversation's.
    let refused = engine
        .settings_set(SettingsUpdate {
            chat_defaults: Some(settings(
                "gpt-4o",
                ChatOptions {
                    top_p: Some(2.0),
                    ..ChatOptions::default()
                },
            )),
            ..SettingsUpdate::default()
        })
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidInput);
}

#[tokio::test]
async fn personas_ship_and_can_be_added_edited_and_deleted() {
    let server = mock("Sure.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let shipped = engine.persona_list().unwrap();
    let names: Vec<&str> = shipped.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Code reviewer",
            "Concise",
            "Patient teacher",
            "Writing editor"
        ]
    );

    let input = |id: Option<i64>, name: &str, prompt: &str| PersonaInput {
        id,
        name: name.into(),
        prompt: prompt.into(),
    };
    let all = engine
        .persona_save(input(None, "  Travel   agent ", "Plan trips."))
        .unwrap();
    let agent = all
        .iter()
        .find(|p| p.name == "Travel agent")
        .unwrap()
        .clone();
    let duplicate = engine
        .persona_save(input(None, "CONCISE", "x"))
        .unwrap_err();
    assert!(
        duplicate.to_string().contains("already exists"),
        "{duplicate}"
    );
    for (name, prompt) in [("", "x"), ("Name", "  "), (&"n".repeat(61)[..], "x")] {
        let refused = engine.persona_save(input(None, name, prompt)).unwrap_err();
        assert_eq!(
            refused.code(),
            ErrorCode::InvalidInput,
            "{name:?} {prompt:?}"
        );
    }

    let all = engine
        .persona_save(input(Some(agent.id), "Travel agent", "Plan cheap trips."))
        .unwrap();
    assert!(all.iter().any(|p| p.prompt == "Plan cheap trips."));
    let all = engine.persona_delete(agent.id).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        engine.persona_delete(agent.id).unwrap_err().code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn about_names_the_version_given_the_prices_date_and_the_data_folder() {
    let server = mock("Sure.", 100, 0).await;
    let (dir, engine) = engine(&server, Some(KEY));
    let about = engine.about("1.2.3");
    assert_eq!(about.version, "1.2.3");
    assert_eq!(
        about.prices_checked_on,
        engine.prices_list().unwrap().checked_on
    );
    assert_eq!(about.data_dir, dir.path().display().to_string());
    assert_eq!(engine.data_dir(), dir.path());
}

/// The quiet check for updates happens only once the person agreed, then at most once a
/// day, kept across restarts; a clock set back does not hold it off for good.
#[tokio::test]
async fn the_daily_update_check_is_due_once_a_day_after_the_person_agrees() {
    use std::sync::atomic::Ordering;

    use crate::{DAY, NOV_23, Setup};

    let server = mock("Sure.", 100, 0).await;
    let setup = Setup::new(&server);
    let mut engine = setup.open();
    assert!(
        !engine.settings_get().unwrap().update_checks,
        "off until agreed"
    );
    assert!(!engine.take_daily_update_check().unwrap(), "not agreed yet");
    let agreed = engine
        .settings_set(SettingsUpdate {
            update_checks: Some(true),
            ..Default::default()
        })
        .unwrap();
    assert!(agreed.update_checks);
    // (time since the first check, restart the app first, due)
    let steps: [(i64, bool, bool); 7] = [
        (0, false, true),
        (1, false, false),
        (DAY - 1, true, false),
        (DAY, false, true),
        (DAY + 3_600_000, false, false),
        (-5 * DAY, false, true),
        (-5 * DAY + 1, false, false),
    ];
    for (at, restart, due) in steps {
        setup.now.store(NOV_23 + at, Ordering::SeqCst);
        if restart {
            engine = setup.open();
        }
        assert_eq!(
            engine.take_daily_update_check().unwrap(),
            due,
            "{at} ms after the first check"
        );
    }
    engine
        .settings_set(SettingsUpdate {
            update_checks: Some(false),
            ..Default::default()
        })
        .unwrap();
    setup.now.store(NOV_23 + 30 * DAY, Ordering::SeqCst);
    assert!(!engine.take_daily_update_check().unwrap(), "turned off");
}
