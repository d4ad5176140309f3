/// Milliseconds since the Unix epoch, UTC.
pub type EpochMillis = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "system" => Self::System,
            "user" => Self::User,
            "assistant" => Self::Assistant,
            _ => return None,
        })
    }
}

/// Where an assistant message stands. User messages are always `Complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    Streaming,
    Complete,
    Stopped,
    Interrupted,
    Error,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Streaming => "streaming",
            Self::Complete => "complete",
            Self::Stopped => "stopped",
            Self::Interrupted => "interrupted",
            Self::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "streaming" => Self::Streaming,
            "complete" => Self::Complete,
            "stopped" => Self::Stopped,
            "interrupted" => Self::Interrupted,
            "error" => Self::Error,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    pub model: String,
    pub system_prompt: Option<String>,
    pub current_leaf_id: Option<i64>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
    /// When it was pinned to the top of the sidebar; `None` when it is not.
    pub pinned_at: Option<EpochMillis>,
    /// When it was moved to the Trash; `None` when it is not there.
    pub deleted_at: Option<EpochMillis>,
    pub options: ConversationOptions,
}

/// A conversation's request settings; `None` leaves each to the API's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationOptions {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_output_tokens: Option<i64>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    /// A reasoning model's effort, as the API names it (`low`, `high`, …).
    pub reasoning_effort: Option<String>,
    /// Whether the model may search the web (Responses; each search is a billed call).
    pub web_search: bool,
    /// The MCP tools the model may call, as the engine's JSON (none: no tools).
    pub tools: Option<String>,
    /// How replies are written when not as text, as the engine's JSON (its format and
    /// schema).
    pub reply_format: Option<String>,
}

/// A tool call the user allowed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPermission {
    pub id: i64,
    /// The server's name, as the user gave it.
    pub server: String,
    pub tool: String,
    /// The conversation it holds in; `None`: every conversation.
    pub conversation_id: Option<i64>,
    pub conversation_title: Option<String>,
    pub created_at: EpochMillis,
}

/// A system-prompt preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    pub id: i64,
    pub name: String,
    pub prompt: String,
}

/// An MCP server the user added. `transport` is the engine's JSON; the store keeps it whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpServerRow {
    pub id: i64,
    pub name: String,
    pub transport: String,
    pub enabled: bool,
    pub has_token: bool,
}

/// Where a page of the sidebar ends: the next page starts after this conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationCursor {
    pub updated_at: EpochMillis,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub parent_id: Option<i64>,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    pub finish_reason: Option<String>,
    pub model: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
    /// A reply's API: `chat` or `responses` (none for older replies and user messages).
    pub endpoint: Option<String>,
    /// The model's summary of its reasoning, when it gave one.
    pub thinking: Option<String>,
    /// The reply's reasoning items as JSON, kept to be sent back; never shown.
    pub reasoning_items: Option<String>,
    /// The web pages the reply cites, as JSON (`[{"url", "title"}]`).
    pub citations: Option<String>,
    /// The tools the reply called and what they returned, as the engine's JSON.
    pub tool_calls: Option<String>,
    /// A JSON reply's check against what was asked, as the engine's JSON.
    pub json_check: Option<String>,
}

/// How a reply was written, recorded when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplyDetails<'a> {
    /// `chat` or `responses`.
    pub endpoint: &'a str,
    pub thinking: Option<&'a str>,
    /// JSON, as [`Message::reasoning_items`].
    pub reasoning_items: Option<&'a str>,
    /// JSON, as [`Message::citations`].
    pub citations: Option<&'a str>,
    /// JSON, as [`Message::json_check`].
    pub json_check: Option<&'a str>,
}

/// How an assistant message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageOutcome {
    pub status: MessageStatus,
    pub finish_reason: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Chat,
    Title,
    Summary,
    Continue,
}

impl Purpose {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "chat" => Self::Chat,
            "title" => Self::Title,
            "summary" => Self::Summary,
            "continue" => Self::Continue,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Title => "title",
            Self::Summary => "summary",
            Self::Continue => "continue",
        }
    }
}

/// One billed request for the usage ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub created_at: EpochMillis,
    pub conversation_id: Option<i64>,
    pub message_id: Option<i64>,
    pub purpose: Purpose,
    pub model: String,
    pub prompt_tokens: u64,
    pub cached_tokens: u64,
    /// Prompt tokens written to the cache (part of `prompt_tokens`).
    pub cache_write_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
    /// Web search calls (their fee is part of `cost_nanos`).
    pub web_search_calls: u64,
    /// nano-USD; `None` when the price of the model is unknown.
    pub cost_nanos: Option<i64>,
    pub estimated: bool,
    pub request_id: Option<String>,
    /// The request's outcome (`complete`, `stopped`, `interrupted`, `error`).
    pub status: String,
    /// From sending the request to the first reply token, when one came.
    pub first_token_ms: Option<i64>,
    /// From sending the request to its end.
    pub duration_ms: Option<i64>,
}

/// A ledger row as read back, with its id and the title of its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: i64,
    pub conversation_title: Option<String>,
    pub row: UsageRow,
}

