//! What Tally knows about each model, in one place: its price (and the price rules that
//! change it), its context window and output limit, the encoding its tokens are counted
//! in, whether it reasons first and at which efforts, and the endpoints that serve it.
//! The data is `models.json`, dated and sourced; everything else in Tally asks this
//! catalog. For a model it does not know, [`ModelCatalog::traits`] gives its best guess
//! from the id (and says it is a guess), and [`ModelCatalog::lookup`] no price.

use serde::{Deserialize, Serialize};

use crate::{Encoding, NanoUsd, PictureRule, SpendError, parse_usd};

/// The APIs that can answer a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `POST /chat/completions`
    Chat,
    /// `POST /responses`
    Responses,
}

/// How long a reasoning model may think, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    Xhigh,
}

impl Effort {
    /// The word the API takes (`reasoning_effort` / `reasoning.effort`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minimal => "minimal",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Xhigh => "xhigh",
        }
    }
}

/// A price tier for long prompts: a request whose input is over `over_input_tokens` is
/// billed, as a whole, at `input_percent` of the input rates and `output_percent` of the
/// output rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LongPrompt {
    pub over_input_tokens: u64,
    pub input_percent: u32,
    pub output_percent: u32,
}

impl LongPrompt {
    /// Whether a request with `prompt_tokens` of input is billed at this tier.
    pub fn applies_to(&self, prompt_tokens: u64) -> bool {
        prompt_tokens > self.over_input_tokens
    }
}

/// List prices of one model family, in nano-USD per 1M tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    pub family: String,
    pub input: NanoUsd,
    /// `None` where the model has no discounted rate for cached prompt tokens.
    pub cached_input: Option<NanoUsd>,
    /// Prompt tokens written to the cache; `None`: billed at the input rate.
    pub cache_write: Option<NanoUsd>,
    pub output: NanoUsd,
    pub context_window: u32,
    pub max_output: u32,
    /// The long-prompt tier, on the models that have one.
    pub long_prompt: Option<LongPrompt>,
    /// What a web search costs with this model.
    pub web_search: WebSearchPrice,
    /// Set or added by the user rather than shipped.
    pub user_set: bool,
}

/// The price of the Responses API's web search: a fee per call (not in the usage, so the
/// ledger adds it), and the input tokens a worst case allows per call for what the search
/// read (those arrive in the usage's input tokens, billed at the model's rate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebSearchPrice {
    pub per_call: NanoUsd,
    pub content_tokens: u64,
}

impl ModelPrice {
    /// A user's price for `model`, checked: rates per 1M tokens must be below $10,000 and
    /// the limits positive, with a message that says what to fix.
    pub fn user(
        model: &str,
        input: NanoUsd,
        cached_input: Option<NanoUsd>,
        output: NanoUsd,
        context_window: u32,
        max_output: u32,
    ) -> Result<Self, SpendError> {
        let invalid = |why: &str| Err(SpendError::InvalidPrice(why.to_string()));
        let model = model.trim();
        if model.is_empty() || model.len() > 200 || model.chars().any(char::is_whitespace) {
            return invalid("Type the model's name as the API knows it, without spaces.");
        }
        let limit = 10_000 * crate::NANOS_PER_USD;
        let rates = [Some(input), cached_input, Some(output)];
        if rates
            .into_iter()
            .flatten()
            .any(|r| !(0..=limit).contains(&r))
        {
            return invalid("Prices are per million tokens, from $0 to $10,000.");
        }
        if context_window == 0 || max_output == 0 {
            return invalid("The context window and the output limit must be at least 1 token.");
        }
        Ok(Self {
            family: model.to_string(),
            input,
            cached_input,
            cache_write: None,
            output,
            context_window,
            max_output: max_output.min(context_window),
            long_prompt: None,
            // The catalog's fee, set when the price joins a catalog.
            web_search: WebSearchPrice::default(),
            user_set: true,
        })
    }
}

