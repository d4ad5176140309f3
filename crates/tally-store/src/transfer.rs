//! Whole conversations in and out, for export and import: every message of the tree (all
//! branches), the ledger rows billed for it, and the `uid` that keeps an import from
//! duplicating a conversation it has seen before.

use rusqlite::{OptionalExtension, params};

use crate::ledger::{LEDGER_COLUMNS, ledger_entry};
use crate::model::*;
use crate::store::{MESSAGE_COLUMNS, message_from_row};
use crate::{Result, Store, StoreError};

impl Store {
    /// Conversation `id` whole: its settings, every message (parents before their
    /// children) and the ledger rows of its requests, oldest first.
    pub fn conversation_tree(&self, id: i64) -> Result<ConversationTree> {
        let conversation = self.conversation(id)?;
        let uid: String =
            self.conn
                .query_row("SELECT uid FROM conversations WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
        // Ids grow as messages are written, so a parent always has a smaller id.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 ORDER BY id"
        ))?;
        let messages = stmt
            .query_map([id], message_from_row)?
            .map(|r| r?)
            .collect::<Result<Vec<_>>>()?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {LEDGER_COLUMNS} FROM usage_ledger l
             LEFT JOIN conversations c ON c.id = l.conversation_id
             WHERE l.conversation_id = ?1 ORDER BY l.created_at, l.id"
        ))?;
        let usage = stmt
            .query_map([id], ledger_entry)?
            .map(|r| r?.map(|entry| entry.row))
            .collect::<Result<Vec<_>>>()?;
        let attachments = crate::attachments::of_conversation(&self.conn, id)?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, uid FROM messages WHERE conversation_id = ?1")?;
        let messages_uids = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT uid FROM usage_ledger WHERE conversation_id = ?1 ORDER BY created_at, id",
        )?;
        let usage_uids = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ConversationTree {
            conversation,
            uid,
            messages,
            usage,
            attachments,
            uids: TreeUids {
                messages: messages_uids,
                usage: usage_uids,
            },
        })
    }

    /// Every conversation not in the Trash, most recently active first.
    pub fn all_conversation_ids(&self) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM conversations WHERE deleted_at IS NULL
             ORDER BY updated_at DESC, id DESC",
        )?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// The conversation with this `uid` (in the Trash too), if there is one.
    pub fn conversation_with_uid(&self, uid: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT id FROM conversations WHERE uid = ?1", [uid], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Writes `tree` as a new conversation in one transaction: its messages get new ids
    /// (parents must come before their children; `conversation.current_leaf_id` and the
    /// usage rows' `message_id` name messages by their ids in `tree`), and its usage rows
    /// join the ledger. Returns the new conversation's id.
    pub fn import_conversation(&mut self, tree: &ConversationTree) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let c = &tree.conversation;
        tx.execute(
            "INSERT INTO conversations (title, model, system_prompt, temperature, top_p,
                 max_output_tokens, presence_penalty, frequency_penalty, created_at,
                 updated_at, pinned_at, uid, reasoning_effort, web_search, tools, reply_format)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                c.title,
                c.model,
                c.system_prompt,
                c.options.temperature,
                c.options.top_p,
                c.options.max_output_tokens,
                c.options.presence_penalty,
                c.options.frequency_penalty,
                c.created_at,
                c.updated_at,
                c.pinned_at,
                tree.uid,
                c.options.reasoning_effort,
                c.options.web_search,
                c.options.tools,
                c.options.reply_format,
            ],
        )?;
        let conversation_id = tx.last_insert_rowid();
        let mut new_ids = std::collections::HashMap::with_capacity(tree.messages.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO messages (conversation_id, parent_id, role, content, status,
                     finish_reason, model, error_code, error_message, created_at, updated_at,
                     endpoint, thinking, reasoning_items, citations, tool_calls, json_check,
                     uid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                     ?16, ?17, ?18)",
            )?;
            for m in &tree.messages {
                let parent = match m.parent_id {
                    Some(old) => Some(*new_ids.get(&old).ok_or(StoreError::NoMessage(old))?),
                    None => None,
                };
                // A reply cut off in the other app is not being written here.
                let status = match m.status {
                    MessageStatus::Streaming => MessageStatus::Interrupted,
                    other => other,
                };
                insert.execute(params![
                    conversation_id,
                    parent,
                    m.role.as_str(),
                    m.content,
                    status.as_str(),
                    m.finish_reason,
                    m.model,
                    m.error_code,
                    m.error_message,
                    m.created_at,
                    m.updated_at,
                    m.endpoint,
                    m.thinking,
                    m.reasoning_items,
                    m.citations,
                    m.tool_calls,
                    m.json_check,
                    free_uid(&tx, "messages", tree.uids.messages.get(&m.id), || {
                        derived_uid(&tree.uid, "message", m.id)
                    })?,
                ])?;
                new_ids.insert(m.id, tx.last_insert_rowid());
            }
        }
        let mut positions: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for attachment in &tree.attachments {
            let Some(&message_id) = new_ids.get(&attachment.message_id) else {
                return Err(StoreError::NoMessage(attachment.message_id));
            };
            let position = positions.entry(message_id).or_default();
            crate::attachments::import(&tx, message_id, *position, attachment, c.updated_at)?;
            *position += 1;
        }
        let leaf = c.current_leaf_id.and_then(|old| new_ids.get(&old).copied());
        tx.execute(
            "UPDATE conversations SET current_leaf_id = ?2 WHERE id = ?1",
            params![conversation_id, leaf],
        )?;
        for (place, row) in tree.usage.iter().enumerate() {
            let row = UsageRow {
                conversation_id: Some(conversation_id),
                message_id: row.message_id.and_then(|old| new_ids.get(&old).copied()),
                ..row.clone()
            };
            let id = crate::ledger::insert_usage(&tx, &row)?;
            let given = tree.uids.usage.get(place).and_then(Option::as_ref);
            let uid = free_uid(&tx, "usage_ledger", given, || {
                derived_uid(&tree.uid, "ledger", place as i64)
            })?;
            tx.execute(
                "UPDATE usage_ledger SET uid = ?2 WHERE id = ?1",
                params![id, uid],
            )?;
        }
        tx.commit()?;
        Ok(conversation_id)
    }
}

/// The `uid` an imported row gets: the file's when it has a fitting one, else one made up
/// from the conversation's `uid` and the row's place — unless that is taken already (a
/// file with the same rows under another conversation), when the database makes up a
/// random one (`None`).
fn free_uid(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    given: Option<&String>,
    derived: impl FnOnce() -> String,
) -> Result<Option<String>> {
    let fitting = given.filter(|uid| {
        (8..=64).contains(&uid.len())
            && uid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':')
    });
    let uid = fitting.cloned().unwrap_or_else(derived);
    let taken: bool = tx
        .prepare_cached(&format!(
            "SELECT EXISTS (SELECT 1 FROM {table} WHERE uid = ?1)"
        ))?
        .query_row([&uid], |r| r.get(0))?;
    Ok((!taken).then_some(uid))
}

/// A `uid` made from the conversation's and a row's place in it: the same on every
/// computer that imports the same file.
fn derived_uid(conversation_uid: &str, kind: &str, place: i64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("tally import\0{conversation_uid}\0{kind}\0{place}"));
    crate::attachments::hex(&digest[..16])
}
