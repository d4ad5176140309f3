//! The usage page and the request log: spend by day, month, model and conversation, the
//! ledger's rows as the log filters them, and their CSV export (ARCHITECTURE.md, data flow
//! step 6). It reads the ledger; it writes nothing but the export file.

use std::path::Path;

use tally_spend::{Period, local_date};
use tally_store::{LedgerEntry, LedgerFilter, Purpose, Store};

use crate::api::{
    ConversationSpendView, ExportResult, LedgerQuery, LedgerRowView, ModelSpendView, SpendBar,
    UsageReport,
};
use crate::files::{create_new_private, free_name};
use crate::{CoreError, Engine};

impl Engine {
    /// This budget month by day, the last 12 budget months, spend by model and the
    /// costliest conversations this month.
    pub fn usage_report(&self) -> Result<UsageReport, CoreError> {
        let spend = self.spend_summary()?;
        let reset_day = spend.budget.as_ref().map_or(1, |b| b.reset_day);
        let period = Period {
            start: spend.period_start,
            end: spend.period_end,
        };
        let store = self.store();
        let bar = |store: &Store, start: i64, end: i64, label: String| {
            store.spend_between(start, end).map(|t| SpendBar {
                label,
                start,
                cost_nanos: t.cost_nanos,
                requests: t.requests,
                unpriced: t.unpriced,
            })
        };
        let days = period
            .day_starts(&self.time_zone)
            .windows(2)
            .map(|w| {
                let label = local_date(w[0], &self.time_zone).to_string();
                bar(&store, w[0], w[1], label)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut months = Vec::with_capacity(12);
        let mut month = period;
        for _ in 0..12 {
            let label = local_date(month.start, &self.time_zone).to_string();
            months.push(bar(&store, month.start, month.end, label)?);
            month = month.previous(&self.time_zone, reset_day);
        }
        months.reverse();
        let by_model = store
            .spend_by_model(period.start, period.end)?
            .into_iter()
            .map(|m| ModelSpendView {
                model: m.model,
                requests: m.requests,
                prompt_tokens: m.prompt_tokens,
                cached_tokens: m.cached_tokens,
                completion_tokens: m.completion_tokens,
                reasoning_tokens: m.reasoning_tokens,
                cost_nanos: m.cost_nanos,
                unpriced: m.unpriced,
                web_search_calls: m.web_search_calls,
            })
            .collect::<Vec<_>>();
        let web_search_calls: i64 = by_model.iter().map(|m| m.web_search_calls).sum();
        let web_search_fees_nanos =
            web_search_calls.saturating_mul(self.meter.catalog().web_search.per_call);
        let top_conversations = store
            .top_conversations(period.start, period.end, 10)?
            .into_iter()
            .map(|c| ConversationSpendView {
                conversation_id: c.conversation_id,
                title: c.title,
                requests: c.requests,
                cost_nanos: c.cost_nanos,
            })
            .collect();
        drop(store);
        let by_computer = self.computers_spend(period.start, period.end)?;
        Ok(UsageReport {
            by_computer,
            spend,
            days,
            months,
            by_model,
            top_conversations,
            web_search_calls,
            web_search_fees_nanos,
        })
    }

    /// Billed requests, newest first, filtered as the request log asks.
    pub fn ledger_page(&self, query: &LedgerQuery) -> Result<Vec<LedgerRowView>, CoreError> {
        let filter = ledger_filter(query)?;
        let limit = query.limit.unwrap_or(100).min(1_000);
        let rows = self
            .store()
            .ledger(&filter, limit, query.offset.unwrap_or(0))?;
        Ok(rows.into_iter().map(ledger_row_view).collect())
    }

    /// Writes the ledger rows matching `query` (all of them, newest first) as CSV into
    /// `folder`, under a name that does not overwrite an earlier export.
    pub fn ledger_export(
        &self,
        query: &LedgerQuery,
        folder: &Path,
    ) -> Result<ExportResult, CoreError> {
        let filter = ledger_filter(query)?;
        let rows = self.store().ledger(&filter, u32::MAX, 0)?;
        let today = local_date(self.now(), &self.time_zone);
        let path = free_name(folder, &format!("tally-usage-{today}"), "csv");
        let failed = |e: &(dyn std::error::Error + 'static)| crate::files::write_failed(&path, e);
        std::fs::create_dir_all(folder).map_err(|e| failed(&e))?;
        let mut writer =
            csv::Writer::from_writer(create_new_private(&path).map_err(|e| failed(&e))?);
        writer
            .write_record([
                "time",
                "conversation",
                "purpose",
                "model",
                "prompt_tokens",
                "cached_tokens",
                "cache_write_tokens",
                "completion_tokens",
                "reasoning_tokens",
                "web_search_calls",
                "cost_usd",
                "estimated",
                "status",
                "request_id",
                "first_token_ms",
                "duration_ms",
            ])
            .map_err(|e| failed(&e))?;
        for entry in &rows {
            let row = &entry.row;
            let time = jiff::Timestamp::from_millisecond(row.created_at)
                .map(|t| {
                    t.to_zoned(self.time_zone.clone())
                        .strftime("%Y-%m-%dT%H:%M:%S%:z")
                        .to_string()
                })
                .unwrap_or_default();
            let text = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
            writer
                .write_record([
                    time,
                    spreadsheet_safe(entry.conversation_title.as_deref().unwrap_or("")),
                    row.purpose.as_str().to_string(),
                    spreadsheet_safe(&row.model),
                    row.prompt_tokens.to_string(),
                    row.cached_tokens.to_string(),
                    row.cache_write_tokens.to_string(),
                    row.completion_tokens.to_string(),
                    row.reasoning_tokens.to_string(),
                    row.web_search_calls.to_string(),
                    row.cost_nanos
                        .map(tally_spend::exact_usd)
                        .unwrap_or_default(),
                    row.estimated.to_string(),
                    spreadsheet_safe(&row.status),
                    spreadsheet_safe(row.request_id.as_deref().unwrap_or("")),
                    text(row.first_token_ms),
                    text(row.duration_ms),
                ])
                .map_err(|e| failed(&e))?;
        }
        writer.flush().map_err(|e| failed(&e))?;
        Ok(ExportResult {
            path: path.display().to_string(),
            rows: rows.len() as u64,
        })
    }
}

fn ledger_filter(query: &LedgerQuery) -> Result<LedgerFilter, CoreError> {
    fn non_empty(s: &Option<String>) -> Option<&str> {
        s.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let purpose = match non_empty(&query.purpose) {
        Some(p) => Some(Purpose::parse(p).ok_or_else(|| {
            CoreError::InvalidInput(format!("“{p}” is not a kind of request Tally makes."))
        })?),
        None => None,
    };
    Ok(LedgerFilter {
        from: query.from,
        to: query.to,
        model: non_empty(&query.model).map(str::to_string),
        purpose,
        status: non_empty(&query.status).map(str::to_string),
        conversation_id: None,
    })
}

fn ledger_row_view(entry: LedgerEntry) -> LedgerRowView {
    let row = entry.row;
    LedgerRowView {
        id: entry.id,
        created_at: row.created_at,
        conversation_id: row.conversation_id,
        conversation_title: entry.conversation_title,
        purpose: row.purpose.as_str().to_string(),
        model: row.model,
        prompt_tokens: row.prompt_tokens,
        cached_tokens: row.cached_tokens,
        cache_write_tokens: row.cache_write_tokens,
        completion_tokens: row.completion_tokens,
        reasoning_tokens: row.reasoning_tokens,
        web_search_calls: row.web_search_calls,
        cost_nanos: row.cost_nanos,
        estimated: row.estimated,
        status: row.status,
        request_id: row.request_id,
        first_token_ms: row.first_token_ms,
        duration_ms: row.duration_ms,
    }
}

/// A cell a spreadsheet will not run as a formula (a title starting with `=` could).
fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spreadsheet_formulas_are_defused() {
        assert_eq!(super::spreadsheet_safe("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(super::spreadsheet_safe("-2+3"), "'-2+3");
        assert_eq!(super::spreadsheet_safe("Trip plan"), "Trip plan");
    }
}
