//! The meter's own state: the model catalog in use (the shipped one with the user's
//! prices), the token counts already made, and what the requests in flight may still
//! cost. It hands out [`Reservation`]s, whose drop gives their amount back; nothing else
//! touches the amount in flight. It reads no store and knows no budget: the engine passes
//! in what the month has spent and decides, under the meter's lock, whether a request may
//! go (`spend.rs`).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tally_openai::{ChatMessage, ChatRequest, Usage};
use tally_spend::{
    Encoding, ModelCatalog, ModelPrice, ModelTraits, TokenUsage, count_chat_prompt, count_text,
};
use tally_store::PriceOverride;

use crate::context::{self, MAX_MESSAGE_CHARS, PER_MESSAGE, REPLY_PRIMING, Window, role_name};

/// Entries kept before the text cache starts over (about 1 MB).
const TEXT_CACHE_LIMIT: usize = 20_000;

/// A text's tokens are cached under its encoding, hash and length.
type TextKey = (Encoding, u64, usize);

/// What a branch's cached token count was made from; a change to any part counts again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BranchKey {
    /// The branch's newest message: id, last update, length.
    pub leaf: Option<(i64, i64, usize)>,
    pub model: String,
    pub system_prompt: Option<String>,
}

#[derive(Default)]
struct TokenCache {
    texts: HashMap<TextKey, u64>,
    branches: HashMap<i64, (BranchKey, u64)>,
}

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

/// A draft's input tokens as the estimate counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DraftTokens {
    /// The draft as a user message, framing included.
    pub tokens: u64,
    /// Longer than a message may be: the count is scaled from its first part.
    pub too_long: bool,
}

/// Prices, token counts and the amount in flight (see the module's doc).
pub(crate) struct Meter {
    catalog: RwLock<ModelCatalog>,
    tokens: Mutex<TokenCache>,
    /// Worst-case cost of the requests in flight, held against the budget (nano-USD).
    in_flight: Arc<Mutex<i64>>,
}

impl Default for Meter {
    fn default() -> Self {
        Self {
            catalog: RwLock::new(ModelCatalog::builtin()),
            tokens: Mutex::default(),
            in_flight: Arc::default(),
        }
    }
}

impl Meter {
    // ----- prices -----

