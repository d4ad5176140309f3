use tally_store::{LedgerFilter, PriceOverride, Purpose, SpendTotals, UsageRow};

pub fn row(conversation_id: i64, cost: Option<i64>) -> UsageRow {
    UsageRow {
        created_at: 10,
        conversation_id: Some(conversation_id),
        message_id: None,
        purpose: Purpose::Chat,
        model: "gpt-4o-mini".into(),
        prompt_tokens: 24,
        cached_tokens: 0,
        cache_write_tokens: 0,
        completion_tokens: 12,
        reasoning_tokens: 0,
        web_search_calls: 0,
        cost_nanos: cost,
        estimated: false,
        request_id: Some("req_1".into()),
        status: "complete".into(),
        first_token_ms: Some(120),
        duration_ms: Some(900),
    }
}

#[test]
fn rows_round_trip_and_sum_exactly() {
    let (_dir, mut store) = crate::open();
    let c = store.create_conversation("T", "gpt-4o-mini", 1).unwrap();
    store.record_usage(&row(c.id, Some(10_800))).unwrap();
    store.record_usage(&row(c.id, Some(1))).unwrap();
    let mut unknown = row(c.id, None);
    unknown.estimated = true;
    unknown.purpose = Purpose::Title;
    store.record_usage(&unknown).unwrap();

    let rows = store.usage_rows().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], row(c.id, Some(10_800)));
    assert_eq!(rows[2], unknown);
    assert_eq!(store.conversation_cost(c.id).unwrap(), 10_801);
}

#[test]
fn request_log_keeps_every_attempt_newest_first() {
    let (_dir, mut store) = crate::open();
    let c = store.create_conversation("T", "gpt-4o-mini", 1).unwrap();
    let failed = tally_store::RequestLogRow {
        started_at: 100,
        conversation_id: Some(c.id),
        model: "gpt-4o-mini".into(),
        attempt: 1,
        http_status: Some(429),
        request_id: Some("req_rl0001".into()),
        first_byte_ms: Some(40),
        total_ms: Some(41),
        error_code: Some("rate_limited".into()),
        ratelimit_remaining_tokens: Some(0),
        ratelimit_reset_tokens: Some("1.5s".into()),
        ..Default::default()
    };
    let ok = tally_store::RequestLogRow {
        started_at: 1_700,
        attempt: 2,
        http_status: Some(200),
        error_code: None,
        ..failed.clone()
    };
    store.record_request(&failed).unwrap();
    store.record_request(&ok).unwrap();
    assert_eq!(store.request_log(10).unwrap(), [ok.clone(), failed]);
    assert_eq!(store.request_log(1).unwrap(), [ok]);
}

/// The bucketed totals equal a plain sum over the rows, for any range, after inserts,
/// repricing and deletes, including ranges inside one quarter hour and across many.
#[test]
fn bucketed_totals_equal_the_rows_for_any_range() {
    let (dir, mut store) = crate::open();
    let c = store.create_conversation("T", "gpt-4o-mini", 1).unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let span = 10 * 86_400_000_i64;
    for _ in 0..2_000 {
        let mut r = row(c.id, (rng.u8(..) > 20).then(|| rng.i64(0..5_000_000)));
        r.created_at = 1_700_000_000_000 + rng.i64(0..span);
        r.estimated = rng.bool();
        store.record_usage(&r).unwrap();
    }
    // Price the unpriced rows, as when the user sets a price for a model.
    let reprice: Vec<(i64, i64)> = store
        .unpriced_usage()
        .unwrap()
        .iter()
        .map(|e| (e.id, 123))
        .collect();
    assert!(!reprice.is_empty());
    store
        .set_usage_costs(&reprice[..reprice.len() / 2])
        .unwrap();
    // Tally never deletes ledger rows, but the sums must survive it if a user does.
    rusqlite::Connection::open(dir.path().join(tally_store::DB_FILE_NAME))
        .unwrap()
        .execute("DELETE FROM usage_ledger WHERE id % 50 = 0", [])
        .unwrap();

    let check = |from: i64, to: i64| {
        let bucketed = store.spend_between(from, to).unwrap();
        let plain = store.spend_of_rows(from, to).unwrap();
        assert_eq!(bucketed, plain, "[{from}, {to})");
        plain
    };
    let all = check(0, i64::MAX / 2);
    assert!(all.requests > 1_900 && all.unpriced > 0 && all.estimated_nanos > 0);
    for _ in 0..500 {
        let from = 1_700_000_000_000 + rng.i64(-3_600_000..span);
        let to = from + rng.i64(0..span / 2);
        check(from, to);
        let to = from + rng.i64(0..900_000);
        check(from, to);
    }
    assert_eq!(check(5, 5), SpendTotals::default());
}

