use tally_keychain::KeychainError;
use tally_openai::{ErrorKind, OpenAiError};
use tally_store::StoreError;

use crate::api::{ErrorCode, IpcError};

/// Everything that can go wrong in a use case. `Display` is the plain-language message a
/// user sees; [`CoreError::code`] is what the UI branches on. No variant carries the key.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// What the person typed or chose cannot be used (the message says why).
    #[error("{0}")]
    InvalidInput(String),
    /// What the person asked about is gone: deleted meanwhile, or an import cancelled.
    #[error("{0}")]
    NotFound(String),
    /// A file could not be written or used (an export, a backup to restore).
    #[error("{0}")]
    File(String),
    #[error("Tally needs your OpenAI API key before it can send messages. Add it in Settings.")]
    MissingApiKey,
    /// A server on this computer, sent no key because none is stored, asked for one.
    #[error("The server at {0} asks for an API key. Add its key in Settings.")]
    KeyAskedFor(String),
    #[error("{0}")]
    Keychain(String),
    /// The key was kept back from a server the person has not cleared.
    #[error("{0}")]
    KeyNotSent(String),
    #[error("{message}")]
    Api { kind: ErrorKind, message: String },
    #[error(
        "Tally could not save your data: {0}. Your last change may not be kept; check that the disk is not full."
    )]
    Storage(StoreError),
    #[error(
        "Tally found damage in its database file. Restart Tally, and it will repair the file from the newest good backup."
    )]
    Damaged(String),
    #[error(
        "Your disk is full, so Tally could not save. Free some space (empty the bin, remove large files), then try again. Nothing saved before was lost."
    )]
    DiskFull,
    #[error("{0}")]
    Busy(String),
    /// A fault inside Tally itself (a task that panicked): not the user's input, not the
    /// disk. The detail is for the log.
    #[error("Something went wrong inside Tally. Try again; if it keeps happening, restart Tally.")]
    Internal(String),
    #[error(
        "You have reached your monthly budget: {spent} of {budget} spent. Raise the budget, or send this one anyway."
    )]
    BudgetExceeded { spent: String, budget: String },
    #[error(
        "The model asked for tools {0} times in a row, the most one reply may; Tally stopped it there. Send a message to let it go on."
    )]
    ToolRounds(u32),
    /// A file that cannot be attached (the message says why).
    #[error("{0}")]
    AttachmentRefused(String),
    /// A picture for a model that takes none.
    #[error(
        "{0} cannot see pictures. Choose a model that can, such as {1}, or remove the picture."
    )]
    ModelWithoutVision(String, String),
    /// A PDF with no text (a scan): its pages may be sent as pictures instead.
    #[error("{0}")]
    PdfWithoutText(String),
    /// Sync could not use its storage (the message says why and what to do).
    #[error("{message}")]
    Sync { code: ErrorCode, message: String },
}

