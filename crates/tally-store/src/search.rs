//! Full-text search over message text and conversation titles (FTS5).

use rusqlite::params;

use crate::{Result, Store};

/// Marks the start and end of a matched word in a snippet. Private-use characters, so the
/// UI can highlight them without ever treating message text as markup.
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

/// Above this many matching messages a word is "very common": the newest matches are shown
/// instead of ranking them all, which would read every match.
const RANK_AT_MOST: i64 = 2_000;

/// One thing a search found: a conversation by its title, or a message in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub conversation_id: i64,
    pub conversation_title: String,
    /// `None` when the title matched.
    pub message_id: Option<i64>,
    /// The matching part, with matched words between [`MARK_START`] and [`MARK_END`].
    pub snippet: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Whether the message hits are ordered by relevance (else newest first).
    pub by_relevance: bool,
}

impl Store {
    /// Whether the search indexes hold exactly the messages and titles there are (FTS5's
    /// own check, which reads them whole).
    pub fn search_index_intact(&self) -> Result<bool> {
        for table in ["message_search", "conversation_search"] {
            let checked = self.conn.execute(
                &format!("INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)"),
                [],
            );
            match checked {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseCorrupt =>
                {
                    return Ok(false);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }

    /// Conversations whose title matches `text`, then messages, at most `limit` of each.
    /// Every word must match; the last may be the start of a word (search as you type).
    /// Conversations in the Trash are left out.
    pub fn search(&self, text: &str, limit: u32) -> Result<SearchResults> {
        let Some(query) = fts_query(text) else {
            return Ok(SearchResults::default());
        };
        let marks = (MARK_START.to_string(), MARK_END.to_string());
        let mut hits = Vec::new();
        {
            let mut titles = self.conn.prepare_cached(
                "SELECT c.id, c.title, highlight(conversation_search, 0, ?2, ?3), c.updated_at
                 FROM conversation_search JOIN conversations c ON c.id = conversation_search.rowid
                 WHERE conversation_search MATCH ?1 AND c.deleted_at IS NULL ORDER BY rank LIMIT ?4",
            )?;
            let rows = titles.query_map(params![query, marks.0, marks.1, limit], |r| {
                Ok(SearchHit {
                    conversation_id: r.get(0)?,
                    conversation_title: r.get(1)?,
                    message_id: None,
                    snippet: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })?;
            for row in rows {
                hits.push(row?);
            }
        }
        let matches: i64 = self.conn.prepare_cached(
            "SELECT count(*) FROM (SELECT rowid FROM message_search WHERE message_search MATCH ?1 LIMIT ?2)",
        )?
        .query_row(params![query, RANK_AT_MOST + 1], |r| r.get(0))?;
        let by_relevance = matches <= RANK_AT_MOST;
        let order = if by_relevance {
            "rank"
        } else {
            "message_search.rowid DESC"
        };
        let mut messages = self.conn.prepare_cached(&format!(
            "SELECT m.conversation_id, c.title, m.id,
                    snippet(message_search, 0, ?2, ?3, '…', 16), m.created_at
             FROM message_search
             JOIN messages m ON m.id = message_search.rowid
             JOIN conversations c ON c.id = m.conversation_id
             WHERE message_search MATCH ?1 AND c.deleted_at IS NULL ORDER BY {order} LIMIT ?4"
        ))?;
        let rows = messages.query_map(params![query, marks.0, marks.1, limit], |r| {
            Ok(SearchHit {
                conversation_id: r.get(0)?,
                conversation_title: r.get(1)?,
                message_id: Some(r.get(2)?),
                snippet: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?;
        for row in rows {
            hits.push(row?);
        }
        Ok(SearchResults { hits, by_relevance })
    }
}

/// What the user typed as an FTS5 query: each word quoted (so no character is syntax),
/// all required, the last one also as a prefix. `None` when nothing is searchable.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query = rest.join(" ");
    if !query.is_empty() {
        query.push(' ');
    }
    query.push_str(last);
    query.push('*');
    Some(query)
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_text_becomes_a_safe_query() {
        let cases = [
            ("hello", Some(r#""hello"*"#)),
            ("  trip   plan ", Some(r#""trip" "plan"*"#)),
            (
                r#"say "hi" OR NOT x*"#,
                Some(r#""say" """hi""" "OR" "NOT" "x*"*"#),
            ),
            ("... --- !!!", None),
            ("", None),
        ];
        for (text, query) in cases {
            assert_eq!(super::fts_query(text).as_deref(), query, "{text}");
        }
    }
}