#[test]
fn ledger_filters_spend_by_model_and_top_conversations() {
    let (_dir, mut store) = crate::open();
    let a = store
        .create_conversation("Alpha", "gpt-4o-mini", 1)
        .unwrap();
    let b = store.create_conversation("Beta", "gpt-4o", 1).unwrap();
    let mut rows = Vec::new();
    for (i, (conversation, model, cost, purpose)) in [
        (a.id, "gpt-4o-mini", Some(10), Purpose::Chat),
        (a.id, "gpt-4o-mini", Some(20), Purpose::Title),
        (b.id, "gpt-4o", Some(500), Purpose::Chat),
        (b.id, "llama3", None, Purpose::Chat),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = row(conversation, cost);
        r.model = model.into();
        r.purpose = purpose;
        r.created_at = 1_000 + i as i64;
        store.record_usage(&r).unwrap();
        rows.push(r);
    }
    let titles = store
        .ledger(
            &LedgerFilter {
                purpose: Some(Purpose::Title),
                ..Default::default()
            },
            10,
            0,
        )
        .unwrap();
    assert_eq!(titles.len(), 1);
    assert_eq!(titles[0].row, rows[1]);
    assert_eq!(titles[0].conversation_title.as_deref(), Some("Alpha"));
    let newest = store.ledger(&LedgerFilter::default(), 2, 0).unwrap();
    assert_eq!(newest[0].row, rows[3]);
    let page2 = store.ledger(&LedgerFilter::default(), 2, 2).unwrap();
    assert_eq!(page2[1].row, rows[0]);
    let window = LedgerFilter {
        from: Some(1_001),
        to: Some(1_003),
        model: Some("gpt-4o".into()),
        ..Default::default()
    };
    assert_eq!(store.ledger(&window, 10, 0).unwrap().len(), 1);

    let by_model = store.spend_by_model(0, 10_000).unwrap();
    let names: Vec<&str> = by_model.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(names, ["gpt-4o", "gpt-4o-mini", "llama3"]);
    assert_eq!(by_model[1].requests, 2);
    assert_eq!(by_model[1].cost_nanos, 30);
    assert_eq!(by_model[2].unpriced, 1);
    assert_eq!(store.unpriced_models().unwrap(), ["llama3"]);

    let top = store.top_conversations(0, 10_000, 1).unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!((top[0].title.as_str(), top[0].cost_nanos), ("Beta", 500));
}

#[test]
fn price_overrides_round_trip() {
    let (_dir, store) = crate::open();
    let price = PriceOverride {
        model: "llama3".into(),
        input_nanos: 0,
        cached_input_nanos: None,
        output_nanos: 1,
        context_window: 8_192,
        max_output: 2_048,
    };
    store.set_price_override(&price, 1).unwrap();
    let cheaper = PriceOverride {
        output_nanos: 0,
        ..price.clone()
    };
    store.set_price_override(&cheaper, 2).unwrap();
    assert_eq!(store.price_overrides().unwrap(), [cheaper]);
    assert!(store.delete_price_override("llama3").unwrap());
    assert!(!store.delete_price_override("llama3").unwrap());
    assert!(store.price_overrides().unwrap().is_empty());
}

#[test]
fn each_threshold_alerts_once_per_month() {
    let (_dir, store) = crate::open();
    assert!(store.record_budget_alert(100, 50, 1).unwrap());
    assert!(!store.record_budget_alert(100, 50, 2).unwrap());
    assert!(store.record_budget_alert(100, 80, 3).unwrap());
    assert!(
        store.record_budget_alert(200, 50, 4).unwrap(),
        "a new month"
    );
    store.dismiss_budget_alerts(100, 5).unwrap();
    let alerts = store.budget_alerts(100).unwrap();
    assert_eq!(alerts.len(), 2);
    assert!(alerts.iter().all(|a| a.dismissed_at == Some(5)));
    assert_eq!(alerts[0].fired_at, 1);
    assert_eq!(store.budget_alerts(200).unwrap()[0].dismissed_at, None);
}
