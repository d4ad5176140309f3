use tally_store::{ConversationCursor, Store, TRASH_KEEPS_FOR_MS};

fn titles(conversations: &[tally_store::Conversation]) -> Vec<&str> {
    conversations.iter().map(|c| c.title.as_str()).collect()
}

#[test]
fn pages_walk_every_conversation_newest_activity_first() {
    let (_dir, mut store) = crate::open();
    // Equal times are ordered by id, so a page boundary between them loses nothing.
    for (i, at) in [1, 2, 2, 2, 3, 4, 4].into_iter().enumerate() {
        store
            .create_conversation(&format!("c{i}"), "m", at)
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.conversation_page(after, 3).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(ConversationCursor {
            updated_at: last.updated_at,
            id: last.id,
        });
        seen.extend(page.iter().map(|c| c.title.clone()));
    }
    assert_eq!(seen, ["c6", "c5", "c4", "c3", "c2", "c1", "c0"]);

    // Activity moves a conversation to the top.
    let c0 = store.conversation_page(None, 100).unwrap().pop().unwrap();
    store.begin_exchange(c0.id, "hello", "m", 10).unwrap();
    assert_eq!(titles(&store.conversation_page(None, 1).unwrap()), ["c0"]);
}

#[test]
fn pinned_conversations_leave_the_pages_and_keep_their_place_when_renamed() {
    let (_dir, mut store) = crate::open();
    let a = store.create_conversation("A", "m", 1).unwrap();
    let b = store.create_conversation("B", "m", 2).unwrap();
    let c = store.create_conversation("C", "m", 3).unwrap();
    store.set_pinned(a.id, Some(10)).unwrap();
    store.set_pinned(b.id, Some(11)).unwrap();
    assert_eq!(titles(&store.pinned_conversations().unwrap()), ["B", "A"]);
    assert_eq!(titles(&store.conversation_page(None, 10).unwrap()), ["C"]);

    let renamed = store.rename_conversation(a.id, "A, renamed").unwrap();
    assert_eq!(renamed.updated_at, a.updated_at, "renaming is not activity");
    assert_eq!(
        titles(&store.pinned_conversations().unwrap()),
        ["B", "A, renamed"]
    );
    // The new title is what search finds.
    assert_eq!(store.search("renamed", 5).unwrap().hits.len(), 1);

    store.set_pinned(b.id, None).unwrap();
    assert_eq!(
        titles(&store.conversation_page(None, 10).unwrap()),
        ["C", "B"]
    );
    assert!(store.rename_conversation(c.id + 100, "x").is_err());
}

#[test]
fn the_trash_hides_restores_and_purges() {
    let (_dir, mut store) = crate::open();
    let keep = store.create_conversation("Keep", "m", 1).unwrap();
    let old = store.create_conversation("Old trash", "m", 2).unwrap();
    let new = store.create_conversation("New trash", "m", 3).unwrap();
    let (_, reply) = store
        .begin_exchange(old.id, "findable words", "m", 4)
        .unwrap();
    store.set_pinned(new.id, Some(5)).unwrap();

    let day = 24 * 60 * 60 * 1000;
    store.trash_conversation(old.id, 10).unwrap();
    store.trash_conversation(new.id, 10 + 20 * day).unwrap();
    assert_eq!(
        titles(&store.conversation_page(None, 10).unwrap()),
        ["Keep"]
    );
    assert!(store.pinned_conversations().unwrap().is_empty());
    assert_eq!(
        titles(&store.trashed_conversations().unwrap()),
        ["New trash", "Old trash"]
    );
    assert!(store.search("findable", 5).unwrap().hits.is_empty());

    // Restored, it is back where it was: still pinned.
    store.restore_conversation(new.id).unwrap();
    assert_eq!(
        titles(&store.pinned_conversations().unwrap()),
        ["New trash"]
    );
    store.trash_conversation(new.id, 10 + 20 * day).unwrap();

    // 30 days after "Old trash" went to the Trash, it goes for good; "New trash" stays.
    let purge_at = |store: &mut Store, now: i64| store.purge_trash(Some(now - TRASH_KEEPS_FOR_MS));
    assert_eq!(purge_at(&mut store, 10 + 30 * day - 1).unwrap(), 0);
    assert_eq!(purge_at(&mut store, 10 + 30 * day + 1).unwrap(), 1);
    assert!(store.conversation(old.id).is_err());
    assert!(store.message(reply.id).is_err(), "its messages go with it");
    assert_eq!(
        titles(&store.trashed_conversations().unwrap()),
        ["New trash"]
    );

    // Only a conversation in the Trash can be deleted for good.
    assert!(store.delete_trashed_conversation(keep.id).is_err());
    store.delete_trashed_conversation(new.id).unwrap();
    assert_eq!(store.purge_trash(None).unwrap(), 0);
    assert_eq!(
        titles(&store.conversation_page(None, 10).unwrap()),
        ["Keep"]
    );
}

