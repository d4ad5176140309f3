use std::sync::LazyLock;

use rusqlite_migration::{M, Migrations};

/// Every schema change, in order. Never edit a migration that has shipped: add one.
static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(
            r#"
CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    title           TEXT    NOT NULL,
    model           TEXT    NOT NULL,
    system_prompt   TEXT,
    -- The leaf of the branch on screen; NULL until the first message.
    current_leaf_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX conversations_by_update ON conversations(updated_at DESC, id DESC);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    parent_id       INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         TEXT    NOT NULL,
    status          TEXT    NOT NULL
                    CHECK (status IN ('streaming', 'complete', 'stopped', 'interrupted', 'error')),
    finish_reason   TEXT,
    model           TEXT,
    error_code      TEXT,
    error_message   TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX messages_by_parent ON messages(parent_id);
CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';

-- One row per billed request of any purpose. Money is integer nano-USD; NULL cost means
-- the model's price was unknown (metered in tokens only), never "free".
CREATE TABLE usage_ledger (
    id                INTEGER PRIMARY KEY,
    created_at        INTEGER NOT NULL,
    conversation_id   INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    message_id        INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    purpose           TEXT    NOT NULL CHECK (purpose IN ('chat', 'title', 'summary', 'continue')),
    model             TEXT    NOT NULL,
    prompt_tokens     INTEGER NOT NULL CHECK (prompt_tokens >= 0),
    cached_tokens     INTEGER NOT NULL CHECK (cached_tokens >= 0),
    completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
    reasoning_tokens  INTEGER NOT NULL CHECK (reasoning_tokens >= 0),
    cost_nanos        INTEGER,
    estimated         INTEGER NOT NULL CHECK (estimated IN (0, 1)),
    request_id        TEXT,
    status            TEXT    NOT NULL
);
CREATE INDEX usage_by_time ON usage_ledger(created_at);
CREATE INDEX usage_by_conversation ON usage_ledger(conversation_id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"#,
        ),
        M::up(
            r#"
-- Every HTTP attempt, for the usage page's request log and for support.
CREATE TABLE request_log (
    id                           INTEGER PRIMARY KEY,
    started_at                   INTEGER NOT NULL,
    conversation_id              INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    message_id                   INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    model                        TEXT    NOT NULL,
    attempt                      INTEGER NOT NULL CHECK (attempt >= 1),
    http_status                  INTEGER,
    request_id                   TEXT,
    first_byte_ms                INTEGER,
    total_ms                     INTEGER,
    error_code                   TEXT,
    ratelimit_limit_requests     INTEGER,
    ratelimit_remaining_requests INTEGER,
    ratelimit_reset_requests     TEXT,
    ratelimit_limit_tokens       INTEGER,
    ratelimit_remaining_tokens   INTEGER,
    ratelimit_reset_tokens       TEXT
);
CREATE INDEX request_log_by_time ON request_log(started_at);
"#,
        ),
    ])
});

pub fn migrations() -> &'static Migrations<'static> {
    &MIGRATIONS
}