impl CoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidInput(_) => ErrorCode::InvalidInput,
            Self::AttachmentRefused(_) => ErrorCode::AttachmentRefused,
            Self::ModelWithoutVision(..) => ErrorCode::ModelWithoutVision,
            Self::PdfWithoutText(_) => ErrorCode::PdfWithoutText,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::File(_) => ErrorCode::FileFailed,
            Self::MissingApiKey | Self::KeyAskedFor(_) => ErrorCode::MissingApiKey,
            Self::Keychain(_) => ErrorCode::KeychainUnavailable,
            Self::KeyNotSent(_) => ErrorCode::KeyNotSent,
            Self::Api { kind, .. } => code_of(*kind),
            Self::Storage(_) | Self::Damaged(_) => ErrorCode::Storage,
            Self::DiskFull => ErrorCode::DiskFull,
            Self::Busy(_) => ErrorCode::Busy,
            Self::Internal(_) => ErrorCode::Internal,
            Self::BudgetExceeded { .. } => ErrorCode::BudgetExceeded,
            Self::ToolRounds(_) => ErrorCode::ToolRounds,
            Self::Sync { code, .. } => *code,
        }
    }

    pub fn to_ipc(&self) -> IpcError {
        IpcError {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        if e.is_disk_full() {
            return Self::DiskFull;
        }
        match e {
            // The UI asked for something deleted meanwhile: not a storage failure.
            StoreError::NoConversation(_) => {
                Self::NotFound("This conversation no longer exists.".into())
            }
            StoreError::NoMessage(_) => Self::NotFound("This message no longer exists.".into()),
            StoreError::NoBackup(_) => Self::NotFound("That backup no longer exists.".into()),
            StoreError::NoPersona(_) => Self::NotFound("This persona no longer exists.".into()),
            StoreError::NoAttachment(_) => Self::NotFound(
                "An attachment of this message is no longer kept: attach the file again.".into(),
            ),
            StoreError::DuplicateName(name) => {
                Self::InvalidInput(format!("A persona named “{name}” already exists."))
            }
            StoreError::BackupDamaged { .. } => Self::File(
                "That backup is damaged or empty and cannot be restored. Choose another one. Nothing was changed.".into(),
            ),
            StoreError::Damaged(found) => Self::Damaged(found),
            other => Self::Storage(other),
        }
    }
}

impl From<tally_attach::AttachError> for CoreError {
    fn from(e: tally_attach::AttachError) -> Self {
        match e {
            tally_attach::AttachError::PdfWithoutText { .. } => Self::PdfWithoutText(e.to_string()),
            e => Self::AttachmentRefused(e.to_string()),
        }
    }
}

impl From<tally_sync::SyncError> for CoreError {
    fn from(e: tally_sync::SyncError) -> Self {
        use tally_sync::SyncError;
        let (code, message) = match e {
            SyncError::BadLocation(why) => return Self::InvalidInput(why),
            SyncError::Unreachable(detail) => (
                ErrorCode::SyncUnreachable,
                format!(
                    "Tally could not reach the sync storage ({detail}). Check the address and \
                     the connection; nothing here changed, and the next sync catches up."
                ),
            ),
            SyncError::Denied(_) => (
                ErrorCode::SyncRefused,
                "The sync storage refused the user name, password or keys Tally gave. Check \
                 them in Settings → Sync."
                    .into(),
            ),
            SyncError::TooSlow => (
                ErrorCode::SyncTooSlow,
                "The sync storage is answering too slowly: Tally gave up waiting. Nothing here \
                 changed, and the next sync catches up."
                    .into(),
            ),
            SyncError::Full => (
                ErrorCode::SyncFull,
                "The sync storage is full. Free some space there; nothing here was lost, and \
                 the next sync sends what is waiting."
                    .into(),
            ),
            SyncError::WrongPassphrase => (
                ErrorCode::SyncWrongPassphrase,
                "This passphrase does not open the sync storage. Type the passphrase you set \
                 when you turned sync on on your first computer."
                    .into(),
            ),
            SyncError::Newer { .. } => (
                ErrorCode::SyncNewerVersion,
                "The sync storage was written by a newer version of Tally. Update Tally on \
                 this computer to sync it."
                    .into(),
            ),
            SyncError::Damaged { path, reason } => (
                ErrorCode::SyncUnreachable,
                format!(
                    "The sync file {path} could not be read: {reason}. Nothing was taken from it."
                ),
            ),
        };
        Self::Sync { code, message }
    }
}

impl From<tally_spend::SpendError> for CoreError {
    fn from(e: tally_spend::SpendError) -> Self {
        Self::InvalidInput(e.to_string())
    }
}

impl From<KeychainError> for CoreError {
    fn from(e: KeychainError) -> Self {
        match e {
            KeychainError::InvalidKey(why) => Self::InvalidInput(why),
            KeychainError::Unavailable { reason } => Self::Keychain(reason),
            KeychainError::Failed(why) => {
                Self::Keychain(format!("Tally could not use your system keychain ({why})."))
            }
        }
    }
}

