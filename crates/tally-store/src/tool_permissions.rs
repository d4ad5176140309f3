//! The tool calls the user allowed for good: a server's tool, in one conversation or in
//! all of them.

use rusqlite::params;

use crate::model::{EpochMillis, ToolPermission};
use crate::{Result, Store};

impl Store {
    /// Every permission, by server and tool.
    pub fn tool_permissions(&self) -> Result<Vec<ToolPermission>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, p.server, p.tool, p.conversation_id, c.title, p.created_at
             FROM tool_permissions p LEFT JOIN conversations c ON c.id = p.conversation_id
             ORDER BY p.server COLLATE NOCASE, p.tool, p.conversation_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ToolPermission {
                id: r.get(0)?,
                server: r.get(1)?,
                tool: r.get(2)?,
                conversation_id: r.get(3)?,
                conversation_title: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether `tool` of `server` may run unasked in `conversation_id`: allowed there, or
    /// everywhere.
    pub fn tool_allowed(&self, server: &str, tool: &str, conversation_id: i64) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM tool_permissions
                 WHERE server = ?1 COLLATE NOCASE AND tool = ?2
                   AND (conversation_id IS NULL OR conversation_id = ?3))",
            params![server, tool, conversation_id],
            |r| r.get(0),
        )?)
    }

    /// Allows `tool` of `server` for good, in `conversation_id` or (`None`) everywhere.
    /// Allowing it again changes nothing.
    pub fn allow_tool(
        &self,
        server: &str,
        tool: &str,
        conversation_id: Option<i64>,
        now: EpochMillis,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO tool_permissions (server, tool, conversation_id, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![server, tool, conversation_id, now],
        )?;
        Ok(())
    }

    /// Takes a permission back; one that is gone already is no error.
    pub fn revoke_tool_permission(&self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM tool_permissions WHERE id = ?1", params![id])?;
        Ok(())
    }
}
