//! Where the key may go. OpenAI's own address and a server on this computer take it
//! without asking; any other host only once the person has said yes to that host, in a
//! question the shell asks outside the web view (a script in the window can change the
//! address, but cannot answer for the person). The yes is remembered per host in the
//! database, under a setting no command or import writes.

use std::sync::{Arc, Mutex};

use tally_store::Store;

use crate::CoreError;
use crate::settings;

/// OpenAI's API host: the key was made for it.
const OPENAI_HOST: &str = "api.openai.com";

/// Asks the person whether the key may be sent to `host`. It blocks until they answer,
/// so it is only called on a blocking thread, never on the main thread.
pub trait KeyConsent: Send + Sync + 'static {
    fn allow_key_for(&self, host: &str) -> bool;
}

impl<F: Fn(&str) -> bool + Send + Sync + 'static> KeyConsent for F {
    fn allow_key_for(&self, host: &str) -> bool {
        self(host)
    }
}

/// Who is asked, and one question at a time.
#[derive(Default)]
pub(crate) struct Clearance {
    asker: Mutex<Option<Arc<dyn KeyConsent>>>,
    /// Held while a question is open, so a second request for the same host waits for
    /// that answer instead of asking again.
    asking: Mutex<()>,
}

/// Where an address sends the key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    /// OpenAI's own API, or a server on this computer (`localhost`, a loopback IP):
    /// the key does not go anywhere new.
    Trusted,
    /// Another host, which needs the person's yes.
    Other(String),
}

impl Destination {
    pub(crate) fn of(base: &str) -> Self {
        let Some(url) = tally_openai::parse_base_url(base) else {
            return Self::Other(base.trim().to_string());
        };
        if is_openai_host(url.host_str()) || tally_openai::is_loopback(&url) {
            Self::Trusted
        } else {
            Self::Other(url.host_str().unwrap_or_default().to_ascii_lowercase())
        }
    }
}

/// Whether `host` is OpenAI's own API (the host the key was made for).
fn is_openai_host(host: Option<&str>) -> bool {
    host == Some(OPENAI_HOST)
}

/// Whether the API address `base` is OpenAI's own API, whatever its path or case.
pub(crate) fn is_openai_base(base: &str) -> bool {
    tally_openai::parse_base_url(base).is_some_and(|url| is_openai_host(url.host_str()))
}

/// Whether the API address `base` is a server on this computer (`localhost` or a loopback
/// IP), the test `Destination::of` trusts too.
pub(crate) fn is_on_this_computer(base: &str) -> bool {
    tally_openai::parse_base_url(base).is_some_and(|url| tally_openai::is_loopback(&url))
}

impl Clearance {
    pub(crate) fn set_asker(&self, asker: Arc<dyn KeyConsent>) {
        *self.asker.lock().unwrap_or_else(|p| p.into_inner()) = Some(asker);
    }

    /// Ok when the key may go to `base`; otherwise asks the person (blocking) and
    /// remembers a yes. The store is locked only briefly, never while the question is open.
    pub(crate) fn check(&self, base: &str, store: &Mutex<Store>) -> Result<(), CoreError> {
        let Destination::Other(host) = Destination::of(base) else {
            return Ok(());
        };
        let store = || store.lock().unwrap_or_else(|p| p.into_inner());
        if cleared_hosts(&store())?.contains(&host) {
            return Ok(());
        }
        let asker = self
            .asker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| not_sent(&host, "Tally could not ask you"))?;
        let _one_question = self.asking.lock().unwrap_or_else(|p| p.into_inner());
        // Another request may have asked while this one waited.
        if cleared_hosts(&store())?.contains(&host) {
            return Ok(());
        }
        if !asker.allow_key_for(&host) {
            return Err(not_sent(&host, "you chose not to send it"));
        }
        let store = store();
        let mut hosts = cleared_hosts(&store)?;
        hosts.push(host);
        settings::CLEARED_HOSTS.set(&store, &hosts)?;
        Ok(())
    }
}

/// The hosts the person cleared (an unreadable setting clears none).
fn cleared_hosts(store: &Store) -> Result<Vec<String>, CoreError> {
    Ok(settings::CLEARED_HOSTS.get(store)?.unwrap_or_default())
}

fn not_sent(host: &str, why: &str) -> CoreError {
    CoreError::KeyNotSent(format!(
        "Your API key was not sent to {host}: {why}. Tally asks before your key goes to any \
         server other than OpenAI's. Send again to be asked again, or change the API address \
         in Settings."
    ))
}

#[cfg(test)]
mod tests {
    use super::{Destination, is_openai_base};

    /// OpenAI's API is its host, whatever the case, path or trailing slash; a name that
    /// only begins like it is another server.
    #[test]
    fn openai_is_recognised_by_its_host() {
        for (base, expected) in [
            ("https://api.openai.com/v1", true),
            ("https://API.OpenAI.com/v1/", true),
            ("https://api.openai.com", true),
            ("https://api.openai.com.example.net/v1", false),
            ("http://localhost:8080/v1", false),
            ("not an address", false),
        ] {
            assert_eq!(is_openai_base(base), expected, "{base}");
        }
    }

    #[test]
    fn only_openai_and_this_computer_take_the_key_without_asking() {
        for (base, expected) in [
            ("https://api.openai.com/v1", Destination::Trusted),
            ("http://127.0.0.1:4000/v1", Destination::Trusted),
            ("http://localhost:11434/v1", Destination::Trusted),
            ("http://[::1]:8080/v1", Destination::Trusted),
            (
                "https://Gateway.Example.com/v1",
                Destination::Other("gateway.example.com".into()),
            ),
            // A name under .localhost is resolved like any other name: it may be anywhere.
            (
                "http://ollama.localhost/v1",
                Destination::Other("ollama.localhost".into()),
            ),
            (
                "https://api.openai.com.example.net/v1",
                Destination::Other("api.openai.com.example.net".into()),
            ),
            (
                "https://127.0.0.1.example.com/v1",
                Destination::Other("127.0.0.1.example.com".into()),
            ),
        ] {
            assert_eq!(Destination::of(base), expected, "{base}");
        }
    }
}
