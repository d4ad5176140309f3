//! Pure money and token arithmetic for Tally.
//!
//! This crate owns the model catalog (shipped as data, dated and sourced: each model's
//! prices and price rules, window, output limit, encoding, reasoning efforts and
//! endpoints, and how it reads and bills pictures), the mapping of dated model ids to their family, exact token counting with
//! the model's real encoding, the cost of a request in integer nano-USD, and the budget rules: budget months
//! in the user's time zone, thresholds, projection and the hard-stop gate. It does no I/O:
//! no files, no network, no clock, no database. Callers pass in everything it needs (the
//! time, the time zone, the user's price overrides), so every function here is
//! deterministic and cheap to test.
//!
//! The whole project's map is `ARCHITECTURE.md` at the repository's root.

mod budget;
mod catalog;
mod money;
mod pictures;
mod tokens;

pub use budget::{
    Budget, DEFAULT_THRESHOLDS, MeterLevel, Period, local_date, local_midnight, month_starts,
    worst_case_cost,
};
pub use catalog::{
    Effort, Endpoint, LongPrompt, ModelCatalog, ModelPrice, ModelTraits, WebSearchPrice,
};
pub use jiff::tz::TimeZone;
pub use money::{FORMAT_CASES, NANOS_PER_USD, NanoUsd, exact_usd, format_usd, parse_usd};
pub use pictures::PictureRule;
pub use tokens::{
    Encoding, PER_MESSAGE_TOKENS, REPLY_PRIMING_TOKENS, ToolDefinition, count_chat_prompt,
    count_text, count_tools,
};

/// Errors from parsing money or catalog data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpendError {
    #[error("“{0}” is not an amount in dollars, like 10 or 12.50")]
    InvalidAmount(String),
    #[error("the price catalog is damaged: {0}")]
    Catalog(String),
    #[error("{0}")]
    InvalidBudget(String),
    #[error("{0}")]
    InvalidPrice(String),
}

/// What one request used: token counts as the API reports them (or as estimated), and the
/// web searches it ran.
///
/// `prompt` includes `cached_prompt` and `cache_write`; `completion` includes `reasoning`
/// (the API reports them that way, and bills reasoning tokens as output).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub prompt: u64,
    pub cached_prompt: u64,
    /// Prompt tokens written to the cache by this request.
    pub cache_write: u64,
    pub completion: u64,
    pub reasoning: u64,
    /// Web search calls (each billed at the catalog's fee; not in the API's usage).
    pub web_searches: u64,
}

