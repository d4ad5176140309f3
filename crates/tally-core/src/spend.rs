//! Money: the spend meter, the monthly budget and its alerts, the hard-stop gate, price
//! overrides, the pre-send estimate, the usage page and the ledger's CSV export
//! (ARCHITECTURE.md, data flow steps 2 and 6).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tally_openai::ChatMessage;
use tally_spend::{
    Budget, Encoding, ModelPrice, Period, PriceCatalog, count_text, encoding_for_model, format_usd,
    local_date, parse_usd, worst_case_cost,
};
use tally_store::{LedgerEntry, LedgerFilter, PriceOverride, Purpose, SpendTotals, Store};

use crate::api::{
    BudgetAlertView, BudgetInput, BudgetView, ConversationSpendView, DraftEstimate, DraftRequest,
    ExportResult, LedgerQuery, LedgerRowView, MeterLevel, ModelSpendView, PriceInput, PriceView,
    PricesView, SpendBar, SpendView, UsageReport,
};
use crate::{CoreError, Engine};

const SETTING_BUDGET: &str = "budget";

/// A pre-send estimate is "unusual" (the UI asks before a paste) from this much input
/// cost, or from 5% of the monthly budget when that is less.
const UNUSUAL_INPUT_COST: i64 = 100_000_000;

/// The most room left in the context window for the reply when older turns must go.
const REPLY_ROOM: u32 = 4_096;

/// App-wide notices (the shell turns them into Tauri events and OS notifications).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The meter changed: after a billed request, a budget change, a dismissed alert.
    SpendUpdated(SpendView),
    /// A budget threshold was reached for the first time this budget month.
    BudgetAlert(BudgetAlertView),
    /// Something is wrong with the stored data, in plain words (damage found by a check).
    StorageProblem(String),
    /// A conversation got its title from a model.
    ConversationTitled(crate::api::TitleView),
}

/// Where notices go.
pub trait NoticeSink: Send + Sync + 'static {
    fn notice(&self, notice: Notice);
}

impl<F: Fn(Notice) + Send + Sync + 'static> NoticeSink for F {
    fn notice(&self, notice: Notice) {
        self(notice)
    }
}

#[derive(Serialize, Deserialize)]
struct BudgetSetting {
    monthly_nanos: i64,
    reset_day: u8,
    thresholds: Vec<u16>,
    hard_stop: bool,
}

/// The worst-case cost of a request in flight, held against the budget until its ledger
/// row is written; dropping it releases the amount.
pub(crate) struct Reservation {
    engine: Arc<Engine>,
    amount: i64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut reserved = self
            .engine
            .reserved
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *reserved -= self.amount;
    }
}

/// Token counts already computed: per message text, and per conversation branch, so the
/// estimate for a long conversation costs only the draft's tokens per keystroke.
#[derive(Default)]
pub(crate) struct TokenCache {
    texts: HashMap<(Encoding, u64, usize), u64>,
    branches: HashMap<i64, BranchTokens>,
}

struct BranchTokens {
    leaf: Option<(i64, i64, usize)>,
    model: String,
    system_prompt: Option<String>,
    tokens: u64,
}

/// Entries kept before the text cache starts over (about 1 MB).
const TEXT_CACHE_LIMIT: usize = 20_000;

type TextKey = (Encoding, u64, usize);

impl TokenCache {
    fn key(encoding: Encoding, text: &str) -> TextKey {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        (encoding, hasher.finish(), text.len())
    }

    fn insert(&mut self, key: TextKey, count: u64) {
        if self.texts.len() >= TEXT_CACHE_LIMIT {
            self.texts.clear();
        }
        self.texts.insert(key, count);
    }
}

/// Framing tokens per chat message, and for priming the reply (OpenAI's accounting, as in
/// `tally_spend::count_chat_prompt`).
const PER_MESSAGE: u64 = 3;
const REPLY_PRIMING: u64 = 3;

impl Engine {
    // ----- budget -----

    /// The budget, if the user set one.
    pub fn budget(&self) -> Result<Option<Budget>, CoreError> {
        Ok(self
            .store()
            .setting(SETTING_BUDGET)?
            .and_then(|json| serde_json::from_str::<BudgetSetting>(&json).ok())
            .map(|b| Budget {
                monthly: b.monthly_nanos,
                reset_day: b.reset_day,
                thresholds: b.thresholds,
                hard_stop: b.hard_stop,
            }))
    }

