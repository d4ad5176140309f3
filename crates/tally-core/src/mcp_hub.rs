//! `McpHub`: the MCP servers running, and the one place their changes become notices.

use tally_tools::{LaunchEnv, McpServers, ServerState, Status};
use tokio::sync::OnceCell;

use crate::api::{McpServerStateView, McpStatus, McpToolView};
use crate::notices::{Notice, Notices};

/// The running MCP servers, made when first needed (finding the login shell's PATH takes
/// a shell's start), each change of state told as a notice.
pub(crate) struct McpHub {
    servers: OnceCell<McpServers>,
    notices: Notices,
}

impl McpHub {
    pub(crate) fn new(notices: Notices) -> Self {
        Self {
            servers: OnceCell::new(),
            notices,
        }
    }

    pub(crate) async fn servers(&self) -> &McpServers {
        self.servers
            .get_or_init(|| async {
                let notices = self.notices.clone();
                McpServers::new(LaunchEnv::from_session().await, move |id, state| {
                    notices.send(Notice::McpServerChanged(state_view(id, state)));
                })
            })
            .await
    }

    /// What server `id` is doing; `None` when it was never started.
    pub(crate) fn state(&self, id: i64) -> Option<ServerState> {
        self.servers.get().and_then(|servers| servers.state(id))
    }

    /// The servers, if any was ever started.
    pub(crate) fn running(&self) -> Option<&McpServers> {
        self.servers.get()
    }
}

pub(crate) fn state_view(id: i64, state: &ServerState) -> McpServerStateView {
    McpServerStateView {
        id,
        status: match state.status {
            Status::Starting => McpStatus::Starting,
            Status::Ready => McpStatus::Ready,
            Status::Failed => McpStatus::Failed,
        },
        tools: state
            .tools
            .iter()
            .map(|tool| McpToolView {
                name: tool.name.clone(),
                title: tool.title.clone(),
                description: tool.description.clone(),
                read_only: tool.read_only,
                destructive: tool.destructive,
            })
            .collect(),
        error: state.error.clone(),
        stderr: state.stderr.clone(),
    }
}
