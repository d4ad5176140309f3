use serde::Deserialize;

use crate::{NanoUsd, SpendError, parse_usd};

/// List prices of one model family, in nano-USD per 1M tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    pub family: String,
    pub input: NanoUsd,
    /// `None` where the model has no discounted rate for cached prompt tokens.
    pub cached_input: Option<NanoUsd>,
    pub output: NanoUsd,
    pub context_window: u32,
    pub max_output: u32,
    /// Set or added by the user rather than shipped.
    pub user_set: bool,
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
            output,
            context_window,
            max_output: max_output.min(context_window),
            user_set: true,
        })
    }
}

/// The prices Tally knows, and the day they were checked.
#[derive(Debug, Clone)]
pub struct PriceCatalog {
    pub checked_on: String,
    models: Vec<ModelPrice>,
}

#[derive(Deserialize)]
struct CatalogFile {
    checked_on: String,
    models: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
struct CatalogEntry {
    family: String,
    input: String,
    cached_input: Option<String>,
    output: String,
    context_window: u32,
    max_output: u32,
}

impl PriceCatalog {
    /// The catalog shipped with this build of Tally.
    pub fn builtin() -> Self {
        Self::from_json(include_str!("prices.json")).expect("the shipped price catalog parses")
    }

    /// Parses a catalog in the shipped JSON format (prices as decimal dollar strings).
    pub fn from_json(json: &str) -> Result<Self, SpendError> {
        let file: CatalogFile =
            serde_json::from_str(json).map_err(|e| SpendError::Catalog(e.to_string()))?;
        let models = file
            .models
            .into_iter()
            .map(|entry| {
                Ok(ModelPrice {
                    input: parse_usd(&entry.input)?,
                    cached_input: entry.cached_input.as_deref().map(parse_usd).transpose()?,
                    output: parse_usd(&entry.output)?,
                    family: entry.family,
                    context_window: entry.context_window,
                    max_output: entry.max_output,
                    user_set: false,
                })
            })
            .collect::<Result<Vec<_>, SpendError>>()?;
        Ok(Self {
            checked_on: file.checked_on,
            models,
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

    /// Every priced model, shipped and the user's, by name.
    pub fn models(&self) -> &[ModelPrice] {
        &self.models
    }

    /// This catalog with the user's prices: each replaces the shipped entry of the same
    /// name, or adds a model.
    pub fn with_overrides(&self, overrides: impl IntoIterator<Item = ModelPrice>) -> Self {
        let mut models = self.models.clone();
        for price in overrides {
            match models.iter_mut().find(|m| m.family == price.family) {
                Some(existing) => *existing = price,
                None => models.push(price),
            }
        }
        models.sort_by(|a, b| a.family.cmp(&b.family));
        Self {
            checked_on: self.checked_on.clone(),
            models,
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
        let catalog = PriceCatalog::builtin();
        let cases = [
            ("gpt-4o-mini-2024-07-18", Some("gpt-4o-mini")),
            ("gpt-4o-2024-08-06", Some("gpt-4o")),
            ("gpt-4o", Some("gpt-4o")),
            ("gpt-3.5-turbo-0125", Some("gpt-3.5-turbo")),
            ("gpt-5-mini", Some("gpt-5-mini")),
            ("o3-mini-2025-01-31", Some("o3-mini")),
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
    fn shipped_catalog_is_dated_and_exact() {
        let catalog = PriceCatalog::builtin();
        assert!(!catalog.checked_on.is_empty());
        let mini = catalog.lookup("gpt-4o-mini").unwrap();
        assert_eq!(mini.input, 150_000_000);
        assert_eq!(mini.cached_input, Some(75_000_000));
        assert_eq!(mini.output, 600_000_000);
        assert!(!mini.user_set);
    }

    #[test]
    fn user_prices_replace_or_add() {
        let builtin = PriceCatalog::builtin();
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
}