/// How a model is asked: what Tally knows (or, for a model it does not know, guesses from
/// the id) beside its price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTraits {
    /// In the catalog; `false`: every other field is a guess from the id.
    pub known: bool,
    pub encoding: Encoding,
    /// Thinks before it answers: takes `max_completion_tokens`, no sampling parameters,
    /// and may be silent for minutes before its first token.
    pub reasoning: bool,
    /// The reasoning efforts it accepts, least first (empty: none known).
    pub efforts: Vec<Effort>,
    /// The APIs that serve it, preferred first.
    pub endpoints: Vec<Endpoint>,
    /// May think for many minutes before its first token (the pro models).
    pub thinks_for_minutes: bool,
    /// How it reads pictures and bills them; `None`: it takes none.
    pub pictures: Option<PictureRule>,
}

impl ModelTraits {
    /// The guess for a model the catalog does not know: the o-series and gpt-5 and later
    /// reason; gpt-4 (not 4o or 4.1) and gpt-3.5 count in cl100k_base, everything
    /// else in o200k_base; Chat Completions is tried first.
    pub fn guess(model: &str) -> Self {
        let model = model.trim().rsplit('/').next().unwrap_or(model);
        Self {
            known: false,
            encoding: Encoding::guess(model),
            reasoning: looks_like_reasoning(model),
            efforts: Vec::new(),
            endpoints: vec![Endpoint::Chat, Endpoint::Responses],
            // A pro model of a generation Tally does not know thinks as long as its elders.
            thinks_for_minutes: looks_like_reasoning(model) && model.ends_with("-pro"),
            pictures: Some(guessed_picture_rule(model)),
        }
    }

    /// Served only by the Responses API.
    pub fn responses_only(&self) -> bool {
        !self.endpoints.contains(&Endpoint::Chat)
    }
}

/// A model Tally does not know is let take pictures (the server refuses them in words if it
/// cannot), estimated as its known elders are: patches for gpt-5.2 and later, tiles for
/// gpt-5 and 5.1 and the o-series, gpt-4o's tiles for anything else.
fn guessed_picture_rule(model: &str) -> PictureRule {
    let version = model.strip_prefix("gpt-").map(|rest| {
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = number.split('.');
        let major = parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0);
        let minor = parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0);
        (major, minor)
    });
    match version {
        Some(v) if v >= (5, 2) => PictureRule::Patches {
            max: 2500,
            multiplier_permille: 1200,
        },
        Some(v) if v >= (5, 0) => PictureRule::Tiles {
            base: 70,
            per_tile: 140,
        },
        _ if looks_like_reasoning(model) => PictureRule::Tiles {
            base: 75,
            per_tile: 150,
        },
        _ => PictureRule::Tiles {
            base: 85,
            per_tile: 170,
        },
    }
}

/// The o-series, and gpt-5 and every later generation.
fn looks_like_reasoning(model: &str) -> bool {
    let o_series = model.starts_with('o') && model[1..].starts_with(|c: char| c.is_ascii_digit());
    let generation = model.strip_prefix("gpt-").map(|rest| {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..digits].parse::<u32>().unwrap_or(0)
    });
    o_series || generation.is_some_and(|g| g >= 5)
}

/// Everything Tally knows about models, and the day it was checked.
#[derive(Debug, Clone)]
pub struct ModelCatalog {
    pub checked_on: String,
    /// Where the figures come from.
    pub source: String,
    /// The price of a web search call (the same for every model).
    pub web_search: WebSearchPrice,
    models: Vec<ModelPrice>,
    traits: Vec<(String, ModelTraits)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    checked_on: String,
    source: String,
    web_search_call: String,
    web_search_content_tokens: u64,
    /// Where the picture rules come from (for people reading the file).
    #[allow(dead_code, reason = "documentation in the data file")]
    pictures_note: String,
    models: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogEntry {
    family: String,
    input: String,
    cached_input: Option<String>,
    #[serde(default)]
    cache_write: Option<String>,
    output: String,
    context_window: u32,
    max_output: u32,
    endpoints: Vec<Endpoint>,
    /// `null` for a model that does not reason.
    reasoning_efforts: Option<Vec<Effort>>,
    #[serde(default)]
    long_prompt: Option<LongPrompt>,
    #[serde(default)]
    encoding: Option<Encoding>,
    #[serde(default)]
    thinks_for_minutes: bool,
    /// `null` for a model that takes no pictures (every entry says; a test checks).
    pictures: Option<PictureRule>,
}

impl ModelCatalog {
    /// The catalog shipped with this build of Tally.
    pub fn builtin() -> Self {
        Self::from_json(include_str!("models.json")).expect("the shipped model catalog parses")
    }

