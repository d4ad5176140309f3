//! The MCP servers the user added (how to start them; their tokens are in the keychain).

use rusqlite::{ErrorCode, params};

use crate::model::{EpochMillis, McpServerRow};
use crate::{Result, Store, StoreError};

impl Store {
    /// Every server, by name.
    pub fn mcp_servers(&self) -> Result<Vec<McpServerRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, transport, enabled, has_token FROM mcp_servers
             ORDER BY name COLLATE NOCASE",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(McpServerRow {
                id: r.get(0)?,
                name: r.get(1)?,
                transport: r.get(2)?,
                enabled: r.get(3)?,
                has_token: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn mcp_server(&self, id: i64) -> Result<McpServerRow> {
        self.mcp_servers()?
            .into_iter()
            .find(|row| row.id == id)
            .ok_or(StoreError::NoMcpServer(id))
    }

    /// Adds a server (`row.id` 0) or changes one; returns its id. Names are unique,
    /// whatever their case.
    pub fn save_mcp_server(&self, row: &McpServerRow, now: EpochMillis) -> Result<i64> {
        let written: rusqlite::Result<Option<i64>> = if row.id == 0 {
            self.conn
                .execute(
                    "INSERT INTO mcp_servers (name, transport, enabled, has_token, created_at,
                     updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![row.name, row.transport, row.enabled, row.has_token, now],
                )
                .map(|_| Some(self.conn.last_insert_rowid()))
        } else {
            self.conn
                .execute(
                    "UPDATE mcp_servers SET name = ?2, transport = ?3, enabled = ?4,
                     has_token = ?5, updated_at = ?6 WHERE id = ?1",
                    params![
                        row.id,
                        row.name,
                        row.transport,
                        row.enabled,
                        row.has_token,
                        now
                    ],
                )
                .map(|changed| (changed > 0).then_some(row.id))
        };
        match written {
            Ok(Some(id)) => Ok(id),
            Ok(None) => Err(StoreError::NoMcpServer(row.id)),
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                Err(StoreError::DuplicateName(row.name.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn delete_mcp_server(&self, id: i64) -> Result<()> {
        if self
            .conn
            .execute("DELETE FROM mcp_servers WHERE id = ?1", [id])?
            == 0
        {
            return Err(StoreError::NoMcpServer(id));
        }
        Ok(())
    }
}
