use tally_store::{MARK_END, MARK_START, MessageOutcome, MessageStatus, Store};

fn exchange(store: &mut Store, conversation: i64, question: &str, answer: &str) -> (i64, i64) {
    let (user, reply) = store
        .begin_exchange(conversation, question, "gpt-4o-mini", 1)
        .unwrap();
    // Streamed text is saved as it grows; the index follows every save.
    store
        .save_partial_reply(reply.id, &answer[..answer.len() / 2], 2)
        .unwrap();
    let outcome = MessageOutcome {
        status: MessageStatus::Complete,
        finish_reason: Some("stop".into()),
        error_code: None,
        error_message: None,
    };
    store.finish_reply(reply.id, answer, &outcome, 3).unwrap();
    (user.id, reply.id)
}

#[test]
fn finds_words_prefixes_and_titles_with_highlighted_snippets() {
    let (_dir, mut store) = crate::open();
    let trip = store
        .create_conversation("Trip to Kyōto", "gpt-4o-mini", 1)
        .unwrap();
    let cake = store
        .create_conversation("Baking", "gpt-4o-mini", 1)
        .unwrap();
    let (_, reply) = exchange(
        &mut store,
        trip.id,
        "Plan three days in Kyoto",
        "Day one: Fushimi Inari at dawn, then the Nishiki market for lunch.",
    );
    exchange(
        &mut store,
        cake.id,
        "A lemon cake recipe?",
        "Zest two lemons and cream the butter.",
    );

    let found = store.search("nishiki", 10).unwrap();
    assert!(found.by_relevance);
    assert_eq!(found.hits.len(), 1);
    let hit = &found.hits[0];
    assert_eq!(
        (hit.conversation_id, hit.message_id),
        (trip.id, Some(reply))
    );
    assert!(
        hit.snippet
            .contains(&format!("{MARK_START}Nishiki{MARK_END}")),
        "{}",
        hit.snippet
    );
    // The last word is a prefix; accents do not matter; every word must match.
    assert_eq!(
        store.search("lemo", 10).unwrap().hits.len(),
        2,
        "question and answer"
    );
    assert_eq!(
        store.search("kyoto", 10).unwrap().hits[0].message_id,
        None,
        "title first"
    );
    assert!(store.search("kyoto cake", 10).unwrap().hits.is_empty());
    // Text that would be FTS5 syntax is just text.
    assert!(
        store
            .search(r#"NOT "unclosed OR *"#, 10)
            .unwrap()
            .hits
            .is_empty()
    );
    assert!(store.search("  ", 10).unwrap().hits.is_empty());
}

#[test]
fn the_index_follows_edits_and_deletes() {
    let (dir, mut store) = crate::open();
    let c = store
        .create_conversation("Notes", "gpt-4o-mini", 1)
        .unwrap();
    let (_, reply) = exchange(
        &mut store,
        c.id,
        "question",
        "the original answer mentions zebras",
    );
    assert_eq!(store.search("zebras", 10).unwrap().hits.len(), 1);
    let outcome = MessageOutcome {
        status: MessageStatus::Complete,
        finish_reason: None,
        error_code: None,
        error_message: None,
    };
    store
        .finish_reply(reply, "now it is about giraffes", &outcome, 4)
        .unwrap();
    assert!(store.search("zebras", 10).unwrap().hits.is_empty());
    assert_eq!(store.search("giraffes", 10).unwrap().hits.len(), 1);
    drop(store);
    // Deleting a conversation deletes its messages, and they leave the index.
    let conn = rusqlite::Connection::open(dir.path().join(tally_store::DB_FILE_NAME)).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn.execute("DELETE FROM conversations WHERE id = ?1", [c.id])
        .unwrap();
    let indexed: i64 = conn
        .query_row(
            "SELECT count(*) FROM message_search WHERE message_search MATCH 'giraffes'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexed, 0);
    conn.execute(
        "INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .unwrap();
    drop(conn);
    let store = Store::open_in(dir.path()).unwrap();
    assert!(store.search("giraffes", 10).unwrap().hits.is_empty());
}

#[test]
fn very_common_words_list_the_newest_matches() {
    let (_dir, mut store) = crate::open();
    let c = store.create_conversation("Many", "gpt-4o-mini", 1).unwrap();
    let mut last = 0;
    for i in 0..1_100 {
        last = exchange(
            &mut store,
            c.id,
            &format!("common question {i}"),
            "common answer",
        )
        .1;
    }
    let found = store.search("common", 5).unwrap();
    assert!(!found.by_relevance, "over 2,000 matches: newest first");
    assert_eq!(found.hits[0].message_id, Some(last));
    assert_eq!(found.hits.len(), 5);
    let rare = store.search("1099", 5).unwrap();
    assert!(rare.by_relevance);
    assert_eq!(rare.hits.len(), 1);
}