/// Which ledger rows to read: a time range `[from, to)` and optional exact matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerFilter {
    pub from: Option<EpochMillis>,
    pub to: Option<EpochMillis>,
    pub model: Option<String>,
    pub purpose: Option<Purpose>,
    pub status: Option<String>,
    pub conversation_id: Option<i64>,
}

/// Money and requests summed over a time range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpendTotals {
    /// Known cost in nano-USD, estimated or not.
    pub cost_nanos: i64,
    /// The part of `cost_nanos` estimated with the tokenizer.
    pub estimated_nanos: i64,
    /// Requests of models with no known price (metered in tokens only).
    pub unpriced: i64,
    pub requests: i64,
}

/// Spend of one model over a time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpend {
    pub model: String,
    pub requests: i64,
    pub prompt_tokens: i64,
    pub cached_tokens: i64,
    pub completion_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_nanos: i64,
    pub unpriced: i64,
    /// Web search calls (their fees are part of `cost_nanos`).
    pub web_search_calls: i64,
}

/// What the requests for one message used and cost, summed over its ledger rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageCost {
    pub message_id: i64,
    /// Known cost in nano-USD.
    pub cost_nanos: i64,
    /// A request for it was of a model with no known price.
    pub price_unknown: bool,
    pub prompt_tokens: u64,
    pub cached_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
    pub web_search_calls: u64,
    /// Some of it was estimated.
    pub estimated: bool,
}

/// Spend of one conversation over a time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSpend {
    pub conversation_id: i64,
    pub title: String,
    pub requests: i64,
    pub cost_nanos: i64,
}

/// A price the user set (rates in nano-USD per 1M tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceOverride {
    pub model: String,
    pub input_nanos: i64,
    pub cached_input_nanos: Option<i64>,
    pub output_nanos: i64,
    pub context_window: u32,
    pub max_output: u32,
}

/// A budget threshold that alerted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetAlert {
    pub period_start: EpochMillis,
    pub threshold: u16,
    pub fired_at: EpochMillis,
    pub dismissed_at: Option<EpochMillis>,
}

/// One HTTP attempt in the request log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestLogRow {
    pub started_at: EpochMillis,
    pub conversation_id: Option<i64>,
    pub message_id: Option<i64>,
    pub model: String,
    pub attempt: u32,
    /// `None` when no response arrived.
    pub http_status: Option<u16>,
    pub request_id: Option<String>,
    /// To the response headers for a failed attempt, to the first reply token otherwise.
    pub first_byte_ms: Option<i64>,
    pub total_ms: Option<i64>,
    /// Tally's error code (`rate_limited`, `network`, …) when the attempt failed.
    pub error_code: Option<String>,
    pub ratelimit_limit_requests: Option<i64>,
    pub ratelimit_remaining_requests: Option<i64>,
    pub ratelimit_reset_requests: Option<String>,
    pub ratelimit_limit_tokens: Option<i64>,
    pub ratelimit_remaining_tokens: Option<i64>,
    pub ratelimit_reset_tokens: Option<String>,
}

/// A conversation whole, as export writes it and import reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationTree {
    pub conversation: Conversation,
    /// Stable across export and import: the same conversation has the same `uid` in
    /// every database it reaches.
    pub uid: String,
    /// Every message of every branch, parents before their children.
    pub messages: Vec<Message>,
    /// The ledger rows of its requests, oldest first.
    pub usage: Vec<UsageRow>,
    /// What its messages carry, with their content, in each message's order.
    pub attachments: Vec<TreeAttachment>,
    /// The messages' and ledger rows' own `uid`s where the file had them.
    pub uids: TreeUids,
}

/// The `uid`s of a conversation's messages and ledger rows, as a Tally file carries them.
/// Import takes them, and makes up the missing ones from the conversation's `uid` and
/// each one's place: the same file imported on two computers then syncs as one
/// conversation, not two copies of each message and each cost.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TreeUids {
    /// By message id in the tree.
    pub messages: std::collections::HashMap<i64, String>,
    /// In the order of the tree's `usage` (shorter when some have none).
    pub usage: Vec<Option<String>>,
}

/// What an attachment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentKind {
    /// A picture, sent as pixels.
    Image,
    /// A file whose text is sent.
    File,
}

impl AttachmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::File => "file",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "image" => Some(Self::Image),
            "file" => Some(Self::File),
            _ => None,
        }
    }
}

/// An attachment to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAttachment<'a> {
    pub kind: AttachmentKind,
    pub mime: &'a str,
    pub content: &'a [u8],
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub pages: Option<u32>,
}

/// A kept attachment, without its content (see [`Store::attachment_content`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: i64,
    /// The SHA-256 of its content, in hex.
    pub sha256: String,
    pub kind: AttachmentKind,
    pub mime: String,
    pub size_bytes: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub pages: Option<u32>,
    pub created_at: EpochMillis,
}

/// An attachment of a whole conversation (export and import): the message that carries
/// it (by its id in the tree), its name there, and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeAttachment {
    pub message_id: i64,
    pub name: String,
    pub kind: AttachmentKind,
    pub mime: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub pages: Option<u32>,
    pub content: Vec<u8>,
}

/// An attachment as one message carries it: under the name it was chosen by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAttachment {
    pub name: String,
    pub attachment: Attachment,
}
