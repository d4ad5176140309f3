//! Automatic titles: written by a model after a new conversation's first reply, metered
//! in the ledger as purpose `title`, told to the UI; never over a name the user typed,
//! never past the hard stop, and not at all when turned off.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tally_core::api::{BudgetInput, SettingsUpdate};
use tally_core::{Engine, Notice};

use crate::{Events, KEY, engine, mock};

fn titles_on(engine: &Engine, on: bool) {
    engine
        .settings_set(SettingsUpdate {
            auto_titles: Some(on),
            ..Default::default()
        })
        .unwrap();
}

fn notices(engine: &Engine) -> Arc<Mutex<Vec<Notice>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    engine.on_notice(move |n| sink.lock().unwrap().push(n));
    seen
}

fn assert_no_title_rows(dir: &tempfile::TempDir) {
    let rows = tally_store::Store::open_in(dir.path())
        .unwrap()
        .usage_rows()
        .unwrap();
    assert!(
        rows.iter()
            .all(|r| r.purpose != tally_store::Purpose::Title)
    );
}

/// Waits for the background title request to end (its ledger row is its last write).
async fn title_rows(dir: &tempfile::TempDir, count: usize) -> Vec<tally_store::UsageRow> {
    for _ in 0..200 {
        let rows = tally_store::Store::open_in(dir.path())
            .unwrap()
            .usage_rows()
            .unwrap();
        let titles: Vec<_> = rows
            .into_iter()
            .filter(|r| r.purpose == tally_store::Purpose::Title)
            .collect();
        if titles.len() >= count {
            return titles;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no title request");
}

#[tokio::test]
async fn the_first_reply_brings_a_title_metered_in_the_ledger() {
    let server = mock("Fushimi Inari at dawn, then Nishiki market.", 100, 0).await;
    let (dir, engine) = engine(&server, Some(KEY));
    titles_on(&engine, true);
    assert!(engine.settings_get().unwrap().auto_titles);
    let seen = notices(&engine);
    engine
        .send(
            crate::ask(
                None,
                "What should I see in Kyoto in three days, on a budget?",
            ),
            Events::default().sink(),
        )
        .await
        .unwrap();
    let rows = title_rows(&dir, 1).await;
    assert_eq!(rows[0].model, "gpt-4o-mini");
    assert!(rows[0].cost_nanos.unwrap() > 0);
    assert!(!rows[0].estimated);
    assert_eq!(rows[0].message_id, None);

    // The mock titles a conversation with the first words of its first message.
    let id = crate::recent(&engine)[0].id;
    let titled = |seen: &[Notice]| {
        seen.iter().find_map(|n| match n {
            Notice::ConversationTitled(t) => Some(t.clone()),
            _ => None,
        })
    };
    for _ in 0..100 {
        if titled(&seen.lock().unwrap()).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let told = titled(&seen.lock().unwrap()).expect("a title notice");
    assert_eq!(told.conversation_id, id);
    assert_eq!(told.title, "What should I see in Kyoto");
    assert_eq!(
        engine.conversation_get(id).unwrap().conversation.title,
        told.title
    );
    // The title request carried the instruction, the message and the reply.
    let request = server
        .requests()
        .into_iter()
        .find(|r| r.messages[0].content.starts_with("Write a title"))
        .unwrap();
    assert_eq!(request.max_tokens, Some(24));
    assert!(request.messages[1].content.contains("Nishiki market"));

    // Later replies in the same conversation ask for no other title.
    engine
        .send(
            crate::ask(Some(id), "And on day four?"),
            Events::default().sink(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(title_rows(&dir, 1).await.len(), 1);
}

#[tokio::test]
async fn titles_can_be_turned_off_and_never_replace_a_name_the_user_typed() {
    let server = mock("Sure.", 100, 0).await;
    let (dir, engine) = engine(&server, Some(KEY));
    engine
        .send(
            crate::ask(None, "No title please"),
            Events::default().sink(),
        )
        .await
        .unwrap();
    let id = crate::recent(&engine)[0].id;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(engine.title_conversation(id).await.unwrap(), None, "off");
    assert_eq!(
        engine.conversation_get(id).unwrap().conversation.title,
        "No title please"
    );

    // Renamed before the model's title arrives: the user's name stays.
    titles_on(&engine, true);
    engine.conversation_rename(id, "My own name").unwrap();
    assert_eq!(engine.title_conversation(id).await.unwrap(), None);
    assert_eq!(
        engine.conversation_get(id).unwrap().conversation.title,
        "My own name"
    );
    // No request was made for it.
    assert_no_title_rows(&dir);
}

#[tokio::test]
async fn no_title_past_the_hard_stop() {
    let server = mock("Sure.", 100, 0).await;
    let (dir, engine) = engine(&server, Some(KEY));
    titles_on(&engine, true);
    engine
        .budget_set(BudgetInput {
            amount: "0.000001".into(),
            reset_day: 1,
            thresholds: vec![100],
            hard_stop: true,
        })
        .unwrap();
    let mut ask = crate::ask(None, "Send this anyway");
    ask.allow_over_budget = Some(true);
    engine.send(ask, Events::default().sink()).await.unwrap();
    let id = crate::recent(&engine)[0].id;
    assert_eq!(engine.title_conversation(id).await.unwrap(), None);
    assert_no_title_rows(&dir);
}
