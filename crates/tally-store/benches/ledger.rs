//! This month's spend over a 1,000,000-row ledger: Tally's bucketed query against the same
//! total summed from the rows with plain SQL (the baseline), for a ledger spread over a
//! year and for the worst case of every row in the current month.
//!
//! `cargo bench -p tally-store --bench ledger`

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rusqlite::{Connection, params};
use tally_store::{DB_FILE_NAME, Store};

/// Ledger rows; `TALLY_BENCH_SMOKE` (CI's quick run) uses fewer.
fn rows() -> i64 {
    if std::env::var_os("TALLY_BENCH_SMOKE").is_some() {
        10_000
    } else {
        1_000_000
    }
}
const DAY: i64 = 86_400_000;
/// 2026-11-01 00:00 UTC: "this month" starts here.
const MONTH_START: i64 = 1_793_491_200_000;
const MONTH_END: i64 = MONTH_START + 30 * DAY;

/// A database with `rows()` ledger rows spread evenly over the `days` days before the end
/// of this month.
fn ledger(dir: &Path, days: i64) -> Store {
    drop(Store::open_in(dir).unwrap());
    let mut conn = Connection::open(dir.join(DB_FILE_NAME)).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO usage_ledger (created_at, purpose, model, prompt_tokens,
                     cached_tokens, completion_tokens, reasoning_tokens, cost_nanos, estimated,
                     status)
                 VALUES (?1, 'chat', 'gpt-4o-mini', ?2, 0, ?3, 0, ?4, ?5, 'complete')",
            )
            .unwrap();
        let mut rng = fastrand::Rng::with_seed(1);
        let span = days * DAY;
        let rows = rows();
        for i in 0..rows {
            let at = MONTH_END - span + i * span / rows;
            let prompt = rng.i64(10..4_000);
            let completion = rng.i64(10..1_000);
            let cost = (prompt * 150 + completion * 600) / 1_000;
            let unpriced = rng.u16(..) == 0;
            insert
                .execute(params![
                    at,
                    prompt,
                    completion,
                    (!unpriced).then_some(cost),
                    rng.u8(..) < 5
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    Store::open_in(dir).unwrap()
}

fn month_total(c: &mut Criterion) {
    for (name, days) in [("spread over a year", 365), ("all in this month", 30)] {
        let dir = tempfile::tempdir().unwrap();
        let store = ledger(dir.path(), days);
        let plain = Connection::open(dir.path().join(DB_FILE_NAME)).unwrap();
        let bucketed = store.spend_between(MONTH_START, MONTH_END).unwrap();
        let summed = store.spend_of_rows(MONTH_START, MONTH_END).unwrap();
        assert_eq!(bucketed, summed, "the two totals agree");
        let mut group = c.benchmark_group(format!("month total, 1M-row ledger {name}"));
        group
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        group.bench_function("tally (quarter-hour sums)", |b| {
            b.iter(|| store.spend_between(MONTH_START, MONTH_END).unwrap())
        });
        group.bench_function("baseline: SUM over the rows", |b| {
            let mut statement = plain
                .prepare(
                    "SELECT COALESCE(SUM(cost_nanos), 0) FROM usage_ledger
                     WHERE created_at >= ?1 AND created_at < ?2",
                )
                .unwrap();
            b.iter(|| {
                statement
                    .query_row([MONTH_START, MONTH_END], |r| r.get::<_, i64>(0))
                    .unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, month_total);
criterion_main!(benches);