    /// Sets the monthly budget from what the user typed. Thresholds already reached alert
    /// at once (once per month, as always).
    pub fn budget_set(&self, input: BudgetInput) -> Result<SpendView, CoreError> {
        let budget = Budget {
            monthly: parse_usd(&input.amount)?,
            reset_day: input.reset_day,
            thresholds: input.thresholds,
            hard_stop: input.hard_stop,
        }
        .validated()?;
        let setting = BudgetSetting {
            monthly_nanos: budget.monthly,
            reset_day: budget.reset_day,
            thresholds: budget.thresholds,
            hard_stop: budget.hard_stop,
        };
        let json = serde_json::to_string(&setting).expect("budget serialises");
        self.store().set_setting(SETTING_BUDGET, &json)?;
        self.spend_changed()
    }

    /// Removes the budget: the meter shows the month's spend only.
    pub fn budget_clear(&self) -> Result<SpendView, CoreError> {
        self.store().set_setting(SETTING_BUDGET, "null")?;
        self.spend_changed()
    }

    /// Hides this month's alerts from the banner (they do not fire again this month).
    pub fn budget_alerts_dismiss(&self) -> Result<SpendView, CoreError> {
        let budget = self.budget()?;
        let period = self.period(budget.as_ref());
        self.store()
            .dismiss_budget_alerts(period.start, self.now())?;
        self.spend_changed()
    }

    /// The budget month containing now (the calendar month when no budget is set).
    fn period(&self, budget: Option<&Budget>) -> Period {
        let reset_day = budget.map_or(1, |b| b.reset_day);
        Period::containing(self.now(), &self.time_zone, reset_day)
    }

    /// What the meter shows.
    pub fn spend_summary(&self) -> Result<SpendView, CoreError> {
        let budget = self.budget()?;
        let period = self.period(budget.as_ref());
        let totals = self.store().spend_between(period.start, period.end)?;
        self.spend_view(budget, period, totals)
    }

    /// The meter for `budget` and the period's `totals`, with the period's open alerts.
    fn spend_view(
        &self,
        budget: Option<Budget>,
        period: Period,
        totals: SpendTotals,
    ) -> Result<SpendView, CoreError> {
        let alerts = self
            .store()
            .budget_alerts(period.start)?
            .into_iter()
            .filter(|a| a.dismissed_at.is_none())
            .filter_map(|a| {
                let budget = budget.as_ref()?;
                Some(BudgetAlertView {
                    threshold: a.threshold,
                    fired_at: a.fired_at,
                    message: alert_message(a.threshold, totals.cost_nanos, budget, &period, self),
                })
            })
            .collect();
        Ok(SpendView {
            period_start: period.start,
            period_end: period.end,
            last_day: period.last_day(&self.time_zone).to_string(),
            spent_nanos: totals.cost_nanos,
            estimated_nanos: totals.estimated_nanos,
            unpriced_requests: totals.unpriced,
            requests: totals.requests,
            projected_nanos: period.projection(totals.cost_nanos, self.now()),
            level: budget
                .as_ref()
                .map_or(MeterLevel::None, |b| b.level(totals.cost_nanos).into()),
            budget: budget.map(|b| BudgetView {
                monthly_nanos: b.monthly,
                reset_day: b.reset_day,
                thresholds: b.thresholds,
                hard_stop: b.hard_stop,
            }),
            alerts,
            prices_checked_on: self.catalog().checked_on,
        })
    }

    /// Re-evaluates the budget after spend or the budget changed: records and announces
    /// each threshold reached for the first time this month, then the new meter.
    pub(crate) fn spend_changed(&self) -> Result<SpendView, CoreError> {
        let budget = self.budget()?;
        let period = self.period(budget.as_ref());
        let totals = self.store().spend_between(period.start, period.end)?;
        if let Some(budget) = &budget {
            let spent = totals.cost_nanos;
            for threshold in budget.reached(spent) {
                let first_time =
                    self.store()
                        .record_budget_alert(period.start, threshold, self.now())?;
                if first_time {
                    let alert = BudgetAlertView {
                        threshold,
                        fired_at: self.now(),
                        message: alert_message(threshold, spent, budget, &period, self),
                    };
                    tracing::info!(threshold, "budget threshold reached");
                    self.notify(Notice::BudgetAlert(alert));
                }
            }
        }
        let view = self.spend_view(budget, period, totals)?;
        self.notify(Notice::SpendUpdated(view.clone()));
        Ok(view)
    }

