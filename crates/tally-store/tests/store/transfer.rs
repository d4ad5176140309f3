use tally_store::{ConversationOptions, MessageOutcome, MessageStatus, Purpose, Store, UsageRow};

fn done() -> MessageOutcome {
    MessageOutcome {
        status: MessageStatus::Complete,
        finish_reason: Some("stop".into()),
        error_code: None,
        error_message: None,
    }
}

fn usage(conversation_id: i64, message_id: i64, cost: i64) -> UsageRow {
    UsageRow {
        created_at: 5_000,
        conversation_id: Some(conversation_id),
        message_id: Some(message_id),
        purpose: Purpose::Chat,
        model: "gpt-4o".into(),
        prompt_tokens: 10,
        cached_tokens: 2,
        cache_write_tokens: 3,
        completion_tokens: 5,
        reasoning_tokens: 0,
        web_search_calls: 0,
        cost_nanos: Some(cost),
        estimated: false,
        request_id: Some("req_1".into()),
        status: "complete".into(),
        first_token_ms: Some(300),
        duration_ms: Some(900),
    }
}

/// A conversation with two versions of its reply and a ledger row for each.
fn branched(store: &mut Store) -> i64 {
    let options = ConversationOptions {
        temperature: Some(0.4),
        max_output_tokens: Some(300),
        ..Default::default()
    };
    let c = store
        .create_conversation_with("Branches", "gpt-4o", Some("Be brief."), &options, 1_000)
        .unwrap();
    let (user, first) = store
        .begin_exchange(c.id, "Which one?", "gpt-4o", 1_000)
        .unwrap();
    store
        .finish_reply(first.id, "The first answer", &done(), 2_000)
        .unwrap();
    store.record_usage(&usage(c.id, first.id, 700)).unwrap();
    let second = store.begin_reply(c.id, user.id, "gpt-4o", 3_000).unwrap();
    store
        .finish_reply(second.id, "The second answer", &done(), 4_000)
        .unwrap();
    store.record_usage(&usage(c.id, second.id, 900)).unwrap();
    store.set_pinned(c.id, Some(4_500)).unwrap();
    c.id
}

#[test]
fn a_conversation_moves_to_another_database_whole() {
    let (_a_dir, mut a) = crate::open();
    let id = branched(&mut a);
    let tree = a.conversation_tree(id).unwrap();
    assert_eq!(tree.messages.len(), 3, "both versions of the reply");
    assert_eq!(tree.usage.len(), 2);
    assert_eq!(tree.uid.len(), 32);

    let (_b_dir, mut b) = crate::open();
    b.create_conversation("Already here", "gpt-4o", 1).unwrap();
    let copy = b.import_conversation(&tree).unwrap();
    assert_ne!(copy, id);
    let back = b.conversation_tree(copy).unwrap();
    assert_eq!(back.uid, tree.uid);
    let same = |t: &tally_store::ConversationTree| {
        let mut c = t.conversation.clone();
        c.id = 0;
        c.current_leaf_id = None;
        c
    };
    assert_eq!(same(&back), same(&tree), "title, settings, times and pin");
    // The same tree: the same texts under the same parents, the same leaf on screen.
    let shape = |t: &tally_store::ConversationTree| {
        let index =
            |id: Option<i64>| id.map(|id| t.messages.iter().position(|m| m.id == id).unwrap());
        let messages: Vec<_> = t
            .messages
            .iter()
            .map(|m| {
                (
                    index(m.parent_id),
                    m.role,
                    m.content.clone(),
                    m.status,
                    m.created_at,
                )
            })
            .collect();
        (messages, index(t.conversation.current_leaf_id))
    };
    assert_eq!(shape(&back), shape(&tree));
    assert_eq!(
        b.current_branch(copy).unwrap()[1].content,
        "The second answer"
    );
    // Its costs came along, attached to the same replies.
    let costs: Vec<_> = back
        .usage
        .iter()
        .map(|u| (u.cost_nanos, u.message_id))
        .collect();
    assert_eq!(
        costs,
        vec![
            (Some(700), Some(back.messages[1].id)),
            (Some(900), Some(back.messages[2].id))
        ]
    );
    assert_eq!(b.conversation_cost(copy).unwrap(), 1_600);
    // Found by its uid, and searchable.
    assert_eq!(b.conversation_with_uid(&tree.uid).unwrap(), Some(copy));
    assert_eq!(b.conversation_with_uid("nope").unwrap(), None);
    assert_eq!(b.search("second", 10).unwrap().hits.len(), 1);
}

