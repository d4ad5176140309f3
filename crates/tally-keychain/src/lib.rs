//! The user's OpenAI API key in the operating system's keychain.
//!
//! This crate owns the one place a secret is stored (the Secret Service on Linux, the
//! macOS Keychain, the Windows Credential Manager, through `keyring` with each backend
//! named explicitly) and the validation of a pasted key. A key travels as `secrecy`'s
//! [`SecretString`]: it cannot be printed, logged or serialised by accident, and its memory
//! is wiped when dropped. This crate must not
//! touch the network, the database or any file, and never returns a key in an error.
//!
//! The whole project's map is `ARCHITECTURE.md` at the repository's root.

mod store;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use secrecy::{ExposeSecret, SecretString};
pub use store::{ApiKeyStore, KeyStatus, SERVICE};

/// The last four characters of `key`, which the UI may show so users can tell keys apart.
pub fn last_four(key: &SecretString) -> String {
    let chars: Vec<char> = key.expose_secret().chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// Why the keychain could not do what was asked. Messages are written for the user and
/// never contain the key.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error("{0}")]
    InvalidKey(String),
    #[error("{reason}")]
    Unavailable { reason: String },
    #[error("The system keychain refused the request: {0}")]
    Failed(String),
}

/// Which keys a server takes: OpenAI's own, or anything another server (a gateway such as
/// LiteLLM, a local model) chose, which is that server's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    OpenAi,
    Other,
}

/// Trims what a user pasted and checks it looks like a key for a server of `format`.
///
/// OpenAI's keys start with `sk-` and are long runs of letters, digits, `-` and `_`.
/// Another server's key may be anything a header can carry (LiteLLM's example master key
/// is `sk-1234`). A paste with spaces or newlines around it is fine; anything inside the
/// key that cannot be part of one is refused with a reason the user can act on.
pub fn normalize_key(pasted: &str, format: KeyFormat) -> Result<SecretString, KeychainError> {
    let key = pasted.trim();
    let refuse = |why: &str| Err(KeychainError::InvalidKey(why.to_string()));
    if key.is_empty() {
        return refuse("Paste your API key first.");
    }
    if key.chars().any(char::is_whitespace) {
        return refuse("The key has spaces or line breaks inside it. Copy it again in one piece.");
    }
    if format == KeyFormat::Other {
        if key.len() > 4096 {
            return refuse("This is much longer than an API key. Check what you pasted.");
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return refuse("The key contains characters an API key never has. Copy it again.");
        }
        return Ok(SecretString::from(key.to_string()));
    }
    if !key.starts_with("sk-") {
        return refuse("OpenAI API keys start with “sk-”. Check that you copied the whole key.");
    }
    if key.len() < 20 {
        return refuse("This key is too short. Check that you copied the whole key.");
    }
    if key.len() > 512 {
        return refuse("This is much longer than an API key. Check what you pasted.");
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return refuse("The key contains characters an API key never has. Copy it again.");
    }
    Ok(SecretString::from(key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_table() {
        let good = "sk-proj-abcdefghijklmnopqrstuvwxyz0123";
        let cases: &[(&str, bool)] = &[
            (good, true),
            ("  sk-proj-abcdefghijklmnopqrstuvwxyz0123\n", true),
            ("\tsk-abcdefghijklmnopqrstuvwxyz_-09\r\n", true),
            ("", false),
            ("   \n", false),
            ("sk-proj-abcdefghij klmnopqrstuvwxyz0123", false),
            ("sk-proj-abcdefghij\nklmnopqrstuvwxyz0123", false),
            ("pk-abcdefghijklmnopqrstuvwxyz0123", false),
            ("sk-short", false),
            ("sk-proj-abcdefghijklmnopqrstuvwxyz0123é", false),
            ("sk-proj-abcdefghijklmnopqrstuvwxyz\"0123", false),
        ];
        for (pasted, ok) in cases {
            assert_eq!(
                normalize_key(pasted, KeyFormat::OpenAi).is_ok(),
                *ok,
                "{pasted:?}"
            );
        }
        assert_eq!(
            normalize_key(
                "  sk-proj-abcdefghijklmnopqrstuvwxyz0123\n",
                KeyFormat::OpenAi
            )
            .unwrap()
            .expose_secret(),
            good
        );
    }

    /// A key is never printed: `Debug` (what a log line or a panic would show) redacts it,
    /// and the UI sees at most its last four characters.
    #[test]
    fn a_key_is_never_printed_and_shows_only_its_last_four() {
        let key = SecretString::from("sk-proj-verysecretvalue1234");
        for shown in [format!("{key:?}"), format!("{:?}", Some(&key))] {
            assert!(!shown.contains("verysecret"), "{shown}");
            assert!(shown.contains("REDACTED"), "{shown}");
        }
        assert_eq!(last_four(&key), "1234");
        assert_eq!(last_four(&SecretString::from("ab")), "ab");
        assert_eq!(last_four(&SecretString::from("")), "");
    }

    #[test]
    fn refusals_never_echo_the_key() {
        let pasted = "sk-proj-secretsecret secret";
        let message = normalize_key(pasted, KeyFormat::OpenAi)
            .unwrap_err()
            .to_string();
        assert!(!message.contains("secret"), "{message}");
    }

    /// Another server's key is its own business: LiteLLM's `sk-1234`, a token of any
    /// shape; still nothing a header cannot carry.
    #[test]
    fn another_servers_keys_take_any_header_safe_shape() {
        for (pasted, ok) in [
            ("sk-1234", true),
            ("  local-placeholder \n", true),
            ("eyJhbGciOiJIUzI1NiJ9.e30.abc", true),
            ("x", true),
            ("", false),
            ("two words", false),
            ("café", false),
            ("tab\tinside", false),
        ] {
            assert_eq!(
                normalize_key(pasted, KeyFormat::Other).is_ok(),
                ok,
                "{pasted:?}"
            );
        }
        assert!(normalize_key("sk-1234", KeyFormat::OpenAi).is_err());
    }
}
