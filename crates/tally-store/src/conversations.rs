//! The sidebar's view of conversations: pages of the most recent, pins, renaming and the
//! Trash.

use rusqlite::params;

use crate::model::{Conversation, ConversationCursor, EpochMillis};
use crate::store::{CONVERSATION_COLUMNS, conversation_from_row};
use crate::{Result, Store, StoreError};

/// How long a conversation stays in the Trash before it is removed for good: 30 days.
pub const TRASH_KEEPS_FOR_MS: i64 = 30 * 24 * 60 * 60 * 1000;

impl Store {
    /// Conversations neither pinned nor in the Trash, most recently active first:
    /// `limit` of them, starting after `after` (the last of the previous page).
    pub fn conversation_page(
        &self,
        after: Option<ConversationCursor>,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        // A row-value comparison walks `conversations_recent` from the cursor on, so
        // every page costs the same however deep the user has scrolled.
        let (updated_at, id) = after.map_or((i64::MAX, i64::MAX), |c| (c.updated_at, c.id));
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations
             WHERE deleted_at IS NULL AND pinned_at IS NULL AND (updated_at, id) < (?1, ?2)
             ORDER BY updated_at DESC, id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![updated_at, id, limit], conversation_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Pinned conversations (not in the Trash), most recently pinned first.
    pub fn pinned_conversations(&self) -> Result<Vec<Conversation>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations
             WHERE deleted_at IS NULL AND pinned_at IS NOT NULL
             ORDER BY pinned_at DESC, id DESC"
        ))?;
        let rows = stmt.query_map([], conversation_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The Trash, most recently deleted first.
    pub fn trashed_conversations(&self) -> Result<Vec<Conversation>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations
             WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id DESC"
        ))?;
        let rows = stmt.query_map([], conversation_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Renames a conversation without moving it in the list.
    pub fn rename_conversation(&self, id: i64, title: &str) -> Result<Conversation> {
        self.update_one(
            id,
            "UPDATE conversations SET title = ?2 WHERE id = ?1",
            title,
        )
    }

    /// Gives a conversation `title` if it still has `expected` (the user may have renamed
    /// it meanwhile). Returns whether it did.
    pub fn retitle(&self, id: i64, expected: &str, title: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE conversations SET title = ?3 WHERE id = ?1 AND title = ?2",
            params![id, expected, title],
        )? > 0)
    }

    /// Pins (`Some(now)`) or unpins (`None`) a conversation.
    pub fn set_pinned(&self, id: i64, pinned_at: Option<EpochMillis>) -> Result<Conversation> {
        self.update_one(
            id,
            "UPDATE conversations SET pinned_at = ?2 WHERE id = ?1",
            pinned_at,
        )
    }

    /// Moves a conversation to the Trash; nothing is removed yet.
    pub fn trash_conversation(&self, id: i64, now: EpochMillis) -> Result<Conversation> {
        self.update_one(
            id,
            "UPDATE conversations SET deleted_at = ?2 WHERE id = ?1",
            now,
        )
    }

    /// Brings a conversation back from the Trash, where it was in the list.
    pub fn restore_conversation(&self, id: i64) -> Result<Conversation> {
        self.update_one(
            id,
            "UPDATE conversations SET deleted_at = ?2 WHERE id = ?1",
            None::<i64>,
        )
    }

    /// Removes a conversation in the Trash for good, with its messages. Its ledger rows
    /// stay (money spent stays spent), without the link to it.
    pub fn delete_trashed_conversation(&self, id: i64) -> Result<()> {
        let changed = self.conn.execute(
            "DELETE FROM conversations WHERE id = ?1 AND deleted_at IS NOT NULL",
            [id],
        )?;
        if changed == 0 {
            return Err(StoreError::NoConversation(id));
        }
        Ok(())
    }

    /// Removes for good every conversation moved to the Trash before `before` (all of
    /// them with `None`). Returns how many there were.
    pub fn purge_trash(&mut self, before: Option<EpochMillis>) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let removed = tx.execute(
            "DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ?1",
            [before.unwrap_or(i64::MAX)],
        )?;
        tx.commit()?;
        Ok(removed)
    }

    fn update_one(&self, id: i64, sql: &str, value: impl rusqlite::ToSql) -> Result<Conversation> {
        let changed = self.conn.execute(sql, params![id, value])?;
        if changed == 0 {
            return Err(StoreError::NoConversation(id));
        }
        self.conversation(id)
    }
}
