use tally_store::{Purpose, UsageRow};

fn row(conversation_id: i64, cost: Option<i64>) -> UsageRow {
    UsageRow {
        created_at: 10,
        conversation_id: Some(conversation_id),
        message_id: None,
        purpose: Purpose::Chat,
        model: "gpt-4o-mini".into(),
        prompt_tokens: 24,
        cached_tokens: 0,
        completion_tokens: 12,
        reasoning_tokens: 0,
        cost_nanos: cost,
        estimated: false,
        request_id: Some("req_1".into()),
        status: "complete".into(),
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