    /// The shipped catalog with the user's prices applied.
    pub(crate) fn catalog(&self) -> ModelCatalog {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn price_of(&self, model: &str) -> Option<ModelPrice> {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .lookup(model)
            .cloned()
    }

    /// How `model` is asked (the catalog's entry, or its guess for a model it lacks).
    pub(crate) fn traits(&self, model: &str) -> ModelTraits {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .traits(model)
    }

    /// Whether `GET /models`'s `id` is a model one can chat with.
    pub(crate) fn is_chat_model(&self, id: &str) -> bool {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_chat_model(id)
    }

    pub(crate) fn encoding(&self, model: &str) -> Encoding {
        self.traits(model).encoding
    }

    /// Uses the shipped prices with `overrides` (the user's) applied from now on.
    pub(crate) fn use_prices(&self, overrides: Vec<PriceOverride>) {
        let catalog =
            ModelCatalog::builtin().with_overrides(overrides.into_iter().map(|o| ModelPrice {
                family: o.model,
                input: o.input_nanos,
                cached_input: o.cached_input_nanos,
                cache_write: None,
                output: o.output_nanos,
                context_window: o.context_window,
                max_output: o.max_output,
                long_prompt: None,
                // The catalog's fee: `with_overrides` sets it.
                web_search: Default::default(),
                user_set: true,
            }));
        *self.catalog.write().unwrap_or_else(PoisonError::into_inner) = catalog;
    }

    // ----- tokens -----

    /// Input tokens of a request with these messages, counted as the API counts them.
    pub(crate) fn context_tokens(&self, model: &str, context: &[ChatMessage]) -> u64 {
        self.message_tokens(model, context).iter().sum::<u64>() + REPLY_PRIMING
    }

    /// Each message's tokens as the API counts them (framing included; a message's tool
    /// calls are counted by their names and arguments).
    pub(crate) fn message_tokens(&self, model: &str, context: &[ChatMessage]) -> Vec<u64> {
        let calls: Vec<String> = context.iter().map(calls_text).collect();
        let texts: Vec<&str> = context
            .iter()
            .zip(&calls)
            .flat_map(|(m, calls)| [role_name(m.role), m.content.as_str(), calls.as_str()])
            .collect();
        let pictures = self.traits(model).pictures;
        self.count_texts(self.encoding(model), &texts)
            .chunks(3)
            .zip(context)
            .map(|(counts, message)| {
                PER_MESSAGE + counts.iter().sum::<u64>() + picture_tokens(pictures, message)
            })
            .collect()
    }

    /// `text`'s tokens for `model`, kept for the next time it is asked (an attached file's
    /// text, counted again with every keystroke of the draft it goes with).
    pub(crate) fn kept_text_tokens(&self, model: &str, text: &str) -> u64 {
        self.count_texts(self.encoding(model), &[text])[0]
    }

    /// `text`'s tokens for `model` (not kept: for texts seen once, like a tool's result).
    pub(crate) fn text_tokens(&self, model: &str, text: &str) -> u64 {
        count_text(self.encoding(model), text)
    }

    /// Leaves out the oldest turns of `context` until it fits `model`'s window with room
    /// for the reply (see [`context::fit_to_window`]). Returns how many messages went;
    /// none for a model of unknown window.
    pub(crate) fn fit_to_window(
        &self,
        model: &str,
        context: &mut Vec<ChatMessage>,
        max_output: Option<u32>,
    ) -> u32 {
        let Some(price) = self.price_of(model) else {
            return 0;
        };
        let window = Window {
            context_window: price.context_window,
            max_output: price.max_output,
        };
        let tokens = self.message_tokens(model, context);
        context::fit_to_window(context, tokens, window, max_output)
    }

    /// After the API refused `context` as too long: see [`context::trim_after_refusal`].
    pub(crate) fn trim_after_refusal(&self, model: &str, context: &mut Vec<ChatMessage>) -> u32 {
        let tokens = self.message_tokens(model, context);
        context::trim_after_refusal(context, tokens)
    }

    /// A draft's tokens as a user message. A paste of any size is counted only up to what
    /// a message may hold; beyond that (it cannot be sent as it is) the count is scaled by
    /// length, so a huge paste never stalls the estimate. The draft changes with every
    /// keystroke: it is counted without being cached.
    pub(crate) fn draft_tokens(&self, model: &str, text: &str) -> DraftTokens {
        let encoding = self.encoding(model);
        let counted = capped(text, MAX_MESSAGE_CHARS);
        let too_long = counted.len() < text.len();
        let role = self.count_texts(encoding, &["user"])[0];
        let mut tokens = count_text(encoding, counted);
        if too_long {
            let chars = text.chars().count() as u64;
            tokens = tokens.saturating_mul(chars) / MAX_MESSAGE_CHARS as u64;
        }
        DraftTokens {
            tokens: PER_MESSAGE + role + tokens,
            too_long,
        }
    }

    /// The tokens of a conversation's branch counted before, if `key` still describes it.
    pub(crate) fn branch_tokens(&self, conversation_id: i64, key: &BranchKey) -> Option<u64> {
        let cache = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .branches
            .get(&conversation_id)
            .filter(|(counted, _)| counted == key)
            .map(|(_, tokens)| *tokens)
    }

    pub(crate) fn remember_branch_tokens(&self, conversation_id: i64, key: BranchKey, tokens: u64) {
        let mut cache = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        cache.branches.insert(conversation_id, (key, tokens));
    }

    /// Forgets every count (the data they were made from was replaced).
    pub(crate) fn forget_tokens(&self) {
        *self.tokens.lock().unwrap_or_else(PoisonError::into_inner) = TokenCache::default();
    }

    /// The tokens of each of `texts`, from the cache where it has them. What it lacks is
    /// counted outside its lock, so a long text never holds up another send or estimate.
    fn count_texts(&self, encoding: Encoding, texts: &[&str]) -> Vec<u64> {
        let keys: Vec<TextKey> = texts.iter().map(|t| TokenCache::key(encoding, t)).collect();
        let cached: Vec<Option<u64>> = {
            let cache = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
            keys.iter().map(|k| cache.texts.get(k).copied()).collect()
        };
        let counts: Vec<u64> = cached
            .iter()
            .zip(texts)
            .map(|(hit, text)| hit.unwrap_or_else(|| count_text(encoding, text)))
            .collect();
        let mut cache = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        for ((key, count), hit) in keys.into_iter().zip(&counts).zip(cached) {
            if hit.is_none() {
                cache.insert(key, *count);
            }
        }
        counts
    }

    // ----- requests in flight -----

    /// Holds `amount` against the budget for a request about to leave. `admit` sees what
    /// the requests already in flight may cost and refuses by returning an error; it runs
    /// under the meter's lock, so two sends cannot both pass on the same room.
    pub(crate) fn reserve<E>(
        &self,
        amount: i64,
        admit: impl FnOnce(i64) -> Result<(), E>,
    ) -> Result<Reservation, E> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        admit(*in_flight)?;
        *in_flight = in_flight.saturating_add(amount);
        Ok(Reservation {
            in_flight: Arc::clone(&self.in_flight),
            amount,
        })
    }

