//! Where Tally's computers meet to sync: a folder another program already syncs, a WebDAV
//! server or S3-compatible storage, reached through Apache OpenDAL.
//!
//! This crate owns the storage's layout and what its files are: the vault file
//! (`tally-sync.json`: how the key is derived from the passphrase, and a check that tells a
//! wrong passphrase from a damaged file), and each computer's append-only files of changes
//! (`devices/<device>/<clock>.tsync`) and snapshots (`snapshots/<device>/<clock>/`: parts,
//! then a manifest that finishes it), each compressed, then encrypted and authenticated
//! with XChaCha20-Poly1305 under a key Argon2id derives from the passphrase, its path bound
//! in so that a file moved or renamed does not open. A computer only adds files to its own
//! folder, and removes only its own (those its snapshots cover); nothing here overwrites a
//! file or removes another computer's. It knows nothing of what the
//! files hold (bytes in, bytes out), of SQLite, conversations, money, the keychain, the UI
//! or Tauri. Every byte read from the storage is bounded and may be hostile.

mod crypto;
mod folder;
mod location;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use crypto::{FORMAT, VAULT_FILE};
pub use folder::{MAX_FILE_BYTES, MAX_PLAIN_BYTES, Segment, Snapshot, SyncFolder};
pub use location::{Location, TimeLimits};

/// Why the sync storage could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The place was described wrongly (an address that is not one, a folder that is not).
    #[error("{0}")]
    BadLocation(String),
    /// The storage did not answer, or answered with an error that is not ours to fix.
    #[error("the sync storage could not be reached: {0}")]
    Unreachable(String),
    /// The storage refused the name, password or keys given.
    #[error("the sync storage refused access: {0}")]
    Denied(String),
    /// The storage did not answer within the time limits (and twice more after).
    #[error("the sync storage did not answer in time")]
    TooSlow,
    /// No room left on the storage.
    #[error("the sync storage is full")]
    Full,
    #[error("the passphrase does not open this sync storage")]
    WrongPassphrase,
    /// A file in a format a later version of Tally writes.
    #[error("a file of format {found} was written by a newer version of Tally")]
    Newer { found: u32 },
    /// A file that does not open: damaged, cut short (still being copied), or tampered with.
    #[error("{path} could not be read: {reason}")]
    Damaged { path: String, reason: String },
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;