#[test]
fn every_conversation_has_its_own_uid_and_the_trash_is_not_exported() {
    let (_dir, mut store) = crate::open();
    let a = store.create_conversation("A", "gpt-4o", 1).unwrap().id;
    let b = store.create_conversation("B", "gpt-4o", 2).unwrap().id;
    let c = store.create_conversation("C", "gpt-4o", 3).unwrap().id;
    store.trash_conversation(b, 10).unwrap();
    let uids: std::collections::HashSet<_> = [a, b, c]
        .iter()
        .map(|id| store.conversation_tree(*id).unwrap().uid)
        .collect();
    assert_eq!(uids.len(), 3);
    assert_eq!(store.all_conversation_ids().unwrap(), vec![c, a]);
}

#[test]
fn a_reply_cut_off_elsewhere_arrives_interrupted() {
    let (_a_dir, mut a) = crate::open();
    let c = a.create_conversation("Cut", "gpt-4o", 1).unwrap();
    let (_, reply) = a.begin_exchange(c.id, "Hi", "gpt-4o", 1).unwrap();
    a.save_partial_reply(reply.id, "Half a", 2).unwrap();
    let tree = a.conversation_tree(c.id).unwrap();
    assert_eq!(tree.messages[1].status, MessageStatus::Streaming);
    let (_b_dir, mut b) = crate::open();
    let copy = b.import_conversation(&tree).unwrap();
    let branch = b.current_branch(copy).unwrap();
    assert_eq!(
        (branch[1].content.as_str(), branch[1].status),
        ("Half a", MessageStatus::Interrupted)
    );
}

/// Rows keep their identity across export and import when the file has it, and get one
/// made from the conversation's otherwise; a file whose rows' identities are taken already
/// (under another conversation) still imports, its rows given new ones.
#[test]
fn imported_rows_keep_or_make_up_their_identity_and_never_collide() {
    let (_a_dir, mut a) = crate::open();
    let id = branched(&mut a);
    let tree = a.conversation_tree(id).unwrap();
    assert_eq!(tree.uids.messages.len(), 3);
    assert_eq!(tree.uids.usage.len(), 2);

    let (_b_dir, mut b) = crate::open();
    let copy = b.import_conversation(&tree).unwrap();
    assert_eq!(b.conversation_tree(copy).unwrap().uids, tree.uids, "kept");

    // Without them (an older file, ChatGPT's): made up, the same in every database.
    let bare = tally_store::ConversationTree {
        uids: Default::default(),
        ..tree.clone()
    };
    let made_up: Vec<_> = (0..2)
        .map(|_| {
            let (_dir, mut store) = crate::open();
            let copy = store.import_conversation(&bare).unwrap();
            store.conversation_tree(copy).unwrap().uids
        })
        .collect();
    assert_eq!(made_up[0], made_up[1]);
    assert_ne!(made_up[0], tree.uids);

    // The same rows under another conversation's uid, into a database that has them.
    let again = tally_store::ConversationTree {
        uid: "another-conversation".into(),
        ..tree.clone()
    };
    let second = b.import_conversation(&again).unwrap();
    let second_uids = b.conversation_tree(second).unwrap().uids;
    assert_eq!(second_uids.messages.len(), 3);
    assert!(
        second_uids.messages.values().all(|uid| !tree
            .uids
            .messages
            .values()
            .any(|taken| taken == uid))
    );
}
