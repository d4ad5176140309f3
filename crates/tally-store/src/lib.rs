//! Tally's one SQLite database file.
//!
//! This crate owns the schema and every SQL statement: numbered migrations, conversations
//! with their request settings, messages as a tree (`parent_id`, with each conversation's
//! current leaf), the sidebar's pages, pins and Trash, the usage ledger (one row per billed
//! request, money in integer nano-USD) with its per-quarter-hour sums, price overrides,
//! budget alerts, full-text search, personas, attachments (content-addressed, linked to
//! the messages that carry them), settings, whole conversations in and out for
//! export and import (each with a `uid` that travels with it), and the file's backups
//! (SQLite's backup API) with recovery from a damaged file, and sync's side of the data:
//! this computer's changes recorded as they happen and other computers' merged (`sync.rs`). The file runs in WAL mode with foreign
//! keys on. It knows nothing of HTTP, money rules, the keychain or Tauri, and it never
//! stores an API key: there is no column for one.
//!
//! The whole project's map is `ARCHITECTURE.md` at the repository's root.

mod attachments;
mod backup;
mod conversations;
mod ledger;
mod mcp_servers;
mod migrations;
mod model;
mod personas;
mod recovery;
mod search;
mod store;
mod sync;
mod tool_permissions;
mod transfer;
mod tree;

pub use backup::{
    BACKUP_DIR, BACKUP_EVERY_MS, BACKUPS_KEPT, BackupInfo, BackupReason, DAMAGED_DIR, Recovery,
    UNDO_KEPT, list_backups, mark_needs_repair,
};
pub use conversations::TRASH_KEEPS_FOR_MS;
pub use migrations::migrations;
pub use model::*;
pub use search::{MARK_END, MARK_START, SearchHit, SearchResults};
pub use store::{DB_FILE_NAME, Store};
pub use sync::{
    ApplySummary, Change, ConversationSettings, OutboxBatch, SYNCED_SETTINGS, SnapshotPosition,
    Stamped, SyncDevice, SyncedAttachment, SyncedConversation, SyncedLedgerRow, SyncedMessage,
    SyncedMessageAttachment, SyncedPersona, SyncedPrice, UnreadSegment,
};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("could not use {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("no conversation with id {0}")]
    NoConversation(i64),
    #[error("no message with id {0}")]
    NoMessage(i64),
    #[error("unexpected value {value:?} in column {column}")]
    BadValue { column: &'static str, value: String },
    #[error("the database file is damaged: {0}")]
    Damaged(String),
    #[error("the database was too busy to back up; it will be tried again later")]
    BackupBusy,
    #[error("no backup named {0}")]
    NoBackup(String),
    #[error("no persona with id {0}")]
    NoPersona(i64),
    #[error("no MCP server with id {0}")]
    NoMcpServer(i64),
    #[error("no attachment with id {0}")]
    NoAttachment(i64),
    #[error("the name {0:?} is taken")]
    DuplicateName(String),
    #[error("the backup {name} cannot be restored: {found}")]
    BackupDamaged { name: String, found: String },
    /// The backup's copy failed its check but the database passed it: the copy was spoilt
    /// on the way (the disk), not the data. The copy was not kept.
    #[error("the backup copy failed its check ({0}) while the database passed it")]
    BackupUnverified(String),
}

impl StoreError {
    /// Whether this failure is the disk being full (SQLite's `SQLITE_FULL`, or a file write
    /// that found no room), which a user can fix by freeing space.
    pub fn is_disk_full(&self) -> bool {
        match self {
            Self::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            Self::Migration(rusqlite_migration::Error::RusqliteError { err, .. }) => {
                err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
            }
            Self::DataDir { source, .. } => {
                source.kind() == std::io::ErrorKind::StorageFull
                    || source.raw_os_error() == Some(28)
            }
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
