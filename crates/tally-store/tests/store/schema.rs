use tally_store::{DB_FILE_NAME, Store, migrations};

#[test]
fn migrations_are_valid() {
    migrations().validate().unwrap();
}

#[test]
fn opens_in_wal_mode_at_the_latest_version_and_reopens() {
    let (dir, store) = crate::open();
    assert_eq!(store.journal_mode().unwrap(), "wal");
    let version = store.schema_version().unwrap();
    assert!(version >= 1);
    drop(store);
    assert!(dir.path().join(DB_FILE_NAME).is_file());
    let again = Store::open_in(dir.path()).unwrap();
    assert_eq!(again.schema_version().unwrap(), version);
}

#[test]
fn creates_missing_data_folders() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/c");
    Store::open_in(&nested).unwrap();
    assert!(nested.join(DB_FILE_NAME).is_file());
}

#[test]
fn settings_round_trip() {
    let (_dir, store) = crate::open();
    assert_eq!(store.setting("default_model").unwrap(), None);
    store.set_setting("default_model", "gpt-4o").unwrap();
    store.set_setting("default_model", "gpt-4o-mini").unwrap();
    assert_eq!(
        store.setting("default_model").unwrap().as_deref(),
        Some("gpt-4o-mini")
    );
}

/// Data as each schema version could hold it; inserted after migrating to that version.
const DATA_AT_VERSION: &[&str] = &[
    "INSERT INTO conversations (id, title, model, created_at, updated_at) VALUES (1, 'Old', 'gpt-4o', 1, 1);
     INSERT INTO messages (id, conversation_id, role, content, status, created_at, updated_at)
         VALUES (1, 1, 'user', 'hello from v1', 'complete', 1, 1);
     UPDATE conversations SET current_leaf_id = 1;
     INSERT INTO usage_ledger (created_at, conversation_id, message_id, purpose, model,
         prompt_tokens, cached_tokens, completion_tokens, reasoning_tokens, cost_nanos,
         estimated, status)
     VALUES (1000, 1, 1, 'chat', 'gpt-4o', 10, 0, 5, 0, 75000, 0, 'complete'),
            (2000, 1, 1, 'chat', 'gpt-4o', 10, 0, 5, 0, 800, 1, 'stopped'),
            (1000000, 1, 1, 'chat', 'llama3', 10, 0, 5, 0, NULL, 0, 'complete');",
    "INSERT INTO request_log (started_at, model, attempt, http_status)
         VALUES (1000, 'gpt-4o', 1, 200);",
    "INSERT INTO price_overrides (model, input_nanos, output_nanos, context_window,
         max_output, updated_at) VALUES ('llama3', 0, 0, 8192, 2048, 1);
     INSERT INTO budget_alerts (period_start, threshold, fired_at) VALUES (0, 50, 1);",
    "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, created_at, updated_at)
         VALUES (2, 1, 1, 'assistant', 'written at version four', 'complete', 2, 2);",
    "INSERT INTO conversations (id, title, model, created_at, updated_at, pinned_at, deleted_at)
         VALUES (2, 'Pinned at v5', 'gpt-4o', 5, 5, 6, NULL),
                (3, 'Trashed at v5', 'gpt-4o', 5, 5, NULL, 7);",
    "UPDATE conversations SET temperature = 0.5, max_output_tokens = 100 WHERE id = 2;
     INSERT INTO personas (name, prompt, created_at, updated_at) VALUES ('Mine', 'p', 1, 1);",
    "INSERT INTO conversations (id, title, model, created_at, updated_at, uid)
         VALUES (4, 'Imported at v7', 'gpt-4o', 8, 8, 'chatgpt:abc');",
    "INSERT INTO settings (key, value) VALUES ('written_at', 'v8');",
    "INSERT INTO settings (key, value) VALUES ('written_at_v9', 'v9');",
    "INSERT INTO settings (key, value) VALUES ('written_at_v10', 'v10');",
    "INSERT INTO settings (key, value) VALUES ('written_at_v11', 'v11');",
    "INSERT INTO settings (key, value) VALUES ('written_at_v12', 'v12');",
    "INSERT INTO mcp_servers (name, transport, created_at, updated_at)
         VALUES ('time', '{\"kind\":\"stdio\",\"command\":\"uvx\"}', 1, 1);",
    "INSERT INTO tool_permissions (server, tool, created_at) VALUES ('time', 'now', 1);",
    "UPDATE conversations SET tools = '[{\"server\":\"time\",\"tool\":\"now\"}]' WHERE id = 2;",
    "INSERT INTO attachments (id, sha256, kind, mime, content, width, height, created_at)
         VALUES (1, printf('%064d', 1), 'image', 'image/png', x'89504e47', 1, 1, 1);
     INSERT INTO message_attachments (message_id, position, attachment_id, name)
         VALUES (1, 0, 1, 'dot.png');",
    "INSERT INTO sync_devices (device, name) VALUES ('0123456789abcdef', 'Laptop');",
    "INSERT INTO messages (id, conversation_id, role, content, status, created_at, updated_at)
         VALUES (90, 1, 'assistant', 'indexed at v18', 'complete', 2, 2);",
    "INSERT INTO personas (name, prompt, created_at, updated_at) VALUES ('At v19', 'p', 3, 3);",
];