impl From<OpenAiError> for CoreError {
    fn from(e: OpenAiError) -> Self {
        if let OpenAiError::InvalidBaseUrl(url) = &e {
            return Self::InvalidInput(format!(
                "The API address “{url}” is not a web address. Check it in Settings."
            ));
        }
        if let OpenAiError::InsecureBaseUrl(url) = &e {
            return Self::InvalidInput(format!(
                "The API address “{url}” starts with http://, so your key would cross the \
                 network unencrypted. Use its https:// address (plain http:// is only for a \
                 server on this computer)."
            ));
        }
        let kind = e.kind();
        let message = match &e {
            OpenAiError::Redirected(to) => format!(
                "The API address sent Tally on to “{to}”. Tally does not follow such redirects, \
                 so your key only goes where you chose. Check the API address in Settings."
            ),
            OpenAiError::TooLarge(what) => format!(
                "The server sent {what} far larger than any real answer, so Tally stopped \
                 reading it. Anything that arrived before is kept."
            ),
            _ => message_of(kind).to_string(),
        };
        Self::Api { kind, message }
    }
}

pub(crate) fn code_of(kind: ErrorKind) -> ErrorCode {
    match kind {
        ErrorKind::InvalidKey | ErrorKind::PermissionDenied => ErrorCode::InvalidApiKey,
        ErrorKind::QuotaExhausted => ErrorCode::QuotaExhausted,
        ErrorKind::RateLimited => ErrorCode::RateLimited,
        ErrorKind::ContextTooLong => ErrorCode::ContextTooLong,
        ErrorKind::ModelNotFound | ErrorKind::UnsupportedParameter | ErrorKind::ResponsesOnly => {
            ErrorCode::ModelNotFound
        }
        ErrorKind::BadRequest => ErrorCode::InvalidInput,
        ErrorKind::ServerError | ErrorKind::InvalidResponse => ErrorCode::ServerError,
        ErrorKind::Network => ErrorCode::Network,
        ErrorKind::Timeout => ErrorCode::Timeout,
    }
}

