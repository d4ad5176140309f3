//! Money as the user sees and sets it: the spend meter, the monthly budget and its
//! alerts, the hard-stop gate, the user's prices, and the pre-send estimate (ARCHITECTURE.md,
//! data flow steps 2 and 6). The amounts in flight, prices and token counts are the
//! [`Meter`](crate::meter::Meter)'s; the usage page and the CSV export are `usage.rs`'s.

use std::sync::Arc;

use tally_openai::{ChatMessage, RequestOptions};
use tally_spend::{Budget, ModelPrice, Period, format_usd, local_date, parse_usd, worst_case_cost};
use tally_store::{LedgerEntry, PriceOverride, SpendTotals};

use crate::api::{
    BudgetAlertView, BudgetInput, BudgetView, DraftEstimate, DraftRequest, LongPromptView,
    MeterLevel, PriceInput, PriceView, PricesView, SpendView, WebSearchView,
};
use crate::context::REPLY_PRIMING;
use crate::meter::{BranchKey, Reservation};
use crate::notices::Notice;
use crate::settings::{self, StoredBudget};
use crate::{CoreError, Engine};

/// A pre-send estimate is "unusual" (the UI asks before a paste) from this much input
/// cost, or from 5% of the monthly budget when that is less.
const UNUSUAL_INPUT_COST: i64 = 100_000_000;

impl Engine {
    // ----- budget -----

