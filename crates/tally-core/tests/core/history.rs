//! The sidebar's use cases: pages, pins, renaming and the Trash, with sends refused in a
//! trashed conversation and the Trash emptying itself after 30 days.

use std::sync::atomic::Ordering;

use tally_core::api::{ConversationCursor, ConversationListQuery, ErrorCode};

use crate::{DAY, Events, Setup, ask, mock};

fn titles(list: &[tally_core::api::ConversationSummary]) -> Vec<&str> {
    list.iter().map(|c| c.title.as_str()).collect()
}

#[tokio::test]
async fn pages_pins_renames_and_the_trash() {
    let server = mock("Sure.", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    let mut ids = Vec::new();
    for i in 0..5 {
        setup.now.fetch_add(1000, Ordering::SeqCst);
        engine
            .send(
                ask(None, &format!("Question {i}")),
                Events::default().sink(),
            )
            .await
            .unwrap();
        ids.push(crate::recent(&engine)[0].id);
    }

    // Two pages of two, then the last one, then none.
    let page = |after: Option<ConversationCursor>| {
        engine
            .conversation_list(&ConversationListQuery {
                after,
                limit: Some(2),
            })
            .unwrap()
    };
    let first = page(None);
    assert_eq!(titles(&first.recent), ["Question 4", "Question 3"]);
    let second = page(first.next);
    assert_eq!(titles(&second.recent), ["Question 2", "Question 1"]);
    let third = page(second.next);
    assert_eq!(titles(&third.recent), ["Question 0"]);
    assert_eq!(third.next, None, "a short page is the last");

    // Pins come first, on the first page only.
    let pinned = engine.conversation_pin(ids[0], true).unwrap();
    assert!(pinned.pinned);
    let first = page(None);
    assert_eq!(titles(&first.pinned), ["Question 0"]);
    assert!(page(first.next).pinned.is_empty());

    // Names are trimmed to one line and checked.
    let renamed = engine
        .conversation_rename(ids[1], "  Trip\n plan  ")
        .unwrap();
    assert_eq!(renamed.title, "Trip plan");
    for bad in ["", "   \n", &"x".repeat(201)] {
        let error = engine.conversation_rename(ids[1], bad).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput, "{bad:?}");
    }
    assert_eq!(
        engine.conversation_rename(9999, "x").unwrap_err().code(),
        ErrorCode::NotFound
    );

    // The Trash: gone from the list and search, no new messages, back with Restore.
    let trashed = engine.conversation_trash(ids[0]).unwrap();
    assert!(trashed.deleted_at.is_some());
    assert!(page(None).pinned.is_empty());
    assert!(engine.search("Question 0").unwrap().hits.is_empty());
    let refused = engine
        .send(ask(Some(ids[0]), "Still there?"), Events::default().sink())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidInput);
    assert!(refused.to_string().contains("Trash"), "{refused}");
    let retry = engine
        .retry(ids[0], None, false, Events::default().sink())
        .await
        .unwrap_err();
    assert_eq!(retry.code(), ErrorCode::InvalidInput);
    assert_eq!(engine.conversation_get(ids[0]).unwrap().messages.len(), 2);
    assert_eq!(titles(&engine.trash_list().unwrap()), ["Question 0"]);
    engine.conversation_restore(ids[0]).unwrap();
    assert_eq!(titles(&page(None).pinned), ["Question 0"], "still pinned");

    // Deleted for good, one by one or all at once; the money stays in the ledger.
    let spent = engine.spend_summary().unwrap().spent_nanos;
    engine.conversation_trash(ids[2]).unwrap();
    engine.conversation_trash(ids[3]).unwrap();
    assert_eq!(
        titles(&engine.trash_delete(ids[2]).unwrap()),
        ["Question 3"]
    );
    let not_trashed = engine.trash_delete(ids[1]).unwrap_err();
    assert_eq!(
        not_trashed.code(),
        ErrorCode::NotFound,
        "only what is in the Trash"
    );
    assert!(
        not_trashed.to_string().contains("not in the Trash"),
        "{not_trashed}"
    );
    assert_eq!(engine.trash_empty().unwrap(), 1);
    assert!(engine.trash_list().unwrap().is_empty());
    assert_eq!(engine.spend_summary().unwrap().spent_nanos, spent);
    assert_eq!(crate::recent(&engine).len(), 2);
}

#[tokio::test]
async fn the_trash_empties_itself_after_30_days() {
    let server = mock("Sure.", 100, 0).await;
    let setup = Setup::new(&server);
    let engine = setup.open();
    engine
        .send(ask(None, "Old question"), Events::default().sink())
        .await
        .unwrap();
    let id = crate::recent(&engine)[0].id;
    engine.conversation_trash(id).unwrap();

    setup.now.fetch_add(29 * DAY, Ordering::SeqCst);
    assert_eq!(
        engine.trash_list().unwrap().len(),
        1,
        "29 days: still there"
    );
    drop(engine);

    // A restart after 30 days removes it.
    setup.now.fetch_add(DAY + 1, Ordering::SeqCst);
    let engine = setup.open();
    assert_eq!(
        engine.conversation_get(id).unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert!(engine.trash_list().unwrap().is_empty());
}
