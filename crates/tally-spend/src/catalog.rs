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
                })
            })
            .collect::<Result<Vec<_>, SpendError>>()?;
        Ok(Self {
            checked_on: file.checked_on,
            models,
        })
    }

    /// The price of `model`: an exact family name, or a dated id of a family
    /// (`gpt-4o-mini-2024-07-18` is `gpt-4o-mini`, never `gpt-4o`).
    pub fn lookup(&self, model: &str) -> Option<&ModelPrice> {
        let family = family_of(model);
        self.models.iter().find(|m| m.family == family)
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
    }
}
