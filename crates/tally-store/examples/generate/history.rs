//! A large, realistic history written straight into a Tally database, for benchmarks.
//! Shared by the `generate` example and the store benches (`#[path]`-included).

use std::path::Path;

use rusqlite::{Connection, params};
use tally_store::{DB_FILE_NAME, Store};

const WORDS: &[&str] = &[
    "the",
    "budget",
    "month",
    "reply",
    "stream",
    "token",
    "price",
    "conversation",
    "kitchen",
    "garden",
    "invoice",
    "travel",
    "Paris",
    "recipe",
    "python",
    "function",
    "error",
    "network",
    "summary",
    "weekend",
    "letter",
    "meeting",
    "quarter",
    "report",
    "draft",
    "translate",
    "explain",
    "example",
    "because",
    "however",
    "quickly",
    "carefully",
    "東京",
    "😀",
    "données",
    "über",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "it",
    "that",
    "for",
    "with",
    "on",
    "as",
    "you",
];

/// Fills the data folder `dir` with `conversations` conversations holding `messages`
/// messages in all, then one more, the newest, of `long` messages, and marks onboarding
/// done with automatic titles off, so Tally opens straight to the chat and sends nothing
/// but the replies asked for. A folder that already has a history is only upgraded to the
/// current schema (by opening it), so a kept history never upgrades during a benchmark.
/// Returns what it did, in a line.
pub fn prepare_folder(dir: &Path, conversations: i64, messages: i64, long: i64) -> String {
    let store = Store::open_in(dir).expect("open the database");
    if !store.conversation_page(None, 1).expect("read").is_empty() {
        return format!("{} already holds a history", dir.display());
    }
    store.set_setting("onboarded", "true").expect("settings");
    // The latency bench matches each reply to the mock's log of sent replies: a background
    // title request after the first reply would be one more.
    store.set_setting("auto_titles", "false").expect("settings");
    drop(store);
    let mut conn = Connection::open(dir.join(DB_FILE_NAME)).expect("open the database");
    let per_conversation = if conversations > 0 {
        messages / conversations
    } else {
        0
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    fill(&mut conn, conversations, per_conversation, now, 42).expect("write the history");
    let mut pictures = 0;
    if long > 0 {
        // The second newest: the long conversation again, shorter, with pictures.
        let messages = long.min(PICTURES_CONVERSATION_MESSAGES);
        let with_pictures =
            fill(&mut conn, 1, messages, now + 1, 44).expect("write the conversation");
        pictures = add_pictures(dir, &mut conn, with_pictures, now);
        fill(&mut conn, 1, long, now + 2, 43).expect("write the long conversation");
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    let size = std::fs::metadata(dir.join(DB_FILE_NAME))
        .map(|m| m.len())
        .unwrap_or(0);
    format!(
        "{conversations} conversations, {} messages, one of {long}, and one of {} with \
         {pictures} pictures: {:.0} MB",
        conversations * per_conversation,
        long.min(PICTURES_CONVERSATION_MESSAGES),
        size as f64 / 1e6
    )
}

/// The conversation with pictures has at most this many messages, one in ten with a
/// picture (on the user's).
pub const PICTURES_CONVERSATION_MESSAGES: i64 = 2_000;

/// Attaches a picture (a 1024×768 JPEG, each its own) to every fifth user message of
/// conversation `id`, as Tally keeps them. Returns how many.
fn add_pictures(dir: &Path, conn: &mut Connection, id: i64, now: i64) -> i64 {
    let users: Vec<i64> = conn
        .prepare("SELECT id FROM messages WHERE conversation_id = ?1 AND role = 'user' ORDER BY id")
        .and_then(|mut query| {
            query
                .query_map([id], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()
        })
        .expect("read the messages");
    let carrying: Vec<i64> = users.into_iter().step_by(5).collect();
    let store = Store::open_in(dir).expect("open the database");
    let kept: Vec<i64> = (0..carrying.len())
        .map(|n| {
            let shade = (n * 37 % 256) as u8;
            let picture = image::RgbImage::from_fn(1024, 768, |x, y| {
                image::Rgb([(x / 4) as u8, (y / 3) as u8, shade])
            });
            let mut jpeg = std::io::Cursor::new(Vec::new());
            picture
                .write_to(&mut jpeg, image::ImageFormat::Jpeg)
                .expect("encode a picture");
            store
                .put_attachment(
                    &tally_store::NewAttachment {
                        kind: tally_store::AttachmentKind::Image,
                        mime: "image/jpeg",
                        content: jpeg.get_ref(),
                        width: Some(1024),
                        height: Some(768),
                        pages: None,
                    },
                    now,
                )
                .expect("keep a picture")
                .id
        })
        .collect();
    drop(store);
    let tx = conn.transaction().expect("write the pictures");
    for (n, (message, attachment)) in carrying.iter().zip(&kept).enumerate() {
        tx.execute(
            "INSERT INTO message_attachments (message_id, position, attachment_id, name)
             VALUES (?1, 0, ?2, ?3)",
            params![message, attachment, format!("photo-{n}.jpg")],
        )
        .expect("attach a picture");
    }
    tx.commit().expect("write the pictures");
    kept.len() as i64
}

/// Makes new chats in the data folder `dir` start with `model` (an id of letters, digits,
/// '-', '.' and '_'). Returns what it did, in a line.
pub fn start_chats_with(dir: &Path, model: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._".contains(c);
    assert!(
        !model.is_empty() && model.chars().all(plain),
        "a model id: {model:?}"
    );
    // A text setting is kept as it is.
    Store::open_in(dir)
        .expect("open the database")
        .set_setting("default_model", model)
        .expect("settings");
    format!("new chats in {} start with {model}", dir.display())
}

pub fn text(rng: &mut fastrand::Rng, words: usize) -> String {
    let mut out = String::with_capacity(words * 7);
    for i in 0..words {
        if i > 0 {
            out.push(if rng.u8(..20) == 0 { '\n' } else { ' ' });
        }
        out.push_str(WORDS[rng.usize(..WORDS.len())]);
    }
    out
}

/// Adds `conversations` conversations of `per_conversation` messages each (alternating
/// user and assistant, varied text, a ledger row per reply), spread over the year before
/// `now`, oldest first. Returns the id of the last conversation written.
pub fn fill(
    conn: &mut Connection,
    conversations: i64,
    per_conversation: i64,
    now: i64,
    seed: u64,
) -> rusqlite::Result<i64> {
    let tx = conn.transaction()?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let year = 365 * 86_400_000_i64;
    let mut last = 0;
    {
        let mut conversation = tx.prepare(
            "INSERT INTO conversations (title, model, created_at, updated_at)
             VALUES (?1, 'gpt-4o-mini', ?2, ?2)",
        )?;
        let mut message = tx.prepare(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status,
                 finish_reason, model, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'complete', ?5, 'gpt-4o-mini', ?6, ?6)",
        )?;
        let mut ledger = tx.prepare(
            "INSERT INTO usage_ledger (created_at, conversation_id, message_id, purpose,
                 model, prompt_tokens, cached_tokens, completion_tokens, reasoning_tokens,
                 cost_nanos, estimated, status)
             VALUES (?1, ?2, ?3, 'chat', 'gpt-4o-mini', ?4, 0, ?5, 0, ?6, 0, 'complete')",
        )?;
        let mut leaf = tx.prepare(
            "UPDATE conversations SET current_leaf_id = ?2, updated_at = ?3 WHERE id = ?1",
        )?;
        for c in 0..conversations {
            // Each conversation ends at its place in the year, the last one at `now`, so
            // a conversation written after the others with a later `now` is the newest.
            let ended = now - year + (c + 1) * year / conversations.max(1);
            let started = ended - (per_conversation - 1).max(0) * 30_000;
            let title = text(&mut rng, 4);
            conversation.execute(params![title, started])?;
            let id = tx.last_insert_rowid();
            let mut parent: Option<i64> = None;
            let mut at = started;
            for m in 0..per_conversation {
                let user = m % 2 == 0;
                let words = if user {
                    rng.usize(5..40)
                } else {
                    rng.usize(20..120)
                };
                let mut body = text(&mut rng, words);
                // Words for the search benches: "tagalong" in about 1 message in 1,000,
                // "zyzzyva" in about 3 in a million.
                if rng.u16(..1_000) == 0 {
                    body.push_str(" tagalong");
                }
                if rng.u32(..1_000_000) < 3 {
                    body.push_str(" zyzzyva");
                }
                at = started + m * 30_000;
                message.execute(params![
                    id,
                    parent,
                    if user { "user" } else { "assistant" },
                    body,
                    (!user).then_some("stop"),
                    at
                ])?;
                let message_id = tx.last_insert_rowid();
                if !user {
                    let prompt = rng.i64(50..4_000);
                    let completion = rng.i64(20..800);
                    let cost = (prompt * 150 + completion * 600) / 1_000;
                    ledger.execute(params![at, id, message_id, prompt, completion, cost])?;
                }
                parent = Some(message_id);
            }
            if let Some(leaf_id) = parent {
                leaf.execute(params![id, leaf_id, at])?;
            }
            last = id;
        }
    }
    tx.commit()?;
    Ok(last)
}
