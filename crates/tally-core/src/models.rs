//! What Tally knows about a model id without asking a server: the model new chats start
//! with, whether an id names a chat model, and the form a typed model name must have.
//! (Prices, windows and limits are the price catalog's, in tally-spend.)

use crate::CoreError;

/// The model new conversations start with until the person picks another.
pub(crate) const DEFAULT_MODEL: &str = "gpt-4o-mini";

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

/// Models `/models` lists that can chat (it also lists embedding, audio and image models).
pub(crate) fn is_chat_model(id: &str) -> bool {
    let chat_family =
        id.starts_with("gpt-") || id.starts_with('o') && id[1..].starts_with(char::is_numeric);
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

#[cfg(test)]
mod tests {
    #[test]
    fn chat_models_are_told_apart() {
        for (id, chat) in [
            ("gpt-4o-mini", true),
            ("o4-mini", true),
            ("gpt-5", true),
            ("text-embedding-3-small", false),
            ("whisper-1", false),
            ("gpt-4o-realtime-preview", false),
            ("omni-moderation-latest", false),
        ] {
            assert_eq!(super::is_chat_model(id), chat, "{id}");
        }
    }

    #[test]
    fn a_typed_model_name_is_one_word_of_reasonable_length() {
        assert_eq!(super::checked_model("  gpt-4.1 ").unwrap(), "gpt-4.1");
        for bad in ["", "   ", "gpt 4", &"m".repeat(201)] {
            assert!(super::checked_model(bad).is_err(), "{bad:?}");
        }
    }
}