    /// What the requests in flight may still cost.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> i64 {
        *self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The worst-case cost of a request in flight, held against the budget until its ledger
/// row is written; dropping it releases the amount.
pub(crate) struct Reservation {
    in_flight: Arc<Mutex<i64>>,
    amount: i64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *in_flight = in_flight.saturating_sub(self.amount);
    }
}

/// The API's usage as the ledger's token counts.
pub(crate) fn token_usage(usage: &Usage) -> TokenUsage {
    TokenUsage {
        prompt: usage.prompt_tokens,
        cached_prompt: usage.cached_tokens(),
        cache_write: usage.cache_write_tokens(),
        completion: usage.completion_tokens,
        reasoning: usage.reasoning_tokens(),
        web_searches: 0,
    }
}

/// Usage of a request whose usage chunk never came (stopped, dropped): counted with the
/// model's tokenizer, off the async threads since the first use loads the tables.
pub(crate) async fn estimate_usage(
    encoding: Encoding,
    request: &ChatRequest,
    reply_text: &str,
) -> TokenUsage {
    let messages: Vec<(&'static str, String)> = request
        .messages
        .iter()
        .map(|m| (role_name(m.role), format!("{}{}", m.content, calls_text(m))))
        .collect();
    let tools = request.tools.clone();
    let reply_text = reply_text.to_string();
    tokio::task::spawn_blocking(move || {
        let definitions: Vec<tally_spend::ToolDefinition<'_>> = tools
            .iter()
            .map(|t| tally_spend::ToolDefinition {
                name: &t.function.name,
                description: &t.function.description,
                parameters: &t.function.parameters,
            })
            .collect();
        let tools = if definitions.is_empty() {
            0
        } else {
            tally_spend::count_tools(encoding, &definitions)
        };
        TokenUsage {
            prompt: count_chat_prompt(encoding, messages.iter().map(|(r, c)| (*r, c.as_str())))
                + tools,
            completion: count_text(encoding, &reply_text),
            ..TokenUsage::default()
        }
    })
    .await
    .unwrap_or_default()
}

/// A message's tool calls as the tokenizer reads them: each name and its arguments.
fn calls_text(message: &ChatMessage) -> String {
    message
        .tool_calls
        .iter()
        .map(|c| format!("{} {}", c.function.name, c.function.arguments))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` up to `max` characters, cut at a character.
fn capped(text: &str, max: usize) -> &str {
    text.char_indices()
        .nth(max)
        .map_or(text, |(i, _)| &text[..i])
}

/// The input tokens of `message`'s pictures by the model's rule (`rule`); a model that
/// takes no pictures is never sent any (Tally refuses them first).
fn picture_tokens(rule: Option<tally_spend::PictureRule>, message: &ChatMessage) -> u64 {
    let Some(rule) = rule else { return 0 };
    message
        .pictures
        .iter()
        .map(|p| rule.tokens(p.width, p.height))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate counts a paste only up to what a message may hold, cut at a character.
    #[test]
    fn a_draft_is_counted_only_up_to_a_messages_length() {
        assert_eq!(capped("héllo", 2), "hé");
        assert_eq!(capped("héllo", 5), "héllo");
        assert_eq!(capped("héllo", 99), "héllo");
        assert_eq!(capped("", 3), "");
        let huge = "ab".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(capped(&huge, MAX_MESSAGE_CHARS).len(), MAX_MESSAGE_CHARS);
        let meter = Meter::default();
        assert!(meter.draft_tokens("gpt-4o-mini", &huge).too_long);
        assert!(!meter.draft_tokens("gpt-4o-mini", "hello").too_long);
    }

    #[test]
    fn a_reservation_holds_its_amount_until_dropped() {
        let meter = Meter::default();
        let first = meter.reserve(300, |_| Ok::<_, ()>(())).unwrap();
        let second = meter.reserve(200, |in_flight| {
            assert_eq!(in_flight, 300);
            Ok::<_, ()>(())
        });
        assert_eq!(meter.in_flight(), 500);
        drop(first);
        assert_eq!(meter.in_flight(), 200);
        drop(second);
        assert_eq!(meter.in_flight(), 0);
    }

    #[test]
    fn a_refused_reservation_holds_nothing() {
        let meter = Meter::default();
        let _held = meter.reserve(300, |_| Ok::<_, ()>(())).unwrap();
        let refused = meter.reserve(
            1_000,
            |in_flight| {
                if in_flight > 0 { Err("over") } else { Ok(()) }
            },
        );
        assert_eq!(refused.err(), Some("over"));
        assert_eq!(meter.in_flight(), 300);
    }

    #[test]
    fn a_branch_is_counted_again_when_anything_it_was_counted_from_changes() {
        let meter = Meter::default();
        let key = BranchKey {
            leaf: Some((7, 1_000, 42)),
            model: "gpt-4o-mini".into(),
            system_prompt: None,
        };
        assert_eq!(meter.branch_tokens(1, &key), None);
        meter.remember_branch_tokens(1, key.clone(), 120);
        assert_eq!(meter.branch_tokens(1, &key), Some(120));
        let edited = BranchKey {
            leaf: Some((7, 2_000, 43)),
            ..key.clone()
        };
        let other_model = BranchKey {
            model: "gpt-4.1".into(),
            ..key.clone()
        };
        assert_eq!(meter.branch_tokens(1, &edited), None);
        assert_eq!(meter.branch_tokens(1, &other_model), None);
        meter.forget_tokens();
        assert_eq!(meter.branch_tokens(1, &key), None);
    }

    #[test]
    fn user_prices_replace_the_shipped_ones_until_taken_back() {
        let meter = Meter::default();
        let shipped = meter.price_of("gpt-4o-mini").expect("a shipped price");
        meter.use_prices(vec![PriceOverride {
            model: "gpt-4o-mini".into(),
            input_nanos: shipped.input * 2,
            cached_input_nanos: None,
            output_nanos: shipped.output,
            context_window: shipped.context_window,
            max_output: shipped.max_output,
        }]);
        let user = meter.price_of("gpt-4o-mini").unwrap();
        assert_eq!((user.input, user.user_set), (shipped.input * 2, true));
        meter.use_prices(Vec::new());
        assert_eq!(meter.price_of("gpt-4o-mini"), Some(shipped));
    }
}
