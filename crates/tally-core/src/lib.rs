//! Tally's engine: everything a user can do, as functions a test can call without a window.
//!
//! This crate owns the use cases (store and test the API key, send a message and stream
//! the reply, stop it, fit it to the model's window or summarize it into a new chat, list,
//! search, rename, pin and trash conversations and change what each is sent with,
//! personas, export and import, read and change settings, the budget and its hard-stop
//! gate, prices, the spend meter and the usage page, backups and recovery, sync between
//! computers), the types that
//! cross the IPC boundary (`api`, from which the TypeScript bindings are generated), and the
//! mapping of every failure to one `{code, message}` a non-programmer can act on. It wires
//! `tally-openai`, `tally-store`, `tally-spend`, `tally-keychain`, `tally-tools`,
//! `tally-attach` and `tally-sync` together and must not
//! depend on Tauri or any UI: events leave through the [`ChatSink`] and [`NoticeSink`]
//! traits.
//!
//! The whole project's map is `ARCHITECTURE.md` at the repository's root.

pub mod api;
mod approvals;
mod array_splitter;
mod attachments;
mod backups;
mod chat_settings;
mod chatgpt_zip;
mod clearance;
mod context;
mod engine;
mod error;
mod files;
mod history;
mod json_reply;
mod keys;
mod mcp;
mod mcp_hub;
mod meter;
mod models;
mod notices;
mod replies;
mod reply_stream;
mod send;
mod sent_pictures;
mod settings;
mod spend;
mod sync;
mod sync_state;
mod titles;
mod tool_calls;
mod tools;
mod transfer;
mod uploads;
mod usage;

pub use api::ChatEvent;
pub use clearance::KeyConsent;
pub use engine::{Clock, Engine, EngineConfig, take_env_api_key};
pub use error::CoreError;
pub use notices::{Notice, NoticeSink};
pub use secrecy::{ExposeSecret, SecretString};
pub use tally_attach::{PdfReader, read_pdf_child};
/// Whether an address names this computer (the shell's update download asks it too).
pub use tally_openai::is_loopback;
pub use tally_spend::TimeZone;

/// Where the events of one reply go (the shell forwards them over a Tauri channel).
pub trait ChatSink: Send + Sync + 'static {
    fn send(&self, event: ChatEvent);
}

impl<F: Fn(ChatEvent) + Send + Sync + 'static> ChatSink for F {
    fn send(&self, event: ChatEvent) {
        self(event)
    }
}

/// Now, as UTC epoch milliseconds.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A link from a reply that may be opened in the system browser: http(s) only, trimmed.
pub fn check_web_link(url: &str) -> Result<&str, CoreError> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() > "http://".len()
    {
        Ok(url)
    } else {
        Err(CoreError::InvalidInput(
            "Only web links (http or https) can be opened.".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_web_links_open() {
        for (url, ok) in [
            ("https://openai.com", true),
            (" http://example.com/x ", true),
            ("HTTPS://EXAMPLE.COM", true),
            ("http://", false),
            ("javascript:alert(1)", false),
            ("file:///etc/passwd", false),
            ("data:text/html,hi", false),
            ("", false),
        ] {
            assert_eq!(super::check_web_link(url).is_ok(), ok, "{url}");
        }
    }
}
