use mock_openai::{MockConfig, MockServer};
use tally_core::ChatEvent;
use tally_core::api::{ErrorCode, KeySource};
use tally_keychain::test_support::{Setup, in_child};

use std::sync::{Arc, Mutex};

use crate::{Events, KEY, ask, engine, mock};

/// A server on this computer that asks for no key (a local model) is used without one
/// while none is stored; one that asks for a key says so in words, and the message stays;
/// any other server gets nothing without a key. Against a real, private Secret Service,
/// which alone can say that no key is stored.
#[test]
fn a_server_on_this_computer_that_asks_for_no_key_is_used_without_one() {
    if !in_child(
        "keys::a_server_on_this_computer_that_asks_for_no_key_is_used_without_one",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let open = MockServer::start(MockConfig {
            needs_key: false,
            ..MockConfig::default()
        })
        .await
        .unwrap();
        let (_dir, local) = engine(&open, None);
        assert_eq!(local.key_status().source, KeySource::None);
        assert!(!local.key_test().await.unwrap().models.is_empty());
        let events = Events::default();
        local
            .send(ask(None, "hello, local model"), events.sink())
            .await
            .unwrap();
        assert!(
            matches!(events.last(), ChatEvent::Done { .. }),
            "{:?}",
            events.last()
        );
        assert_eq!(open.stats().keyless_requests, 2);

        let closed = mock("x", 1, 0).await;
        let (_dir, asks) = engine(&closed, None);
        let events = Events::default();
        asks.send(ask(None, "my precious question"), events.sink())
            .await
            .unwrap();
        let ChatEvent::Failed { code, message, .. } = events.last() else {
            panic!("{:?}", events.last())
        };
        assert_eq!(code, ErrorCode::MissingApiKey);
        assert_eq!(
            message,
            "The server at 127.0.0.1 asks for an API key. Add its key in Settings."
        );
        let id = crate::recent(&asks)[0].id;
        let kept = asks.conversation_get(id).unwrap().messages;
        assert_eq!(kept[0].content, "my precious question");
        let refused = asks.key_test().await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::MissingApiKey);

        let elsewhere = tempfile::tempdir().unwrap();
        let mut config = tally_core::EngineConfig::new(elsewhere.path());
        config.api_base_override = Some("https://api.openai.com/v1".into());
        config.keychain_service = format!("Tally-test-{}", std::process::id());
        let at_openai = tally_core::Engine::open(config).unwrap();
        let missing = at_openai.key_test().await.unwrap_err();
        assert_eq!(missing.code(), ErrorCode::MissingApiKey);
        assert!(missing.to_string().contains("OpenAI API key"), "{missing}");
    });
}

/// Onboarding's key path against a real, private Secret Service.
#[test]
fn key_is_stored_tested_and_deleted_in_the_keychain() {
    if !in_child(
        "keys::key_is_stored_tested_and_deleted_in_the_keychain",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = mock("hi", 4, 0).await;
        let (dir, engine) = engine(&server, None);
        assert_eq!(engine.key_status().source, KeySource::None);
        let missing = engine.key_test().await.unwrap_err();
        assert_eq!(missing.code(), ErrorCode::MissingApiKey);

        let malformed = engine.key_set("not a key").unwrap_err();
        assert_eq!(malformed.code(), ErrorCode::InvalidInput);
        // Another server's key is its own business (LiteLLM's example master key);
        // OpenAI's address takes only OpenAI's shape of key.
        engine.key_set("sk-1234").unwrap();
        engine.key_delete().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let mut config = tally_core::EngineConfig::new(elsewhere.path());
        config.api_base_override = Some("https://api.openai.com/v1".into());
        config.keychain_service = format!("Tally-test-{}", std::process::id());
        let at_openai = tally_core::Engine::open(config).unwrap();
        let short = at_openai.key_set("sk-1234").unwrap_err();
        assert_eq!(short.code(), ErrorCode::InvalidInput);
        assert!(short.to_string().contains("too short"), "{short}");
        assert_eq!(engine.key_status().source, KeySource::None);

        let status = engine.key_set(&format!("\n  {KEY}  \n")).unwrap();
        assert_eq!(status.source, KeySource::Keychain);
        assert_eq!(status.last_four.as_deref(), Some("abcd"));
        let tested = engine.key_test().await.unwrap();
        assert!(tested.models.contains(&"gpt-4o-mini".to_string()));
        assert!(!tested.models.iter().any(|m| m.contains("embedding")));

        // The key is nowhere in the data folder.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()));
        }

        let wrong = "sk-proj-invalid-key-000000000000000";
        engine.key_set(wrong).unwrap();
        let refused = engine.key_test().await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::InvalidApiKey);
        assert!(
            refused
                .to_string()
                .contains("OpenAI did not accept this key")
        );
        assert!(!refused.to_string().contains("sk-"));

        let status = engine.key_delete().unwrap();
        assert_eq!(status.source, KeySource::None);
    });
}

