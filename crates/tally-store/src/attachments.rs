//! Attachments: content-addressed (one row per distinct content, by its SHA-256), linked to
//! the user messages that carry them in the order they were attached.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::model::{
    Attachment, AttachmentKind, EpochMillis, MessageAttachment, NewAttachment, TreeAttachment,
};
use crate::{Result, Store, StoreError};

const ATTACHMENT_COLUMNS: &str =
    "a.id, a.sha256, a.kind, a.mime, length(a.content), a.width, a.height, a.pages, a.created_at";

fn attachment_from_row(
    r: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<Result<Attachment>> {
    let kind: String = r.get(first + 2)?;
    let size: i64 = r.get(first + 4)?;
    let dimension = |i: usize| -> rusqlite::Result<Option<u32>> {
        Ok(r.get::<_, Option<i64>>(first + i)?
            .and_then(|v| u32::try_from(v).ok()))
    };
    let (width, height, pages) = (dimension(5)?, dimension(6)?, dimension(7)?);
    let (id, sha256, mime, created_at) = (
        r.get(first)?,
        r.get(first + 1)?,
        r.get(first + 3)?,
        r.get(first + 8)?,
    );
    Ok(kind_of(&kind).map(|kind| Attachment {
        id,
        sha256,
        kind,
        mime,
        size_bytes: size.max(0) as u64,
        width,
        height,
        pages,
        created_at,
    }))
}

impl Store {
    /// Keeps `attachment` (once: content already kept is found by its hash, and its row
    /// returned as it is).
    pub fn put_attachment(
        &self,
        attachment: &NewAttachment<'_>,
        now: EpochMillis,
    ) -> Result<Attachment> {
        let sha256 = keep(&self.conn, attachment, now)?;
        let id: i64 = self.conn.query_row(
            "SELECT id FROM attachments WHERE sha256 = ?1",
            [&sha256],
            |r| r.get(0),
        )?;
        self.attachment(id)
    }

    /// The attachment `id`, without its content.
    pub fn attachment(&self, id: i64) -> Result<Attachment> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments a WHERE a.id = ?1"
            ))?
            .query_row([id], |r| attachment_from_row(r, 0))
            .optional()?
            .ok_or(StoreError::NoAttachment(id))?
    }

    /// The content of attachment `id`, as it was kept.
    pub fn attachment_content(&self, id: i64) -> Result<Vec<u8>> {
        self.conn
            .prepare_cached("SELECT content FROM attachments WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::NoAttachment(id))
    }

    /// The attachments of each of `message_ids` that has any, in the order attached.
    pub fn attachments_of(
        &self,
        message_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<MessageAttachment>>> {
        let mut found: HashMap<i64, Vec<MessageAttachment>> = HashMap::new();
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT ma.message_id, ma.name, {ATTACHMENT_COLUMNS}
             FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
             WHERE ma.message_id = ?1 ORDER BY ma.position"
        ))?;
        for &message_id in message_ids {
            let rows = statement.query_map([message_id], |r| {
                let name: String = r.get(1)?;
                Ok(attachment_from_row(r, 2)?
                    .map(|attachment| MessageAttachment { name, attachment }))
            })?;
            for row in rows {
                let attachment = row??;
                found.entry(message_id).or_default().push(attachment);
            }
        }
        Ok(found)
    }

    /// Removes attachments linked to no message that were kept before `before` (a draft's,
    /// never sent; or those of messages deleted for good). Returns how many.
    pub fn delete_unused_attachments(&self, before: EpochMillis) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM attachments WHERE created_at < ?1 AND NOT EXISTS
                 (SELECT 1 FROM message_attachments ma WHERE ma.attachment_id = attachments.id)",
            [before],
        )?)
    }
}

/// The attachments of conversation `id`'s messages, with their content, in order.
pub(crate) fn of_conversation(conn: &rusqlite::Connection, id: i64) -> Result<Vec<TreeAttachment>> {
    let mut statement = conn.prepare_cached(
        "SELECT ma.message_id, ma.name, a.kind, a.mime, a.width, a.height, a.pages, a.content
         FROM message_attachments ma
         JOIN attachments a ON a.id = ma.attachment_id
         JOIN messages m ON m.id = ma.message_id
         WHERE m.conversation_id = ?1 ORDER BY ma.message_id, ma.position",
    )?;
    let rows = statement.query_map([id], |r| {
        let kind: String = r.get(2)?;
        let dimension = |i: usize| -> rusqlite::Result<Option<u32>> {
            Ok(r.get::<_, Option<i64>>(i)?
                .and_then(|v| u32::try_from(v).ok()))
        };
        let attachment = (
            r.get(0)?,
            r.get(1)?,
            r.get(3)?,
            dimension(4)?,
            dimension(5)?,
            dimension(6)?,
            r.get(7)?,
        );
        Ok((kind, attachment))
    })?;
    let mut found = Vec::new();
    for row in rows {
        let (kind, (message_id, name, mime, width, height, pages, content)) = row?;
        found.push(TreeAttachment {
            message_id,
            name,
            kind: kind_of(&kind)?,
            mime,
            width,
            height,
            pages,
            content,
        });
    }
    Ok(found)
}

/// Keeps `attachment` (once per content) and links it to `message_id` at `position`,
/// inside the caller's transaction.
pub(crate) fn import(
    tx: &rusqlite::Transaction<'_>,
    message_id: i64,
    position: usize,
    attachment: &TreeAttachment,
    now: EpochMillis,
) -> Result<()> {
    let sha256 = keep(
        tx,
        &NewAttachment {
            kind: attachment.kind,
            mime: &attachment.mime,
            content: &attachment.content,
            width: attachment.width,
            height: attachment.height,
            pages: attachment.pages,
        },
        now,
    )?;
    tx.execute(
        "INSERT INTO message_attachments (message_id, position, attachment_id, name)
         SELECT ?1, ?2, id, ?4 FROM attachments WHERE sha256 = ?3",
        params![message_id, position as i64, sha256, attachment.name],
    )?;
    Ok(())
}

/// Inserts `attachment` unless its content is kept already; returns its SHA-256 (hex),
/// by which its row is found.
pub(crate) fn keep(
    conn: &rusqlite::Connection,
    attachment: &NewAttachment<'_>,
    now: EpochMillis,
) -> Result<String> {
    let sha256 = hex(&Sha256::digest(attachment.content));
    conn.execute(
        "INSERT INTO attachments (sha256, kind, mime, content, width, height, pages, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (sha256) DO NOTHING",
        params![
            sha256,
            attachment.kind.as_str(),
            attachment.mime,
            attachment.content,
            attachment.width,
            attachment.height,
            attachment.pages,
            now
        ],
    )?;
    Ok(sha256)
}

fn kind_of(text: &str) -> Result<AttachmentKind> {
    AttachmentKind::parse(text).ok_or_else(|| StoreError::BadValue {
        column: "attachments.kind",
        value: text.to_string(),
    })
}

/// `bytes` as lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
