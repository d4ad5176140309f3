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

    pub(crate) fn parse(s: &str) -> Option<Self> {
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

    pub(crate) fn parse(s: &str) -> Option<Self> {
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    pub model: String,
    pub system_prompt: Option<String>,
    pub current_leaf_id: Option<i64>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
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
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
    /// nano-USD; `None` when the price of the model is unknown.
    pub cost_nanos: Option<i64>,
    pub estimated: bool,
    pub request_id: Option<String>,
    /// The request's outcome (`complete`, `stopped`, `interrupted`, `error`).
    pub status: String,
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