/// Rows an import of an earlier version could write (a negative cost, a cost that would
/// overflow a month's sum, a formula for a status) are made harmless by the upgrade, and
/// the database refuses such rows from then on, whoever writes them.
#[test]
fn the_ledger_refuses_rows_out_of_any_real_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    let poisoned = "INSERT INTO usage_ledger (created_at, purpose, model, prompt_tokens,
            cached_tokens, completion_tokens, reasoning_tokens, cost_nanos, estimated, status)
        VALUES (1000, 'chat', 'm', 1, 0, 1, 0, -5000000000, 0, 'complete'),
               (2000, 'chat', 'm', 1, 0, 1, 0, 9223372036854775807, 0, 'complete'),
               (3000, 'chat', 'm', 1, 0, 1, 0, 700, 0, '=HYPERLINK(\"http://x\")'),
               (4000, 'chat', 'm', 1, 0, 1, 0, 800, 0, 'complete');";
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        migrations().to_version(&mut conn, 7).unwrap();
        conn.execute_batch(poisoned).unwrap();
    }
    let store = Store::open(&path).unwrap();
    let rows = store.usage_rows().unwrap();
    assert_eq!(rows.len(), 4, "no row is lost");
    let costs: Vec<_> = rows.iter().map(|r| r.cost_nanos).collect();
    assert_eq!(costs, [None, None, Some(700), Some(800)]);
    assert_eq!(rows[2].status, "error");
    assert_eq!(store.spend_between(0, 10_000).unwrap().cost_nanos, 1_500);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    for (column, value) in [
        ("cost_nanos", "-1"),
        ("cost_nanos", "100000000000001"),
        ("status", "'=1+1'"),
        ("prompt_tokens", "1000000001"),
        ("cache_write_tokens", "1000000001"),
        ("web_search_calls", "-1"),
    ] {
        let refused = conn.execute(
            &format!("UPDATE usage_ledger SET {column} = {value} WHERE cost_nanos = 800"),
            [],
        );
        assert!(refused.is_err(), "{column} = {value}");
        let sql = poisoned.replace(
            "-5000000000, 0, 'complete'",
            &match column {
                "cost_nanos" => format!("{value}, 0, 'complete'"),
                "status" => format!("1, 0, {value}"),
                _ => "1, 0, 'complete'".into(),
            },
        );
        if !column.ends_with("_tokens") && column != "web_search_calls" {
            let first_row = sql.split("),").next().unwrap().to_string() + ");";
            assert!(conn.execute_batch(&first_row).is_err(), "{first_row}");
        }
    }
}