/// The cost of `usage` at `price`, in nano-USD, rounded half up to the nearest nano-USD.
///
/// Cached prompt tokens are billed at the cached rate when the model has one, otherwise at
/// the input rate; tokens written to the cache at the cache-write rate, otherwise the
/// input rate. Reasoning tokens are part of `completion` and billed as output. A prompt
/// past the model's long-prompt line bills the whole request at the higher tier. Each
/// web search adds the fee per call.
pub fn cost(usage: &TokenUsage, price: &ModelPrice) -> NanoUsd {
    let cached = usage.cached_prompt.min(usage.prompt);
    let written = usage.cache_write.min(usage.prompt - cached);
    let uncached = usage.prompt - cached - written;
    let cached_rate = price.cached_input.unwrap_or(price.input);
    let write_rate = price.cache_write.unwrap_or(price.input);
    let (input_percent, output_percent) = match price.long_prompt {
        Some(tier) if tier.applies_to(usage.prompt) => (tier.input_percent, tier.output_percent),
        _ => (100, 100),
    };
    // Sum in i128 "nano-USD × 1M tokens × percent" so nothing is rounded until the end.
    let input: i128 = i128::from(uncached) * i128::from(price.input)
        + i128::from(cached) * i128::from(cached_rate)
        + i128::from(written) * i128::from(write_rate);
    let output = i128::from(usage.completion) * i128::from(price.output);
    let scaled = input * i128::from(input_percent) + output * i128::from(output_percent);
    let nanos = (scaled + 50_000_000) / 100_000_000
        + i128::from(usage.web_searches) * i128::from(price.web_search.per_call);
    NanoUsd::try_from(nanos).unwrap_or(NanoUsd::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(prompt: u64, cached: u64, completion: u64, reasoning: u64) -> TokenUsage {
        TokenUsage {
            prompt,
            cached_prompt: cached,
            cache_write: 0,
            completion,
            reasoning,
            web_searches: 0,
        }
    }

    #[test]
    fn cost_table() {
        let catalog = ModelCatalog::builtin();
        // (model, usage, expected nano-USD), worked out by hand from prices.md.
        let cases: &[(&str, TokenUsage, NanoUsd)] = &[
            // 24 × $0.15/M + 12 × $0.60/M = 3600 + 7200 nano
            ("gpt-4o-mini-2024-07-18", usage(24, 0, 12, 0), 10_800),
            // stream-length.http: 186 × 2.50 + 1024 × 1.25 + 16 × 10.00 ($/M)
            (
                "gpt-4o-2024-08-06",
                usage(1210, 1024, 16, 0),
                465_000 + 1_280_000 + 160_000,
            ),
            // reasoning tokens are inside completion: 1000 × $4.40/M, not counted twice
            ("o4-mini", usage(0, 0, 1000, 800), 4_400_000),
            // no cached rate: cached tokens at the input rate
            ("gpt-4-turbo", usage(100, 50, 0, 0), 1_000_000),
            // one token at $0.005/M is half a nano-USD: rounds half up
            ("gpt-5-nano", usage(1, 1, 0, 0), 5),
            ("gpt-5-nano", usage(0, 0, 0, 0), 0),
            // a million output tokens of gpt-5 is exactly $10
            ("gpt-5", usage(0, 0, 1_000_000, 0), 10 * NANOS_PER_USD),
        ];
        for (model, usage, expected) in cases {
            let price = catalog
                .lookup(model)
                .unwrap_or_else(|| panic!("{model} priced"));
            assert_eq!(cost(usage, price), *expected, "{model} {usage:?}");
        }
    }

    #[test]
    fn every_family_prices_cached_and_reasoning_tokens() {
        // 1M prompt tokens of which 400k cached, 200k completion of which 150k reasoning:
        // 0.6 × input + 0.4 × cached (or input) + 0.2 × output, from prices.md by hand;
        // on the long-prompt models (1M is over 272K) the input part × 2, the output × 1.5.
        let cases = [
            ("gpt-5.5", "15.40"),
            ("gpt-5.5-pro", "114.00"),
            ("gpt-5.4", "7.70"),
            ("gpt-5.4-pro", "114.00"),
            ("gpt-5.4-mini", "1.38"),
            ("gpt-5.4-nano", "0.378"),
            ("gpt-5.2", "3.92"),
            ("gpt-5.2-pro", "54.60"),
            ("gpt-5.2-codex", "3.92"),
            ("gpt-5.2-chat-latest", "3.92"),
            ("gpt-5.1", "2.80"),
            ("gpt-5.1-codex", "2.80"),
            ("gpt-5.1-chat-latest", "2.80"),
            ("gpt-5-pro", "39.00"),
            ("o3-pro", "36.00"),
            ("o1-pro", "270.00"),
            ("gpt-5", "2.80"),
            ("gpt-5-mini", "0.56"),
            ("gpt-5-nano", "0.112"),
            ("gpt-4.1", "3.00"),
            ("gpt-4.1-mini", "0.60"),
            ("gpt-4.1-nano", "0.15"),
            ("gpt-4o", "4.00"),
            ("gpt-4o-mini", "0.24"),
            ("o3", "3.00"),
            ("o4-mini", "1.65"),
            ("o3-mini", "1.76"),
            ("gpt-4-turbo", "16.00"),
            ("gpt-3.5-turbo", "0.80"),
        ];
        let catalog = ModelCatalog::builtin();
        let families: Vec<&str> = catalog.models().iter().map(|m| m.family.as_str()).collect();
        assert_eq!(families.len(), cases.len(), "a case for every family");
        let tokens = usage(1_000_000, 400_000, 200_000, 150_000);
        for (family, dollars) in cases {
            let price = catalog.lookup(family).unwrap();
            assert_eq!(
                cost(&tokens, price),
                parse_usd(dollars).unwrap(),
                "{family}"
            );
        }
    }

    #[test]
    fn a_prompt_over_the_line_bills_the_whole_request_at_the_higher_tier() {
        let catalog = ModelCatalog::builtin();
        let price = catalog.lookup("gpt-5.4").unwrap();
        // (prompt, cached, completion, expected $) by hand: $2.50 / $0.25 / $15 per 1M
        let cases = [
            (272_000, 0, 0, "0.68"),
            (272_001, 0, 0, "1.360005"),
            (272_000, 0, 1_000, "0.695"),
            // 2 × (272,001 × 2.50 − …) + 1.5 × 1,000 × 15, cached at 2 × 0.25
            (272_001, 100_000, 1_000, "0.932505"),
        ];
        for (prompt, cached, completion, dollars) in cases {
            let tokens = usage(prompt, cached, completion, 0);
            let expected = parse_usd(dollars).unwrap();
            assert_eq!(
                cost(&tokens, price),
                expected,
                "{prompt} {cached} {completion}"
            );
        }
        // A model without the tier never jumps.
        let mini = catalog.lookup("gpt-5.4-mini").unwrap();
        assert_eq!(
            cost(&usage(300_000, 0, 0, 0), mini),
            parse_usd("0.225").unwrap()
        );
    }

    #[test]
    fn cache_writes_are_billed_at_their_rate_or_the_input_rate() {
        let mut price = ModelCatalog::builtin().lookup("gpt-4o").unwrap().clone();
        let tokens = TokenUsage {
            prompt: 1_000_000,
            cached_prompt: 200_000,
            cache_write: 300_000,
            ..TokenUsage::default()
        };
        // 0.5M × $2.50 + 0.2M × $1.25 + 0.3M × $2.50 (no cache-write price: input rate)
        assert_eq!(cost(&tokens, &price), parse_usd("2.25").unwrap());
        price.cache_write = Some(parse_usd("3.125").unwrap());
        // … + 0.3M × $3.125 instead
        assert_eq!(cost(&tokens, &price), parse_usd("2.4375").unwrap());
        // More writes than uncached tokens are capped, never billed twice.
        let over = TokenUsage {
            cache_write: 5_000_000,
            ..tokens
        };
        assert_eq!(cost(&over, &price), parse_usd("2.75").unwrap());
    }

    #[test]
    fn each_web_search_adds_the_fee_per_call() {
        let catalog = ModelCatalog::builtin();
        // responses-stream-web-search.http: one search, 8,412 input (8,192 of them cache
        // writes, at the input rate) and 96 output tokens of gpt-5.4-mini.
        let searched = TokenUsage {
            prompt: 8_412,
            cache_write: 8_192,
            completion: 96,
            web_searches: 1,
            ..TokenUsage::default()
        };
        let mini = catalog.lookup("gpt-5.4-mini").unwrap();
        // 8,412 × $0.75/M + 96 × $4.50/M + $0.01
        assert_eq!(cost(&searched, mini), 6_309_000 + 432_000 + 10_000_000);
        let three = TokenUsage {
            web_searches: 3,
            ..TokenUsage::default()
        };
        assert_eq!(cost(&three, mini), parse_usd("0.03").unwrap());
        // The fee is the catalog's, the same for a model the user priced.
        let user = ModelPrice::user("my-model", 1_000, None, 1_000, 1_000, 100).unwrap();
        let priced = catalog.with_overrides([user]);
        assert_eq!(
            cost(&three, priced.lookup("my-model").unwrap()),
            parse_usd("0.03").unwrap()
        );
    }

    #[test]
    fn cached_tokens_never_exceed_prompt() {
        let price = ModelCatalog::builtin().lookup("gpt-4o").unwrap().clone();
        assert_eq!(cost(&usage(10, 50, 0, 0), &price), 12_500);
    }
}
