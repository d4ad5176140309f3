use tiktoken_rs::CoreBPE;

/// The byte-pair encodings OpenAI chat models use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    O200kBase,
    Cl100kBase,
}

impl Encoding {
    /// The encoding a model probably uses, from its id alone (the catalog knows better):
    /// cl100k_base for gpt-4 (not 4o or 4.1) and gpt-3.5, o200k_base for the rest.
    pub fn guess(model: &str) -> Self {
        let model = model.trim().rsplit('/').next().unwrap_or(model);
        let legacy = (model.starts_with("gpt-4")
            && !model.starts_with("gpt-4o")
            && !model.starts_with("gpt-4.1"))
            || model.starts_with("gpt-3.5");
        if legacy {
            Self::Cl100kBase
        } else {
            Self::O200kBase
        }
    }
}

fn bpe(encoding: Encoding) -> &'static CoreBPE {
    // The singletons load the tables lazily, once per process, on first use.
    match encoding {
        Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
        Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
    }
}

/// Number of tokens of `text` in `encoding`. Special-token text counts as ordinary text,
/// as the API does for user content.
pub fn count_text(encoding: Encoding, text: &str) -> u64 {
    bpe(encoding).encode_ordinary(text).len() as u64
}

/// Framing tokens each chat message costs beside its role and content (OpenAI's published
/// accounting for the gpt-4o and gpt-4 families).
pub const PER_MESSAGE_TOKENS: u64 = 3;
/// Tokens that prime the reply, once per request.
pub const REPLY_PRIMING_TOKENS: u64 = 3;

/// Tokens of a chat prompt: each message costs its role and content plus
/// [`PER_MESSAGE_TOKENS`], and the reply is primed with [`REPLY_PRIMING_TOKENS`].
pub fn count_chat_prompt<'a>(
    encoding: Encoding,
    messages: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> u64 {
    messages
        .into_iter()
        .map(|(role, content)| {
            PER_MESSAGE_TOKENS + count_text(encoding, role) + count_text(encoding, content)
        })
        .sum::<u64>()
        + REPLY_PRIMING_TOKENS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_guessed_by_family() {
        for (model, encoding) in [
            ("gpt-4o-mini", Encoding::O200kBase),
            ("gpt-4.1", Encoding::O200kBase),
            ("o4-mini", Encoding::O200kBase),
            ("gpt-4-turbo", Encoding::Cl100kBase),
            ("gpt-3.5-turbo", Encoding::Cl100kBase),
        ] {
            assert_eq!(Encoding::guess(model), encoding, "{model}");
        }
    }

    #[test]
    fn known_counts() {
        // Values from OpenAI's tiktoken for these strings.
        assert_eq!(count_text(Encoding::O200kBase, "hello world"), 2);
        assert_eq!(count_text(Encoding::Cl100kBase, "hello world"), 2);
        assert_eq!(count_text(Encoding::O200kBase, ""), 0);
        // "<|endoftext|>" typed by a user is text, not a special token.
        assert!(count_text(Encoding::Cl100kBase, "<|endoftext|>") > 1);
    }

    #[test]
    fn chat_framing() {
        let n = count_chat_prompt(Encoding::O200kBase, [("user", "hello world")]);
        // 3 framing + 1 role + 2 content + 3 priming
        assert_eq!(n, 9);
    }
}
