//! Sync's state in the engine (see `sync.rs` for what it does): the storage opened, the
//! sync running, and what the last one brought.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use tally_sync::SyncFolder;

/// Sync's state in the engine: the storage opened (the key derived once), whether a sync
/// is running, and how the last one ended.
#[derive(Default)]
pub(crate) struct SyncState {
    pub(crate) folder: tokio::sync::Mutex<Option<Arc<SyncFolder>>>,
    /// Held for the whole of a sync: one at a time.
    pub(crate) running: tokio::sync::Mutex<()>,
    pub(crate) syncing: AtomicBool,
    /// What the last sync received (the window reloads its lists when above 0).
    pub(crate) received: AtomicU64,
}
