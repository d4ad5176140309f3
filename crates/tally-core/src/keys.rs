//! Which key a request uses: the keychain's, or `OPENAI_API_KEY` for this run only.

use tally_keychain::{
    ApiKeyStore, ExposeSecret, KeyFormat, KeychainError, SecretString, last_four, normalize_key,
};

use crate::CoreError;
use crate::api::{KeySource, KeyStatusView};

pub(crate) struct Keys {
    pub(crate) keychain: ApiKeyStore,
    /// From the environment at startup; never written anywhere.
    pub(crate) from_env: Option<SecretString>,
}

impl Keys {
    pub(crate) fn new(keychain: ApiKeyStore, env_value: Option<SecretString>) -> Self {
        // Checked against the server it goes to when it is used (see `resolve`).
        let from_env =
            env_value.and_then(|v| normalize_key(v.expose_secret(), KeyFormat::Other).ok());
        Self { keychain, from_env }
    }

    /// The key to send to a server taking `format`: the stored one first, else the
    /// environment's (a malformed one is ignored rather than sent).
    pub(crate) fn resolve(&self, format: KeyFormat) -> Result<SecretString, CoreError> {
        let from_env = || {
            self.from_env
                .as_ref()
                .and_then(|key| normalize_key(key.expose_secret(), format).ok())
        };
        match self.keychain.get() {
            Ok(Some(key)) => Ok(key),
            Ok(None) => from_env().ok_or(CoreError::MissingApiKey),
            Err(e) => from_env().ok_or_else(|| e.into()),
        }
    }

    pub(crate) fn status(&self) -> KeyStatusView {
        let (stored, problem) = match self.keychain.get() {
            Ok(key) => (key, None),
            Err(KeychainError::Unavailable { reason }) => (None, Some(reason)),
            Err(e) => (None, Some(CoreError::from(e).to_string())),
        };
        match (stored, &self.from_env) {
            (Some(key), _) => KeyStatusView {
                source: KeySource::Keychain,
                last_four: Some(last_four(&key)),
                keychain_problem: problem,
            },
            (None, Some(key)) => KeyStatusView {
                source: KeySource::Environment,
                last_four: Some(last_four(key)),
                keychain_problem: problem,
            },
            (None, None) => KeyStatusView {
                source: KeySource::None,
                last_four: None,
                keychain_problem: problem,
            },
        }
    }

    pub(crate) fn store(&self, pasted: &str, format: KeyFormat) -> Result<(), CoreError> {
        let key = normalize_key(pasted, format)?;
        self.keychain.set(&key)?;
        Ok(())
    }

    pub(crate) fn delete(&self) -> Result<(), CoreError> {
        Ok(self.keychain.delete()?)
    }
}

/// A keychain call on a blocking thread (the keychain answers over D-Bus, and may wait on
/// an unlock prompt).
pub(crate) async fn keychain<T: Send + 'static>(
    op: impl FnOnce() -> Result<T, tally_keychain::KeychainError> + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(op)
        .await
        .map_err(|e| CoreError::Internal(format!("the keychain's task failed: {e}")))?
        .map_err(CoreError::from)
}