    /// The budget, if the user set one.
    pub fn budget(&self) -> Result<Option<Budget>, CoreError> {
        Ok(settings::BUDGET
            .get(&self.store())?
            .flatten()
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
        let stored = StoredBudget {
            monthly_nanos: budget.monthly,
            reset_day: budget.reset_day,
            thresholds: budget.thresholds,
            hard_stop: budget.hard_stop,
        };
        settings::BUDGET.set(&self.store(), &Some(stored))?;
        self.spend_changed()
    }

    /// Removes the budget: the meter shows the month's spend only.
    pub fn budget_clear(&self) -> Result<SpendView, CoreError> {
        settings::BUDGET.set(&self.store(), &None)?;
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
            prices_checked_on: self.meter.catalog().checked_on,
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

    // ----- the hard-stop gate -----

    /// The most a request of `model` with `context` (and `extra_prompt` tokens more: tool
    /// definitions, results to come) can cost, in nano-USD: its prompt, the longest reply
    /// it may write, and every web search it may run. `None` when the price is unknown.
    pub(crate) async fn worst_case(
        self: &Arc<Self>,
        model: &str,
        context: &[ChatMessage],
        extra_prompt: u64,
        options: &RequestOptions,
    ) -> Result<Option<i64>, CoreError> {
        // A search round is counted before it happens, up to the cap on its calls.
        let searches = u64::from(options.web_searches.unwrap_or(0));
        let Some(price) = self.meter.price_of(model) else {
            return Ok(None);
        };
        // Off the async threads: the first count loads the tokenizer's tables.
        let engine = Arc::clone(self);
        let (model, context) = (model.to_string(), context.to_vec());
        let prompt =
            tokio::task::spawn_blocking(move || engine.meter.context_tokens(&model, &context))
                .await
                .map_err(|e| CoreError::Internal(format!("counting tokens: {e}")))?;
        // The conversation's reply limit, when it sets one below the model's.
        let output = options
            .max_output_tokens
            .map_or(price.max_output, |m| m.min(price.max_output));
        Ok(Some(worst_case_cost(
            prompt + extra_prompt,
            u64::from(output),
            searches,
            &price,
        )))
    }

    /// Holds the worst case of a request (see [`Engine::worst_case`]) against the budget,
    /// or refuses it when the budget would not allow it (unless `allow_over_budget`).
    pub(crate) async fn reserve(
        self: &Arc<Self>,
        model: &str,
        context: &[ChatMessage],
        extra_prompt: u64,
        options: &RequestOptions,
        allow_over_budget: bool,
    ) -> Result<Reservation, CoreError> {
        // Unknown price: nothing can be reserved; the request is metered in tokens.
        let amount = self
            .worst_case(model, context, extra_prompt, options)
            .await?
            .unwrap_or(0);
        let budget = self.budget()?.filter(|_| !allow_over_budget);
        self.meter.reserve(amount, |in_flight| {
            let Some(budget) = budget else {
                return Ok(());
            };
            let period = self.period(Some(&budget));
            let spent = self
                .store()
                .spend_between(period.start, period.end)?
                .cost_nanos;
            if budget.allows(spent, in_flight) {
                Ok(())
            } else {
                Err(CoreError::BudgetExceeded {
                    spent: format_usd(spent),
                    budget: format_usd(budget.monthly),
                })
            }
        })
    }

    // ----- prices -----

    /// Reloads the user's prices from the database.
    pub(crate) fn load_prices(&self) -> Result<(), CoreError> {
        let overrides = self.store().price_overrides()?;
        self.meter.use_prices(overrides);
        Ok(())
    }

    pub fn prices_list(&self) -> Result<PricesView, CoreError> {
        let catalog = self.meter.catalog();
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

    /// Whether to ask, under a reply, for the price of `model` (one Tally has no price
    /// for): the first time only; from then on its price is asked in Settings' table.
    pub(crate) fn ask_price_once(&self, model: &str) -> Result<bool, CoreError> {
        if self.meter.price_of(model).is_some() {
            return Ok(false);
        }
        let store = self.store();
        let mut asked = settings::PRICE_ASKED.get(&store)?.unwrap_or_default();
        let model = model.trim().to_string();
        if asked.contains(&model) {
            return Ok(false);
        }
        asked.push(model);
        settings::PRICE_ASKED.set(&store, &asked)?;
        Ok(true)
    }

    fn price_unpriced_rows(&self) -> Result<(), CoreError> {
        let catalog = self.meter.catalog();
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
        let (model, branch, options, tools) = match draft.conversation_id {
            Some(id) => {
                let (conversation, tokens) = self.branch_tokens(id)?;
                let options = crate::chat_settings::request_options(&conversation);
                let tools = crate::chat_settings::from_store(&conversation.options).tools;
                (conversation.model, tokens, options, tools)
            }
            None => {
                let model = match draft.model.as_deref().map(str::trim) {
                    Some(m) if !m.is_empty() => m.to_string(),
                    _ => self.default_model()?,
                };
                let defaults = self.chat_defaults()?.options;
                let options = crate::chat_settings::request_options_of(&defaults);
                let tools = draft.tools.clone().unwrap_or(defaults.tools);
                (model, 0, options, tools)
            }
        };
        let tools_tokens = self
            .offered_tools(&tools)?
            .tokens(self.meter.encoding(&model));
        let reply_limit = options.max_output_tokens;
        let searches = options.web_searches.unwrap_or(0);
        let refs = draft.attachments.clone().unwrap_or_default();
        let (attachment_tokens, attachment_problem) =
            self.draft_attachment_tokens(&refs, &model)?;
        let draft = self.meter.draft_tokens(&model, draft.text.trim());
        let input_tokens = branch
            + draft.tokens
            + attachment_tokens.iter().sum::<u64>()
            + tools_tokens
            + REPLY_PRIMING;
        let price = self.meter.price_of(&model);
        let max_output = price
            .as_ref()
            .map(|p| reply_limit.map_or(p.max_output, |limit| limit.min(p.max_output)));
        let min_cost = price
            .as_ref()
            .map(|p| worst_case_cost(input_tokens, 0, 0, p));
        let max_cost = price.as_ref().zip(max_output).map(|(p, max_output)| {
            worst_case_cost(input_tokens, u64::from(max_output), u64::from(searches), p)
        });
        let unusual_from = self.budget()?.map_or(UNUSUAL_INPUT_COST, |b| {
            UNUSUAL_INPUT_COST.min(b.monthly / 20)
        });
        let long_prompt = price
            .as_ref()
            .and_then(|p| p.long_prompt)
            .map(|tier| LongPromptView {
                over_input_tokens: tier.over_input_tokens,
                input_percent: tier.input_percent,
                output_percent: tier.output_percent,
                crossed: tier.applies_to(input_tokens),
            });
        Ok(DraftEstimate {
            web_search: (searches > 0).then(|| WebSearchView {
                max_calls: searches,
                fee_nanos: self.meter.catalog().web_search.per_call,
            }),
            long_prompt,
            unusual: draft.too_long || min_cost.is_some_and(|c| c >= unusual_from),
            context_window: price.as_ref().map(|p| p.context_window),
            max_output_tokens: max_output,
            min_cost_nanos: min_cost,
            max_cost_nanos: max_cost,
            input_tokens,
            tools_tokens,
            attachment_tokens,
            attachment_problem,
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
        drop(store);
        let key = BranchKey {
            leaf,
            model: conversation.model.clone(),
            system_prompt: conversation.system_prompt.clone(),
        };
        if let Some(tokens) = self.meter.branch_tokens(conversation_id, &key) {
            return Ok((conversation, tokens));
        }
        let context = self.context_counted(&conversation)?;
        let tokens = self.meter.context_tokens(&conversation.model, &context) - REPLY_PRIMING;
        self.meter
            .remember_branch_tokens(conversation_id, key, tokens);
        Ok((conversation, tokens))
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

fn token_usage(entry: &LedgerEntry) -> tally_spend::TokenUsage {
    tally_spend::TokenUsage {
        prompt: entry.row.prompt_tokens,
        cached_prompt: entry.row.cached_tokens,
        cache_write: entry.row.cache_write_tokens,
        completion: entry.row.completion_tokens,
        reasoning: entry.row.reasoning_tokens,
        web_searches: entry.row.web_search_calls,
    }
}
