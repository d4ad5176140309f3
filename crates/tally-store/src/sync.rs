//! Sync's side of the database: what this computer changed, as changes another computer
//! can apply, and applying theirs so that every computer ends the same whatever the order.
//!
//! Triggers (the sync migration) record this computer's changes while sync is on: each
//! queues its row in `sync_outbox`, and a value merged by "the latest change wins" is
//! stamped with the hybrid logical clock's reading in `sync_versions`. A sync reads the
//! queued rows as they are then ([`Store::sync_outbox`]), sends them, and forgets them
//! ([`Store::sync_outbox_sent`]). The rules of [`Store::sync_apply`]:
//!
//! - messages, attachments and ledger rows are added once (by `uid`, or an attachment's
//!   SHA-256) and never changed, but for a ledger row's cost and outcome;
//! - a conversation's title, pin, Trash and settings, the shared settings and the prices take
//!   the value with the later clock reading (ties broken by the computer's id); a title
//!   that loses is kept in `title_history`;
//! - a conversation moved to the Trash on one computer goes to the Trash on every one;
//!   one deleted for good here is never brought back (`sync_purged`);
//! - a change that arrives before what it needs (a reply before its conversation) waits
//!   in `sync_pending` and is applied when that arrives.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::model::{AttachmentKind, EpochMillis, NewAttachment};
use crate::{Result, Store, StoreError};

/// The settings every computer shares; the others (the API's address, the hosts the key
/// may go to, update checks, what the key was found to reach) are each computer's own.
/// The sync migration's triggers name the same keys.
pub const SYNCED_SETTINGS: [&str; 4] = ["default_model", "auto_titles", "budget", "chat_defaults"];

