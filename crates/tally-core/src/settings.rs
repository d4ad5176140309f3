//! The settings table, typed. Every key Tally keeps in it is declared here once, with the
//! type its value has and how that value is written (plain text, `true`/`false`, or JSON);
//! nothing else in the crate names a key or parses a value. A value this version cannot
//! read (written by another, or damaged) reads as unset, so the default applies. What a
//! setting means, and checking a new value, stay with the module that uses it.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};
use tally_openai::{Api, Capabilities};
use tally_store::Store;

use crate::CoreError;
use crate::api::{ChatOptions, SyncLocationInput};

/// A key of the settings table whose value is a `T`.
pub(crate) struct Setting<T> {
    key: Cow<'static, str>,
    value: PhantomData<fn() -> T>,
}

/// The model new conversations start with.
pub(crate) const DEFAULT_MODEL: Setting<String> = Setting::new("default_model");
/// The API's address, when the person changed it.
pub(crate) const API_BASE: Setting<String> = Setting::new("api_base");
/// Whether the person finished (or skipped) the first-run steps.
pub(crate) const ONBOARDED: Setting<bool> = Setting::new("onboarded");
/// Whether a model titles new conversations (on unless turned off).
pub(crate) const AUTO_TITLES: Setting<bool> = Setting::new("auto_titles");
/// The monthly budget; `None` once the person removed it.
pub(crate) const BUDGET: Setting<Option<StoredBudget>> = Setting::new("budget");
/// What a new chat starts with, besides the model.
pub(crate) const CHAT_DEFAULTS: Setting<StoredDefaults> = Setting::new("chat_defaults");
/// The hosts other than OpenAI's and this computer's that the person let the key go to.
pub(crate) const CLEARED_HOSTS: Setting<Vec<String>> = Setting::new("key_cleared_hosts");
/// The chat models `GET /models` listed for the key when it was last tested.
pub(crate) const KEY_MODELS: Setting<Vec<String>> = Setting::new("key_models");
/// The models without a price the person was asked to price in the chat (each once).
pub(crate) const PRICE_ASKED: Setting<Vec<String>> = Setting::new("price_asked_models");
/// Whether the person agreed to a quiet check for a new version of Tally once a day.
pub(crate) const UPDATE_CHECKS: Setting<bool> = Setting::new("update_checks");
/// When the last quiet check for updates was made (UTC epoch milliseconds).
pub(crate) const LAST_UPDATE_CHECK: Setting<i64> = Setting::new("last_update_check");
/// Where this computer syncs (without its secrets, which are in the keychain). Never synced.
pub(crate) const SYNC_LOCATION: Setting<SyncLocationInput> = Setting::new("sync_location");
/// Whether this computer has synced with the storage it syncs to (its first sync started
/// from the newest snapshot, if there was one; the later ones read on from there).
pub(crate) const SYNC_JOINED: Setting<bool> = Setting::new("sync_joined");
/// How the last sync ended, for Settings after a restart.
pub(crate) const SYNC_LAST: Setting<StoredSyncResult> = Setting::new("sync_last");
/// The notice of a damaged database replaced at start, until dismissed.
pub(crate) const RECOVERY_NOTICE: Setting<StoredRecovery> = Setting::new("recovery_notice");

/// What the API taught Tally about the parameters `model` takes.
pub(crate) fn learned_capabilities(model: &str) -> Setting<Capabilities> {
    Setting {
        key: Cow::Owned(format!("capabilities:{}", model.trim())),
        value: PhantomData,
    }
}

/// The API `model` turned out to answer on (it refused the other one).
pub(crate) fn learned_api(model: &str) -> Setting<Api> {
    Setting {
        key: Cow::Owned(format!("api:{}", model.trim())),
        value: PhantomData,
    }
}

/// The budget as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredBudget {
    pub monthly_nanos: i64,
    pub reset_day: u8,
    pub thresholds: Vec<u16>,
    pub hard_stop: bool,
}

/// A new chat's defaults as stored: everything but the model (a setting of its own).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct StoredDefaults {
    pub system_prompt: Option<String>,
    pub options: ChatOptions,
}

/// How a sync ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredSyncResult {
    pub at: i64,
    pub result: Option<String>,
    pub problem: Option<String>,
}

/// What is kept of a recovery for its notice.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredRecovery {
    pub message: String,
    pub damaged_copy: String,
}

impl<T: Value> Setting<T> {
    const fn new(key: &'static str) -> Self {
        Self {
            key: Cow::Borrowed(key),
            value: PhantomData,
        }
    }

    /// The value, or `None` when it is unset or cannot be read.
    pub(crate) fn get(&self, store: &Store) -> Result<Option<T>, CoreError> {
        let Some(text) = store.setting(&self.key)? else {
            return Ok(None);
        };
        let value = T::decode(&text);
        if value.is_none() {
            tracing::warn!(key = %self.key, "a setting could not be read; its default applies");
        }
        Ok(value)
    }

