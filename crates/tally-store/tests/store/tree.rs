use tally_store::{MessageOutcome, MessageStatus, Store};

fn done(store: &Store, id: i64, text: &str) {
    let outcome = MessageOutcome {
        status: MessageStatus::Complete,
        finish_reason: Some("stop".into()),
        error_code: None,
        error_message: None,
    };
    store.finish_reply(id, text, &outcome, 5).unwrap();
}

fn contents(store: &Store, conversation: i64) -> Vec<String> {
    store
        .current_branch(conversation)
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect()
}

/// q1 → a1 → q2 → a2, then a second answer to q2 and an edited q1.
#[test]
fn regenerated_and_edited_messages_are_siblings_and_branches_can_be_switched() {
    let (_dir, mut store) = crate::open();
    let c = store.create_conversation("Tree", "m", 1).unwrap().id;
    let (q1, a1) = store.begin_exchange(c, "q1", "m", 2).unwrap();
    done(&store, a1.id, "a1");
    let (q2, a2) = store.begin_exchange(c, "q2", "m", 3).unwrap();
    done(&store, a2.id, "a2");
    let a2b = store.begin_reply(c, q2.id, "m", 4).unwrap();
    done(&store, a2b.id, "a2 again");
    assert_eq!(contents(&store, c), ["q1", "a1", "q2", "a2 again"]);

    let branch = store.current_branch(c).unwrap();
    let siblings = store.siblings_on_branch(c, &branch).unwrap();
    assert_eq!(siblings.len(), 1, "only the regenerated reply has siblings");
    assert_eq!(siblings[&a2b.id], [a2.id, a2b.id]);

    // Editing q1 starts a branch beside it.
    let (q1b, a1b) = store
        .begin_exchange_under(c, q1.parent_id, "q1 edited", "m", 6)
        .unwrap();
    done(&store, a1b.id, "a1 for the edit");
    assert_eq!(contents(&store, c), ["q1 edited", "a1 for the edit"]);
    let branch = store.current_branch(c).unwrap();
    assert_eq!(
        store.siblings_on_branch(c, &branch).unwrap()[&q1b.id],
        [q1.id, q1b.id]
    );

    // Back to the first version: the branch continues to its newest reply.
    store.switch_to(c, q1.id).unwrap();
    assert_eq!(contents(&store, c), ["q1", "a1", "q2", "a2 again"]);
    store.switch_to(c, a2.id).unwrap();
    assert_eq!(contents(&store, c), ["q1", "a1", "q2", "a2"]);

    // A message of another conversation cannot be switched to or branched under.
    let other = store.create_conversation("Other", "m", 7).unwrap().id;
    assert!(store.switch_to(other, q1.id).is_err());
    assert!(
        store
            .begin_exchange_under(other, Some(q1.id), "x", "m", 8)
            .is_err()
    );
    assert!(
        store
            .begin_exchange_under(other + 1, None, "x", "m", 8)
            .is_err()
    );
}

#[test]
fn deleting_a_message_removes_what_grew_from_it_and_keeps_a_sensible_branch() {
    let (_dir, mut store) = crate::open();
    let c = store.create_conversation("Tree", "m", 1).unwrap().id;
    let (_q1, a1) = store.begin_exchange(c, "q1", "m", 2).unwrap();
    done(&store, a1.id, "a1");
    let (q2, a2) = store.begin_exchange(c, "q2", "m", 3).unwrap();
    done(&store, a2.id, "a2");
    let a2b = store.begin_reply(c, q2.id, "m", 4).unwrap();
    done(&store, a2b.id, "a2b");
    let (_q3, a3) = store.begin_exchange(c, "q3", "m", 5).unwrap();
    done(&store, a3.id, "a3");
    assert_eq!(contents(&store, c), ["q1", "a1", "q2", "a2b", "q3", "a3"]);

    // A reply with a sibling: the branch goes on through the sibling.
    let leaf = store.delete_message(a2b.id).unwrap();
    assert_eq!(leaf, Some(a2.id));
    assert_eq!(contents(&store, c), ["q1", "a1", "q2", "a2"]);
    assert!(
        store.message(a3.id).is_err(),
        "what grew from it is gone too"
    );

    // Off the branch: the branch stays as it is.
    let a2c = store.begin_reply(c, q2.id, "m", 6).unwrap();
    done(&store, a2c.id, "a2c");
    store.switch_to(c, a2.id).unwrap();
    assert_eq!(store.delete_message(a2c.id).unwrap(), Some(a2.id));

    // The last sibling: the branch ends at its parent.
    assert_eq!(store.delete_message(a2.id).unwrap(), Some(q2.id));
    assert_eq!(contents(&store, c), ["q1", "a1", "q2"]);
    // The whole conversation, from its first message.
    let first = store.current_branch(c).unwrap()[0].id;
    assert_eq!(store.delete_message(first).unwrap(), None);
    assert!(contents(&store, c).is_empty());
    assert!(store.delete_message(first).is_err());
}
