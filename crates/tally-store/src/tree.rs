//! The message tree: siblings (regenerated replies, edited messages), moving between
//! branches, and deleting a message with what grew from it.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use crate::model::Message;
use crate::{Result, Store, StoreError};

impl Store {
    /// For each message of `branch` that has siblings (other replies to the same message,
    /// other versions of an edited one), all of them oldest first, itself included.
    pub fn siblings_on_branch(
        &self,
        conversation_id: i64,
        branch: &[Message],
    ) -> Result<HashMap<i64, Vec<i64>>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, parent_id FROM messages WHERE conversation_id = ?1 ORDER BY id",
        )?;
        let mut children: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
        let rows = stmt.query_map([conversation_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
        })?;
        for row in rows {
            let (id, parent) = row?;
            children.entry(parent).or_default().push(id);
        }
        Ok(branch
            .iter()
            .filter_map(|m| {
                let siblings = children.get(&m.parent_id)?;
                (siblings.len() > 1).then(|| (m.id, siblings.clone()))
            })
            .collect())
    }

    /// The newest leaf below `message_id` (itself when it has no replies): where the
    /// branch through it continues when the user switches to it.
    pub fn newest_leaf_under(&self, message_id: i64) -> Result<i64> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT max(id) FROM messages WHERE parent_id = ?1")?;
        let mut leaf = message_id;
        while let Some(child) = stmt.query_row([leaf], |r| r.get::<_, Option<i64>>(0))? {
            leaf = child;
        }
        Ok(leaf)
    }

    /// Shows the branch through `message_id` (one of a message's siblings), continuing
    /// to the newest reply below it. Returns the new leaf.
    pub fn switch_to(&self, conversation_id: i64, message_id: i64) -> Result<i64> {
        let owner = self.message(message_id)?.conversation_id;
        if owner != conversation_id {
            return Err(StoreError::NoMessage(message_id));
        }
        let leaf = self.newest_leaf_under(message_id)?;
        self.conn.execute(
            "UPDATE conversations SET current_leaf_id = ?2 WHERE id = ?1",
            params![conversation_id, leaf],
        )?;
        Ok(leaf)
    }

    /// Deletes a message and everything that grew from it. When it was on the branch on
    /// screen, the branch goes on through its nearest sibling, or ends at its parent.
    /// Ledger rows stay (without the link to the message). Returns the conversation's
    /// new leaf.
    pub fn delete_message(&mut self, message_id: i64) -> Result<Option<i64>> {
        let message = self.message(message_id)?;
        let conversation = self.conversation(message.conversation_id)?;
        let on_screen = match conversation.current_leaf_id {
            Some(leaf) => self
                .branch_ending_at(leaf)?
                .iter()
                .any(|m| m.id == message_id),
            None => false,
        };
        let sibling: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM messages
                 WHERE conversation_id = ?1 AND parent_id IS ?2 AND id != ?3
                 ORDER BY abs(id - ?3), id DESC LIMIT 1",
                params![message.conversation_id, message.parent_id, message_id],
                |r| r.get(0),
            )
            .optional()?;
        // The sibling's subtree is not touched by the delete, so its leaf is known first.
        let leaf = match (on_screen, sibling) {
            (false, _) => conversation.current_leaf_id,
            (true, Some(sibling)) => Some(self.newest_leaf_under(sibling)?),
            (true, None) => message.parent_id,
        };
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM messages WHERE id = ?1", [message_id])?;
        tx.execute(
            "UPDATE conversations SET current_leaf_id = ?2 WHERE id = ?1",
            params![message.conversation_id, leaf],
        )?;
        tx.commit()?;
        Ok(leaf)
    }
}