    /// Parses a catalog in the shipped JSON format (prices as decimal dollar strings).
    pub fn from_json(json: &str) -> Result<Self, SpendError> {
        let damaged = |why: String| SpendError::Catalog(why);
        let file: CatalogFile = serde_json::from_str(json).map_err(|e| damaged(e.to_string()))?;
        let web_search = WebSearchPrice {
            per_call: parse_usd(&file.web_search_call)?,
            content_tokens: file.web_search_content_tokens,
        };
        let mut models = Vec::with_capacity(file.models.len());
        let mut traits = Vec::with_capacity(file.models.len());
        for entry in file.models {
            if entry.endpoints.is_empty() {
                return Err(damaged(format!("{} has no endpoint", entry.family)));
            }
            traits.push((
                entry.family.clone(),
                ModelTraits {
                    known: true,
                    encoding: entry.encoding.unwrap_or(Encoding::O200kBase),
                    reasoning: entry.reasoning_efforts.is_some(),
                    efforts: entry.reasoning_efforts.unwrap_or_default(),
                    endpoints: entry.endpoints,
                    thinks_for_minutes: entry.thinks_for_minutes,
                    pictures: entry.pictures,
                },
            ));
            models.push(ModelPrice {
                input: parse_usd(&entry.input)?,
                cached_input: entry.cached_input.as_deref().map(parse_usd).transpose()?,
                cache_write: entry.cache_write.as_deref().map(parse_usd).transpose()?,
                output: parse_usd(&entry.output)?,
                family: entry.family,
                context_window: entry.context_window,
                max_output: entry.max_output,
                long_prompt: entry.long_prompt,
                web_search,
                user_set: false,
            });
        }
        Ok(Self {
            checked_on: file.checked_on,
            source: file.source,
            web_search,
            models,
            traits,
        })
    }

    /// The price of `model`: an exact entry first (a user may price one dated id), else
    /// its family (`gpt-4o-mini-2024-07-18` is `gpt-4o-mini`, never `gpt-4o`).
    pub fn lookup(&self, model: &str) -> Option<&ModelPrice> {
        let model = model.trim();
        let family = family_of(model);
        self.models
            .iter()
            .find(|m| m.family == model)
            .or_else(|| self.models.iter().find(|m| m.family == family))
    }

    /// How `model` is asked: the catalog's entry for its family, else a guess.
    pub fn traits(&self, model: &str) -> ModelTraits {
        let family = family_of(model);
        self.traits
            .iter()
            .find(|(known, _)| known == family)
            .map(|(_, traits)| traits.clone())
            .unwrap_or_else(|| ModelTraits::guess(model))
    }

    /// Every priced model, shipped and the user's, by name.
    pub fn models(&self) -> &[ModelPrice] {
        &self.models
    }

    /// The families the catalog describes, in its order (newest first).
    pub fn families(&self) -> impl Iterator<Item = &str> {
        self.traits.iter().map(|(family, _)| family.as_str())
    }

    /// Whether `id`, as `GET /models` lists it, is a model one can chat with (the list
    /// also holds embedding, audio, image and moderation models).
    pub fn is_chat_model(&self, id: &str) -> bool {
        if self
            .traits
            .iter()
            .any(|(family, _)| family == family_of(id))
        {
            return true;
        }
        let chat_family = id.starts_with("gpt-") || looks_like_reasoning(id);
        let not_chat = [
            "embedding",
            "whisper",
            "tts",
            "dall-e",
            "audio",
            "realtime",
            "transcribe",
            "image",
            "moderation",
            "search",
        ];
        chat_family && !not_chat.iter().any(|w| id.contains(w))
    }