/// One change, as it travels between computers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Conversation(SyncedConversation),
    Attachment(SyncedAttachment),
    Message(SyncedMessage),
    Ledger(SyncedLedgerRow),
    Setting {
        key: String,
        value: Option<String>,
        hlc: String,
    },
    Price {
        model: String,
        price: Option<SyncedPrice>,
        hlc: String,
    },
    /// A persona by its name in lower case: `None` when there is none by that name (removed,
    /// or renamed to another).
    Persona {
        key: String,
        persona: Option<SyncedPersona>,
        hlc: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncedPersona {
    pub name: String,
    pub prompt: String,
}

/// The personas every new database has, by the name Tally gave them: one removed or renamed
/// before sync was turned on is sent as removed, so another computer's does not bring it
/// back.
const SHIPPED_PERSONAS: [&str; 4] = [
    "concise",
    "patient teacher",
    "writing editor",
    "code reviewer",
];
/// Bounds on a persona from another computer (Tally's own are 60 and 100,000 characters).
const MAX_PERSONA_NAME_CHARS: usize = 200;
const MAX_PERSONA_PROMPT_CHARS: usize = 200_000;

/// A value with the clock reading of the change that set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped<T> {
    pub value: T,
    pub hlc: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncedConversation {
    pub uid: String,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
    pub title: Stamped<String>,
    pub pinned_at: Stamped<Option<EpochMillis>>,
    pub deleted_at: Stamped<Option<EpochMillis>>,
    pub settings: Stamped<ConversationSettings>,
}

/// What a conversation's requests are made with: merged as one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSettings {
    pub model: String,
    pub system_prompt: Option<String>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_output_tokens: Option<i64>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub reasoning_effort: Option<String>,
    pub web_search: bool,
    pub tools: Option<String>,
    pub reply_format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedAttachment {
    pub sha256: String,
    pub kind: String,
    pub mime: String,
    /// The content, in base64.
    pub content: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub pages: Option<u32>,
    pub created_at: EpochMillis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedMessage {
    pub uid: String,
    pub conversation: String,
    pub parent: Option<String>,
    pub role: String,
    pub content: String,
    pub status: String,
    pub finish_reason: Option<String>,
    pub model: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
    pub endpoint: Option<String>,
    pub thinking: Option<String>,
    pub reasoning_items: Option<String>,
    pub citations: Option<String>,
    pub tool_calls: Option<String>,
    pub json_check: Option<String>,
    /// The attachments it carries, in order: each by its SHA-256 (sent before it) and name.
    pub attachments: Vec<SyncedMessageAttachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedMessageAttachment {
    pub sha256: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedLedgerRow {
    pub uid: String,
    /// The computer that made the request.
    pub device: String,
    pub created_at: EpochMillis,
    pub conversation: Option<String>,
    pub message: Option<String>,
    pub purpose: String,
    pub model: String,
    pub prompt_tokens: i64,
    pub cached_tokens: i64,
    pub cache_write_tokens: i64,
    pub completion_tokens: i64,
    pub reasoning_tokens: i64,
    pub web_search_calls: i64,
    pub cost_nanos: Option<i64>,
    pub estimated: bool,
    pub request_id: Option<String>,
    pub status: String,
    pub first_token_ms: Option<i64>,
    pub duration_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedPrice {
    pub input_nanos: i64,
    pub cached_input_nanos: Option<i64>,
    pub output_nanos: i64,
    pub context_window: i64,
    pub max_output: i64,
}

/// Changes read from the outbox, and how far: [`Store::sync_outbox_sent`] takes `through`.
#[derive(Debug, Clone, Default)]
pub struct OutboxBatch {
    pub changes: Vec<Change>,
    pub through: i64,
    /// Whether more is queued after `through`.
    pub more: bool,
}

/// How far a snapshot's reading got: a stage (conversations, messages, ledger rows, then
/// settings, prices and what waits) and the last row's id in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotPosition {
    stage: u8,
    after: i64,
}

/// What applying changes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplySummary {
    pub conversations_added: u64,
    pub messages_added: u64,
    pub ledger_rows_added: u64,
    /// Titles, pins, Trash moves, settings and prices that took the other computer's value.
    pub values_changed: u64,
    /// Changes that wait for what they need.
    pub waiting: u64,
}

impl ApplySummary {
    /// Adds what `later` did; what waits is `later`'s count, the newer one.
    pub fn add(&mut self, later: ApplySummary) {
        self.conversations_added += later.conversations_added;
        self.messages_added += later.messages_added;
        self.ledger_rows_added += later.ledger_rows_added;
        self.values_changed += later.values_changed;
        self.waiting = later.waiting;
    }
}

/// A computer that syncs, as this one knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncDevice {
    pub device: String,
    pub name: Option<String>,
    /// The last of its files read.
    pub last_segment: Option<String>,
    pub last_seen: Option<EpochMillis>,
}

/// A file of another computer's that could not be read, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadSegment {
    pub device: String,
    pub segment: String,
    pub problem: String,
}

/// What happened to one change.
enum Applied {
    Done(ApplySummary),
    /// Needs something not here yet.
    Waits,
    /// Done, and to be done again once what it names arrives (a ledger row counted before
    /// its conversation came, to be attributed to it then).
    DoneAndWaits(ApplySummary),
}

impl Store {
    /// This computer's id among the computers that sync.
    pub fn sync_device(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("SELECT device FROM sync_clock", [], |r| r.get(0))?)
    }

    /// Whether this computer's changes are being recorded for sync.
    pub fn sync_recording(&self) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT recording FROM sync_clock", [], |r| r.get(0))?)
    }

    /// Starts recording this computer's changes. The first time (or after a stop), every
    /// conversation, message, ledger row, shared setting and price is queued, each value
    /// stamped with the time of its last change, so that the next sync sends everything.
    pub fn sync_start_recording(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        let recording: bool = tx.query_row("SELECT recording FROM sync_clock", [], |r| r.get(0))?;
        if !recording {
            tx.execute_batch(
                "INSERT OR IGNORE INTO sync_versions (kind, key, field, hlc)
                     SELECT 'conversation', c.id, f.field,
                            printf('%015d.%010d.%s', c.updated_at, 0, k.device)
                     FROM conversations c, sync_clock k,
                          (SELECT 'title' AS field UNION ALL SELECT 'pinned'
                           UNION ALL SELECT 'trash' UNION ALL SELECT 'settings') f;
                 INSERT INTO sync_outbox (kind, key) SELECT 'conversation', id FROM conversations;
                 INSERT INTO sync_outbox (kind, key)
                     SELECT 'message', id FROM messages ORDER BY id;
                 INSERT INTO sync_outbox (kind, key) SELECT 'ledger', id FROM usage_ledger;
                 INSERT INTO sync_outbox (kind, key)
                     SELECT 'setting', key FROM settings
                     WHERE key IN ('default_model', 'auto_titles', 'budget', 'chat_defaults');
                 INSERT OR IGNORE INTO sync_versions (kind, key, field, hlc)
                     SELECT 'setting', key, 'value', printf('%015d.%010d.%s', 0, 0, k.device)
                     FROM settings, sync_clock k
                     WHERE key IN ('default_model', 'auto_titles', 'budget', 'chat_defaults');
                 INSERT INTO sync_outbox (kind, key) SELECT 'price', model FROM price_overrides;
                 INSERT OR IGNORE INTO sync_versions (kind, key, field, hlc)
                     SELECT 'price', model, 'value',
                            printf('%015d.%010d.%s', updated_at, 0, k.device)
                     FROM price_overrides, sync_clock k;
                 INSERT INTO sync_outbox (kind, key) SELECT 'persona', lower(name) FROM personas;
                 INSERT OR IGNORE INTO sync_versions (kind, key, field, hlc)
                     SELECT 'persona', lower(name), 'value',
                            printf('%015d.%010d.%s', updated_at, 0, k.device)
                     FROM personas, sync_clock k;
                 UPDATE sync_clock SET recording = 1;",
            )?;
            // A shipped persona removed or renamed here stays so: sent as removed, at a time
            // later than the shipped ones' (0).
            for name in SHIPPED_PERSONAS {
                let missing = tx.execute(
                    "INSERT OR IGNORE INTO sync_versions (kind, key, field, hlc)
                     SELECT 'persona', ?1, 'value', printf('%015d.%010d.%s', 1, 0, device)
                     FROM sync_clock
                     WHERE NOT EXISTS (SELECT 1 FROM personas WHERE lower(name) = ?1)",
                    [name],
                )?;
                if missing > 0 {
                    tx.execute(
                        "INSERT INTO sync_outbox (kind, key) VALUES ('persona', ?1)",
                        [name],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Stops recording (sync turned off) and forgets what was queued.
    pub fn sync_stop_recording(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch("UPDATE sync_clock SET recording = 0; DELETE FROM sync_outbox;")?;
        tx.commit()?;
        Ok(())
    }

    /// A new reading of this computer's clock: never behind one it gave or saw before.
    pub fn sync_tick(&mut self) -> Result<String> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "UPDATE sync_clock SET
                 counter = CASE WHEN wall >= CAST(unixepoch('subsec') * 1000 AS INTEGER)
                                THEN counter + 1 ELSE 0 END,
                 wall = max(wall, CAST(unixepoch('subsec') * 1000 AS INTEGER));",
        )?;
        let hlc = tx.query_row(
            "SELECT printf('%015d.%010d.%s', wall, counter, device) FROM sync_clock",
            [],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(hlc)
    }

    /// Up to about `max_bytes` of queued changes, oldest first, read as the rows are now.
    /// A reply still being written is left for a later sync (its end queues it again).
    pub fn sync_outbox(&self, max_bytes: usize) -> Result<OutboxBatch> {
        let device = self.sync_device()?;
        let mut batch = OutboxBatch::default();
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut attachments_sent: HashSet<String> = HashSet::new();
        let mut size = 0usize;
        let mut statement = self
            .conn
            .prepare("SELECT seq, kind, key FROM sync_outbox ORDER BY seq")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let (seq, kind, key): (i64, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if size >= max_bytes {
                batch.more = true;
                break;
            }
            batch.through = seq;
            if !seen.insert((kind.clone(), key.clone())) {
                continue;
            }
            let changes = match kind.as_str() {
                "conversation" => self.synced_conversation(&key)?.into_iter().collect(),
                "message" => self.synced_message(&key, &mut attachments_sent)?,
                "ledger" => self.synced_ledger_row(&key, &device)?.into_iter().collect(),
                "setting" => vec![self.synced_setting(&key)?],
                "price" => vec![self.synced_price(&key)?],
                "persona" => vec![self.synced_persona(&key)?],
                _ => Vec::new(),
            };
            for change in changes {
                size += change_size(&change);
                batch.changes.push(change);
            }
        }
        Ok(batch)
    }

    /// Everything this computer holds, as changes, in pieces of about `max_bytes`, from
    /// `from` on: the next position, or `None` after the last piece. A snapshot of it lets
    /// a new computer start without every change ever made.
    pub fn sync_snapshot(
        &self,
        from: SnapshotPosition,
        max_bytes: usize,
    ) -> Result<(Vec<Change>, Option<SnapshotPosition>)> {
        const ROWS: i64 = 500;
        let device = self.sync_device()?;
        let mut changes = Vec::new();
        let mut attachments_sent = HashSet::new();
        let mut size = 0usize;
        let mut position = from;
        loop {
            if size >= max_bytes {
                return Ok((changes, Some(position)));
            }
            let table = match position.stage {
                0 => "conversations",
                1 => "messages",
                2 => "usage_ledger",
                _ => break,
            };
            let ids: Vec<i64> = {
                let mut statement = self.conn.prepare_cached(&format!(
                    "SELECT id FROM {table} WHERE id > ?1 ORDER BY id LIMIT ?2"
                ))?;
                let rows = statement.query_map([position.after, ROWS], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let Some(&last) = ids.last() else {
                position = SnapshotPosition {
                    stage: position.stage + 1,
                    after: 0,
                };
                continue;
            };
            for id in ids {
                let key = id.to_string();
                let more = match position.stage {
                    0 => self.synced_conversation(&key)?.into_iter().collect(),
                    1 => self.synced_message(&key, &mut attachments_sent)?,
                    _ => self.synced_ledger_row(&key, &device)?.into_iter().collect(),
                };
                for change in more {
                    size += change_size(&change);
                    changes.push(change);
                }
            }
            position.after = last;
        }
        for key in SYNCED_SETTINGS {
            if self.setting(key)?.is_some() {
                changes.push(self.synced_setting(key)?);
            }
        }
        let models: Vec<String> = {
            let mut statement = self.conn.prepare("SELECT model FROM price_overrides")?;
            let rows = statement.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for model in models {
            changes.push(self.synced_price(&model)?);
        }
        // Every persona's name, with those removed: a newcomer's shipped one is removed too.
        let personas: Vec<String> = {
            let mut statement = self.conn.prepare(
                "SELECT lower(name) FROM personas
                 UNION SELECT key FROM sync_versions WHERE kind = 'persona'",
            )?;
            let rows = statement.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for key in personas {
            changes.push(self.synced_persona(&key)?);
        }
        // What waits here for what it needs travels on, as it came.
        let mut statement = self
            .conn
            .prepare("SELECT change FROM sync_pending ORDER BY id")?;
        let waiting = statement.query_map([], |r| r.get::<_, String>(0))?;
        for text in waiting {
            if let Ok(change) = serde_json::from_str(&text?) {
                changes.push(change);
            }
        }
        Ok((changes, None))
    }

    /// Forgets the queued changes up to `through`: they were sent.
    pub fn sync_outbox_sent(&self, through: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM sync_outbox WHERE seq <= ?1", [through])?;
        Ok(())
    }

    /// How many changes are queued.
    pub fn sync_outbox_len(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM sync_outbox", [], |r| {
                r.get::<_, i64>(0)
            })?
            .max(0) as u64)
    }

    /// Applies `changes` from computer `device`, in one transaction, and then whatever was
    /// waiting for them. Each change is applied once however often it comes.
    pub fn sync_apply(&mut self, device: &str, changes: &[Change]) -> Result<ApplySummary> {
        let tx = self.conn.transaction()?;
        let (recording, this_device): (bool, String) =
            tx.query_row("SELECT recording, device FROM sync_clock", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        // Another computer's changes are not this computer's to record; the messages they
        // add are indexed for search at the end, all at once (see the migration).
        tx.execute(
            "UPDATE sync_clock SET recording = 0,
                 index_from = (SELECT coalesce(max(id), 0) + 1 FROM messages)",
            [],
        )?;
        let mut summary = ApplySummary::default();
        for change in changes {
            observe_clock(&tx, change)?;
            let waits = match apply(&tx, device, &this_device, change)? {
                Applied::Done(done) => {
                    summary.add(done);
                    false
                }
                Applied::DoneAndWaits(done) => {
                    summary.add(done);
                    true
                }
                Applied::Waits => true,
            };
            if waits {
                tx.execute(
                    "INSERT INTO sync_pending (device, change) VALUES (?1, ?2)",
                    params![device, to_json(change)?],
                )?;
            }
        }
        summary.add(apply_pending(&tx, &this_device)?);
        summary.waiting = tx
            .query_row("SELECT count(*) FROM sync_pending", [], |r| {
                r.get::<_, i64>(0)
            })?
            .max(0) as u64;
        tx.execute(
            "INSERT INTO message_search (rowid, content)
             SELECT id, content FROM messages
             WHERE id >= (SELECT index_from FROM sync_clock)",
            [],
        )?;
        tx.execute(
            "UPDATE sync_clock SET recording = ?1, index_from = NULL",
            [recording],
        )?;
        tx.commit()?;
        Ok(summary)
    }

    /// The computers this one has read, with how far.
    pub fn sync_devices(&self) -> Result<Vec<SyncDevice>> {
        let mut statement = self.conn.prepare(
            "SELECT device, name, last_segment, last_seen FROM sync_devices ORDER BY device",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(SyncDevice {
                device: r.get(0)?,
                name: r.get(1)?,
                last_segment: r.get(2)?,
                last_seen: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that `device`'s files were read through `segment` (or only that it was seen
    /// under `name`, when `segment` is `None`).
    pub fn sync_device_read(
        &self,
        device: &str,
        name: Option<&str>,
        segment: Option<&str>,
        now: EpochMillis,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sync_devices (device, name, last_segment, last_seen)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (device) DO UPDATE SET
                 name = coalesce(excluded.name, name),
                 last_segment = max(coalesce(excluded.last_segment, ''),
                                    coalesce(last_segment, '')),
                 last_seen = excluded.last_seen",
            params![device, name, segment, now],
        )?;
        Ok(())
    }

    /// Records a file that could not be read (tried again at every sync), or, with `None`,
    /// that it now was.
    pub fn sync_unread(&self, device: &str, segment: &str, problem: Option<&str>) -> Result<()> {
        match problem {
            Some(problem) => self.conn.execute(
                "INSERT INTO sync_unread (device, segment, problem) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO UPDATE SET problem = excluded.problem",
                params![device, segment, problem],
            )?,
            None => self.conn.execute(
                "DELETE FROM sync_unread WHERE device = ?1 AND segment = ?2",
                params![device, segment],
            )?,
        };
        Ok(())
    }

    /// The files that could not be read.
    pub fn sync_unread_segments(&self) -> Result<Vec<UnreadSegment>> {
        let mut statement = self
            .conn
            .prepare("SELECT device, segment, problem FROM sync_unread ORDER BY device, segment")?;
        let rows = statement.query_map([], |r| {
            Ok(UnreadSegment {
                device: r.get(0)?,
                segment: r.get(1)?,
                problem: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What each computer spent in `[from, to)`: its id (`None`: this one), nano-USD and
    /// requests, this computer first.
    pub fn spend_by_device(
        &self,
        from: EpochMillis,
        to: EpochMillis,
    ) -> Result<Vec<(Option<String>, i64, i64)>> {
        let mut statement = self.conn.prepare(
            "SELECT device, coalesce(sum(cost_nanos), 0), count(*) FROM usage_ledger
             WHERE created_at >= ?1 AND created_at < ?2
             GROUP BY device ORDER BY device IS NOT NULL, device",
        )?;
        let rows = statement.query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The titles conversation `id` had that a later one replaced, newest first.
    pub fn title_history(&self, id: i64) -> Result<Vec<String>> {
        let mut statement = self.conn.prepare(
            "SELECT title FROM title_history WHERE conversation_id = ?1
             ORDER BY hlc DESC, id DESC",
        )?;
        let rows = statement.query_map([id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn synced_conversation(&self, key: &str) -> Result<Option<Change>> {
        let row = self
            .conn
            .query_row(
                "SELECT uid, created_at, updated_at, title, pinned_at, deleted_at, model,
                     system_prompt, temperature, top_p, max_output_tokens, presence_penalty,
                     frequency_penalty, reasoning_effort, web_search, tools, reply_format
                 FROM conversations WHERE id = ?1",
                [key],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get::<_, String>(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        ConversationSettings {
                            model: r.get(6)?,
                            system_prompt: r.get(7)?,
                            temperature: r.get(8)?,
                            top_p: r.get(9)?,
                            max_output_tokens: r.get(10)?,
                            presence_penalty: r.get(11)?,
                            frequency_penalty: r.get(12)?,
                            reasoning_effort: r.get(13)?,
                            web_search: r.get(14)?,
                            tools: r.get(15)?,
                            reply_format: r.get(16)?,
                        },
                    ))
                },
            )
            .optional()?;
        let Some((uid, created_at, updated_at, title, pinned_at, deleted_at, settings)) = row
        else {
            return Ok(None);
        };
        let stamp = |field: &str| version(&self.conn, "conversation", key, field);
        Ok(Some(Change::Conversation(SyncedConversation {
            uid,
            created_at,
            updated_at,
            title: Stamped {
                value: title,
                hlc: stamp("title")?,
            },
            pinned_at: Stamped {
                value: pinned_at,
                hlc: stamp("pinned")?,
            },
            deleted_at: Stamped {
                value: deleted_at,
                hlc: stamp("trash")?,
            },
            settings: Stamped {
                value: settings,
                hlc: stamp("settings")?,
            },
        })))
    }

    /// Message `key` (with the attachments it carries, each sent once in a batch), unless
    /// it is still being written or is gone.
    fn synced_message(&self, key: &str, sent: &mut HashSet<String>) -> Result<Vec<Change>> {
        let message = self
            .conn
            .query_row(
                "SELECT m.uid, c.uid, p.uid, m.role, m.content, m.status, m.finish_reason,
                     m.model, m.error_code, m.error_message, m.created_at, m.updated_at,
                     m.endpoint, m.thinking, m.reasoning_items, m.citations, m.tool_calls,
                     m.json_check
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 LEFT JOIN messages p ON p.id = m.parent_id
                 WHERE m.id = ?1 AND m.status <> 'streaming'",
                [key],
                |r| {
                    Ok(SyncedMessage {
                        uid: r.get(0)?,
                        conversation: r.get(1)?,
                        parent: r.get(2)?,
                        role: r.get(3)?,
                        content: r.get(4)?,
                        status: r.get(5)?,
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
                        attachments: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut message) = message else {
            return Ok(Vec::new());
        };
        let mut changes = Vec::new();
        let mut statement = self.conn.prepare_cached(
            "SELECT ma.name, a.sha256, a.kind, a.mime, a.width, a.height, a.pages, a.created_at,
                 a.content
             FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
             WHERE ma.message_id = ?1 ORDER BY ma.position",
        )?;
        let mut rows = statement.query([key])?;
        while let Some(r) = rows.next()? {
            let sha256: String = r.get(1)?;
            message.attachments.push(SyncedMessageAttachment {
                sha256: sha256.clone(),
                name: r.get(0)?,
            });
            if sent.insert(sha256.clone()) {
                let content: Vec<u8> = r.get(8)?;
                changes.push(Change::Attachment(SyncedAttachment {
                    sha256,
                    kind: r.get(2)?,
                    mime: r.get(3)?,
                    width: r.get(4)?,
                    height: r.get(5)?,
                    pages: r.get(6)?,
                    created_at: r.get(7)?,
                    content: BASE64.encode(content),
                }));
            }
        }
        changes.push(Change::Message(message));
        Ok(changes)
    }

    fn synced_ledger_row(&self, key: &str, this_device: &str) -> Result<Option<Change>> {
        Ok(self
            .conn
            .query_row(
                "SELECT l.uid, l.device, l.created_at, c.uid, m.uid, l.purpose, l.model,
                     l.prompt_tokens, l.cached_tokens, l.cache_write_tokens,
                     l.completion_tokens, l.reasoning_tokens, l.web_search_calls,
                     l.cost_nanos, l.estimated, l.request_id, l.status, l.first_token_ms,
                     l.duration_ms
                 FROM usage_ledger l
                 LEFT JOIN conversations c ON c.id = l.conversation_id
                 LEFT JOIN messages m ON m.id = l.message_id
                 WHERE l.id = ?1",
                [key],
                |r| {
                    Ok(Change::Ledger(SyncedLedgerRow {
                        uid: r.get(0)?,
                        device: r
                            .get::<_, Option<String>>(1)?
                            .unwrap_or_else(|| this_device.to_string()),
                        created_at: r.get(2)?,
                        conversation: r.get(3)?,
                        message: r.get(4)?,
                        purpose: r.get(5)?,
                        model: r.get(6)?,
                        prompt_tokens: r.get(7)?,
                        cached_tokens: r.get(8)?,
                        cache_write_tokens: r.get(9)?,
                        completion_tokens: r.get(10)?,
                        reasoning_tokens: r.get(11)?,
                        web_search_calls: r.get(12)?,
                        cost_nanos: r.get(13)?,
                        estimated: r.get(14)?,
                        request_id: r.get(15)?,
                        status: r.get(16)?,
                        first_token_ms: r.get(17)?,
                        duration_ms: r.get(18)?,
                    }))
                },
            )
            .optional()?)
    }

    fn synced_setting(&self, key: &str) -> Result<Change> {
        Ok(Change::Setting {
            key: key.to_string(),
            value: self.setting(key)?,
            hlc: version(&self.conn, "setting", key, "value")?,
        })
    }

    fn synced_persona(&self, key: &str) -> Result<Change> {
        let persona = self
            .conn
            .query_row(
                "SELECT name, prompt FROM personas WHERE lower(name) = ?1",
                [key],
                |r| {
                    Ok(SyncedPersona {
                        name: r.get(0)?,
                        prompt: r.get(1)?,
                    })
                },
            )
            .optional()?;
        Ok(Change::Persona {
            key: key.to_string(),
            persona,
            hlc: version(&self.conn, "persona", key, "value")?,
        })
    }

    fn synced_price(&self, model: &str) -> Result<Change> {
        let price = self
            .conn
            .query_row(
                "SELECT input_nanos, cached_input_nanos, output_nanos, context_window,
                     max_output
                 FROM price_overrides WHERE model = ?1",
                [model],
                |r| {
                    Ok(SyncedPrice {
                        input_nanos: r.get(0)?,
                        cached_input_nanos: r.get(1)?,
                        output_nanos: r.get(2)?,
                        context_window: r.get(3)?,
                        max_output: r.get(4)?,
                    })
                },
            )
            .optional()?;
        Ok(Change::Price {
            model: model.to_string(),
            price,
            hlc: version(&self.conn, "price", model, "value")?,
        })
    }
}

/// The clock reading of the value `field` of `kind` `key` has here ("" when none: any
/// reading is later).
fn version(conn: &rusqlite::Connection, kind: &str, key: &str, field: &str) -> Result<String> {
    Ok(conn
        .query_row(
            "SELECT hlc FROM sync_versions WHERE kind = ?1 AND key = ?2 AND field = ?3",
            params![kind, key, field],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default())
}

fn set_version(tx: &Transaction<'_>, kind: &str, key: &str, field: &str, hlc: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_versions (kind, key, field, hlc) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (kind, key, field) DO UPDATE SET hlc = excluded.hlc",
    )?
    .execute(params![kind, key, field, hlc])?;
    Ok(())
}

/// A clock reading's wall time and counter, when it is one.
fn parse_hlc(hlc: &str) -> Option<(i64, i64)> {
    let mut parts = hlc.splitn(3, '.');
    let wall = parts.next()?;
    let counter = parts.next()?;
    let device = parts.next()?;
    if wall.len() != 15 || counter.len() != 10 || device.is_empty() || device.len() > 64 {
        return None;
    }
    Some((wall.parse().ok()?, counter.parse().ok()?))
}

/// Moves this computer's clock past a reading it saw, so its next changes come after.
fn observe_clock(tx: &Transaction<'_>, change: &Change) -> Result<()> {
    let readings: Vec<&str> = match change {
        Change::Conversation(c) => vec![
            &c.title.hlc,
            &c.pinned_at.hlc,
            &c.deleted_at.hlc,
            &c.settings.hlc,
        ],
        Change::Setting { hlc, .. } | Change::Price { hlc, .. } | Change::Persona { hlc, .. } => {
            vec![hlc]
        }
        _ => Vec::new(),
    };
    for (wall, counter) in readings.into_iter().filter_map(parse_hlc) {
        tx.prepare_cached(
            "UPDATE sync_clock SET wall = ?1, counter = ?2
             WHERE wall < ?1 OR (wall = ?1 AND counter < ?2)",
        )?
        .execute(params![wall, counter])?;
    }
    Ok(())
}

/// Whether a reading from another computer is one, and later than `local`.
fn wins(remote: &str, local: &str) -> bool {
    parse_hlc(remote).is_some() && remote > local
}

fn to_json(change: &Change) -> Result<String> {
    serde_json::to_string(change).map_err(|e| StoreError::BadValue {
        column: "sync_pending.change",
        value: e.to_string(),
    })
}

/// About how many bytes `change` takes as JSON, to bound a batch.
fn change_size(change: &Change) -> usize {
    match change {
        Change::Attachment(a) => a.content.len() + 256,
        Change::Message(m) => {
            m.content.len()
                + m.thinking.as_ref().map_or(0, String::len)
                + m.reasoning_items.as_ref().map_or(0, String::len)
                + m.tool_calls.as_ref().map_or(0, String::len)
                + m.citations.as_ref().map_or(0, String::len)
                + 512
        }
        Change::Persona {
            persona: Some(p), ..
        } => p.prompt.len() + 512,
        _ => 512,
    }
}

fn conversation_id(tx: &Transaction<'_>, uid: &str) -> Result<Option<i64>> {
    Ok(tx
        .prepare_cached("SELECT id FROM conversations WHERE uid = ?1")?
        .query_row([uid], |r| r.get(0))
        .optional()?)
}

fn message_id(tx: &Transaction<'_>, uid: &str) -> Result<Option<i64>> {
    Ok(tx
        .prepare_cached("SELECT id FROM messages WHERE uid = ?1")?
        .query_row([uid], |r| r.get(0))
        .optional()?)
}

fn purged(tx: &Transaction<'_>, uid: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM sync_purged WHERE uid = ?1")?
        .query_row([uid], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Applies `change` from computer `device` on computer `this_device`.
fn apply(
    tx: &Transaction<'_>,
    device: &str,
    this_device: &str,
    change: &Change,
) -> Result<Applied> {
    match change {
        Change::Conversation(c) => apply_conversation(tx, c),
        Change::Attachment(a) => apply_attachment(tx, a),
        Change::Message(m) => apply_message(tx, m),
        Change::Ledger(l) => apply_ledger_row(tx, device, this_device, l),
        Change::Setting { key, value, hlc } => apply_setting(tx, key, value.as_deref(), hlc),
        Change::Price { model, price, hlc } => apply_price(tx, model, price.as_ref(), hlc),
        Change::Persona { key, persona, hlc } => apply_persona(tx, key, persona.as_ref(), hlc),
    }
}

/// Applies what waited, as long as something more can be.
fn apply_pending(tx: &Transaction<'_>, this_device: &str) -> Result<ApplySummary> {
    let mut summary = ApplySummary::default();
    loop {
        let waiting: Vec<(i64, String, String)> = {
            let mut statement =
                tx.prepare("SELECT id, device, change FROM sync_pending ORDER BY id")?;
            let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut progress = false;
        for (id, device, text) in waiting {
            // Written by this code from a change that was read: one that no longer reads
            // (a later version's) is dropped rather than block the rest.
            let Ok(change) = serde_json::from_str::<Change>(&text) else {
                tx.prepare_cached("DELETE FROM sync_pending WHERE id = ?1")?
                    .execute([id])?;
                continue;
            };
            // Applied again and still waiting (a ledger row whose conversation has not
            // come) is no progress.
            if let Applied::Done(done) = apply(tx, &device, this_device, &change)? {
                summary.add(done);
                tx.prepare_cached("DELETE FROM sync_pending WHERE id = ?1")?
                    .execute([id])?;
                progress = true;
            }
        }
        if !progress {
            return Ok(summary);
        }
    }
}

fn apply_conversation(tx: &Transaction<'_>, c: &SyncedConversation) -> Result<Applied> {
    let mut summary = ApplySummary::default();
    let s = &c.settings.value;
    let Some(id) = conversation_id(tx, &c.uid)? else {
        if purged(tx, &c.uid)? {
            return Ok(Applied::Done(summary));
        }
        tx.prepare_cached(
            "INSERT INTO conversations (uid, title, model, system_prompt, temperature, top_p,
                 max_output_tokens, presence_penalty, frequency_penalty, reasoning_effort,
                 web_search, tools, reply_format, created_at, updated_at, pinned_at,
                 deleted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17)",
        )?
        .execute(params![
            c.uid,
            c.title.value,
            s.model,
            s.system_prompt,
            s.temperature,
            s.top_p,
            s.max_output_tokens,
            s.presence_penalty,
            s.frequency_penalty,
            s.reasoning_effort,
            s.web_search,
            s.tools,
            s.reply_format,
            c.created_at,
            c.updated_at,
            c.pinned_at.value,
            c.deleted_at.value,
        ])?;
        let key = tx.last_insert_rowid().to_string();
        for (field, hlc) in [
            ("title", &c.title.hlc),
            ("pinned", &c.pinned_at.hlc),
            ("trash", &c.deleted_at.hlc),
            ("settings", &c.settings.hlc),
        ] {
            set_version(tx, "conversation", &key, field, hlc)?;
        }
        summary.conversations_added = 1;
        return Ok(Applied::Done(summary));
    };
    let key = id.to_string();
    let local = |field: &str| version(tx, "conversation", &key, field);
    let title_hlc = local("title")?;
    if wins(&c.title.hlc, &title_hlc) {
        let old: String = tx
            .prepare_cached("SELECT title FROM conversations WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        if old != c.title.value {
            keep_lost_title(tx, id, &old, &title_hlc)?;
            tx.prepare_cached("UPDATE conversations SET title = ?2 WHERE id = ?1")?
                .execute(params![id, c.title.value])?;
            summary.values_changed += 1;
        }
        set_version(tx, "conversation", &key, "title", &c.title.hlc)?;
    } else if c.title.hlc != title_hlc {
        let current: String = tx
            .prepare_cached("SELECT title FROM conversations WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        if current != c.title.value {
            keep_lost_title(tx, id, &c.title.value, &c.title.hlc)?;
        }
    }
    if wins(&c.pinned_at.hlc, &local("pinned")?) {
        summary.values_changed += tx
            .prepare_cached(
                "UPDATE conversations SET pinned_at = ?2 WHERE id = ?1 AND pinned_at IS NOT ?2",
            )?
            .execute(params![id, c.pinned_at.value])? as u64;
        set_version(tx, "conversation", &key, "pinned", &c.pinned_at.hlc)?;
    }
    if wins(&c.deleted_at.hlc, &local("trash")?) {
        summary.values_changed += tx
            .prepare_cached(
                "UPDATE conversations SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NOT ?2",
            )?
            .execute(params![id, c.deleted_at.value])? as u64;
        set_version(tx, "conversation", &key, "trash", &c.deleted_at.hlc)?;
    }
    if wins(&c.settings.hlc, &local("settings")?) {
        summary.values_changed += tx
            .prepare_cached(
                "UPDATE conversations SET model = ?2, system_prompt = ?3, temperature = ?4,
                 top_p = ?5, max_output_tokens = ?6, presence_penalty = ?7,
                 frequency_penalty = ?8, reasoning_effort = ?9, web_search = ?10,
                 tools = ?11, reply_format = ?12
             WHERE id = ?1",
            )?
            .execute(params![
                id,
                s.model,
                s.system_prompt,
                s.temperature,
                s.top_p,
                s.max_output_tokens,
                s.presence_penalty,
                s.frequency_penalty,
                s.reasoning_effort,
                s.web_search,
                s.tools,
                s.reply_format,
            ])? as u64;
        set_version(tx, "conversation", &key, "settings", &c.settings.hlc)?;
    }
    tx.prepare_cached(
        "UPDATE conversations SET updated_at = ?2 WHERE id = ?1 AND updated_at < ?2",
    )?
    .execute(params![id, c.updated_at])?;
    Ok(Applied::Done(summary))
}

/// Keeps a title that lost to a later one (once).
fn keep_lost_title(tx: &Transaction<'_>, id: i64, title: &str, hlc: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO title_history (conversation_id, title, hlc, replaced_at)
         SELECT ?1, ?2, ?3, CAST(unixepoch('subsec') * 1000 AS INTEGER)
         WHERE NOT EXISTS (SELECT 1 FROM title_history
                           WHERE conversation_id = ?1 AND title = ?2 AND hlc = ?3)",
    )?
    .execute(params![id, title, hlc])?;
    Ok(())
}

fn apply_attachment(tx: &Transaction<'_>, a: &SyncedAttachment) -> Result<Applied> {
    let content = BASE64
        .decode(&a.content)
        .map_err(|_| bad("attachments.content", &a.sha256))?;
    let kind = AttachmentKind::parse(&a.kind).ok_or_else(|| bad("attachments.kind", &a.kind))?;
    let attachment = NewAttachment {
        kind,
        mime: &a.mime,
        content: &content,
        width: a.width,
        height: a.height,
        pages: a.pages,
    };
    let sha256 = crate::attachments::keep(tx, &attachment, a.created_at)?;
    // The name is the content's hash: content that does not hash to it is refused (and the
    // transaction it came in, with its row, is not committed).
    if sha256 != a.sha256 {
        return Err(bad("attachments.sha256", &a.sha256));
    }
    Ok(Applied::Done(ApplySummary::default()))
}

fn bad(column: &'static str, value: &str) -> StoreError {
    StoreError::BadValue {
        column,
        value: value.chars().take(80).collect(),
    }
}

fn apply_message(tx: &Transaction<'_>, m: &SyncedMessage) -> Result<Applied> {
    if message_id(tx, &m.uid)?.is_some() {
        // Only the computer that wrote a message changes it, and only until it is
        // complete (a reply cut off, then continued): the later version is kept.
        tx.prepare_cached(
            "UPDATE messages SET content = ?2, status = ?3, finish_reason = ?4,
                 error_code = ?5, error_message = ?6, updated_at = ?7, thinking = ?8,
                 reasoning_items = ?9, citations = ?10, tool_calls = ?11, json_check = ?12,
                 endpoint = ?13
             WHERE uid = ?1 AND updated_at < ?7 AND status <> 'complete'
                 AND ?3 <> 'streaming'",
        )?
        .execute(params![
            m.uid,
            m.content,
            m.status,
            m.finish_reason,
            m.error_code,
            m.error_message,
            m.updated_at,
            m.thinking,
            m.reasoning_items,
            m.citations,
            m.tool_calls,
            m.json_check,
            m.endpoint,
        ])?;
        return Ok(Applied::Done(ApplySummary::default()));
    }
    let Some(conversation) = conversation_id(tx, &m.conversation)? else {
        // Not here: deleted for good (nothing to do), or not arrived yet.
        return Ok(if purged(tx, &m.conversation)? {
            Applied::Done(ApplySummary::default())
        } else {
            Applied::Waits
        });
    };
    let parent = match &m.parent {
        Some(uid) => match message_id(tx, uid)? {
            Some(id) => Some(id),
            None => return Ok(Applied::Waits),
        },
        None => None,
    };
    let mut attachment_ids = Vec::with_capacity(m.attachments.len());
    for attachment in &m.attachments {
        let id: Option<i64> = tx
            .prepare_cached("SELECT id FROM attachments WHERE sha256 = ?1")?
            .query_row([&attachment.sha256], |r| r.get(0))
            .optional()?;
        match id {
            Some(id) => attachment_ids.push(id),
            None => return Ok(Applied::Waits),
        }
    }
    // Another computer's reply is never being written here.
    let status = if m.status == "streaming" {
        "interrupted"
    } else {
        m.status.as_str()
    };
    tx.prepare_cached(
        "INSERT INTO messages (uid, conversation_id, parent_id, role, content, status,
             finish_reason, model, error_code, error_message, created_at, updated_at, endpoint,
             thinking, reasoning_items, citations, tool_calls, json_check)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18)",
    )?
    .execute(params![
        m.uid,
        conversation,
        parent,
        m.role,
        m.content,
        status,
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
    ])?;
    let id = tx.last_insert_rowid();
    for (position, (attachment, attachment_id)) in
        m.attachments.iter().zip(attachment_ids).enumerate()
    {
        tx.prepare_cached(
            "INSERT INTO message_attachments (message_id, position, attachment_id, name)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, position as i64, attachment_id, attachment.name])?;
    }
    // The conversation shows the new message when it continues the branch on screen.
    tx.prepare_cached(
        "UPDATE conversations SET
             current_leaf_id = CASE WHEN current_leaf_id IS ?2 THEN ?3 ELSE current_leaf_id END,
             updated_at = max(updated_at, ?4)
         WHERE id = ?1",
    )?
    .execute(params![conversation, parent, id, m.updated_at])?;
    Ok(Applied::Done(ApplySummary {
        messages_added: 1,
        ..ApplySummary::default()
    }))
}

fn apply_ledger_row(
    tx: &Transaction<'_>,
    device: &str,
    this_device: &str,
    l: &SyncedLedgerRow,
) -> Result<Applied> {
    let origin = if l.device.is_empty() {
        device
    } else {
        &l.device
    };
    // This computer's own row, come back: nothing to add.
    let origin = (origin != this_device).then_some(origin);
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM usage_ledger WHERE uid = ?1")?
        .query_row([&l.uid], |r| r.get(0))
        .optional()?;
    // The money counts at once, even when its conversation has not arrived yet; the row
    // is attributed to it when it does (the change waits for that meanwhile).
    let conversation = match &l.conversation {
        Some(uid) => conversation_id(tx, uid)?,
        None => None,
    };
    let message = match &l.message {
        Some(uid) => message_id(tx, uid)?,
        None => None,
    };
    // (Asked of the purged list only when something is missing.)
    let missing = conversation.is_none() || (l.message.is_some() && message.is_none());
    let unattributed = match &l.conversation {
        Some(uid) if missing => !purged(tx, uid)?,
        _ => false,
    };
    if let Some(id) = existing {
        tx.prepare_cached(
            "UPDATE usage_ledger SET cost_nanos = ?2, status = ?3,
                 conversation_id = coalesce(conversation_id, ?4),
                 message_id = coalesce(message_id, ?5)
             WHERE id = ?1 AND (cost_nanos IS NOT ?2 OR status IS NOT ?3
                 OR (conversation_id IS NULL AND ?4 IS NOT NULL)
                 OR (message_id IS NULL AND ?5 IS NOT NULL))",
        )?
        .execute(params![id, l.cost_nanos, l.status, conversation, message])?;
        return Ok(if unattributed {
            Applied::DoneAndWaits(ApplySummary::default())
        } else {
            Applied::Done(ApplySummary::default())
        });
    }
    tx.prepare_cached(
        "INSERT INTO usage_ledger (uid, device, created_at, conversation_id, message_id,
             purpose, model, prompt_tokens, cached_tokens, cache_write_tokens,
             completion_tokens, reasoning_tokens, web_search_calls, cost_nanos, estimated,
             request_id, status, first_token_ms, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19)",
    )?
    .execute(params![
        l.uid,
        origin,
        l.created_at,
        conversation,
        message,
        l.purpose,
        l.model,
        l.prompt_tokens,
        l.cached_tokens,
        l.cache_write_tokens,
        l.completion_tokens,
        l.reasoning_tokens,
        l.web_search_calls,
        l.cost_nanos,
        l.estimated,
        l.request_id,
        l.status,
        l.first_token_ms,
        l.duration_ms,
    ])?;
    let added = ApplySummary {
        ledger_rows_added: 1,
        ..ApplySummary::default()
    };
    Ok(if unattributed {
        Applied::DoneAndWaits(added)
    } else {
        Applied::Done(added)
    })
}

fn apply_setting(
    tx: &Transaction<'_>,
    key: &str,
    value: Option<&str>,
    hlc: &str,
) -> Result<Applied> {
    let mut summary = ApplySummary::default();
    // Only the shared ones: another computer cannot set where this one's key goes.
    if SYNCED_SETTINGS.contains(&key) && wins(hlc, &version(tx, "setting", key, "value")?) {
        summary.values_changed = match value {
            Some(value) => tx
                .prepare_cached(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value
                 WHERE value IS NOT excluded.value",
                )?
                .execute(params![key, value])?,
            None => tx
                .prepare_cached("DELETE FROM settings WHERE key = ?1")?
                .execute([key])?,
        } as u64;
        set_version(tx, "setting", key, "value", hlc)?;
    }
    Ok(Applied::Done(summary))
}

fn apply_persona(
    tx: &Transaction<'_>,
    key: &str,
    persona: Option<&SyncedPersona>,
    hlc: &str,
) -> Result<Applied> {
    let fits = |p: &SyncedPersona| {
        !p.name.trim().is_empty()
            && p.name.chars().count() <= MAX_PERSONA_NAME_CHARS
            && p.prompt.chars().count() <= MAX_PERSONA_PROMPT_CHARS
            // SQLite's lower(), as the key was made: ASCII letters only.
            && p.name.to_ascii_lowercase() == key
    };
    if let Some(p) = persona.filter(|p| !fits(p)) {
        return Err(StoreError::BadValue {
            column: "personas.name",
            value: p.name.chars().take(100).collect(),
        });
    }
    let mut summary = ApplySummary::default();
    if wins(hlc, &version(tx, "persona", key, "value")?) {
        summary.values_changed = match persona {
            Some(p) => tx
                .prepare_cached(
                    "INSERT INTO personas (name, prompt, created_at, updated_at)
                     VALUES (?1, ?2, CAST(unixepoch('subsec') * 1000 AS INTEGER),
                             CAST(unixepoch('subsec') * 1000 AS INTEGER))
                     ON CONFLICT (name) DO UPDATE SET name = excluded.name,
                         prompt = excluded.prompt, updated_at = excluded.updated_at
                     WHERE name IS NOT excluded.name OR prompt IS NOT excluded.prompt",
                )?
                .execute(params![p.name, p.prompt])?,
            None => tx
                .prepare_cached("DELETE FROM personas WHERE lower(name) = ?1")?
                .execute([key])?,
        } as u64;
        set_version(tx, "persona", key, "value", hlc)?;
    }
    Ok(Applied::Done(summary))
}

fn apply_price(
    tx: &Transaction<'_>,
    model: &str,
    price: Option<&SyncedPrice>,
    hlc: &str,
) -> Result<Applied> {
    let mut summary = ApplySummary::default();
    if wins(hlc, &version(tx, "price", model, "value")?) {
        summary.values_changed = match price {
            Some(p) => tx
                .prepare_cached(
                    "INSERT INTO price_overrides (model, input_nanos, cached_input_nanos,
                     output_nanos, context_window, max_output, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, CAST(unixepoch('subsec') * 1000 AS INTEGER))
                 ON CONFLICT (model) DO UPDATE SET input_nanos = excluded.input_nanos,
                     cached_input_nanos = excluded.cached_input_nanos,
                     output_nanos = excluded.output_nanos,
                     context_window = excluded.context_window,
                     max_output = excluded.max_output, updated_at = excluded.updated_at",
                )?
                .execute(params![
                    model,
                    p.input_nanos,
                    p.cached_input_nanos,
                    p.output_nanos,
                    p.context_window,
                    p.max_output
                ])?,
            None => tx
                .prepare_cached("DELETE FROM price_overrides WHERE model = ?1")?
                .execute([model])?,
        } as u64;
        set_version(tx, "price", model, "value", hlc)?;
    }
    Ok(Applied::Done(summary))
}