/// A database at every earlier schema version, with the data each version could hold,
/// migrates to the latest version and keeps all of it.
#[test]
fn upgrades_from_every_earlier_version_with_data() {
    let latest = {
        let (_dir, store) = crate::open();
        store.schema_version().unwrap() as usize
    };
    assert_eq!(DATA_AT_VERSION.len(), latest, "data for every version");
    for from in 1..latest {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            for version in 1..=from {
                migrations().to_version(&mut conn, version).unwrap();
                conn.execute_batch(DATA_AT_VERSION[version - 1]).unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap() as usize,
            latest,
            "from v{from}"
        );
        let first = &store.current_branch(1).unwrap()[0];
        assert_eq!(first.content, "hello from v1");
        // Messages from before Responses have no API, thinking or reasoning items.
        assert_eq!(
            (&first.endpoint, &first.thinking, &first.reasoning_items),
            (&None, &None, &None)
        );
        assert_eq!(first.citations, None, "no sources before web search");
        let rows = store.usage_rows().unwrap();
        assert_eq!(rows.len(), 3, "from v{from}");
        // Rows from before cache writes were reported wrote none.
        assert!(
            rows.iter()
                .all(|r| r.cache_write_tokens == 0 && r.web_search_calls == 0),
            "from v{from}"
        );
        // The quarter-hour sums are filled from the rows that were already there.
        let totals = store.spend_between(0, 2_000_000).unwrap();
        assert_eq!(totals, store.spend_of_rows(0, 2_000_000).unwrap());
        assert_eq!(
            (
                totals.cost_nanos,
                totals.estimated_nanos,
                totals.unpriced,
                totals.requests
            ),
            (75_800, 800, 1, 3),
            "from v{from}"
        );
        assert_eq!(store.request_log(10).unwrap().len(), usize::from(from >= 2));
        // Messages written before search existed are found.
        assert_eq!(
            store.search("hello", 10).unwrap().hits.len(),
            1,
            "from v{from}"
        );
        assert_eq!(store.search("Old", 10).unwrap().hits[0].message_id, None);
        // Conversations from before settings existed take the API's defaults (no effort
        // before efforts existed).
        assert_eq!(store.conversation(1).unwrap().options, Default::default());
        assert!(store.personas().unwrap().len() >= 4, "the shipped personas");
        // Conversations from before pins and the Trash are in the list, neither.
        let recent = store.conversation_page(None, 10).unwrap();
        let old = recent
            .iter()
            .find(|c| c.title == "Old")
            .expect("Old listed");
        assert_eq!((old.pinned_at, old.deleted_at), (None, None));
        // What a v7 import wrote keeps the uid it came with.
        if from >= 7 {
            assert_eq!(store.conversation_tree(4).unwrap().uid, "chatgpt:abc");
        }
        // Conversations from before uids get one each, for export and import.
        let uids: std::collections::HashSet<_> = [1, 2, 3]
            .into_iter()
            .filter(|id| store.conversation(*id).is_ok())
            .map(|id| store.conversation_tree(id).unwrap().uid)
            .collect();
        assert_eq!(uids.len(), if from >= 5 { 3 } else { 1 }, "from v{from}");
        assert!(uids.iter().all(|uid| uid.len() == 32));
        // Sync stays off after an upgrade; the messages and ledger rows already there get
        // an identity each, to be sent by when it is turned on.
        assert!(!store.sync_recording().unwrap());
        assert_eq!(store.sync_device().unwrap().len(), 16);
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        for table in ["messages", "usage_ledger"] {
            let (rows, uids): (i64, i64) = conn
                .query_row(
                    &format!("SELECT count(*), count(DISTINCT uid) FROM {table}"),
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(rows, uids, "{table} from v{from}");
        }
    }
}
