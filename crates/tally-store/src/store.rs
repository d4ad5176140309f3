use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backup::BackupReason;
use crate::model::*;
use crate::{Result, StoreError, migrations};

/// The database file's name inside the data folder.
pub const DB_FILE_NAME: &str = "tally.sqlite3";

/// An open database. One per process; callers serialise access (it is `Send`, not `Sync`).
pub struct Store {
    pub(crate) conn: Connection,
}

pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, parent_id, role, content, status, \
    finish_reason, model, error_code, error_message, created_at, updated_at, endpoint, thinking, \
    reasoning_items, citations, tool_calls, json_check";
pub(crate) const CONVERSATION_COLUMNS: &str = "id, title, model, system_prompt, current_leaf_id, \
    created_at, updated_at, pinned_at, deleted_at, temperature, top_p, max_output_tokens, \
    presence_penalty, frequency_penalty, reasoning_effort, web_search, tools, reply_format";

impl Store {
    /// Opens (creating if needed) `tally.sqlite3` in `data_dir` and migrates it.
    pub fn open_in(data_dir: &Path) -> Result<Self> {
        crate::backup::create_private_dir(data_dir)?;
        Self::open(&data_dir.join(DB_FILE_NAME))
    }

    /// Opens the database file at `path` and migrates it to the latest schema.
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        // The user's alone; SQLite gives the -wal and -shm files the same mode.
        crate::backup::make_private(path)?;
        // WAL: readers never block the writer, and a crash loses no committed row.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL is durable against app crashes in WAL mode; only power loss can roll back
        // the last commits.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // A statement's own undo journal (kept while one that fires triggers runs inside a
        // transaction) in memory, not in a file written page by page.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // Room for every statement the store prepares once and reuses (rusqlite keeps 16;
        // a sync applies a file's changes through some thirty of them).
        conn.set_prepared_statement_cache_capacity(128);
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let pending = migrations().pending_migrations(&conn)?;
        if version > 0 && pending > 0 {
            // An upgrade can fail halfway or be regretted: keep the file as it was.
            let data_dir = path.parent().unwrap_or(Path::new("."));
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            let target = version + i64::from(pending);
            crate::backup::back_up(
                &conn,
                data_dir,
                BackupReason::BeforeUpgrade(target),
                now,
                None,
            )?;
        }
        migrations().to_latest(&mut conn)?;
        Ok(Self { conn })
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// `PRAGMA integrity_check`: "ok", or the first problems found.
    pub fn integrity_check(&self) -> String {
        match crate::backup::check(&self.conn) {
            Ok(()) => "ok".into(),
            Err(StoreError::Damaged(found)) => found,
            Err(other) => format!("not checked: {other}"),
        }
    }

