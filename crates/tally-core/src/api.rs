//! Types that cross the IPC boundary. `ui/src/lib/ipc/bindings.ts` is generated from them
//! (see `bindings_file`); a test fails when the committed file is stale.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One step of a reply, streamed to the UI in order.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ChatEvent {
    /// Both messages are saved; the request is about to leave.
    Started {
        conversation_id: i64,
        user_message_id: i64,
        assistant_message_id: i64,
        title: String,
        kind: StartKind,
    },
    /// More reply text.
    Delta { text: String },
    /// Waiting before another attempt.
    Retrying {
        attempt: u32,
        in_ms: u64,
        reason: String,
    },
    /// Token usage as reported by the API.
    Usage {
        prompt_tokens: u64,
        cached_tokens: u64,
        completion_tokens: u64,
        reasoning_tokens: u64,
    },
    /// The reply ended: completed, or stopped by the user.
    Done {
        status: MessageStatus,
        finish_reason: Option<String>,
        /// nano-USD; `null` when the model's price is unknown.
        cost: Option<i64>,
        estimated: bool,
    },
    /// The reply failed; any text received so far is kept with `status`.
    Failed {
        status: MessageStatus,
        code: ErrorCode,
        message: String,
    },
}

/// What a reply stream is doing to the conversation on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StartKind {
    /// A new user message and its reply.
    Send,
    /// A new reply to the same user message, replacing the last one on screen.
    Retry,
    /// More text appended to the last reply.
    Continue,
}

/// The error codes the UI branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MissingApiKey,
    InvalidApiKey,
    KeychainUnavailable,
    RateLimited,
    QuotaExhausted,
    BudgetExceeded,
    ContextTooLong,
    ModelNotFound,
    Network,
    Timeout,
    ServerError,
    InvalidInput,
    Storage,
}

/// Every error that crosses IPC: a code to branch on and a plain-language message.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Streaming,
    Complete,
    Stopped,
    Interrupted,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub id: i64,
    pub title: String,
    pub model: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    pub finish_reason: Option<String>,
    pub model: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub conversation: ConversationSummary,
    /// The branch on screen, oldest first.
    pub messages: Vec<MessageView>,
}

/// Where the key in use comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    Keychain,
    /// `OPENAI_API_KEY` from the environment, for this run only.
    Environment,
    None,
}

/// What the UI may know of the key: never the key itself.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyStatusView {
    pub source: KeySource,
    pub last_four: Option<String>,
    /// Why the keychain cannot be used, in plain words, when it cannot.
    pub keychain_problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyTestResult {
    /// Chat models the key can use, for the model picker.
    pub models: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub default_model: String,
    pub api_base: String,
    /// `TALLY_API_BASE` is set and overrides `api_base` for this run.
    pub api_base_from_env: bool,
    pub onboarded: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsUpdate {
    #[ts(optional)]
    pub default_model: Option<String>,
    #[ts(optional)]
    pub api_base: Option<String>,
    #[ts(optional)]
    pub onboarded: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// `null` starts a new conversation.
    pub conversation_id: Option<i64>,
    pub text: String,
    /// Model for a new conversation; the default model when absent.
    #[ts(optional)]
    pub model: Option<String>,
}

/// The generated TypeScript for every type above.
pub fn bindings_file() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let decls = [
        ChatEvent::decl(&cfg),
        StartKind::decl(&cfg),
        ErrorCode::decl(&cfg),
        IpcError::decl(&cfg),
        MessageStatus::decl(&cfg),
        Role::decl(&cfg),
        ConversationSummary::decl(&cfg),
        MessageView::decl(&cfg),
        ConversationView::decl(&cfg),
        KeySource::decl(&cfg),
        KeyStatusView::decl(&cfg),
        KeyTestResult::decl(&cfg),
        SettingsView::decl(&cfg),
        SettingsUpdate::decl(&cfg),
        SendRequest::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from crates/tally-core/src/api.rs by `cargo xtask bindings`. Do not edit.\n",
    );
    for decl in decls {
        out.push('\n');
        out.push_str("export ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

impl From<tally_store::MessageStatus> for MessageStatus {
    fn from(s: tally_store::MessageStatus) -> Self {
        use tally_store::MessageStatus as S;
        match s {
            S::Streaming => Self::Streaming,
            S::Complete => Self::Complete,
            S::Stopped => Self::Stopped,
            S::Interrupted => Self::Interrupted,
            S::Error => Self::Error,
        }
    }
}

impl From<tally_store::Role> for Role {
    fn from(r: tally_store::Role) -> Self {
        match r {
            tally_store::Role::System => Self::System,
            tally_store::Role::User => Self::User,
            tally_store::Role::Assistant => Self::Assistant,
        }
    }
}

impl From<tally_store::Conversation> for ConversationSummary {
    fn from(c: tally_store::Conversation) -> Self {
        Self {
            id: c.id,
            title: c.title,
            model: c.model,
            updated_at: c.updated_at,
        }
    }
}

impl From<tally_store::Message> for MessageView {
    fn from(m: tally_store::Message) -> Self {
        Self {
            id: m.id,
            parent_id: m.parent_id,
            role: m.role.into(),
            content: m.content,
            status: m.status.into(),
            finish_reason: m.finish_reason,
            model: m.model,
            error_code: m.error_code,
            error_message: m.error_message,
            created_at: m.created_at,
        }
    }
}
