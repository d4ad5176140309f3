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
        M::up(
            r#"
-- How long each billed request took, for the usage page.
ALTER TABLE usage_ledger ADD COLUMN first_token_ms INTEGER;
ALTER TABLE usage_ledger ADD COLUMN duration_ms INTEGER;
CREATE INDEX usage_by_model ON usage_ledger(model);
-- Rows of models with no known price, to prompt for a price and reprice once one is set.
CREATE INDEX usage_unpriced ON usage_ledger(model) WHERE cost_nanos IS NULL;

-- The ledger summed per quarter hour (every time zone's midnight falls on one), kept by
-- triggers, so a month's total reads at most ~3,000 rows however long the ledger grows.
CREATE TABLE spend_buckets (
    bucket          INTEGER PRIMARY KEY, -- created_at / 900000
    cost_nanos      INTEGER NOT NULL,    -- known cost, estimated or not
    estimated_nanos INTEGER NOT NULL,    -- the part of cost_nanos that is estimated
    unpriced        INTEGER NOT NULL,    -- requests whose price is unknown
    requests        INTEGER NOT NULL
);
CREATE TRIGGER spend_buckets_insert AFTER INSERT ON usage_ledger BEGIN
    INSERT INTO spend_buckets (bucket, cost_nanos, estimated_nanos, unpriced, requests)
    VALUES (NEW.created_at / 900000, COALESCE(NEW.cost_nanos, 0),
            CASE WHEN NEW.estimated THEN COALESCE(NEW.cost_nanos, 0) ELSE 0 END,
            NEW.cost_nanos IS NULL, 1)
    ON CONFLICT (bucket) DO UPDATE SET
        cost_nanos = cost_nanos + excluded.cost_nanos,
        estimated_nanos = estimated_nanos + excluded.estimated_nanos,
        unpriced = unpriced + excluded.unpriced,
        requests = requests + 1;
END;
CREATE TRIGGER spend_buckets_delete AFTER DELETE ON usage_ledger BEGIN
    UPDATE spend_buckets SET
        cost_nanos = cost_nanos - COALESCE(OLD.cost_nanos, 0),
        estimated_nanos = estimated_nanos
            - CASE WHEN OLD.estimated THEN COALESCE(OLD.cost_nanos, 0) ELSE 0 END,
        unpriced = unpriced - (OLD.cost_nanos IS NULL),
        requests = requests - 1
    WHERE bucket = OLD.created_at / 900000;
END;
CREATE TRIGGER spend_buckets_update
AFTER UPDATE OF created_at, cost_nanos, estimated ON usage_ledger BEGIN
    UPDATE spend_buckets SET
        cost_nanos = cost_nanos - COALESCE(OLD.cost_nanos, 0),
        estimated_nanos = estimated_nanos
            - CASE WHEN OLD.estimated THEN COALESCE(OLD.cost_nanos, 0) ELSE 0 END,
        unpriced = unpriced - (OLD.cost_nanos IS NULL),
        requests = requests - 1
    WHERE bucket = OLD.created_at / 900000;
    INSERT INTO spend_buckets (bucket, cost_nanos, estimated_nanos, unpriced, requests)
    VALUES (NEW.created_at / 900000, COALESCE(NEW.cost_nanos, 0),
            CASE WHEN NEW.estimated THEN COALESCE(NEW.cost_nanos, 0) ELSE 0 END,
            NEW.cost_nanos IS NULL, 1)
    ON CONFLICT (bucket) DO UPDATE SET
        cost_nanos = cost_nanos + excluded.cost_nanos,
        estimated_nanos = estimated_nanos + excluded.estimated_nanos,
        unpriced = unpriced + excluded.unpriced,
        requests = requests + 1;
END;
INSERT INTO spend_buckets (bucket, cost_nanos, estimated_nanos, unpriced, requests)
SELECT created_at / 900000, COALESCE(SUM(cost_nanos), 0),
       COALESCE(SUM(CASE WHEN estimated THEN cost_nanos ELSE 0 END), 0),
       SUM(cost_nanos IS NULL), COUNT(*)
FROM usage_ledger GROUP BY created_at / 900000;

-- Prices the user set or models they added; they win over the shipped catalog.
CREATE TABLE price_overrides (
    model              TEXT PRIMARY KEY,
    input_nanos        INTEGER NOT NULL CHECK (input_nanos >= 0),
    cached_input_nanos INTEGER CHECK (cached_input_nanos >= 0),
    output_nanos       INTEGER NOT NULL CHECK (output_nanos >= 0),
    context_window     INTEGER NOT NULL CHECK (context_window > 0),
    max_output         INTEGER NOT NULL CHECK (max_output > 0),
    updated_at         INTEGER NOT NULL
) WITHOUT ROWID;

-- Each budget threshold alerts once per budget month, across restarts.
CREATE TABLE budget_alerts (
    period_start INTEGER NOT NULL,
    threshold    INTEGER NOT NULL,
    fired_at     INTEGER NOT NULL,
    dismissed_at INTEGER,
    PRIMARY KEY (period_start, threshold)
) WITHOUT ROWID;
"#,
        ),
        M::up(
            r#"
-- Full-text search over message text and conversation titles. The indexes hold no copy
-- of the text (external content); triggers keep them in step with every write.
CREATE VIRTUAL TABLE message_search USING fts5(
    content, content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_search (rowid, content) VALUES (NEW.id, NEW.content);
END;
CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    VALUES ('delete', OLD.id, OLD.content);
END;
CREATE TRIGGER message_search_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    VALUES ('delete', OLD.id, OLD.content);
    INSERT INTO message_search (rowid, content) VALUES (NEW.id, NEW.content);
END;
INSERT INTO message_search (message_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE conversation_search USING fts5(
    title, content = 'conversations', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER conversation_search_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_search (rowid, title) VALUES (NEW.id, NEW.title);
END;
CREATE TRIGGER conversation_search_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, title)
    VALUES ('delete', OLD.id, OLD.title);
END;
CREATE TRIGGER conversation_search_update AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO conversation_search (conversation_search, rowid, title)
    VALUES ('delete', OLD.id, OLD.title);
    INSERT INTO conversation_search (rowid, title) VALUES (NEW.id, NEW.title);
END;
INSERT INTO conversation_search (conversation_search) VALUES ('rebuild');
"#,
        ),
        M::up(
            r#"
-- Pinned conversations stay on top of the sidebar; deleted ones wait in the Trash for
-- 30 days (or until it is emptied) before they are removed for good.
ALTER TABLE conversations ADD COLUMN pinned_at INTEGER;
ALTER TABLE conversations ADD COLUMN deleted_at INTEGER;
DROP INDEX conversations_by_update;
CREATE INDEX conversations_recent ON conversations(updated_at DESC, id DESC)
    WHERE deleted_at IS NULL AND pinned_at IS NULL;
CREATE INDEX conversations_pinned ON conversations(pinned_at DESC)
    WHERE deleted_at IS NULL AND pinned_at IS NOT NULL;
CREATE INDEX conversations_trash ON conversations(deleted_at DESC)
    WHERE deleted_at IS NOT NULL;
"#,
        ),
        M::up(
            r#"
-- Each conversation's request settings (NULL: the API's default).
ALTER TABLE conversations ADD COLUMN temperature REAL;
ALTER TABLE conversations ADD COLUMN top_p REAL;
ALTER TABLE conversations ADD COLUMN max_output_tokens INTEGER;
ALTER TABLE conversations ADD COLUMN presence_penalty REAL;
ALTER TABLE conversations ADD COLUMN frequency_penalty REAL;

-- System-prompt presets the user picks when starting a chat. A few ship; all can be
-- edited or deleted.
CREATE TABLE personas (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    prompt     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO personas (name, prompt, created_at, updated_at) VALUES
    ('Concise', 'Answer briefly and plainly. Use short paragraphs or a short list. Skip preambles and summaries unless asked.', 0, 0),
    ('Patient teacher', 'Explain step by step, in plain words, as to a curious beginner. Give a small example, then check understanding with one question.', 0, 0),
    ('Writing editor', 'Improve the text the user gives: clearer, shorter, correct. Keep their voice and meaning. Show the revised text first, then list the main changes.', 0, 0),
    ('Code reviewer', 'Review the code the user gives like a careful senior engineer: bugs first, then clarity and tests. Be specific and suggest fixed code.', 0, 0);
"#,
        ),
        M::up(
            r#"
-- A stable identity that travels with a conversation through export and import, so that
-- an import never duplicates a conversation imported (or exported from here) before.
ALTER TABLE conversations ADD COLUMN uid TEXT;
UPDATE conversations SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX conversations_by_uid ON conversations(uid);
CREATE TRIGGER conversations_uid_default AFTER INSERT ON conversations
WHEN NEW.uid IS NULL BEGIN
    UPDATE conversations SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
"#,
        ),
        M::up(
            r#"
-- Ledger rows also come from imported files: a row no real request can have is refused,
-- so a month's sum can neither go negative (the hard stop would never trip) nor overflow
-- (every send would fail). SQLite cannot add a CHECK to a table, so triggers check.
-- Rows an earlier version let in are kept, made harmless: an impossible cost becomes
-- "price unknown" (counted in tokens), an impossible status "error".
UPDATE usage_ledger SET cost_nanos = NULL
    WHERE cost_nanos < 0 OR cost_nanos > 100000000000000;
UPDATE usage_ledger SET status = 'error'
    WHERE status NOT IN ('streaming', 'complete', 'stopped', 'interrupted', 'error');
UPDATE usage_ledger SET
    prompt_tokens = min(prompt_tokens, 1000000000),
    cached_tokens = min(cached_tokens, 1000000000),
    completion_tokens = min(completion_tokens, 1000000000),
    reasoning_tokens = min(reasoning_tokens, 1000000000);
CREATE TRIGGER usage_ledger_in_range_insert BEFORE INSERT ON usage_ledger
WHEN NEW.cost_nanos < 0 OR NEW.cost_nanos > 100000000000000
    OR NEW.status NOT IN ('streaming', 'complete', 'stopped', 'interrupted', 'error')
    OR max(NEW.prompt_tokens, NEW.cached_tokens, NEW.completion_tokens,
           NEW.reasoning_tokens) > 1000000000
BEGIN
    SELECT RAISE(ABORT, 'a ledger row out of any real range');
END;
CREATE TRIGGER usage_ledger_in_range_update BEFORE UPDATE ON usage_ledger
WHEN NEW.cost_nanos < 0 OR NEW.cost_nanos > 100000000000000
    OR NEW.status NOT IN ('streaming', 'complete', 'stopped', 'interrupted', 'error')
    OR max(NEW.prompt_tokens, NEW.cached_tokens, NEW.completion_tokens,
           NEW.reasoning_tokens) > 1000000000
BEGIN
    SELECT RAISE(ABORT, 'a ledger row out of any real range');
END;
"#,
        ),
        M::up(
            r#"
-- Prompt tokens a request wrote to the cache (2026 usage objects report them; the catalog
-- prices them). Rows from before are 0: nothing was reported. The range checks cover it.
ALTER TABLE usage_ledger ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0
    CHECK (cache_write_tokens >= 0);
DROP TRIGGER usage_ledger_in_range_insert;
DROP TRIGGER usage_ledger_in_range_update;
CREATE TRIGGER usage_ledger_in_range_insert BEFORE INSERT ON usage_ledger
WHEN NEW.cost_nanos < 0 OR NEW.cost_nanos > 100000000000000
    OR NEW.status NOT IN ('streaming', 'complete', 'stopped', 'interrupted', 'error')
    OR max(NEW.prompt_tokens, NEW.cached_tokens, NEW.completion_tokens,
           NEW.reasoning_tokens, NEW.cache_write_tokens) > 1000000000
BEGIN
    SELECT RAISE(ABORT, 'a ledger row out of any real range');
END;
CREATE TRIGGER usage_ledger_in_range_update BEFORE UPDATE ON usage_ledger
WHEN NEW.cost_nanos < 0 OR NEW.cost_nanos > 100000000000000
    OR NEW.status NOT IN ('streaming', 'complete', 'stopped', 'interrupted', 'error')
    OR max(NEW.prompt_tokens, NEW.cached_tokens, NEW.completion_tokens,
           NEW.reasoning_tokens, NEW.cache_write_tokens) > 1000000000
BEGIN
    SELECT RAISE(ABORT, 'a ledger row out of any real range');
END;
"#,
        ),
        M::up(
            r#"
-- A reply's API ('chat' or 'responses'), the model's summary of its reasoning (shown as
-- "Thinking"), and its reasoning items as JSON (opaque; a later turn sends them back).
ALTER TABLE messages ADD COLUMN endpoint TEXT;
ALTER TABLE messages ADD COLUMN thinking TEXT;
ALTER TABLE messages ADD COLUMN reasoning_items TEXT;
"#,
        ),
        M::up(
            r#"
-- How long a reasoning model may think for this conversation ('none' … 'xhigh'; NULL:
-- the model's default).
ALTER TABLE conversations ADD COLUMN reasoning_effort TEXT;
"#,
        ),
        M::up(
            r#"
-- Web search (Responses): whether a conversation lets the model search; the sources a
-- reply cites, as JSON ([{url, title}]); and each request's billed search calls (their
-- fee is in cost_nanos; they are counted apart for the usage page).
ALTER TABLE conversations ADD COLUMN web_search INTEGER NOT NULL DEFAULT 0
    CHECK (web_search IN (0, 1));
ALTER TABLE messages ADD COLUMN citations TEXT;
ALTER TABLE usage_ledger ADD COLUMN web_search_calls INTEGER NOT NULL DEFAULT 0
    CHECK (web_search_calls >= 0);
"#,
        ),
        M::up(
            r#"
-- MCP servers the user added: how to reach one is JSON the engine writes and reads (a
-- program with its arguments, environment and folder, or an address); a remote server's
-- token is in the keychain, never here (has_token says whether there is one).
CREATE TABLE mcp_servers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 64),
    transport TEXT NOT NULL CHECK (json_valid(transport)),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    has_token INTEGER NOT NULL DEFAULT 0 CHECK (has_token IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
"#,
        ),
        M::up(
            r#"
-- Tools: the MCP tools a conversation lets the model call, and the calls a reply made
-- with their results (both JSON the engine writes and reads); and the calls the user
-- allowed for good (a tool of a server, in one conversation or in all of them).
ALTER TABLE conversations ADD COLUMN tools TEXT CHECK (tools IS NULL OR json_valid(tools));
ALTER TABLE messages ADD COLUMN tool_calls TEXT
    CHECK (tool_calls IS NULL OR json_valid(tool_calls));
CREATE TABLE tool_permissions (
    id INTEGER PRIMARY KEY,
    server TEXT NOT NULL CHECK (length(server) BETWEEN 1 AND 64),
    tool TEXT NOT NULL CHECK (length(tool) BETWEEN 1 AND 256),
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX tool_permissions_once
    ON tool_permissions(server COLLATE NOCASE, tool, ifnull(conversation_id, 0));
"#,
        ),
        M::up(
            r#"
-- JSON replies: how a conversation's replies are written when not as text (the engine's
-- JSON: the format and the pasted schema), and a JSON reply's check against it.
ALTER TABLE conversations ADD COLUMN reply_format TEXT
    CHECK (reply_format IS NULL OR json_valid(reply_format));
ALTER TABLE messages ADD COLUMN json_check TEXT
    CHECK (json_check IS NULL OR json_valid(json_check));
"#,
        ),
        M::up(
            r#"
-- What people attach to their messages, kept as it was sent (a picture scaled and without
-- metadata; a file's text), addressed by the SHA-256 of its bytes: the same content is
-- stored once however often it is attached. One not yet sent (a draft's) is linked to no
-- message until it is; maintenance removes those left unlinked.
CREATE TABLE attachments (
    id         INTEGER PRIMARY KEY,
    sha256     TEXT    NOT NULL UNIQUE CHECK (length(sha256) = 64),
    kind       TEXT    NOT NULL CHECK (kind IN ('image', 'file')),
    mime       TEXT    NOT NULL CHECK (length(mime) BETWEEN 1 AND 100),
    content    BLOB    NOT NULL,
    width      INTEGER CHECK (width IS NULL OR width > 0),
    height     INTEGER CHECK (height IS NULL OR height > 0),
    -- A file's pages (a PDF's), when it has any.
    pages      INTEGER CHECK (pages IS NULL OR pages >= 0),
    created_at INTEGER NOT NULL
);
CREATE TABLE message_attachments (
    message_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL CHECK (position >= 0),
    attachment_id INTEGER NOT NULL REFERENCES attachments(id),
    -- The name of the file as chosen (shown, and given to the model with a file's text).
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    PRIMARY KEY (message_id, position)
) WITHOUT ROWID;
CREATE INDEX message_attachments_by_attachment ON message_attachments(attachment_id);
"#,
        ),
        M::up(
            r#"
-- Sync (`sync.rs`). This computer's identity among the computers that sync, and its hybrid
-- logical clock: a change's time is never behind a change it has seen, whatever the wall
-- clock says. `recording` is 1 while sync is on and 0 while other computers' changes are
-- applied (they are theirs, not this computer's), so triggers record this computer's own.
CREATE TABLE sync_clock (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    device    TEXT    NOT NULL,
    wall      INTEGER NOT NULL,
    counter   INTEGER NOT NULL,
    recording INTEGER NOT NULL DEFAULT 0 CHECK (recording IN (0, 1))
);
INSERT INTO sync_clock (id, device, wall, counter) VALUES (1, lower(hex(randomblob(8))), 0, 0);
-- What changed here since the last sync sent it: a kind and the row's key (a local id, or
-- a setting's key). The rows are read as they are when the sync sends them.
CREATE TABLE sync_outbox (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('conversation', 'message', 'ledger', 'setting', 'price')),
    key  TEXT NOT NULL
);
-- The clock reading of the change that set each value merged by "the latest change wins"
-- ('conversation', id, 'title' | 'pinned' | 'trash' | 'settings'; 'setting', key, 'value';
-- 'price', model, 'value'). Text that sorts as the clock does: wall, counter, device.
CREATE TABLE sync_versions (
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    field TEXT NOT NULL,
    hlc   TEXT NOT NULL,
    PRIMARY KEY (kind, key, field)
) WITHOUT ROWID;
-- Inserting here ticks the clock, stamps the field and queues its row for the next sync.
CREATE VIEW sync_tick AS SELECT NULL AS kind, NULL AS key, NULL AS field;
CREATE TRIGGER sync_tick_insert INSTEAD OF INSERT ON sync_tick BEGIN
    UPDATE sync_clock SET
        counter = CASE WHEN wall >= CAST(unixepoch('subsec') * 1000 AS INTEGER)
                       THEN counter + 1 ELSE 0 END,
        wall = max(wall, CAST(unixepoch('subsec') * 1000 AS INTEGER));
    INSERT INTO sync_versions (kind, key, field, hlc)
        SELECT NEW.kind, NEW.key, NEW.field,
               printf('%015d.%010d.%s', wall, counter, device) FROM sync_clock WHERE true
        ON CONFLICT (kind, key, field) DO UPDATE SET hlc = excluded.hlc;
    INSERT INTO sync_outbox (kind, key) VALUES (NEW.kind, NEW.key);
END;

CREATE TRIGGER sync_conversation_insert AFTER INSERT ON conversations
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES
        ('conversation', NEW.id, 'title'), ('conversation', NEW.id, 'pinned'),
        ('conversation', NEW.id, 'trash'), ('conversation', NEW.id, 'settings');
END;
CREATE TRIGGER sync_conversation_title AFTER UPDATE OF title ON conversations
WHEN (SELECT recording FROM sync_clock) AND NEW.title IS NOT OLD.title BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('conversation', NEW.id, 'title');
END;
CREATE TRIGGER sync_conversation_pinned AFTER UPDATE OF pinned_at ON conversations
WHEN (SELECT recording FROM sync_clock) AND NEW.pinned_at IS NOT OLD.pinned_at BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('conversation', NEW.id, 'pinned');
END;
CREATE TRIGGER sync_conversation_trash AFTER UPDATE OF deleted_at ON conversations
WHEN (SELECT recording FROM sync_clock) AND NEW.deleted_at IS NOT OLD.deleted_at BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('conversation', NEW.id, 'trash');
END;
CREATE TRIGGER sync_conversation_settings AFTER UPDATE OF model, system_prompt, temperature,
    top_p, max_output_tokens, presence_penalty, frequency_penalty, reasoning_effort,
    web_search, tools, reply_format ON conversations
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('conversation', NEW.id, 'settings');
END;

-- A message's identity on every computer (a reply is sent once it is no longer streaming).
ALTER TABLE messages ADD COLUMN uid TEXT;
UPDATE messages SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX messages_by_uid ON messages(uid);
CREATE TRIGGER messages_uid_default AFTER INSERT ON messages
WHEN NEW.uid IS NULL BEGIN
    UPDATE messages SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
CREATE TRIGGER sync_message_insert AFTER INSERT ON messages
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_outbox (kind, key) VALUES ('message', NEW.id);
END;
CREATE TRIGGER sync_message_finished AFTER UPDATE OF status ON messages
WHEN (SELECT recording FROM sync_clock) AND NEW.status IS NOT OLD.status BEGIN
    INSERT INTO sync_outbox (kind, key) VALUES ('message', NEW.id);
END;

-- A ledger row's identity on every computer, and the computer that made the request
-- (NULL: this one).
ALTER TABLE usage_ledger ADD COLUMN uid TEXT;
ALTER TABLE usage_ledger ADD COLUMN device TEXT;
UPDATE usage_ledger SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX usage_ledger_by_uid ON usage_ledger(uid);
CREATE TRIGGER usage_ledger_uid_default AFTER INSERT ON usage_ledger
WHEN NEW.uid IS NULL BEGIN
    UPDATE usage_ledger SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
CREATE TRIGGER sync_ledger_insert AFTER INSERT ON usage_ledger
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_outbox (kind, key) VALUES ('ledger', NEW.id);
END;
CREATE TRIGGER sync_ledger_update AFTER UPDATE OF cost_nanos, status ON usage_ledger
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_outbox (kind, key) VALUES ('ledger', NEW.id);
END;

-- The settings every computer shares (the rest are this computer's own: its API address,
-- the hosts its key may go to, its update checks).
CREATE TRIGGER sync_setting_insert AFTER INSERT ON settings
WHEN (SELECT recording FROM sync_clock)
    AND NEW.key IN ('default_model', 'auto_titles', 'budget', 'chat_defaults') BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('setting', NEW.key, 'value');
END;
CREATE TRIGGER sync_setting_update AFTER UPDATE OF value ON settings
WHEN (SELECT recording FROM sync_clock) AND NEW.value IS NOT OLD.value
    AND NEW.key IN ('default_model', 'auto_titles', 'budget', 'chat_defaults') BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('setting', NEW.key, 'value');
END;
CREATE TRIGGER sync_setting_delete AFTER DELETE ON settings
WHEN (SELECT recording FROM sync_clock)
    AND OLD.key IN ('default_model', 'auto_titles', 'budget', 'chat_defaults') BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('setting', OLD.key, 'value');
END;
CREATE TRIGGER sync_price_insert AFTER INSERT ON price_overrides
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('price', NEW.model, 'value');
END;
CREATE TRIGGER sync_price_update AFTER UPDATE ON price_overrides
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('price', NEW.model, 'value');
END;
CREATE TRIGGER sync_price_delete AFTER DELETE ON price_overrides
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('price', OLD.model, 'value');
END;

-- Conversations deleted for good here: what other computers still send of them is not
-- brought back.
CREATE TABLE sync_purged (uid TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TRIGGER sync_conversation_purged AFTER DELETE ON conversations BEGIN
    INSERT OR IGNORE INTO sync_purged (uid) VALUES (OLD.uid);
END;
-- A title that lost to a later one (here or on another computer), kept.
CREATE TABLE title_history (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    title           TEXT    NOT NULL,
    hlc             TEXT    NOT NULL,
    replaced_at     INTEGER NOT NULL
);
CREATE INDEX title_history_by_conversation ON title_history(conversation_id);
-- Other computers' changes that arrived before what they need (a reply before the
-- conversation it answers in): kept as sent, tried again at every sync.
CREATE TABLE sync_pending (
    id     INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    change TEXT NOT NULL CHECK (json_valid(change))
);
-- How far each computer's files were read, and its name as it gave it.
CREATE TABLE sync_devices (
    device       TEXT PRIMARY KEY,
    name         TEXT,
    last_segment TEXT,
    last_seen    INTEGER
) WITHOUT ROWID;
-- Files read but refused (damaged, or still being copied): tried again at every sync.
CREATE TABLE sync_unread (
    device  TEXT NOT NULL,
    segment TEXT NOT NULL,
    problem TEXT NOT NULL,
    PRIMARY KEY (device, segment)
) WITHOUT ROWID;
"#,
        ),
        M::up(
            r#"
-- While a sync applies a file (`index_from` set), the messages it adds are indexed for
-- search at its end, in one statement: FTS5 writes its index at every statement that
-- fires its triggers, which made applying a snapshot of a million messages take minutes.
ALTER TABLE sync_clock ADD COLUMN index_from INTEGER;
DROP TRIGGER message_search_insert;
DROP TRIGGER message_search_delete;
DROP TRIGGER message_search_update;
CREATE TRIGGER message_search_insert AFTER INSERT ON messages
WHEN (SELECT index_from FROM sync_clock) IS NULL BEGIN
    INSERT INTO message_search (rowid, content) VALUES (NEW.id, NEW.content);
END;
CREATE TRIGGER message_search_delete AFTER DELETE ON messages
WHEN (SELECT index_from FROM sync_clock) IS NULL
    OR OLD.id < (SELECT index_from FROM sync_clock) BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    VALUES ('delete', OLD.id, OLD.content);
END;
CREATE TRIGGER message_search_update AFTER UPDATE OF content ON messages
WHEN (SELECT index_from FROM sync_clock) IS NULL
    OR OLD.id < (SELECT index_from FROM sync_clock) BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    VALUES ('delete', OLD.id, OLD.content);
    INSERT INTO message_search (rowid, content) VALUES (NEW.id, NEW.content);
END;
"#,
        ),
        M::up(
            r#"
-- Personas sync too, by name (whatever its case): a new one, a changed prompt, a rename
-- (the old name gone, the new one there) and a removal each travel as the latest value
-- of its name. The outbox takes the new kind (a CHECK is changed by copying the table;
-- the legacy rename leaves the triggers that write to it as they are).
PRAGMA legacy_alter_table = ON;
CREATE TABLE sync_outbox_next (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL
         CHECK (kind IN ('conversation', 'message', 'ledger', 'setting', 'price', 'persona')),
    key  TEXT NOT NULL
);
INSERT INTO sync_outbox_next (seq, kind, key) SELECT seq, kind, key FROM sync_outbox;
DROP TABLE sync_outbox;
ALTER TABLE sync_outbox_next RENAME TO sync_outbox;
PRAGMA legacy_alter_table = OFF;
CREATE TRIGGER sync_persona_insert AFTER INSERT ON personas
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('persona', lower(NEW.name), 'value');
END;
CREATE TRIGGER sync_persona_update AFTER UPDATE OF name, prompt ON personas
WHEN (SELECT recording FROM sync_clock)
    AND (NEW.name IS NOT OLD.name OR NEW.prompt IS NOT OLD.prompt) BEGIN
    INSERT INTO sync_tick (kind, key, field)
        SELECT 'persona', lower(OLD.name), 'value' WHERE lower(OLD.name) <> lower(NEW.name);
    INSERT INTO sync_tick (kind, key, field) VALUES ('persona', lower(NEW.name), 'value');
END;
CREATE TRIGGER sync_persona_delete AFTER DELETE ON personas
WHEN (SELECT recording FROM sync_clock) BEGIN
    INSERT INTO sync_tick (kind, key, field) VALUES ('persona', lower(OLD.name), 'value');
END;
"#,
        ),
    ])
});

pub fn migrations() -> &'static Migrations<'static> {
    &MIGRATIONS
}
