//! App-wide notices: what the engine tells the shell without being asked (the meter
//! changed, a budget alert, damaged data, a new title), which the shell turns into Tauri
//! events and OS notifications. Holds the one sink they go to.

use std::sync::{Arc, Mutex, PoisonError};

use crate::api::{BudgetAlertView, McpServerStateView, SpendView, SyncView, TitleView};

/// App-wide notices (the shell turns them into Tauri events and OS notifications).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The meter changed: after a billed request, a budget change, a dismissed alert.
    SpendUpdated(SpendView),
    /// A budget threshold was reached for the first time this budget month.
    BudgetAlert(BudgetAlertView),
    /// Something is wrong with the stored data, in plain words (damage found by a check).
    StorageProblem(String),
    /// A conversation got its title from a model.
    ConversationTitled(TitleView),
    /// An MCP server started, became ready, failed or stopped by itself.
    McpServerChanged(McpServerStateView),
    /// Sync started or ended, or was turned on or off.
    SyncChanged(SyncView),
}

/// Where notices go.
pub trait NoticeSink: Send + Sync + 'static {
    fn notice(&self, notice: Notice);
}

impl<F: Fn(Notice) + Send + Sync + 'static> NoticeSink for F {
    fn notice(&self, notice: Notice) {
        self(notice)
    }
}

/// The sink notices go to; none until the shell sets one (notices before are dropped).
/// A clone sends to the same sink (the MCP servers' listener holds one).
#[derive(Default, Clone)]
pub(crate) struct Notices {
    sink: Arc<Mutex<Option<Arc<dyn NoticeSink>>>>,
}

impl Notices {
    pub(crate) fn send(&self, notice: Notice) {
        // Cloned out of the lock: a sink may take its time, or send a notice itself.
        let sink = self
            .sink
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(sink) = sink {
            sink.notice(notice);
        }
    }

    pub(crate) fn set(&self, sink: impl NoticeSink) {
        *self.sink.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(sink));
    }
}
