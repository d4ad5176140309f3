//! MCP servers in Settings: adding, changing, turning on and off, restarting and removing
//! them, importing a pasted `mcpServers` list, starting the enabled ones when Tally opens
//! and stopping them all when it quits. The running servers are `McpHub`'s
//! (`mcp_hub.rs`); their settings are rows of the store and their tokens are in the keychain.

use tally_store::{McpServerRow, StoreError};
use tally_tools::{ServerSpec, ServerState, Status, ToolsError, Transport};

use crate::CoreError;
use crate::api::{
    McpImportView, McpServerInput, McpServerStateView, McpServerView, McpSkippedView, McpStatus,
    McpTransport,
};
use crate::engine::Engine;
use crate::keys::keychain;
use crate::mcp_hub::state_view;

impl Engine {
    /// Every server, with what it is doing now.
    pub fn mcp_server_list(&self) -> Result<Vec<McpServerView>, CoreError> {
        let rows = self.store().mcp_servers()?;
        rows.into_iter().map(|row| self.mcp_view(row)).collect()
    }

    /// Adds or changes a server, its token into the keychain; starts it when enabled (or
    /// stops it when not). Returns it.
    pub async fn mcp_server_save(&self, input: McpServerInput) -> Result<McpServerView, CoreError> {
        let spec = ServerSpec {
            name: input.name,
            transport: to_tools(input.transport),
        }
        .checked()
        .map_err(tools_error)?;
        let token = match input.token.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(token) => Some(Some(tally_keychain::normalize_key(
                token,
                tally_keychain::KeyFormat::Other,
            )?)),
        };
        let had_token = match input.id {
            Some(id) => self.store().mcp_server(id)?.has_token,
            None => false,
        };
        let has_token = match &token {
            None => had_token,
            Some(token) => token.is_some(),
        } && matches!(spec.transport, Transport::Http { .. });
        let row = McpServerRow {
            id: input.id.unwrap_or(0),
            name: spec.name.clone(),
            transport: transport_json(&spec.transport)?,
            enabled: input.enabled,
            has_token,
        };
        let id = self
            .store()
            .save_mcp_server(&row, self.now())
            .map_err(|e| duplicate_name(e, &spec.name))?;
        let slot = self.keys.keychain.for_mcp_server(id);
        // The keychain is asked only when there is a token to keep or one to forget, so
        // local servers work on a computer without one.
        match token {
            Some(Some(token)) if has_token => keychain(move || slot.set(&token)).await?,
            _ if had_token && !has_token => keychain(move || slot.delete()).await?,
            _ => {}
        }
        let row = McpServerRow { id, ..row };
        self.mcp_apply(&row).await?;
        self.mcp_view(row)
    }

    /// Removes a server: stopped, its row deleted, its token out of the keychain.
    pub async fn mcp_server_remove(&self, id: i64) -> Result<Vec<McpServerView>, CoreError> {
        let row = self.store().mcp_server(id)?;
        self.mcp.servers().await.stop(id).await;
        self.store().delete_mcp_server(id)?;
        if row.has_token {
            let slot = self.keys.keychain.for_mcp_server(id);
            keychain(move || slot.delete()).await?;
        }
        self.mcp_server_list()
    }

    /// Turns a server on (started) or off (stopped).
    pub async fn mcp_server_set_enabled(
        &self,
        id: i64,
        enabled: bool,
    ) -> Result<McpServerView, CoreError> {
        let mut row = self.store().mcp_server(id)?;
        row.enabled = enabled;
        self.store().save_mcp_server(&row, self.now())?;
        self.mcp_apply(&row).await?;
        self.mcp_view(row)
    }

    /// Starts an enabled server again (after it failed, or to pick up a change outside Tally).
    pub async fn mcp_server_restart(&self, id: i64) -> Result<McpServerView, CoreError> {
        let row = self.store().mcp_server(id)?;
        self.mcp_apply(&row).await?;
        self.mcp_view(row)
    }

    /// Adds the servers of a pasted `mcpServers` list (Claude Desktop's, Cursor's, VS
    /// Code's), each one started when enabled; names already taken are left out.
    pub async fn mcp_import_json(&self, text: &str) -> Result<McpImportView, CoreError> {
        let report = tally_tools::parse_mcp_servers_json(text).map_err(tools_error)?;
        let mut added = Vec::new();
        let mut skipped: Vec<McpSkippedView> = report
            .skipped
            .into_iter()
            .map(|(name, reason)| McpSkippedView { name, reason })
            .collect();
        for server in report.servers {
            let name = server.spec.name.clone();
            let row = McpServerRow {
                id: 0,
                name: name.clone(),
                transport: transport_json(&server.spec.transport)?,
                enabled: server.enabled,
                has_token: server.bearer.is_some(),
            };
            let id = match self.store().save_mcp_server(&row, self.now()) {
                Ok(id) => id,
                Err(StoreError::DuplicateName(_)) => {
                    skipped.push(McpSkippedView {
                        name,
                        reason: "A server of that name is already set up.".into(),
                    });
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(token) = server.bearer {
                let slot = self.keys.keychain.for_mcp_server(id);
                keychain(move || slot.set(&token)).await?;
            }
            self.mcp_apply(&McpServerRow { id, ..row }).await?;
            added.push(name);
        }
        Ok(McpImportView {
            added,
            skipped,
            servers: self.mcp_server_list()?,
        })
    }

    /// Starts every enabled server (the shell calls it once the window listens).
    pub async fn mcp_start_enabled(&self) -> Result<(), CoreError> {
        let rows = self.store().mcp_servers()?;
        for row in rows.into_iter().filter(|row| row.enabled) {
            self.mcp_apply(&row).await?;
        }
        Ok(())
    }

    /// Stops every server, with the programs they started (when Tally quits).
    pub async fn mcp_shutdown(&self) {
        if let Some(servers) = self.mcp.running() {
            servers.stop_all().await;
        }
    }

    /// Makes a server run as its saved `row` says: (re)started when enabled, stopped when
    /// not.
    async fn mcp_apply(&self, row: &McpServerRow) -> Result<(), CoreError> {
        let id = row.id;
        let servers = self.mcp.servers().await;
        if !row.enabled {
            servers.stop(id).await;
            return Ok(());
        }
        let bearer = if row.has_token {
            let slot = self.keys.keychain.for_mcp_server(id);
            keychain(move || slot.get()).await?
        } else {
            None
        };
        let spec = ServerSpec {
            name: row.name.clone(),
            transport: transport_from_json(&row.transport)?,
        };
        servers.start(id, spec, bearer).await;
        Ok(())
    }

    fn mcp_view(&self, row: McpServerRow) -> Result<McpServerView, CoreError> {
        let state = match (row.enabled, self.mcp.state(row.id)) {
            (true, Some(state)) => state_view(row.id, &state),
            // Enabled, not started yet: Tally is opening, it starts in a moment.
            (true, None) => state_view(
                row.id,
                &ServerState {
                    status: Status::Starting,
                    tools: Vec::new(),
                    error: None,
                    stderr: Vec::new(),
                },
            ),
            (false, _) => McpServerStateView {
                id: row.id,
                status: McpStatus::Off,
                tools: Vec::new(),
                error: None,
                stderr: Vec::new(),
            },
        };
        Ok(McpServerView {
            id: row.id,
            name: row.name,
            transport: from_tools(transport_from_json(&row.transport)?),
            enabled: row.enabled,
            has_token: row.has_token,
            state,
        })
    }
}

fn to_tools(transport: McpTransport) -> Transport {
    match transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        } => Transport::Stdio {
            command,
            args,
            env,
            cwd,
        },
        McpTransport::Http { url } => Transport::Http { url },
    }
}

fn from_tools(transport: Transport) -> McpTransport {
    match transport {
        Transport::Stdio {
            command,
            args,
            env,
            cwd,
        } => McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        },
        Transport::Http { url } => McpTransport::Http { url },
    }
}

fn transport_json(transport: &Transport) -> Result<String, CoreError> {
    serde_json::to_string(transport)
        .map_err(|e| CoreError::Internal(format!("a server's settings as JSON: {e}")))
}

fn transport_from_json(json: &str) -> Result<Transport, CoreError> {
    serde_json::from_str(json)
        .map_err(|e| CoreError::Damaged(format!("an MCP server's settings are not readable: {e}")))
}

fn duplicate_name(error: StoreError, name: &str) -> CoreError {
    match error {
        StoreError::DuplicateName(_) => {
            CoreError::InvalidInput(format!("A server named “{name}” is already set up."))
        }
        other => other.into(),
    }
}

fn tools_error(error: ToolsError) -> CoreError {
    CoreError::InvalidInput(error.to_string())
}