/// One plain sentence and one action per kind.
fn message_of(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidKey => {
            "OpenAI did not accept this key. Open Settings and paste your API key again."
        }
        ErrorKind::PermissionDenied => {
            "OpenAI says this key is not allowed to do that. Check the key's permissions on OpenAI's website, or use another key in Settings."
        }
        ErrorKind::QuotaExhausted => {
            "Your OpenAI account has no credit left, or has reached the spending limit set on OpenAI's website. Add credit or raise that limit there; trying again will not help until then."
        }
        ErrorKind::RateLimited => {
            "OpenAI is receiving too many requests from this key right now. Wait a moment and try again."
        }
        ErrorKind::ContextTooLong => {
            "This conversation is too long for the model. Start a new chat, or shorten your message."
        }
        ErrorKind::ModelNotFound | ErrorKind::UnsupportedParameter => {
            "This model is not available to your key. Pick another model."
        }
        ErrorKind::ResponsesOnly => {
            "This model answers only on OpenAI's newer Responses API, which this server does not offer. Pick another model."
        }
        ErrorKind::BadRequest => {
            "OpenAI could not process this request. Try rephrasing your message, or pick another model."
        }
        ErrorKind::ServerError | ErrorKind::InvalidResponse => {
            "OpenAI's service had a problem answering. Try again in a moment."
        }
        ErrorKind::Network => {
            "Tally could not reach OpenAI. Check your internet connection and try again."
        }
        ErrorKind::Timeout => "OpenAI took too long to answer. Try again in a moment.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind has a distinct-enough message and the code the UI expects.
    #[test]
    fn error_mapping_table() {
        let cases = [
            (
                ErrorKind::InvalidKey,
                ErrorCode::InvalidApiKey,
                "did not accept this key",
            ),
            (
                ErrorKind::PermissionDenied,
                ErrorCode::InvalidApiKey,
                "not allowed",
            ),
            (
                ErrorKind::QuotaExhausted,
                ErrorCode::QuotaExhausted,
                "no credit left",
            ),
            (
                ErrorKind::RateLimited,
                ErrorCode::RateLimited,
                "too many requests",
            ),
            (
                ErrorKind::ContextTooLong,
                ErrorCode::ContextTooLong,
                "too long",
            ),
            (
                ErrorKind::ModelNotFound,
                ErrorCode::ModelNotFound,
                "another model",
            ),
            (
                ErrorKind::UnsupportedParameter,
                ErrorCode::ModelNotFound,
                "another model",
            ),
            (
                ErrorKind::BadRequest,
                ErrorCode::InvalidInput,
                "could not process",
            ),
            (
                ErrorKind::ServerError,
                ErrorCode::ServerError,
                "had a problem",
            ),
            (
                ErrorKind::InvalidResponse,
                ErrorCode::ServerError,
                "had a problem",
            ),
            (ErrorKind::Network, ErrorCode::Network, "could not reach"),
            (ErrorKind::Timeout, ErrorCode::Timeout, "too long to answer"),
        ];
        for (kind, code, words) in cases {
            let error = CoreError::Api {
                kind,
                message: message_of(kind).into(),
            };
            assert_eq!(error.code(), code, "{kind:?}");
            assert!(error.to_string().contains(words), "{kind:?}: {error}");
        }
        let missing = CoreError::MissingApiKey.to_ipc();
        assert_eq!(missing.code, ErrorCode::MissingApiKey);
        let json = serde_json::to_string(&missing).unwrap();
        assert!(
            json.starts_with(r#"{"code":"missing_api_key","message":"#),
            "{json}"
        );
    }

    /// Storage failures: what the user asked for is gone (not found), a backup file cannot
    /// be used (file), or the data itself is in trouble (storage, disk full), each with
    /// words that say what to do.
    #[test]
    fn store_error_mapping_table() {
        let cases = [
            (
                StoreError::NoConversation(1),
                ErrorCode::NotFound,
                "no longer exists",
            ),
            (
                StoreError::NoMessage(1),
                ErrorCode::NotFound,
                "no longer exists",
            ),
            (
                StoreError::NoBackup("x".into()),
                ErrorCode::NotFound,
                "backup no longer",
            ),
            (
                StoreError::BackupDamaged {
                    name: "x".into(),
                    found: "bad page".into(),
                },
                ErrorCode::FileFailed,
                "Choose another one",
            ),
            (
                StoreError::Damaged("bad page".into()),
                ErrorCode::Storage,
                "Restart Tally",
            ),
            (
                StoreError::NoPersona(1),
                ErrorCode::NotFound,
                "persona no longer",
            ),
            (
                StoreError::DuplicateName("Tutor".into()),
                ErrorCode::InvalidInput,
                "already exists",
            ),
            (StoreError::BackupBusy, ErrorCode::Storage, "could not save"),
            (
                StoreError::BackupUnverified("bad page".into()),
                ErrorCode::Storage,
                "could not save",
            ),
            (
                StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                    None,
                )),
                ErrorCode::DiskFull,
                "disk is full",
            ),
            (
                StoreError::DataDir {
                    path: "/data/backups".into(),
                    source: std::io::Error::from_raw_os_error(28),
                },
                ErrorCode::DiskFull,
                "Free some space",
            ),
        ];
        for (store_error, code, words) in cases {
            let shown = format!("{store_error:?}");
            let error = CoreError::from(store_error);
            assert_eq!(error.code(), code, "{shown}");
            assert!(error.to_string().contains(words), "{shown}: {error}");
        }
    }
}