    /// This catalog with the user's prices: each replaces the shipped entry of the same
    /// name, or adds a model. A shipped long-prompt tier and cache-write rate stay: they
    /// are rules of the model, not the rates the user corrects.
    pub fn with_overrides(&self, overrides: impl IntoIterator<Item = ModelPrice>) -> Self {
        let mut models = self.models.clone();
        for mut price in overrides {
            price.web_search = self.web_search;
            match models.iter_mut().find(|m| m.family == price.family) {
                Some(existing) => {
                    price.long_prompt = price.long_prompt.or(existing.long_prompt);
                    price.cache_write = price.cache_write.or(existing.cache_write);
                    *existing = price;
                }
                None => models.push(price),
            }
        }
        models.sort_by(|a, b| a.family.cmp(&b.family));
        Self {
            models,
            ..self.clone()
        }
    }
}

/// Strips a date suffix (`-2024-08-06` or `-0613`) from a model id.
fn family_of(model: &str) -> &str {
    let model = model.trim();
    let bytes = model.as_bytes();
    let is_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    // -YYYY-MM-DD
    if bytes.len() > 11 {
        let tail = &bytes[bytes.len() - 11..];
        if tail[0] == b'-'
            && is_digits(&tail[1..5])
            && tail[5] == b'-'
            && is_digits(&tail[6..8])
            && tail[8] == b'-'
            && is_digits(&tail[9..11])
        {
            return &model[..model.len() - 11];
        }
    }
    // -MMDD
    if bytes.len() > 5 {
        let tail = &bytes[bytes.len() - 5..];
        if tail[0] == b'-' && is_digits(&tail[1..]) {
            return &model[..model.len() - 5];
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_ids_map_to_their_family() {
        let catalog = ModelCatalog::builtin();
        let cases = [
            ("gpt-4o-mini-2024-07-18", Some("gpt-4o-mini")),
            ("gpt-4o-2024-08-06", Some("gpt-4o")),
            ("gpt-4o", Some("gpt-4o")),
            ("gpt-3.5-turbo-0125", Some("gpt-3.5-turbo")),
            ("gpt-5-mini", Some("gpt-5-mini")),
            ("o3-mini-2025-01-31", Some("o3-mini")),
            ("gpt-5.4-mini-2026-03-17", Some("gpt-5.4-mini")),
            ("gpt-5.5-pro", Some("gpt-5.5-pro")),
            ("gpt-9-turbo", None),
            ("llama3", None),
        ];
        for (model, family) in cases {
            assert_eq!(
                catalog.lookup(model).map(|p| p.family.as_str()),
                family,
                "{model}"
            );
        }
    }

    #[test]
    fn shipped_catalog_is_dated_sourced_and_exact() {
        let catalog = ModelCatalog::builtin();
        assert_eq!(catalog.checked_on.len(), "2026-11-29".len());
        assert!(catalog.source.contains("prices.md"));
        assert_eq!(
            catalog.web_search,
            WebSearchPrice {
                per_call: 10_000_000,
                content_tokens: 8_000
            },
            "$10 per 1,000 calls; gpt-4o-mini's fixed 8,000 tokens a call"
        );
        assert!(
            catalog
                .models()
                .iter()
                .all(|m| m.web_search == catalog.web_search)
        );
        let mini = catalog.lookup("gpt-4o-mini").unwrap();
        assert_eq!(mini.input, 150_000_000);
        assert_eq!(mini.cached_input, Some(75_000_000));
        assert_eq!(mini.output, 600_000_000);
        assert!(!mini.user_set);
        let big = catalog.lookup("gpt-5.4").unwrap();
        assert_eq!(big.context_window, 1_050_000);
        assert_eq!(
            big.long_prompt,
            Some(LongPrompt {
                over_input_tokens: 272_000,
                input_percent: 200,
                output_percent: 150
            })
        );
        assert_eq!(catalog.lookup("gpt-5.4-mini").unwrap().long_prompt, None);
    }

    #[test]
    fn every_entry_is_complete() {
        let catalog = ModelCatalog::builtin();
        assert_eq!(catalog.families().count(), catalog.models().len());
        for price in catalog.models() {
            let traits = catalog.traits(&price.family);
            assert!(traits.known, "{}", price.family);
            assert!(price.max_output <= price.context_window, "{}", price.family);
            assert!(
                price.input > 0 && price.output >= price.input,
                "{}",
                price.family
            );
            assert!(
                price.cached_input.is_none_or(|c| c < price.input),
                "{}",
                price.family
            );
            let mut sorted = traits.efforts.clone();
            sorted.sort();
            assert_eq!(
                sorted, traits.efforts,
                "{}: efforts least first",
                price.family
            );
            assert!(catalog.is_chat_model(&price.family), "{}", price.family);
        }
    }

    #[test]
    fn traits_of_known_and_unknown_models() {
        let catalog = ModelCatalog::builtin();
        // (model, known, reasoning, responses only, encoding)
        let cases = [
            ("gpt-4o-mini", true, false, false, Encoding::O200kBase),
            ("gpt-4o-2024-08-06", true, false, false, Encoding::O200kBase),
            ("o4-mini", true, true, false, Encoding::O200kBase),
            ("gpt-5.4-nano", true, true, false, Encoding::O200kBase),
            ("gpt-5.5-pro", true, true, true, Encoding::O200kBase),
            ("gpt-5.2-codex", true, true, true, Encoding::O200kBase),
            ("o3-pro", true, true, true, Encoding::O200kBase),
            ("gpt-4-turbo", true, false, false, Encoding::Cl100kBase),
            (
                "gpt-3.5-turbo-0125",
                true,
                false,
                false,
                Encoding::Cl100kBase,
            ),
            // Guesses from the id alone:
            ("gpt-7-mini", false, true, false, Encoding::O200kBase),
            ("o9", false, true, false, Encoding::O200kBase),
            ("gpt-4-0613", false, false, false, Encoding::Cl100kBase),
            ("openai/gpt-5.9", false, true, false, Encoding::O200kBase),
            ("llama3", false, false, false, Encoding::O200kBase),
            (
                "omni-moderation-latest",
                false,
                false,
                false,
                Encoding::O200kBase,
            ),
        ];
        for (model, known, reasoning, responses_only, encoding) in cases {
            let traits = catalog.traits(model);
            assert_eq!(traits.known, known, "{model} known");
            assert_eq!(traits.reasoning, reasoning, "{model} reasoning");
            assert_eq!(traits.responses_only(), responses_only, "{model} endpoints");
            assert_eq!(traits.encoding, encoding, "{model} encoding");
        }
        let efforts = catalog.traits("gpt-5.4").efforts;
        assert_eq!(efforts.first(), Some(&Effort::None));
        assert_eq!(efforts.last(), Some(&Effort::Xhigh));
        assert!(catalog.traits("gpt-4o").efforts.is_empty());
    }

    /// Each shipped model states how it takes pictures (a missing rule would silently turn
    /// pictures off), and a 1024×1024 picture costs what its rule says.
    #[test]
    fn pictures_cost_each_models_rule() {
        let stated = include_str!("models.json")
            .matches("\"pictures\": ")
            .count();
        let catalog = ModelCatalog::builtin();
        assert_eq!(
            stated,
            catalog.models().len(),
            "a model without its picture rule"
        );
        // (model, tokens of a 1024×1024 picture; None: takes no pictures)
        let cases = [
            ("gpt-4o", Some(765)),
            ("gpt-4o-2024-08-06", Some(765)),
            ("gpt-4o-mini", Some(25_501)),
            ("gpt-4.1", Some(765)),
            ("gpt-5", Some(630)),
            ("o3", Some(675)),
            ("gpt-4.1-mini", Some(1659)),
            ("gpt-4.1-nano", Some(2520)),
            ("o4-mini", Some(1762)),
            ("gpt-5-mini", Some(1229)),
            ("gpt-5-nano", Some(1536)),
            ("gpt-5.4", Some(1229)),
            ("o3-mini", None),
            ("gpt-3.5-turbo", None),
            // Guesses from the id:
            ("gpt-7-mini", Some(1229)),
            ("o9", Some(675)),
            ("llama3", Some(765)),
        ];
        for (model, tokens) in cases {
            let rule = catalog.traits(model).pictures;
            assert_eq!(rule.map(|r| r.tokens(1024, 1024)), tokens, "{model}");
        }
    }

    #[test]
    fn chat_models_are_told_apart() {
        let catalog = ModelCatalog::builtin();
        for (id, chat) in [
            ("gpt-4o-mini", true),
            ("o4-mini", true),
            ("gpt-5", true),
            ("gpt-5.5-pro", true),
            ("gpt-6-preview", true),
            ("text-embedding-3-small", false),
            ("whisper-1", false),
            ("gpt-4o-realtime-preview", false),
            ("gpt-4o-mini-search-preview", false),
            ("omni-moderation-latest", false),
            ("dall-e-3", false),
        ] {
            assert_eq!(catalog.is_chat_model(id), chat, "{id}");
        }
    }

    #[test]
    fn user_prices_replace_or_add() {
        let builtin = ModelCatalog::builtin();
        let cheaper = ModelPrice::user("gpt-4o", 1, None, 2, 128_000, 16_384).unwrap();
        let local = ModelPrice::user("llama3", 0, None, 0, 8_192, 100_000).unwrap();
        let dated = ModelPrice::user("gpt-4o-2024-05-13", 5, None, 15, 128_000, 4_096).unwrap();
        let catalog = builtin.with_overrides([cheaper, local, dated]);
        assert_eq!(catalog.lookup("gpt-4o").unwrap().input, 1);
        assert_eq!(catalog.lookup("gpt-4o-2024-08-06").unwrap().input, 1);
        assert_eq!(catalog.lookup("gpt-4o-2024-05-13").unwrap().input, 5);
        let llama = catalog.lookup("llama3").unwrap();
        assert!(llama.user_set);
        assert_eq!(llama.max_output, 8_192, "output limit capped at the window");
        assert_eq!(catalog.models().len(), builtin.models().len() + 2);
        assert_eq!(builtin.lookup("gpt-4o").unwrap().input, 2_500_000_000);
    }

    #[test]
    fn a_corrected_price_keeps_the_models_long_prompt_rule() {
        let builtin = ModelCatalog::builtin();
        let corrected = ModelPrice::user("gpt-5.4", 1, None, 2, 1_050_000, 128_000).unwrap();
        let catalog = builtin.with_overrides([corrected]);
        let price = catalog.lookup("gpt-5.4").unwrap();
        assert_eq!(price.input, 1);
        assert_eq!(
            price.long_prompt,
            builtin.lookup("gpt-5.4").unwrap().long_prompt
        );
    }

    #[test]
    fn user_prices_are_checked() {
        for (model, input, context) in [
            ("", 1, 1),
            ("my model", 1, 1),
            ("m", -1, 1),
            ("m", 10_001 * crate::NANOS_PER_USD, 1),
            ("m", 1, 0),
        ] {
            assert!(
                ModelPrice::user(model, input, None, 1, context, 1).is_err(),
                "{model} {input} {context}"
            );
        }
    }

    #[test]
    fn a_damaged_catalog_is_refused() {
        for json in [
            "{",
            r#"{"checked_on":"x","source":"y","web_search_call":"0.01","web_search_content_tokens":8000,"models":[{"family":"m","input":"1","cached_input":null,"output":"1","context_window":1,"max_output":1,"endpoints":[],"reasoning_efforts":null}]}"#,
            r#"{"checked_on":"x","source":"y","web_search_call":"0.01","web_search_content_tokens":8000,"models":[{"family":"m","input":"one","cached_input":null,"output":"1","context_window":1,"max_output":1,"endpoints":["chat"],"reasoning_efforts":null}]}"#,
            r#"{"checked_on":"x","source":"y","web_search_call":"0.01","web_search_content_tokens":8000,"models":[{"family":"m","input":"1","cached_input":null,"output":"1","context_window":1,"max_output":1,"endpoints":["fax"],"reasoning_efforts":null}]}"#,
        ] {
            assert!(ModelCatalog::from_json(json).is_err(), "{json}");
        }
    }
}
