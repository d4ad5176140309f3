//! The models Tally offers and the one new chats start with, and the form a typed model
//! name must have. What Tally knows about each model is the model catalog's, in
//! tally-spend, which the meter holds; this module only turns it into what a picker shows.

use tally_spend::{ModelCatalog, format_usd};

use crate::CoreError;
use crate::api::{ModelView, ModelsView, WebSearchView};

/// The model new conversations start with until the person picks another: a current
/// small model, cheap enough for everyday chat.
pub(crate) const DEFAULT_MODEL: &str = "gpt-5.4-mini";

/// The most web searches one reply may run (`max_tool_calls`), each a billed call: what
/// the estimate's worst case and the hard stop count.
pub const MAX_WEB_SEARCHES: u32 = 3;

/// A model name as the user may type it: one word, not too long.
pub(crate) fn checked_model(model: &str) -> Result<String, CoreError> {
    let model = model.trim();
    if model.is_empty() || model.len() > 200 || model.chars().any(char::is_whitespace) {
        return Err(CoreError::InvalidInput(
            "Pick a model from the list, or type a model name without spaces.".into(),
        ));
    }
    Ok(model.to_string())
}

/// `listed` (the key's models) or every catalog model, and `also` (the models in use,
/// which a key's list may lack), each with what the catalog knows: the known ones in the
/// catalog's order (newest first), then the rest by name.
pub(crate) fn models_view(
    catalog: &ModelCatalog,
    listed: Option<Vec<String>>,
    also: &[String],
) -> ModelsView {
    let from_key = listed.is_some();
    let mut ids: Vec<String> = match listed {
        Some(ids) => ids,
        None => catalog.families().map(str::to_string).collect(),
    };
    ids.extend(also.iter().filter(|id| !id.trim().is_empty()).cloned());
    let rank = |id: &str| {
        let family = catalog.lookup(id).map(|p| p.family.as_str());
        catalog
            .families()
            .position(|f| Some(f) == family)
            .unwrap_or(usize::MAX)
    };
    let mut models: Vec<ModelView> = ids.iter().map(|id| model_view(catalog, id)).collect();
    models.sort_by(|a, b| (!a.known, rank(&a.id), &a.id).cmp(&(!b.known, rank(&b.id), &b.id)));
    models.dedup_by(|a, b| a.id == b.id);
    ModelsView {
        models,
        from_key,
        checked_on: catalog.checked_on.clone(),
        web_search: WebSearchView {
            max_calls: MAX_WEB_SEARCHES,
            fee_nanos: catalog.web_search.per_call,
        },
    }
}

fn model_view(catalog: &ModelCatalog, id: &str) -> ModelView {
    let price = catalog.lookup(id);
    let traits = catalog.traits(id);
    ModelView {
        id: id.to_string(),
        known: price.is_some(),
        price_words: price.map(|p| {
            format!(
                "{} in, {} out per million tokens",
                format_usd(p.input),
                format_usd(p.output)
            )
        }),
        reasoning: traits.reasoning,
        efforts: traits
            .efforts
            .iter()
            .map(|e| e.as_str().to_string())
            .collect(),
        responses_only: traits.responses_only(),
        context_window: price.map(|p| p.context_window),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_model_name_is_one_word_of_reasonable_length() {
        assert_eq!(checked_model("  gpt-4.1 ").unwrap(), "gpt-4.1");
        for bad in ["", "   ", "gpt 4", &"m".repeat(201)] {
            assert!(checked_model(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_default_model_is_in_the_catalog() {
        let catalog = ModelCatalog::builtin();
        assert_eq!(
            catalog.lookup(DEFAULT_MODEL).map(|p| p.family.as_str()),
            Some(DEFAULT_MODEL)
        );
        assert!(!catalog.traits(DEFAULT_MODEL).responses_only());
    }

    #[test]
    fn without_a_tested_key_the_catalog_is_offered_with_prices_in_words() {
        let catalog = ModelCatalog::builtin();
        let view = models_view(&catalog, None, &[]);
        assert!(!view.from_key);
        assert_eq!(
            (view.web_search.max_calls, view.web_search.fee_nanos),
            (3, 10_000_000)
        );
        assert_eq!(view.models.len(), catalog.families().count());
        assert!(
            view.models
                .iter()
                .all(|m| m.known && m.price_words.is_some())
        );
        let mini = view.models.iter().find(|m| m.id == "gpt-5.4-mini").unwrap();
        assert_eq!(
            mini.price_words.as_deref(),
            Some("$0.75 in, $4.50 out per million tokens")
        );
        assert!(mini.reasoning && !mini.responses_only);
        assert_eq!(mini.efforts.first().map(String::as_str), Some("none"));
        let pro = view.models.iter().find(|m| m.id == "gpt-5.5-pro").unwrap();
        assert!(pro.responses_only);
        assert_eq!(view.models[0].id, "gpt-5.5", "newest first");
    }

    #[test]
    fn the_keys_list_puts_known_models_first_and_unknown_ones_apart() {
        let catalog = ModelCatalog::builtin();
        let listed = [
            "zz-new-model",
            "gpt-4o-mini",
            "gpt-5.4",
            "gpt-4o-mini",
            "aa-other",
        ]
        .map(String::from)
        .to_vec();
        let view = models_view(&catalog, Some(listed), &[]);
        assert!(view.from_key);
        let ids: Vec<&str> = view.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["gpt-5.4", "gpt-4o-mini", "aa-other", "zz-new-model"]);
        let unknown = &view.models[3];
        assert!(!unknown.known && unknown.price_words.is_none());
        assert_eq!(unknown.context_window, None);
    }

    #[test]
    fn the_model_in_use_is_described_even_when_the_keys_list_lacks_it() {
        let catalog = ModelCatalog::builtin();
        let listed = vec!["gpt-4o-mini".to_string()];
        let view = models_view(&catalog, Some(listed), &[DEFAULT_MODEL.to_string()]);
        let ids: Vec<&str> = view.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, [DEFAULT_MODEL, "gpt-4o-mini"]);
        let default = &view.models[0];
        assert!(default.known && default.price_words.is_some() && !default.efforts.is_empty());
        // Listed and in use: once.
        let view = models_view(
            &catalog,
            Some(vec!["gpt-4o-mini".into()]),
            &["gpt-4o-mini".into()],
        );
        assert_eq!(view.models.len(), 1);
    }
}