#[test]
fn deleting_for_good_keeps_the_money_spent() {
    let (_dir, mut store) = crate::open();
    let c = store.create_conversation("Paid", "m", 1).unwrap();
    let (_, reply) = store.begin_exchange(c.id, "q", "gpt-4o", 2).unwrap();
    store
        .record_usage(&tally_store::UsageRow {
            created_at: 3,
            conversation_id: Some(c.id),
            message_id: Some(reply.id),
            purpose: tally_store::Purpose::Chat,
            model: "gpt-4o".into(),
            prompt_tokens: 10,
            cached_tokens: 0,
            cache_write_tokens: 0,
            completion_tokens: 5,
            reasoning_tokens: 0,
            web_search_calls: 0,
            cost_nanos: Some(75_000),
            estimated: false,
            request_id: None,
            status: "complete".into(),
            first_token_ms: None,
            duration_ms: None,
        })
        .unwrap();
    store.trash_conversation(c.id, 4).unwrap();
    store.purge_trash(None).unwrap();
    assert_eq!(store.spend_between(0, 10).unwrap().cost_nanos, 75_000);
    assert_eq!(store.usage_rows().unwrap()[0].conversation_id, None);
}

#[test]
fn settings_and_personas_round_trip() {
    let (_dir, mut store) = crate::open();
    let options = tally_store::ConversationOptions {
        temperature: Some(0.25),
        top_p: None,
        max_output_tokens: Some(800),
        presence_penalty: Some(-1.5),
        frequency_penalty: None,
        reasoning_effort: Some("high".into()),
        web_search: true,
        tools: Some(r#"[{"server":"time","tool":"now"}]"#.into()),
        reply_format: Some(r#"{"format":"json"}"#.into()),
    };
    let c = store
        .create_conversation_with("Set", "gpt-4o", Some("Be kind."), &options, 1)
        .unwrap();
    assert_eq!(
        (c.options, c.system_prompt.as_deref()),
        (options, Some("Be kind."))
    );
    let changed = store
        .set_conversation_settings(c.id, "o3", None, &Default::default())
        .unwrap();
    assert_eq!(
        (changed.model.as_str(), changed.system_prompt),
        ("o3", None)
    );
    assert_eq!(changed.options, Default::default());
    assert!(
        store
            .set_conversation_settings(999, "o3", None, &Default::default())
            .is_err()
    );

    let shipped = store.personas().unwrap().len();
    let id = store.save_persona(None, "Tutor", "Teach.", 1).unwrap();
    assert!(matches!(
        store.save_persona(None, "tutor", "Again.", 2),
        Err(tally_store::StoreError::DuplicateName(_))
    ));
    store
        .save_persona(Some(id), "Tutor", "Teach gently.", 3)
        .unwrap();
    assert!(
        store
            .personas()
            .unwrap()
            .iter()
            .any(|p| p.prompt == "Teach gently.")
    );
    assert!(store.save_persona(Some(id + 100), "X", "y", 4).is_err());
    store.delete_persona(id).unwrap();
    assert_eq!(store.personas().unwrap().len(), shipped);
    assert!(store.delete_persona(id).is_err());
}

#[test]
fn mcp_servers_round_trip_with_unique_names_and_valid_json() {
    let (_dir, store) = crate::open();
    let mut row = tally_store::McpServerRow {
        id: 0,
        name: "Time".into(),
        transport: r#"{"kind":"stdio","command":"uvx","args":["mcp-server-time"]}"#.into(),
        enabled: true,
        has_token: false,
    };
    row.id = store.save_mcp_server(&row, 1).unwrap();
    let taken = tally_store::McpServerRow {
        id: 0,
        name: "time".into(),
        ..row.clone()
    };
    assert!(matches!(
        store.save_mcp_server(&taken, 2),
        Err(tally_store::StoreError::DuplicateName(_))
    ));
    let broken = tally_store::McpServerRow {
        name: "Other".into(),
        transport: "{not json".into(),
        ..taken.clone()
    };
    assert!(store.save_mcp_server(&broken, 2).is_err());
    row.enabled = false;
    row.has_token = true;
    store.save_mcp_server(&row, 3).unwrap();
    assert_eq!(store.mcp_servers().unwrap(), [row.clone()]);
    assert_eq!(store.mcp_server(row.id).unwrap(), row);
    store.delete_mcp_server(row.id).unwrap();
    assert!(matches!(
        store.delete_mcp_server(row.id),
        Err(tally_store::StoreError::NoMcpServer(_))
    ));
    assert!(store.mcp_servers().unwrap().is_empty());
}
