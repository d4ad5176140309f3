//! The MCP servers Tally's conversations may use, and nothing else.
//!
//! This crate owns the connections to Model Context Protocol servers, made with the official
//! Rust SDK (`rmcp`, pinned exactly): a local program over stdio, started with the user's
//! login-shell PATH and a small inherited environment in a process group of its own, or a
//! remote server over Streamable HTTP with an optional bearer token. It keeps each server's
//! state (starting, ready with its tools, failed with the reason and the last lines the
//! program wrote to stderr), calls a tool with a timeout and bounds what comes back, reads
//! the `mcpServers` JSON other apps use, and stops every server it started. It must not
//! touch storage, money, conversations, the OpenAI API, the UI or Tauri; the bearer token
//! arrives as a `SecretString` and is never printed or kept beyond its connection.
//!
//! The whole project's map is `ARCHITECTURE.md` at the repository's root.

mod import;
mod launch;
mod output;
mod servers;
mod spec;
mod stderr;

pub use import::{ImportReport, ImportedServer, parse_mcp_servers_json};
pub use launch::LaunchEnv;
pub use output::{MAX_RESULT_BYTES, ToolOutput};
pub use servers::{McpServers, ServerId, ServerState, Status, ToolInfo};
pub use spec::{ServerSpec, Transport};

/// What went wrong with a server or a call, in words a user can act on.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ToolsError {
    /// A server's settings that cannot be used (an empty command, an address that is not
    /// http(s), …).
    #[error("{0}")]
    InvalidServer(String),
    /// The program of a stdio server is not on the PATH Tally searched.
    #[error("{0}")]
    ProgramMissing(String),
    /// The server is not running (stopped, failed, or still starting).
    #[error("{0}")]
    NotReady(String),
    /// A call that got no answer in time; the server was told to cancel it.
    #[error("{0}")]
    Timeout(String),
    /// The server could not be reached, stopped during the call, or answered with an error.
    #[error("{0}")]
    CallFailed(String),
}