    pub(crate) fn notify(&self, notice: Notice) {
        let sink = self
            .notices
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(sink) = sink {
            sink.notice(notice);
        }
    }

    /// Sends app-wide notices to `sink` from now on.
    pub fn on_notice(&self, sink: impl NoticeSink) {
        *self.notices.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(sink));
    }

    // ----- the hard-stop gate -----

    /// Holds the worst-case cost of a request against the budget before it leaves. With a
    /// hard stop, a request is refused once the month's spend plus what requests in flight
    /// may still cost reaches the budget, unless the user chose to send it anyway.
    pub(crate) async fn reserve(
        self: &Arc<Self>,
        model: &str,
        context: &[ChatMessage],
        max_output: Option<u32>,
        allow_over_budget: bool,
    ) -> Result<Reservation, CoreError> {
        let price = self.price_of(model);
        let amount = match &price {
            Some(price) => {
                // Off the async threads: the first count loads the tokenizer's tables.
                let engine = Arc::clone(self);
                let (model, context) = (model.to_string(), context.to_vec());
                let prompt =
                    tokio::task::spawn_blocking(move || engine.context_tokens(&model, &context))
                        .await
                        .map_err(|e| {
                            CoreError::InvalidInput(format!("Counting tokens failed: {e}"))
                        })?;
                // The conversation's reply limit, when it sets one below the model's.
                let output = max_output.map_or(price.max_output, |m| m.min(price.max_output));
                worst_case_cost(prompt, u64::from(output), price)
            }
            // Unknown price: nothing can be reserved; the request is metered in tokens.
            None => 0,
        };
        let budget = self.budget()?;
        let mut reserved = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(budget) = budget.filter(|_| !allow_over_budget) {
            let period = self.period(Some(&budget));
            let spent = self
                .store()
                .spend_between(period.start, period.end)?
                .cost_nanos;
            if !budget.allows(spent, *reserved) {
                return Err(CoreError::BudgetExceeded {
                    spent: format_usd(spent),
                    budget: format_usd(budget.monthly),
                });
            }
        }
        *reserved += amount;
        Ok(Reservation {
            engine: Arc::clone(self),
            amount,
        })
    }

    // ----- prices -----

    /// The shipped catalog with the user's prices applied.
    pub(crate) fn catalog(&self) -> PriceCatalog {
        self.prices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn price_of(&self, model: &str) -> Option<ModelPrice> {
        self.prices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .lookup(model)
            .cloned()
    }

    /// Reloads the user's prices from the database.
    pub(crate) fn load_prices(&self) -> Result<(), CoreError> {
        let overrides = self.store().price_overrides()?;
        let catalog =
            PriceCatalog::builtin().with_overrides(overrides.into_iter().map(|o| ModelPrice {
                family: o.model,
                input: o.input_nanos,
                cached_input: o.cached_input_nanos,
                output: o.output_nanos,
                context_window: o.context_window,
                max_output: o.max_output,
                user_set: true,
            }));
        *self.prices.write().unwrap_or_else(|p| p.into_inner()) = catalog;
        Ok(())
    }

    pub fn prices_list(&self) -> Result<PricesView, CoreError> {
        let catalog = self.catalog();
        let unpriced_models = self
            .store()
            .unpriced_models()?
            .into_iter()
            .filter(|m| catalog.lookup(m).is_none())
            .collect();
        Ok(PricesView {
            checked_on: catalog.checked_on.clone(),
            models: catalog
                .models()
                .iter()
                .map(|m| PriceView {
                    model: m.family.clone(),
                    input_nanos: m.input,
                    cached_input_nanos: m.cached_input,
                    output_nanos: m.output,
                    context_window: m.context_window,
                    max_output: m.max_output,
                    user_set: m.user_set,
                })
                .collect(),
            unpriced_models,
        })
    }

    /// Sets the user's price for a model (or adds the model). Requests of that model that
    /// were metered in tokens only get their cost now.
    pub fn price_set(&self, input: PriceInput) -> Result<PricesView, CoreError> {
        let cached = input.cached_input.trim();
        let price = ModelPrice::user(
            &input.model,
            parse_usd(&input.input)?,
            (!cached.is_empty())
                .then(|| parse_usd(cached))
                .transpose()?,
            parse_usd(&input.output)?,
            input.context_window,
            input.max_output,
        )?;
        self.store().set_price_override(
            &PriceOverride {
                model: price.family.clone(),
                input_nanos: price.input,
                cached_input_nanos: price.cached_input,
                output_nanos: price.output,
                context_window: price.context_window,
                max_output: price.max_output,
            },
            self.now(),
        )?;
        self.load_prices()?;
        self.price_unpriced_rows()?;
        self.spend_changed()?;
        self.prices_list()
    }

    /// Removes the user's price for `model` (back to the shipped one, if any).
    pub fn price_reset(&self, model: &str) -> Result<PricesView, CoreError> {
        self.store().delete_price_override(model.trim())?;
        self.load_prices()?;
        self.spend_changed()?;
        self.prices_list()
    }

    fn price_unpriced_rows(&self) -> Result<(), CoreError> {
        let catalog = self.catalog();
        let mut store = self.store();
        let costs: Vec<(i64, i64)> = store
            .unpriced_usage()?
            .into_iter()
            .filter_map(|entry| {
                let price = catalog.lookup(&entry.row.model)?;
                Some((entry.id, tally_spend::cost(&token_usage(&entry), price)))
            })
            .collect();
        store.set_usage_costs(&costs)?;
        Ok(())
    }

    // ----- tokens and the pre-send estimate -----

    /// Input tokens of a request with these messages, counted as the API counts them.
    pub(crate) fn context_tokens(&self, model: &str, context: &[ChatMessage]) -> u64 {
        self.message_tokens(model, context).iter().sum::<u64>() + REPLY_PRIMING
    }

    /// Each message's tokens as the API counts them (framing included).
    fn message_tokens(&self, model: &str, context: &[ChatMessage]) -> Vec<u64> {
        let texts: Vec<&str> = context
            .iter()
            .flat_map(|m| [crate::send::role_name(m.role), m.content.as_str()])
            .collect();
        self.count_texts(encoding_for_model(model), &texts)
            .chunks(2)
            .map(|pair| PER_MESSAGE + pair.iter().sum::<u64>())
            .collect()
    }

    /// The tokens of each of `texts`, from the cache where it has them. What it lacks is
    /// counted outside its lock, so a long text never holds up another send or estimate.
    fn count_texts(&self, encoding: Encoding, texts: &[&str]) -> Vec<u64> {
        let keys: Vec<TextKey> = texts.iter().map(|t| TokenCache::key(encoding, t)).collect();
        let cached: Vec<Option<u64>> = {
            let cache = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
            keys.iter().map(|k| cache.texts.get(k).copied()).collect()
        };
        let counts: Vec<u64> = cached
            .iter()
            .zip(texts)
            .map(|(hit, text)| hit.unwrap_or_else(|| count_text(encoding, text)))
            .collect();
        let mut cache = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        for ((key, count), hit) in keys.into_iter().zip(&counts).zip(cached) {
            if hit.is_none() {
                cache.insert(key, *count);
            }
        }
        counts
    }

    /// Leaves out the oldest turns of `context` until it fits `model`'s context window
    /// with room for the reply; the system prompt and the newest message always stay.
    /// Returns how many messages were left out (none for a model of unknown window).
    pub(crate) fn fit_to_window(
        &self,
        model: &str,
        context: &mut Vec<ChatMessage>,
        max_output: Option<u32>,
    ) -> u32 {
        let Some(price) = self.price_of(model) else {
            return 0;
        };
        let reply_room = max_output
            .unwrap_or(price.max_output)
            .min(price.max_output)
            .min(REPLY_ROOM);
        let fits = u64::from(price.context_window.saturating_sub(reply_room));
        let tokens = self.message_tokens(model, context);
        drop_oldest_turns(context, tokens, fits)
    }

    /// After the API refused `context` as too long for the model (a window Tally does not
    /// know, or counted differently): leaves out the oldest turns until a quarter of its
    /// tokens are gone. Returns how many messages were left out; 0 when only the system
    /// prompt and the newest message are left, which no trimming can help.
    pub(crate) fn trim_after_refusal(&self, model: &str, context: &mut Vec<ChatMessage>) -> u32 {
        let tokens = self.message_tokens(model, context);
        let total = tokens.iter().sum::<u64>() + REPLY_PRIMING;
        drop_oldest_turns(context, tokens, total / 4 * 3)
    }

    /// What sending `draft.text` would cost: exact input tokens and the cost range up to
    /// the model's output limit. Runs off the async threads (the first count loads the
    /// tokenizer's tables).
    pub async fn estimate_draft(
        self: &Arc<Self>,
        draft: DraftRequest,
    ) -> Result<DraftEstimate, CoreError> {
        let engine = Arc::clone(self);
        tokio::task::spawn_blocking(move || engine.estimate_draft_now(&draft))
            .await
            .map_err(|e| CoreError::Internal(format!("the estimate: {e}")))?
    }

    pub fn estimate_draft_now(&self, draft: &DraftRequest) -> Result<DraftEstimate, CoreError> {
        // The reply limit is the conversation's own (a new chat's defaults) when it has one.
        let (model, branch, reply_limit) = match draft.conversation_id {
            Some(id) => {
                let (conversation, tokens) = self.branch_tokens(id)?;
                let limit = crate::chat_settings::request_options(&conversation).max_output_tokens;
                (conversation.model, tokens, limit)
            }
            None => {
                let model = match draft.model.as_deref().map(str::trim) {
                    Some(m) if !m.is_empty() => m.to_string(),
                    _ => self.default_model()?,
                };
                let limit = self.chat_defaults()?.options.max_output_tokens;
                (model, 0, limit)
            }
        };
        let encoding = encoding_for_model(&model);
        // A paste of any size is counted only up to what a message may hold; beyond that
        // (it cannot be sent as it is) the count is scaled by length and called unusual, so
        // a huge paste never stalls the estimate.
        let text = draft.text.trim();
        let counted = capped(text, crate::send::MAX_MESSAGE_CHARS);
        let too_long = counted.len() < text.len();
        let draft_tokens = {
            let role = self.count_texts(encoding, &["user"])[0];
            // The draft changes with every keystroke: count it without caching it.
            let mut tokens = count_text(encoding, counted);
            if too_long {
                let chars = text.chars().count() as u64;
                tokens = tokens.saturating_mul(chars) / crate::send::MAX_MESSAGE_CHARS as u64;
            }
            PER_MESSAGE + role + tokens
        };
        let input_tokens = branch + draft_tokens + REPLY_PRIMING;
        let price = self.price_of(&model);
        let max_output = price
            .as_ref()
            .map(|p| reply_limit.map_or(p.max_output, |limit| limit.min(p.max_output)));
        let min_cost = price.as_ref().map(|p| worst_case_cost(input_tokens, 0, p));
        let max_cost = price
            .as_ref()
            .zip(max_output)
            .map(|(p, max_output)| worst_case_cost(input_tokens, u64::from(max_output), p));
        let unusual_from = self.budget()?.map_or(UNUSUAL_INPUT_COST, |b| {
            UNUSUAL_INPUT_COST.min(b.monthly / 20)
        });
        Ok(DraftEstimate {
            unusual: too_long || min_cost.is_some_and(|c| c >= unusual_from),
            context_window: price.as_ref().map(|p| p.context_window),
            max_output_tokens: max_output,
            min_cost_nanos: min_cost,
            max_cost_nanos: max_cost,
            input_tokens,
            model,
        })
    }

    /// A conversation and the tokens of what it sends before a new message
    /// (system prompt and branch, framing included, reply priming not). Cached until the
    /// branch changes, so a keystroke costs two indexed reads.
    fn branch_tokens(
        &self,
        conversation_id: i64,
    ) -> Result<(tally_store::Conversation, u64), CoreError> {
        let store = self.store();
        let conversation = store.conversation(conversation_id)?;
        let leaf = match conversation.current_leaf_id {
            Some(id) => {
                let m = store.message(id)?;
                Some((m.id, m.updated_at, m.content.len()))
            }
            None => None,
        };
        {
            let cache = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(hit) = cache.branches.get(&conversation_id)
                && hit.leaf == leaf
                && hit.model == conversation.model
                && hit.system_prompt == conversation.system_prompt
            {
                return Ok((conversation, hit.tokens));
            }
        }
        drop(store);
        let context = self.context_for(&conversation, None)?;
        let tokens = self.context_tokens(&conversation.model, &context) - REPLY_PRIMING;
        let mut cache = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        cache.branches.insert(
            conversation_id,
            BranchTokens {
                leaf,
                model: conversation.model.clone(),
                system_prompt: conversation.system_prompt.clone(),
                tokens,
            },
        );
        Ok((conversation, tokens))
    }

    // ----- the usage page -----

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
            })
            .collect();
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
        Ok(UsageReport {
            spend,
            days,
            months,
            by_model,
            top_conversations,
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
        let failed = |e: &dyn std::fmt::Display| {
            CoreError::InvalidInput(format!(
                "Tally could not write the file {}: {e}",
                path.display()
            ))
        };
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
                "completion_tokens",
                "reasoning_tokens",
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
                    row.completion_tokens.to_string(),
                    row.reasoning_tokens.to_string(),
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

impl From<tally_spend::MeterLevel> for MeterLevel {
    fn from(level: tally_spend::MeterLevel) -> Self {
        match level {
            tally_spend::MeterLevel::Calm => Self::Calm,
            tally_spend::MeterLevel::Notice => Self::Notice,
            tally_spend::MeterLevel::Warning => Self::Warning,
            tally_spend::MeterLevel::Over => Self::Over,
        }
    }
}

fn alert_message(
    threshold: u16,
    spent: i64,
    budget: &Budget,
    period: &Period,
    engine: &Engine,
) -> String {
    let resets = local_date(period.end, &engine.time_zone).strftime("%b %-d");
    let monthly = format_usd(budget.monthly);
    let spent = format_usd(spent);
    if threshold >= 100 {
        let stop = if budget.hard_stop {
            " Sending is paused until you raise the budget or choose to send anyway."
        } else {
            ""
        };
        format!(
            "You have reached {threshold}% of your {monthly} monthly budget ({spent} spent; it resets on {resets}).{stop}"
        )
    } else {
        format!(
            "You have used {threshold}% of your {monthly} monthly budget ({spent} spent; it resets on {resets})."
        )
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
        completion_tokens: row.completion_tokens,
        reasoning_tokens: row.reasoning_tokens,
        cost_nanos: row.cost_nanos,
        estimated: row.estimated,
        status: row.status,
        request_id: row.request_id,
        first_token_ms: row.first_token_ms,
        duration_ms: row.duration_ms,
    }
}

fn token_usage(entry: &LedgerEntry) -> tally_spend::TokenUsage {
    tally_spend::TokenUsage {
        prompt: entry.row.prompt_tokens,
        cached_prompt: entry.row.cached_tokens,
        completion: entry.row.completion_tokens,
        reasoning: entry.row.reasoning_tokens,
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

/// `folder/stem.ext`, or `stem-2.ext`, `stem-3.ext`… if taken.
/// Creates the file at `path` for an export: never an existing file or a link (it fails
/// instead of overwriting or following one), readable by the user alone.
pub(crate) fn create_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// The first `max` characters of `text`.
fn capped(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

pub(crate) fn free_name(folder: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut path = folder.join(format!("{stem}.{ext}"));
    let mut n = 2;
    while path.exists() {
        path = folder.join(format!("{stem}-{n}.{ext}"));
        n += 1;
    }
    path
}

/// Leaves out the oldest turns of `context` (whose messages count `tokens`) until what is
/// sent fits `fits` tokens; the system prompt and the newest message always stay, and a
/// reply never goes without the message it answered. Returns how many messages went.
fn drop_oldest_turns(context: &mut Vec<ChatMessage>, mut tokens: Vec<u64>, fits: u64) -> u32 {
    let mut total = tokens.iter().sum::<u64>() + REPLY_PRIMING;
    let first = usize::from(
        context
            .first()
            .is_some_and(|m| m.role == tally_openai::Role::System),
    );
    let mut dropped = 0;
    while total > fits && context.len() > first + 1 {
        context.remove(first);
        total -= tokens.remove(first);
        dropped += 1;
        while context.len() > first + 1 && context[first].role == tally_openai::Role::Assistant {
            context.remove(first);
            total -= tokens.remove(first);
            dropped += 1;
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    /// The estimate counts a paste only up to what a message may hold, cut at a character.
    #[test]
    fn a_draft_is_counted_only_up_to_a_messages_length() {
        assert_eq!(super::capped("héllo", 2), "hé");
        assert_eq!(super::capped("héllo", 5), "héllo");
        assert_eq!(super::capped("héllo", 99), "héllo");
        assert_eq!(super::capped("", 3), "");
        let huge = "ab".repeat(crate::send::MAX_MESSAGE_CHARS);
        assert_eq!(
            super::capped(&huge, crate::send::MAX_MESSAGE_CHARS).len(),
            crate::send::MAX_MESSAGE_CHARS
        );
    }

    #[test]
    fn spreadsheet_formulas_are_defused() {
        assert_eq!(super::spreadsheet_safe("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(super::spreadsheet_safe("-2+3"), "'-2+3");
        assert_eq!(super::spreadsheet_safe("Trip plan"), "Trip plan");
    }
}
