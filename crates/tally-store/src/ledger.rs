//! The usage ledger and what is derived from it: totals over time ranges, spend by model
//! and by conversation, price overrides and budget alerts.

use rusqlite::{Row, ToSql, params};

use crate::model::*;
use crate::store::to_sql_count;
use crate::{Result, Store, StoreError};

/// Milliseconds per row of `spend_buckets`.
const BUCKET_MS: i64 = 900_000;

pub(crate) const LEDGER_COLUMNS: &str = "l.id, c.title, l.created_at, l.conversation_id, l.message_id, \
    l.purpose, l.model, l.prompt_tokens, l.cached_tokens, l.completion_tokens, \
    l.reasoning_tokens, l.cost_nanos, l.estimated, l.request_id, l.status, l.first_token_ms, \
    l.duration_ms, l.cache_write_tokens, l.web_search_calls";

impl Store {
    pub fn record_usage(&self, row: &UsageRow) -> Result<i64> {
        insert_usage(&self.conn, row)
    }

    /// Every ledger row, oldest first.
    pub fn usage_rows(&self) -> Result<Vec<UsageRow>> {
        Ok(self
            .ledger(&LedgerFilter::default(), u32::MAX, 0)?
            .into_iter()
            .rev()
            .map(|entry| entry.row)
            .collect())
    }

