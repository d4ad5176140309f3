use tally_store::{MessageOutcome, MessageStatus, Role, Store, StoreError};

#[test]
fn an_exchange_is_written_as_a_branch() {
    let (_dir, mut store) = crate::open();
    let c = store
        .create_conversation("Hello", "gpt-4o-mini", 1_000)
        .unwrap();
    assert!(store.current_branch(c.id).unwrap().is_empty());

    let (user, reply) = store
        .begin_exchange(c.id, "hi there", "gpt-4o-mini", 2_000)
        .unwrap();
    assert_eq!(user.role, Role::User);
    assert_eq!(user.parent_id, None);
    assert_eq!(reply.parent_id, Some(user.id));
    assert_eq!(reply.status, MessageStatus::Streaming);
    assert_eq!(
        store.conversation(c.id).unwrap().current_leaf_id,
        Some(reply.id)
    );

    store.save_partial_reply(reply.id, "Hel", 2_100).unwrap();
    assert_eq!(store.message(reply.id).unwrap().content, "Hel");
    let outcome = MessageOutcome {
        status: MessageStatus::Complete,
        finish_reason: Some("stop".into()),
        error_code: None,
        error_message: None,
    };
    store
        .finish_reply(reply.id, "Hello!", &outcome, 2_200)
        .unwrap();
    // A late flush never overwrites a finished reply.
    store.save_partial_reply(reply.id, "Hel", 2_300).unwrap();

    let (user2, reply2) = store
        .begin_exchange(c.id, "again", "gpt-4o-mini", 3_000)
        .unwrap();
    assert_eq!(user2.parent_id, Some(reply.id));
    let branch = store.current_branch(c.id).unwrap();
    let ids: Vec<i64> = branch.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![user.id, reply.id, user2.id, reply2.id]);
    assert_eq!(branch[1].content, "Hello!");
    assert_eq!(branch[1].finish_reason.as_deref(), Some("stop"));
}

#[test]
fn unfinished_replies_become_interrupted_with_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let reply_id = {
        let mut store = Store::open_in(dir.path()).unwrap();
        let c = store.create_conversation("T", "m", 1).unwrap();
        let (_, reply) = store.begin_exchange(c.id, "q", "m", 2).unwrap();
        store
            .save_partial_reply(reply.id, "partial ans", 3)
            .unwrap();
        reply.id
        // dropped without finishing, as a crash would
    };
    let store = Store::open_in(dir.path()).unwrap();
    assert_eq!(store.mark_unfinished_replies_interrupted(4).unwrap(), 1);
    let reply = store.message(reply_id).unwrap();
    assert_eq!(reply.status, MessageStatus::Interrupted);
    assert_eq!(reply.content, "partial ans");
}

#[test]
fn missing_rows_are_errors_not_panics() {
    let (_dir, mut store) = crate::open();
    assert!(matches!(
        store.conversation(42),
        Err(StoreError::NoConversation(42))
    ));
    assert!(matches!(store.message(7), Err(StoreError::NoMessage(7))));
    assert!(matches!(
        store.begin_exchange(42, "x", "m", 1),
        Err(StoreError::NoConversation(42))
    ));
}

#[test]
fn a_retried_reply_is_a_sibling_and_a_continued_one_streams_again() {
    let (_dir, mut store) = crate::open();
    let c = store.create_conversation("T", "m", 1).unwrap();
    let (user, first) = store.begin_exchange(c.id, "q", "m", 2).unwrap();
    let failed = MessageOutcome {
        status: MessageStatus::Interrupted,
        finish_reason: None,
        error_code: Some("network".into()),
        error_message: Some("cut off".into()),
    };
    store.finish_reply(first.id, "half", &failed, 3).unwrap();

    let second = store.begin_reply(c.id, user.id, "m", 4).unwrap();
    assert_eq!(second.parent_id, Some(user.id));
    assert_eq!(second.status, MessageStatus::Streaming);
    let ids: Vec<i64> = store
        .current_branch(c.id)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, [user.id, second.id]);
    assert_eq!(
        store.message(first.id).unwrap().content,
        "half",
        "the old reply is kept"
    );

    let resumed = store.resume_reply(first.id, 5).unwrap();
    assert_eq!(resumed.status, MessageStatus::Streaming);
    assert_eq!(resumed.content, "half");
    assert_eq!(resumed.error_code, None);

    assert!(matches!(
        store.begin_reply(c.id, 999, "m", 6),
        Err(StoreError::NoMessage(999))
    ));
    assert!(
        matches!(
            store.resume_reply(user.id, 6),
            Err(StoreError::NoMessage(_))
        ),
        "not a reply"
    );
}