    pub(crate) fn set(&self, store: &Store, value: &T) -> Result<(), CoreError> {
        store.set_setting(&self.key, &value.encode())?;
        Ok(())
    }

    /// Removes the value: the default applies again.
    pub(crate) fn remove(&self, store: &Store) -> Result<(), CoreError> {
        store.delete_setting(&self.key)?;
        Ok(())
    }
}

/// How a setting's value is written in the table.
pub(crate) trait Value: Sized {
    fn encode(&self) -> String;
    fn decode(text: &str) -> Option<Self>;
}

impl Value for String {
    fn encode(&self) -> String {
        self.clone()
    }

    fn decode(text: &str) -> Option<Self> {
        Some(text.to_string())
    }
}

impl Value for bool {
    fn encode(&self) -> String {
        self.to_string()
    }

    fn decode(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// Values kept as JSON.
macro_rules! json_values {
    ($($t:ty),* $(,)?) => {$(
        impl Value for $t {
            fn encode(&self) -> String {
                serde_json::to_string(self).expect("a setting serialises")
            }

            fn decode(text: &str) -> Option<Self> {
                serde_json::from_str(text).ok()
            }
        }
    )*};
}

json_values!(
    i64,
    Option<StoredBudget>,
    StoredDefaults,
    Vec<String>,
    StoredRecovery,
    StoredSyncResult,
    SyncLocationInput,
    Capabilities,
    Api,
);

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        (dir, store)
    }

    /// Values already in people's databases read as they were written by earlier versions.
    #[test]
    fn values_written_by_earlier_versions_read_back() {
        let (_dir, store) = store();
        for (key, text) in [
            ("default_model", "gpt-4.1"),
            ("onboarded", "true"),
            ("auto_titles", "false"),
            (
                "budget",
                r#"{"monthly_nanos":20000000000,"reset_day":1,"thresholds":[50,80,100],"hard_stop":true}"#,
            ),
            ("key_cleared_hosts", r#"["gateway.example.com"]"#),
        ] {
            store.set_setting(key, text).unwrap();
        }
        assert_eq!(
            DEFAULT_MODEL.get(&store).unwrap().as_deref(),
            Some("gpt-4.1")
        );
        assert_eq!(ONBOARDED.get(&store).unwrap(), Some(true));
        assert_eq!(AUTO_TITLES.get(&store).unwrap(), Some(false));
        let budget = BUDGET.get(&store).unwrap().flatten().unwrap();
        assert_eq!(
            (budget.monthly_nanos, budget.hard_stop),
            (20_000_000_000, true)
        );
        assert_eq!(
            CLEARED_HOSTS.get(&store).unwrap(),
            Some(vec!["gateway.example.com".to_string()])
        );
    }

    #[test]
    fn each_value_reads_back_as_written() {
        let (_dir, store) = store();
        AUTO_TITLES.set(&store, &false).unwrap();
        assert_eq!(
            store.setting("auto_titles").unwrap().as_deref(),
            Some("false")
        );
        assert_eq!(AUTO_TITLES.get(&store).unwrap(), Some(false));
        API_BASE
            .set(&store, &"http://127.0.0.1:8080/v1".into())
            .unwrap();
        assert_eq!(
            store.setting("api_base").unwrap().as_deref(),
            Some("http://127.0.0.1:8080/v1")
        );
        BUDGET.set(&store, &None).unwrap();
        assert_eq!(store.setting("budget").unwrap().as_deref(), Some("null"));
        assert!(BUDGET.get(&store).unwrap().flatten().is_none());
        let capabilities = learned_capabilities(" o3 ");
        let learned = Capabilities::for_reasoning(true);
        capabilities.set(&store, &learned).unwrap();
        assert_eq!(
            learned_capabilities("o3").get(&store).unwrap(),
            Some(learned)
        );
        RECOVERY_NOTICE
            .set(
                &store,
                &StoredRecovery {
                    message: "restored".into(),
                    damaged_copy: "/x".into(),
                },
            )
            .unwrap();
        RECOVERY_NOTICE.remove(&store).unwrap();
        assert!(RECOVERY_NOTICE.get(&store).unwrap().is_none());
    }

    /// A value another version wrote, or a damaged one, is unset: the default applies.
    #[test]
    fn an_unreadable_value_reads_as_unset() {
        let (_dir, store) = store();
        for key in ["onboarded", "budget", "chat_defaults", "key_cleared_hosts"] {
            store.set_setting(key, "{not json").unwrap();
        }
        assert_eq!(ONBOARDED.get(&store).unwrap(), None);
        assert!(BUDGET.get(&store).unwrap().is_none());
        assert!(CHAT_DEFAULTS.get(&store).unwrap().is_none());
        assert!(CLEARED_HOSTS.get(&store).unwrap().is_none());
    }
}