    /// Ledger rows matching `filter`, newest first, `limit` from `offset`.
    pub fn ledger(
        &self,
        filter: &LedgerFilter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<LedgerEntry>> {
        let (clause, mut values) = where_clause(filter);
        values.push(Box::new(limit));
        values.push(Box::new(offset));
        let sql = format!(
            "SELECT {LEDGER_COLUMNS} FROM usage_ledger l
             LEFT JOIN conversations c ON c.id = l.conversation_id
             {clause} ORDER BY l.created_at DESC, l.id DESC LIMIT ? OFFSET ?"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let params: Vec<&dyn ToSql> = values.iter().map(|v| v.as_ref()).collect();
        let rows = stmt.query_map(params.as_slice(), ledger_entry)?;
        rows.map(|r| r?).collect()
    }

    /// Ledger rows of models with no known price, for repricing once the user sets one.
    pub fn unpriced_usage(&self) -> Result<Vec<LedgerEntry>> {
        let sql = format!(
            "SELECT {LEDGER_COLUMNS} FROM usage_ledger l
             LEFT JOIN conversations c ON c.id = l.conversation_id
             WHERE l.cost_nanos IS NULL ORDER BY l.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], ledger_entry)?;
        rows.map(|r| r?).collect()
    }

    /// The models of ledger rows with no known price, by name.
    pub fn unpriced_models(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT model FROM usage_ledger WHERE cost_nanos IS NULL ORDER BY model",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Gives ledger rows their cost, in one transaction: `(row id, nano-USD)`.
    pub fn set_usage_costs(&mut self, costs: &[(i64, i64)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("UPDATE usage_ledger SET cost_nanos = ?2 WHERE id = ?1")?;
            for (id, cost) in costs {
                stmt.execute(params![id, cost])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Totals of the ledger rows created in `[from, to)`. Whole quarter hours come from
    /// `spend_buckets`; only the rows in the partial quarter hours at either end are read,
    /// so the cost does not grow with the ledger.
    pub fn spend_between(&self, from: EpochMillis, to: EpochMillis) -> Result<SpendTotals> {
        if to <= from {
            return Ok(SpendTotals::default());
        }
        let first_whole = from.div_euclid(BUCKET_MS) + i64::from(from.rem_euclid(BUCKET_MS) != 0);
        let end_whole = to.div_euclid(BUCKET_MS);
        if first_whole >= end_whole {
            return self.spend_of_rows(from, to);
        }
        let mut totals = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(SUM(cost_nanos), 0), COALESCE(SUM(estimated_nanos), 0),
                    COALESCE(SUM(unpriced), 0), COALESCE(SUM(requests), 0)
             FROM spend_buckets WHERE bucket >= ?1 AND bucket < ?2",
            )?
            .query_row([first_whole, end_whole], spend_totals)?;
        for (a, b) in [(from, first_whole * BUCKET_MS), (end_whole * BUCKET_MS, to)] {
            if a < b {
                let edge = self.spend_of_rows(a, b)?;
                totals.cost_nanos += edge.cost_nanos;
                totals.estimated_nanos += edge.estimated_nanos;
                totals.unpriced += edge.unpriced;
                totals.requests += edge.requests;
            }
        }
        Ok(totals)
    }

    /// The same totals as [`Self::spend_between`], summed from the ledger rows themselves.
    pub fn spend_of_rows(&self, from: EpochMillis, to: EpochMillis) -> Result<SpendTotals> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COALESCE(SUM(cost_nanos), 0),
                        COALESCE(SUM(CASE WHEN estimated THEN cost_nanos ELSE 0 END), 0),
                        COALESCE(SUM(cost_nanos IS NULL), 0), COUNT(*)
                 FROM usage_ledger WHERE created_at >= ?1 AND created_at < ?2",
            )?
            .query_row([from, to], spend_totals)?)
    }

    /// Spend per model in `[from, to)`, most expensive first.
    pub fn spend_by_model(&self, from: EpochMillis, to: EpochMillis) -> Result<Vec<ModelSpend>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT model, COUNT(*), SUM(prompt_tokens), SUM(cached_tokens),
                    SUM(completion_tokens), SUM(reasoning_tokens), COALESCE(SUM(cost_nanos), 0),
                    SUM(cost_nanos IS NULL), SUM(web_search_calls)
             FROM usage_ledger WHERE created_at >= ?1 AND created_at < ?2
             GROUP BY model ORDER BY 7 DESC, 2 DESC, model",
        )?;
        let rows = stmt.query_map([from, to], |r| {
            Ok(ModelSpend {
                model: r.get(0)?,
                requests: r.get(1)?,
                prompt_tokens: r.get(2)?,
                cached_tokens: r.get(3)?,
                completion_tokens: r.get(4)?,
                reasoning_tokens: r.get(5)?,
                cost_nanos: r.get(6)?,
                unpriced: r.get(7)?,
                web_search_calls: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The `limit` conversations that cost most in `[from, to)`.
    pub fn top_conversations(
        &self,
        from: EpochMillis,
        to: EpochMillis,
        limit: u32,
    ) -> Result<Vec<ConversationSpend>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.conversation_id, c.title, COUNT(*), COALESCE(SUM(l.cost_nanos), 0)
             FROM usage_ledger l JOIN conversations c ON c.id = l.conversation_id
             WHERE l.created_at >= ?1 AND l.created_at < ?2
             GROUP BY l.conversation_id ORDER BY 4 DESC, 3 DESC, l.conversation_id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![from, to, limit], |r| {
            Ok(ConversationSpend {
                conversation_id: r.get(0)?,
                title: r.get(1)?,
                requests: r.get(2)?,
                cost_nanos: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Total known cost of a conversation's requests, in nano-USD.
    pub fn conversation_cost(&self, conversation_id: i64) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(cost_nanos), 0) FROM usage_ledger WHERE conversation_id = ?1",
            [conversation_id],
            |r| r.get(0),
        )?)
    }

    /// Known cost per message of a conversation: `(message id, nano-USD, any unpriced)`.
    pub fn message_costs(&self, conversation_id: i64) -> Result<Vec<MessageCost>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT message_id, COALESCE(SUM(cost_nanos), 0), MAX(cost_nanos IS NULL),
                    SUM(prompt_tokens), SUM(cached_tokens), SUM(completion_tokens),
                    SUM(reasoning_tokens), SUM(web_search_calls), MAX(estimated)
             FROM usage_ledger WHERE conversation_id = ?1 AND message_id IS NOT NULL
             GROUP BY message_id",
        )?;
        let rows = stmt.query_map([conversation_id], |r| {
            let count = |i| r.get::<_, i64>(i).map(|n| n.max(0) as u64);
            Ok(MessageCost {
                message_id: r.get(0)?,
                cost_nanos: r.get(1)?,
                price_unknown: r.get(2)?,
                prompt_tokens: count(3)?,
                cached_tokens: count(4)?,
                completion_tokens: count(5)?,
                reasoning_tokens: count(6)?,
                web_search_calls: count(7)?,
                estimated: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ----- price overrides -----

    pub fn price_overrides(&self) -> Result<Vec<PriceOverride>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT model, input_nanos, cached_input_nanos, output_nanos, context_window,
                    max_output
             FROM price_overrides ORDER BY model",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PriceOverride {
                model: r.get(0)?,
                input_nanos: r.get(1)?,
                cached_input_nanos: r.get(2)?,
                output_nanos: r.get(3)?,
                context_window: r.get(4)?,
                max_output: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn set_price_override(&self, price: &PriceOverride, now: EpochMillis) -> Result<()> {
        self.conn.execute(
            "INSERT INTO price_overrides (model, input_nanos, cached_input_nanos, output_nanos,
                 context_window, max_output, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (model) DO UPDATE SET input_nanos = excluded.input_nanos,
                 cached_input_nanos = excluded.cached_input_nanos,
                 output_nanos = excluded.output_nanos, context_window = excluded.context_window,
                 max_output = excluded.max_output, updated_at = excluded.updated_at",
            params![
                price.model,
                price.input_nanos,
                price.cached_input_nanos,
                price.output_nanos,
                price.context_window,
                price.max_output,
                now
            ],
        )?;
        Ok(())
    }

    /// Removes the user's price for `model`. Returns whether there was one.
    pub fn delete_price_override(&self, model: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM price_overrides WHERE model = ?1", [model])?
            > 0)
    }

    // ----- budget alerts -----

    /// Records that `threshold` alerted in the budget month starting at `period_start`.
    /// Returns `false` when it had already alerted in that month (so it must not again).
    pub fn record_budget_alert(
        &self,
        period_start: EpochMillis,
        threshold: u16,
        now: EpochMillis,
    ) -> Result<bool> {
        Ok(self.conn.execute(
            "INSERT INTO budget_alerts (period_start, threshold, fired_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![period_start, threshold, now],
        )? > 0)
    }

    /// The alerts of the budget month starting at `period_start`, lowest threshold first.
    pub fn budget_alerts(&self, period_start: EpochMillis) -> Result<Vec<BudgetAlert>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT period_start, threshold, fired_at, dismissed_at FROM budget_alerts
             WHERE period_start = ?1 ORDER BY threshold",
        )?;
        let rows = stmt.query_map([period_start], |r| {
            Ok(BudgetAlert {
                period_start: r.get(0)?,
                threshold: r.get(1)?,
                fired_at: r.get(2)?,
                dismissed_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks the month's alerts as dismissed (the banner goes away until the next one).
    pub fn dismiss_budget_alerts(&self, period_start: EpochMillis, now: EpochMillis) -> Result<()> {
        self.conn.execute(
            "UPDATE budget_alerts SET dismissed_at = ?2
             WHERE period_start = ?1 AND dismissed_at IS NULL",
            params![period_start, now],
        )?;
        Ok(())
    }
}

fn where_clause(filter: &LedgerFilter) -> (String, Vec<Box<dyn ToSql>>) {
    let mut conditions = Vec::new();
    let mut values: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(from) = filter.from {
        conditions.push("l.created_at >= ?");
        values.push(Box::new(from));
    }
    if let Some(to) = filter.to {
        conditions.push("l.created_at < ?");
        values.push(Box::new(to));
    }
    if let Some(model) = &filter.model {
        conditions.push("l.model = ?");
        values.push(Box::new(model.clone()));
    }
    if let Some(purpose) = filter.purpose {
        conditions.push("l.purpose = ?");
        values.push(Box::new(purpose.as_str()));
    }
    if let Some(status) = &filter.status {
        conditions.push("l.status = ?");
        values.push(Box::new(status.clone()));
    }
    if let Some(id) = filter.conversation_id {
        conditions.push("l.conversation_id = ?");
        values.push(Box::new(id));
    }
    let clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    (clause, values)
}

fn spend_totals(r: &Row<'_>) -> rusqlite::Result<SpendTotals> {
    Ok(SpendTotals {
        cost_nanos: r.get(0)?,
        estimated_nanos: r.get(1)?,
        unpriced: r.get(2)?,
        requests: r.get(3)?,
    })
}

pub(crate) fn ledger_entry(r: &Row<'_>) -> rusqlite::Result<Result<LedgerEntry>> {
    let purpose: String = r.get(5)?;
    let Some(purpose) = Purpose::parse(&purpose) else {
        return Ok(Err(StoreError::BadValue {
            column: "purpose",
            value: purpose,
        }));
    };
    let count = |i| r.get::<_, i64>(i).map(|n| n.max(0) as u64);
    Ok(Ok(LedgerEntry {
        id: r.get(0)?,
        conversation_title: r.get(1)?,
        row: UsageRow {
            created_at: r.get(2)?,
            conversation_id: r.get(3)?,
            message_id: r.get(4)?,
            purpose,
            model: r.get(6)?,
            prompt_tokens: count(7)?,
            cached_tokens: count(8)?,
            cache_write_tokens: count(17)?,
            completion_tokens: count(9)?,
            reasoning_tokens: count(10)?,
            web_search_calls: count(18)?,
            cost_nanos: r.get(11)?,
            estimated: r.get(12)?,
            request_id: r.get(13)?,
            status: r.get(14)?,
            first_token_ms: r.get(15)?,
            duration_ms: r.get(16)?,
        },
    }))
}

/// Writes one ledger row on `conn` (a transaction, for an import); returns its id.
pub(crate) fn insert_usage(conn: &rusqlite::Connection, row: &UsageRow) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO usage_ledger (created_at, conversation_id, message_id, purpose, model,
             prompt_tokens, cached_tokens, completion_tokens, reasoning_tokens, cost_nanos,
             estimated, request_id, status, first_token_ms, duration_ms, cache_write_tokens,
             web_search_calls)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        row.created_at,
        row.conversation_id,
        row.message_id,
        row.purpose.as_str(),
        row.model,
        to_sql_count(row.prompt_tokens),
        to_sql_count(row.cached_tokens),
        to_sql_count(row.completion_tokens),
        to_sql_count(row.reasoning_tokens),
        row.cost_nanos,
        row.estimated,
        row.request_id,
        row.status,
        row.first_token_ms,
        row.duration_ms,
        to_sql_count(row.cache_write_tokens),
        to_sql_count(row.web_search_calls),
    ])?;
    Ok(conn.last_insert_rowid())
}