    pub fn journal_mode(&self) -> Result<String> {
        Ok(self
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))?)
    }

    // ----- conversations -----

    pub fn create_conversation(
        &mut self,
        title: &str,
        model: &str,
        now: EpochMillis,
    ) -> Result<Conversation> {
        self.create_conversation_with(title, model, None, &ConversationOptions::default(), now)
    }

    /// A new conversation with its system prompt and request settings.
    pub fn create_conversation_with(
        &mut self,
        title: &str,
        model: &str,
        system_prompt: Option<&str>,
        options: &ConversationOptions,
        now: EpochMillis,
    ) -> Result<Conversation> {
        self.conn.execute(
            "INSERT INTO conversations (title, model, system_prompt, temperature, top_p,
                 max_output_tokens, presence_penalty, frequency_penalty, created_at, updated_at,
                 reasoning_effort, web_search, tools, reply_format)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13)",
            params![
                title,
                model,
                system_prompt,
                options.temperature,
                options.top_p,
                options.max_output_tokens,
                options.presence_penalty,
                options.frequency_penalty,
                now,
                options.reasoning_effort,
                options.web_search,
                options.tools,
                options.reply_format,
            ],
        )?;
        let id = self.conn.last_insert_rowid();
        self.conversation(id)
    }

    /// Changes a conversation's model, system prompt and request settings.
    pub fn set_conversation_settings(
        &self,
        id: i64,
        model: &str,
        system_prompt: Option<&str>,
        options: &ConversationOptions,
    ) -> Result<Conversation> {
        let changed = self.conn.execute(
            "UPDATE conversations SET model = ?2, system_prompt = ?3, temperature = ?4,
                 top_p = ?5, max_output_tokens = ?6, presence_penalty = ?7,
                 frequency_penalty = ?8, reasoning_effort = ?9, web_search = ?10, tools = ?11,
                 reply_format = ?12
             WHERE id = ?1",
            params![
                id,
                model,
                system_prompt,
                options.temperature,
                options.top_p,
                options.max_output_tokens,
                options.presence_penalty,
                options.frequency_penalty,
                options.reasoning_effort,
                options.web_search,
                options.tools,
                options.reply_format,
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NoConversation(id));
        }
        self.conversation(id)
    }

    pub fn conversation(&self, id: i64) -> Result<Conversation> {
        self.conn
            .query_row(
                &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1"),
                [id],
                conversation_from_row,
            )
            .optional()?
            .ok_or(StoreError::NoConversation(id))
    }

    // ----- messages -----

    /// Writes the user's message and an empty streaming assistant reply under it, in one
    /// transaction, and makes the reply the conversation's current leaf. Returns both.
    pub fn begin_exchange(
        &mut self,
        conversation_id: i64,
        user_text: &str,
        model: &str,
        now: EpochMillis,
    ) -> Result<(Message, Message)> {
        let leaf = self.conversation(conversation_id)?.current_leaf_id;
        self.begin_exchange_under(conversation_id, leaf, user_text, model, now)
    }

    /// Like [`Store::begin_exchange`], with the user's message under `parent` (`None`: a
    /// new first message): editing a message starts a branch beside it this way.
    pub fn begin_exchange_under(
        &mut self,
        conversation_id: i64,
        parent: Option<i64>,
        user_text: &str,
        model: &str,
        now: EpochMillis,
    ) -> Result<(Message, Message)> {
        self.begin_exchange_with(conversation_id, parent, user_text, &[], model, now)
    }

    /// Like [`Store::begin_exchange_under`], the user's message carrying `attachments`
    /// (kept ones' ids, with the names they were chosen by), linked in the same
    /// transaction: the message is never written without them.
    pub fn begin_exchange_with(
        &mut self,
        conversation_id: i64,
        parent: Option<i64>,
        user_text: &str,
        attachments: &[(i64, &str)],
        model: &str,
        now: EpochMillis,
    ) -> Result<(Message, Message)> {
        let tx = self.conn.transaction()?;
        let leaf = parent;
        tx.query_row(
            "SELECT 1 FROM conversations WHERE id = ?1",
            [conversation_id],
            |_| Ok(()),
        )
        .optional()?
        .ok_or(StoreError::NoConversation(conversation_id))?;
        if let Some(parent) = parent {
            let owner: Option<i64> = tx
                .query_row(
                    "SELECT conversation_id FROM messages WHERE id = ?1",
                    [parent],
                    |r| r.get(0),
                )
                .optional()?;
            if owner != Some(conversation_id) {
                return Err(StoreError::NoMessage(parent));
            }
        }
        tx.execute(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at, updated_at)
             VALUES (?1, ?2, 'user', ?3, 'complete', ?4, ?4)",
            params![conversation_id, leaf, user_text, now],
        )?;
        let user_id = tx.last_insert_rowid();
        for (position, (id, name)) in attachments.iter().enumerate() {
            let linked = tx.execute(
                "INSERT INTO message_attachments (message_id, position, attachment_id, name)
                 SELECT ?1, ?2, id, ?4 FROM attachments WHERE id = ?3",
                params![user_id, position as i64, id, name],
            )?;
            if linked == 0 {
                return Err(StoreError::NoAttachment(*id));
            }
        }
        tx.execute(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, model, created_at, updated_at)
             VALUES (?1, ?2, 'assistant', '', 'streaming', ?3, ?4, ?4)",
            params![conversation_id, user_id, model, now],
        )?;
        let assistant_id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE conversations SET current_leaf_id = ?2, updated_at = ?3 WHERE id = ?1",
            params![conversation_id, assistant_id, now],
        )?;
        tx.commit()?;
        Ok((self.message(user_id)?, self.message(assistant_id)?))
    }

    /// Writes an empty streaming reply under `parent_id` (a sibling of earlier replies)
    /// and makes it the conversation's current leaf.
    pub fn begin_reply(
        &mut self,
        conversation_id: i64,
        parent_id: i64,
        model: &str,
        now: EpochMillis,
    ) -> Result<Message> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, model, created_at, updated_at)
             SELECT conversation_id, id, 'assistant', '', 'streaming', ?3, ?4, ?4
             FROM messages WHERE id = ?2 AND conversation_id = ?1",
            params![conversation_id, parent_id, model, now],
        )?;
        if tx.changes() == 0 {
            return Err(StoreError::NoMessage(parent_id));
        }
        let id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE conversations SET current_leaf_id = ?2, updated_at = ?3 WHERE id = ?1",
            params![conversation_id, id, now],
        )?;
        tx.commit()?;
        self.message(id)
    }

    /// Makes a finished reply stream again (to continue it), clearing how it ended.
    pub fn resume_reply(&self, id: i64, now: EpochMillis) -> Result<Message> {
        let changed = self.conn.execute(
            "UPDATE messages SET status = 'streaming', finish_reason = NULL, error_code = NULL,
                    error_message = NULL, updated_at = ?2
             WHERE id = ?1 AND role = 'assistant'",
            params![id, now],
        )?;
        if changed == 0 {
            return Err(StoreError::NoMessage(id));
        }
        self.message(id)
    }

    pub fn message(&self, id: i64) -> Result<Message> {
        self.conn
            .query_row(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"),
                [id],
                message_from_row,
            )
            .optional()?
            .ok_or(StoreError::NoMessage(id))?
    }

    /// Saves the text streamed so far into a reply that is still streaming.
    pub fn save_partial_reply(&self, id: i64, text: &str, now: EpochMillis) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE messages SET content = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'streaming'",
            params![id, text, now],
        )?;
        if changed == 0 {
            self.message(id)?;
        }
        Ok(())
    }

    /// Saves the model's summary of its reasoning so far into a reply still streaming.
    pub fn save_partial_thinking(&self, id: i64, thinking: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE messages SET thinking = ?2 WHERE id = ?1 AND status = 'streaming'",
            params![id, thinking],
        )?;
        Ok(())
    }

    /// Records how a reply was written: its API, the model's summary of its reasoning,
    /// its reasoning items and the sources it cites.
    pub fn set_reply_details(&self, id: i64, details: &ReplyDetails<'_>) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE messages SET endpoint = ?2, thinking = ?3, reasoning_items = ?4,
                 citations = ?5, json_check = ?6
             WHERE id = ?1",
            params![
                id,
                details.endpoint,
                details.thinking,
                details.reasoning_items,
                details.citations,
                details.json_check,
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NoMessage(id));
        }
        Ok(())
    }

    /// Records a reply's tool calls (the engine's JSON, kept whole), as they change.
    pub fn set_tool_calls(&self, id: i64, tool_calls: Option<&str>) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE messages SET tool_calls = ?2 WHERE id = ?1",
            params![id, tool_calls],
        )?;
        if changed == 0 {
            return Err(StoreError::NoMessage(id));
        }
        Ok(())
    }

    /// Gives a reply its final text and status.
    pub fn finish_reply(
        &self,
        id: i64,
        text: &str,
        outcome: &MessageOutcome,
        now: EpochMillis,
    ) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE messages SET content = ?2, status = ?3, finish_reason = ?4, error_code = ?5,
                    error_message = ?6, updated_at = ?7
             WHERE id = ?1",
            params![
                id,
                text,
                outcome.status.as_str(),
                outcome.finish_reason,
                outcome.error_code,
                outcome.error_message,
                now
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NoMessage(id));
        }
        Ok(())
    }

    /// The branch on screen: from the root to the conversation's current leaf.
    pub fn current_branch(&self, conversation_id: i64) -> Result<Vec<Message>> {
        let conversation = self.conversation(conversation_id)?;
        match conversation.current_leaf_id {
            Some(leaf) => self.branch_ending_at(leaf),
            None => Ok(Vec::new()),
        }
    }

    /// The messages from the root down to `leaf`, oldest first.
    pub fn branch_ending_at(&self, leaf: i64) -> Result<Vec<Message>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "WITH RECURSIVE branch(id, depth) AS (
                 SELECT ?1, 0
                 UNION ALL
                 SELECT m.parent_id, b.depth + 1 FROM messages m JOIN branch b ON m.id = b.id
                 WHERE m.parent_id IS NOT NULL
             )
             SELECT {} FROM branch b JOIN messages m ON m.id = b.id ORDER BY b.depth DESC",
            MESSAGE_COLUMNS
                .split(", ")
                .map(|c| format!("m.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let rows = stmt.query_map([leaf], message_from_row)?;
        let messages: Vec<Result<Message>> = rows.collect::<rusqlite::Result<_>>()?;
        messages.into_iter().collect()
    }

    /// Replies left `streaming` by a crash or kill become `interrupted`, keeping the text
    /// saved so far. Returns how many there were.
    pub fn mark_unfinished_replies_interrupted(&self, now: EpochMillis) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE messages SET status = 'interrupted', updated_at = ?1 WHERE status = 'streaming'",
            [now],
        )?)
    }

    // ----- request log -----

    pub fn record_request(&self, row: &RequestLogRow) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO request_log (started_at, conversation_id, message_id, model, attempt,
                 http_status, request_id, first_byte_ms, total_ms, error_code,
                 ratelimit_limit_requests, ratelimit_remaining_requests, ratelimit_reset_requests,
                 ratelimit_limit_tokens, ratelimit_remaining_tokens, ratelimit_reset_tokens)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                row.started_at,
                row.conversation_id,
                row.message_id,
                row.model,
                row.attempt,
                row.http_status,
                row.request_id,
                row.first_byte_ms,
                row.total_ms,
                row.error_code,
                row.ratelimit_limit_requests,
                row.ratelimit_remaining_requests,
                row.ratelimit_reset_requests,
                row.ratelimit_limit_tokens,
                row.ratelimit_remaining_tokens,
                row.ratelimit_reset_tokens,
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The newest `limit` attempts, newest first.
    pub fn request_log(&self, limit: u32) -> Result<Vec<RequestLogRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT started_at, conversation_id, message_id, model, attempt, http_status,
                    request_id, first_byte_ms, total_ms, error_code, ratelimit_limit_requests,
                    ratelimit_remaining_requests, ratelimit_reset_requests, ratelimit_limit_tokens,
                    ratelimit_remaining_tokens, ratelimit_reset_tokens
             FROM request_log ORDER BY started_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(RequestLogRow {
                started_at: r.get(0)?,
                conversation_id: r.get(1)?,
                message_id: r.get(2)?,
                model: r.get(3)?,
                attempt: r.get(4)?,
                http_status: r.get(5)?,
                request_id: r.get(6)?,
                first_byte_ms: r.get(7)?,
                total_ms: r.get(8)?,
                error_code: r.get(9)?,
                ratelimit_limit_requests: r.get(10)?,
                ratelimit_remaining_requests: r.get(11)?,
                ratelimit_reset_requests: r.get(12)?,
                ratelimit_limit_tokens: r.get(13)?,
                ratelimit_remaining_tokens: r.get(14)?,
                ratelimit_reset_tokens: r.get(15)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ----- settings -----

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn delete_setting(&self, key: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM settings WHERE key = ?1", [key])?;
        Ok(())
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

pub(crate) fn to_sql_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn conversation_from_row(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: r.get(0)?,
        title: r.get(1)?,
        model: r.get(2)?,
        system_prompt: r.get(3)?,
        current_leaf_id: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        pinned_at: r.get(7)?,
        deleted_at: r.get(8)?,
        options: ConversationOptions {
            temperature: r.get(9)?,
            top_p: r.get(10)?,
            max_output_tokens: r.get(11)?,
            presence_penalty: r.get(12)?,
            frequency_penalty: r.get(13)?,
            reasoning_effort: r.get(14)?,
            web_search: r.get(15)?,
            tools: r.get(16)?,
            reply_format: r.get(17)?,
        },
    })
}

/// Reads a message row; an unknown role or status is a [`StoreError::BadValue`].
pub(crate) fn message_from_row(r: &Row<'_>) -> rusqlite::Result<Result<Message>> {
    let role: String = r.get(3)?;
    let status: String = r.get(5)?;
    let Some(role) = Role::parse(&role) else {
        return Ok(Err(StoreError::BadValue {
            column: "role",
            value: role,
        }));
    };
    let Some(status) = MessageStatus::parse(&status) else {
        return Ok(Err(StoreError::BadValue {
            column: "status",
            value: status,
        }));
    };
    Ok(Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        parent_id: r.get(2)?,
        role,
        content: r.get(4)?,
        status,
        finish_reason: r.get(6)?,
        model: r.get(7)?,
        error_code: r.get(8)?,
        error_message: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        endpoint: r.get(12)?,
        thinking: r.get(13)?,
        reasoning_items: r.get(14)?,
        citations: r.get(15)?,
        tool_calls: r.get(16)?,
        json_check: r.get(17)?,
    }))
}
