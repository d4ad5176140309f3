use std::sync::Once;
use std::sync::mpsc;
use std::time::Duration;

use keyring::Entry;

use crate::{ExposeSecret, KeychainError, SecretString, last_four};

/// The keychain service name Tally's key is filed under (shown in keychain apps).
pub const SERVICE: &str = "Tally";
const ACCOUNT: &str = "openai-api-key";

/// What the UI may know about the stored key: whether there is one and how it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatus {
    pub stored: bool,
    pub last_four: Option<String>,
}

/// The API key's slot in the operating system's keychain.
#[derive(Debug, Clone)]
pub struct ApiKeyStore {
    service: String,
    account: String,
    timeout: Duration,
}

impl Default for ApiKeyStore {
    fn default() -> Self {
        Self::new(SERVICE)
    }
}

impl ApiKeyStore {
    /// A slot under `service` (tests use their own service name; the app uses [`SERVICE`]).
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
            account: ACCOUNT.to_string(),
            // A locked keychain asks the user for its password in a system dialog: leave
            // them time to type it, but never wait forever.
            timeout: Duration::from_secs(120),
        }
    }

    /// The slot of MCP server `id`'s bearer token, beside the API key under the same service.
    pub fn for_mcp_server(&self, id: i64) -> Self {
        Self {
            account: format!("mcp-server-{id}"),
            ..self.clone()
        }
    }

    /// The slot of sync's passphrase (the key every computer's files are sealed with comes
    /// from it), beside the API key.
    pub fn for_sync_passphrase(&self) -> Self {
        Self {
            account: "sync-passphrase".into(),
            ..self.clone()
        }
    }

    /// The slot of the sync storage's password (WebDAV) or secret key (S3).
    pub fn for_sync_storage(&self) -> Self {
        Self {
            account: "sync-storage-secret".into(),
            ..self.clone()
        }
    }

    /// How long to wait for the keychain before giving up.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// Runs `op` on the entry in a thread of its own, so a keychain that never answers
    /// (a locked collection waiting on an unlock prompt) costs a timeout, not a hang.
    fn with_entry<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<keyring::Result<T>, KeychainError> {
        use_platform_backend();
        let (service, account) = (self.service.clone(), self.account.clone());
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("keychain".into())
            .spawn(move || {
                let result = Entry::new(&service, &account).and_then(|entry| op(&entry));
                let _ = tx.send(result);
            })
            .map_err(|_| KeychainError::Failed("could not start a thread".into()))?;
        rx.recv_timeout(self.timeout)
            .map_err(|_| KeychainError::Unavailable {
                reason: NOT_ANSWERING.to_string(),
            })
    }

    /// Stores `key`, replacing any key stored before.
    pub fn set(&self, key: &SecretString) -> Result<(), KeychainError> {
        let key = key.clone();
        self.with_entry(move |entry| entry.set_password(key.expose_secret()))?
            .map_err(map_error)
    }

    /// The stored key, if there is one.
    pub fn get(&self) -> Result<Option<SecretString>, KeychainError> {
        match self.with_entry(|entry| entry.get_password().map(SecretString::from))? {
            Ok(key) => Ok(Some(key)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    /// Removes the stored key. Removing when nothing is stored is not an error.
    pub fn delete(&self) -> Result<(), KeychainError> {
        match self.with_entry(|entry| entry.delete_credential())? {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }

    pub fn status(&self) -> Result<KeyStatus, KeychainError> {
        Ok(match self.get()? {
            Some(key) => KeyStatus {
                stored: true,
                last_four: Some(last_four(&key)),
            },
            None => KeyStatus {
                stored: false,
                last_four: None,
            },
        })
    }
}

/// Installs the OS's real backend as keyring's default. Naming the backend module here
/// makes a build without its feature fail to compile, so keyring's in-memory mock can
/// never be the store of a release.
fn use_platform_backend() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "linux")]
        keyring::set_default_credential_builder(
            keyring::secret_service::default_credential_builder(),
        );
        #[cfg(target_os = "macos")]
        keyring::set_default_credential_builder(keyring::macos::default_credential_builder());
        #[cfg(target_os = "windows")]
        keyring::set_default_credential_builder(keyring::windows::default_credential_builder());
    });
}

const UNREACHABLE: &str = "Tally could not reach your system keychain, where it keeps your API key \
safely. On Linux this is the Secret Service, provided by GNOME Keyring or KWallet: make sure one of \
them is installed and running, then try again. Until then you can start Tally with your key in the \
OPENAI_API_KEY environment variable; it is then used for that session only and not stored.";

const LOCKED: &str = "Your system keychain is locked, so Tally cannot store or read your API key. \
Unlock it (usually by logging in again, or in your keyring app) and try again. Until then you can \
start Tally with your key in the OPENAI_API_KEY environment variable; it is then used for that \
session only and not stored.";

const NOT_ANSWERING: &str = "Your system keychain did not answer. It may be locked and waiting \
for its password in a separate window: unlock it, then try again. Until then you can start Tally \
with your key in the OPENAI_API_KEY environment variable; it is then used for that session only \
and not stored.";

/// Maps keyring's errors to plain words. Never includes the secret: keyring's own errors
/// can carry the bytes of a badly encoded password, so only fixed texts and the platform's
/// message (which is about the bus, not the data) are kept.
fn map_error(error: keyring::Error) -> KeychainError {
    match error {
        keyring::Error::PlatformFailure(_) => KeychainError::Unavailable {
            reason: UNREACHABLE.to_string(),
        },
        keyring::Error::NoStorageAccess(_) => KeychainError::Unavailable {
            reason: LOCKED.to_string(),
        },
        keyring::Error::BadEncoding(_) => {
            KeychainError::Failed("the stored key is not readable text; save your key again".into())
        }
        keyring::Error::Ambiguous(_) => KeychainError::Failed(
            "more than one Tally key is stored; remove them in your keyring app and save your key again"
                .into(),
        ),
        keyring::Error::TooLong(..) | keyring::Error::Invalid(..) => {
            KeychainError::Failed("the key could not be stored in this form".into())
        }
        _ => KeychainError::Failed("an unexpected keychain error".into()),
    }
}
