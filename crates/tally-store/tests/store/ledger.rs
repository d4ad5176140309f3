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