/// No keychain reachable: the status explains it, and `OPENAI_API_KEY` works for the run.
#[test]
fn without_a_keychain_the_environment_key_is_used() {
    if !in_child(
        "keys::without_a_keychain_the_environment_key_is_used",
        Setup::NoBus,
    ) {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = mock("hi", 4, 0).await;
        let (_dir, engine) = engine(&server, Some(KEY));
        let status = engine.key_status();
        assert_eq!(status.source, KeySource::Environment);
        assert_eq!(status.last_four.as_deref(), Some("abcd"));
        assert!(status.keychain_problem.unwrap().contains("OPENAI_API_KEY"));
        engine.key_test().await.unwrap();
        let refused = engine.key_set(KEY).unwrap_err();
        assert_eq!(refused.code(), ErrorCode::KeychainUnavailable);
    });
}

/// A host other than OpenAI's or this computer's gets the key only once the person said
/// yes to that host; a no, or nobody to ask, keeps it back and writes nothing; a yes is
/// remembered for that host alone, across restarts.
#[test]
fn the_key_goes_to_another_host_only_after_the_person_says_yes() {
    if !in_child(
        "keys::the_key_goes_to_another_host_only_after_the_person_says_yes",
        Setup::NoBus,
    ) {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        // `.invalid` never resolves: a request that gets past the question fails as a
        // network error, at once and without leaving this computer.
        let open = |base: &str| {
            let mut config = tally_core::EngineConfig::new(dir.path());
            config.api_base_override = Some(base.into());
            config.env_api_key = Some(tally_core::SecretString::from(KEY));
            config.keychain_service = format!("Tally-test-{}", std::process::id());
            crate::prepared(tally_core::Engine::open(config).unwrap())
        };
        let asked = Arc::new(Mutex::new(Vec::<String>::new()));
        let answering = |yes: bool| {
            let asked = Arc::clone(&asked);
            move |host: &str| {
                asked.lock().unwrap().push(host.to_string());
                yes
            }
        };
        let asked_so_far = || asked.lock().unwrap().clone();

        let engine = open("https://Gateway.invalid/v1");
        let nobody_to_ask = engine.key_test().await.unwrap_err();
        assert_eq!(nobody_to_ask.code(), ErrorCode::KeyNotSent);
        assert!(
            nobody_to_ask.to_string().contains("gateway.invalid"),
            "{nobody_to_ask}"
        );

        engine.on_key_consent(answering(false));
        let refused = engine.key_test().await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::KeyNotSent, "{refused}");
        assert!(!refused.to_string().contains("sk-"));
        let sent = engine
            .send(ask(None, "Hello there"), Events::default().sink())
            .await;
        assert_eq!(sent.unwrap_err().code(), ErrorCode::KeyNotSent);
        assert!(
            engine
                .conversation_list(&Default::default())
                .unwrap()
                .recent
                .is_empty(),
            "a send whose key was kept back wrote nothing"
        );
        assert_eq!(asked_so_far(), ["gateway.invalid", "gateway.invalid"]);

        engine.on_key_consent(answering(true));
        let cleared = engine.key_test().await.unwrap_err();
        assert_eq!(cleared.code(), ErrorCode::Network, "{cleared}");
        let again = engine.key_test().await.unwrap_err();
        assert_eq!(again.code(), ErrorCode::Network, "{again}");
        assert_eq!(asked_so_far().len(), 3, "a yes is not asked for twice");
        drop(engine);

        // Remembered across a restart, for that host only.
        let engine = open("https://gateway.invalid/v1");
        engine.on_key_consent(answering(false));
        assert_eq!(
            engine.key_test().await.unwrap_err().code(),
            ErrorCode::Network
        );
        assert_eq!(asked_so_far().len(), 3);
        drop(engine);
        let engine = open("https://elsewhere.invalid/v1");
        engine.on_key_consent(answering(false));
        assert_eq!(
            engine.key_test().await.unwrap_err().code(),
            ErrorCode::KeyNotSent
        );
        assert_eq!(
            asked_so_far().last().map(String::as_str),
            Some("elsewhere.invalid")
        );

        // OpenAI's address and this computer are never asked about.
        let asked_before = asked_so_far().len();
        let server = mock("hi", 4, 0).await;
        drop(engine);
        let engine = open(&server.base_url());
        engine.on_key_consent(answering(false));
        engine.key_test().await.unwrap();
        assert_eq!(asked_so_far().len(), asked_before);
    });
}
