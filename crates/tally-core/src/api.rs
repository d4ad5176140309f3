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
        /// The user message's text when the engine wrote it (a summary's request); the
        /// UI has the text of a message the user wrote.
        user_text: Option<String>,
        /// The oldest messages left out so the request fits the model's context window.
        dropped_messages: u32,
        /// The model may think for many minutes before it answers (a pro model).
        thinks_for_minutes: bool,
    },
    /// More reply text.
    Delta { text: String },
    /// A piece of the model's summary of its reasoning (Responses), shown as "Thinking".
    Thinking { text: String },
    /// The model searches the web (Responses), for this query when it says.
    Searching { query: Option<String> },
    /// A web page the reply cites (each once), shown as a source under it.
    Citation { url: String, title: String },
    /// Waiting before another attempt.
    Retrying {
        attempt: u32,
        in_ms: u64,
        reason: String,
    },
    /// The API found the conversation too long for the model: more of the oldest
    /// messages are left out, and the request is made again.
    Trimmed {
        /// All the messages now left out (those of `Started` included).
        dropped_messages: u32,
    },
    /// Token usage as reported by the API.
    Usage {
        prompt_tokens: u64,
        cached_tokens: u64,
        completion_tokens: u64,
        reasoning_tokens: u64,
    },
    /// The model asked for a tool, or a call it asked for moved on (running, done…):
    /// the call as it now is (the UI replaces the one with the same id).
    ToolCall { call: ToolCallView },
    /// Call `call_id` waits for the user's word (`tool_call_decide`). `at_most`: what the
    /// next round can cost at most, in nano-USD, if this call runs and returns the most a
    /// result may hold (`null` when the model's price is unknown).
    ToolApproval {
        call_id: String,
        at_most: Option<i64>,
    },
    /// The reply ended: completed, or stopped by the user.
    Done {
        status: MessageStatus,
        finish_reason: Option<String>,
        /// nano-USD; `null` when the model's price is unknown.
        cost: Option<i64>,
        estimated: bool,
        /// The API that wrote the reply: `chat` or `responses`.
        endpoint: String,
        /// What this request used, as its ledger row has it.
        usage: ReplyUsage,
        /// The model Tally has no price for, whose price it asks under this reply (once
        /// per model).
        ask_price_of: Option<String>,
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
    /// An edited user message (a new branch beside the old one) and its reply.
    Edit,
    /// A new conversation that starts with a summary of another (its first message
    /// asks for the summary, and the reply is the summary).
    Summary,
}

/// The error codes the UI branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MissingApiKey,
    InvalidApiKey,
    KeychainUnavailable,
    /// The key was kept back from a server the person did not clear (they said no).
    KeyNotSent,
    RateLimited,
    QuotaExhausted,
    BudgetExceeded,
    ContextTooLong,
    ModelNotFound,
    Network,
    Timeout,
    ServerError,
    InvalidInput,
    /// What was asked about is gone (deleted meanwhile, an import cancelled).
    NotFound,
    /// A file could not be written or used (an export, a backup to restore).
    FileFailed,
    Storage,
    /// The disk is full: nothing could be saved until space is freed.
    DiskFull,
    /// Another piece of work holds what this needs (a reply, an import, a restore).
    Busy,
    /// A fault inside Tally itself.
    Internal,
    /// The model kept asking for tools past the most rounds a reply may take.
    ToolRounds,
    /// The desktop opened nothing (no browser or file manager answered).
    OpenFailed,
    /// An update was not installed (not signed by Tally's developers, too large, or the
    /// system refused the package); nothing was changed.
    UpdateFailed,
    /// A file could not be attached: too large, damaged, of a kind Tally cannot send, or
    /// gone (the message says which); what was typed stays.
    AttachmentRefused,
    /// The model takes no pictures: choose one that does (the models list says which).
    ModelWithoutVision,
    /// A PDF with no text (a scan): the window offers to send its pages as pictures.
    PdfWithoutText,
    /// The sync storage did not answer (away, or an address that is not one), or a file
    /// on it could not be read.
    SyncUnreachable,
    /// The sync storage answered too slowly: each request was given up after its time limit.
    SyncTooSlow,
    /// The sync storage refused the user name, password or keys.
    SyncRefused,
    /// The sync storage is full.
    SyncFull,
    /// The passphrase does not open the sync storage.
    SyncWrongPassphrase,
    /// The sync storage was written by a newer version of Tally.
    SyncNewerVersion,
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
    pub pinned: bool,
    /// When it went to the Trash (it is removed for good 30 days later).
    pub deleted_at: Option<i64>,
}

/// Where a page of the sidebar ended; the next page starts after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationCursor {
    pub updated_at: i64,
    pub id: i64,
}

/// Which page of the sidebar to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationListQuery {
    /// The `next` of the previous page; absent for the first page.
    #[ts(optional)]
    pub after: Option<ConversationCursor>,
    /// At most this many recent conversations (default 100, at most 500).
    #[ts(optional)]
    pub limit: Option<u32>,
}

/// One page of the sidebar.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationPage {
    /// Pinned conversations, on the first page only.
    pub pinned: Vec<ConversationSummary>,
    /// The rest, most recently active first.
    pub recent: Vec<ConversationSummary>,
    /// Where the next page starts; `None` when this was the last.
    pub next: Option<ConversationCursor>,
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
    /// What the requests for this reply cost, in nano-USD (`None` before any finished).
    pub cost_nanos: Option<i64>,
    /// Whether a request for this reply was of a model with no known price.
    pub price_unknown: bool,
    /// This message and its siblings (regenerated replies, edited versions), oldest
    /// first, for the `‹ 2/3 ›` switcher; empty when it has none.
    pub sibling_ids: Vec<i64>,
    /// A reply's API: `chat` or `responses` (none for older replies).
    pub endpoint: Option<String>,
    /// The model's summary of its reasoning, when it gave one.
    pub thinking: Option<String>,
    /// The web pages the reply cites.
    pub citations: Vec<CitationView>,
    /// What the requests for this reply used (`None` before any finished).
    pub usage: Option<ReplyUsage>,
    /// The tools the reply called, in order, with their results.
    pub tool_calls: Vec<ToolCallView>,
    /// A reply asked for in JSON, checked when it ended (`null` for text replies).
    pub json_check: Option<JsonCheckView>,
    /// What a user message carries, in the order attached.
    pub attachments: Vec<AttachmentView>,
}

/// Whether an attachment is sent as a picture or as a file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Image,
    File,
}

/// An attachment as kept: what the chip and the message show of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    pub id: i64,
    pub kind: AttachmentKind,
    /// The file's name as chosen.
    pub name: String,
    pub mime: String,
    /// What is kept and sent (a picture after scaling), in bytes.
    pub size_bytes: u64,
    /// A picture's size as sent, in pixels.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// A PDF's pages (its text is what is sent).
    pub pages: Option<u32>,
}

/// A file to attach to the draft: its name, and its content (base64), as the window read
/// it (chosen, pasted or dropped).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInput {
    pub name: String,
    pub data_base64: String,
}

/// An attachment just added to the draft, with what it adds to the request for `model`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AddedAttachment {
    pub attachment: AttachmentView,
    /// Its input tokens for the model asked about.
    pub tokens: u64,
    /// Those tokens at the model's input rate (`None`: its price is unknown).
    pub cost_nanos: Option<i64>,
}

/// A kept attachment's content, for the window to show (a picture larger, a file's text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentContent {
    pub mime: String,
    pub data_base64: String,
}

/// An attachment a message carries: a kept one's id and the name it was chosen by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRef {
    pub id: i64,
    pub name: String,
}

/// A web page a reply cites (an http(s) address, checked when it arrived).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CitationView {
    pub url: String,
    pub title: String,
}

/// What the requests for a reply used: the figures of its cost breakdown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReplyUsage {
    pub prompt_tokens: u64,
    pub cached_tokens: u64,
    /// Output tokens, the model's reasoning included.
    pub completion_tokens: u64,
    /// The part of `completion_tokens` the model spent thinking.
    pub reasoning_tokens: u64,
    /// Billed web search calls.
    pub web_searches: u64,
    /// Some of the figures were estimated (the API reported no usage).
    pub estimated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub conversation: ConversationSummary,
    /// Its model, system prompt and request settings.
    pub settings: ConversationSettings,
    /// The branch on screen, oldest first: all of it, or its last messages when only
    /// those were asked for.
    pub messages: Vec<MessageView>,
    /// How many messages of the branch come before `messages` (0: the whole branch).
    pub earlier_count: u32,
    /// Everything this conversation cost, in nano-USD (known prices only).
    pub cost_nanos: i64,
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
    /// What a new chat starts with (its model is `default_model`).
    pub chat_defaults: ConversationSettings,
    /// New conversations get a short title from a model after the first reply.
    pub auto_titles: bool,
    /// Tally asks its update server once a day whether a new version is out.
    pub update_checks: bool,
}

/// What Settings' "About Tally" shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AboutView {
    /// The app's version, as its packages and updates number it.
    pub version: String,
    /// The day the shipped prices were checked (`YYYY-MM-DD`).
    pub prices_checked_on: String,
    /// The folder of the database and its backups.
    pub data_dir: String,
}

/// What a check for updates found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UpdateView {
    /// The version running now.
    pub current: String,
    /// A newer version, if there is one.
    pub available: Option<AvailableUpdate>,
}

/// A newer version offered by Tally's update server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AvailableUpdate {
    pub version: String,
    /// What is new, in words (plain text, bounded).
    pub notes: Option<String>,
    /// The day it was published (`YYYY-MM-DD`).
    pub date: Option<String>,
}

/// How far an update's download has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProgress {
    pub downloaded: u64,
    /// The package's size, when the server says it.
    pub total: Option<u64>,
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
    /// New defaults for new chats; their model becomes the default model.
    #[ts(optional)]
    pub chat_defaults: Option<ConversationSettings>,
    #[ts(optional)]
    pub auto_titles: Option<bool>,
    #[ts(optional)]
    pub update_checks: Option<bool>,
}

/// A conversation's request settings; `null` leaves each to the API's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChatOptions {
    /// 0 (focused) to 2 (most varied).
    pub temperature: Option<f64>,
    /// 0 to 1.
    pub top_p: Option<f64>,
    /// At most this many tokens per reply (also what the budget holds for a request).
    pub max_output_tokens: Option<u32>,
    /// −2 to 2.
    pub presence_penalty: Option<f64>,
    /// −2 to 2.
    pub frequency_penalty: Option<f64>,
    /// How long a reasoning model may think; `null`: the model's default.
    #[serde(default)]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Let the model search the web (Responses): up to `MAX_WEB_SEARCHES` billed calls
    /// per reply.
    #[serde(default)]
    pub web_search: bool,
    /// The MCP tools the model may call (none: no tools).
    #[serde(default)]
    pub tools: Vec<ToolRef>,
    /// How the model writes its reply: text, or JSON (matching `json_schema`).
    #[serde(default)]
    pub reply_format: ReplyFormat,
    /// The JSON Schema replies must match (as the user pasted it), with `json_schema`.
    #[serde(default)]
    pub json_schema: Option<String>,
}

/// How the model writes its replies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReplyFormat {
    /// Text (Markdown), as usual.
    #[default]
    Text,
    /// Any JSON object.
    Json,
    /// JSON matching the conversation's schema.
    JsonSchema,
}

/// A JSON reply checked when it ended: whether it is JSON, and whether it matches the
/// schema it was asked for (`null`: none was).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JsonCheckView {
    pub is_json: bool,
    pub matches_schema: Option<bool>,
    /// What does not match, in the validator's words with where (at most 8).
    pub problems: Vec<String>,
}

/// A tool of an MCP server, by the server's name and the tool's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolRef {
    pub server: String,
    pub tool: String,
}

/// A tool the model called in a reply: what it asked, and what came of it. Kept with the
/// reply as JSON in this form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolCallView {
    /// The API's id for the call.
    pub id: String,
    /// Which request of the reply asked for it (0: the first).
    pub round: u32,
    /// Where in the reply's text the model asked (bytes of text written before).
    pub text_offset: u32,
    pub server: String,
    pub tool: String,
    /// The name the model called it by.
    pub function: String,
    /// The arguments as the model wrote them (JSON, though the model may get it wrong).
    pub arguments: String,
    pub status: ToolCallStatus,
    /// What the tool returned, or why it did not run (also what the model was told).
    pub result: Option<String>,
    /// How long the tool took.
    pub duration_ms: Option<u64>,
    /// The server's hints about the tool.
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub destructive: bool,
}

/// What the model is told for a call that was asked for but never ran (Tally stopped or
/// closed first).
pub(crate) const NOT_RUN: &str = "This call did not run: the reply was stopped first.";

impl ToolCallView {
    /// A reply's calls from their JSON (none when there is none, or it no longer parses).
    /// A call still pending or running in a reply that is not being written never will
    /// run: shown, and sent back, as not run.
    pub(crate) fn stored(
        json: Option<&str>,
        reply_status: tally_store::MessageStatus,
    ) -> Vec<Self> {
        let mut calls: Vec<Self> = json
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        if reply_status != tally_store::MessageStatus::Streaming {
            for call in &mut calls {
                if matches!(
                    call.status,
                    ToolCallStatus::Pending | ToolCallStatus::Running
                ) {
                    call.status = ToolCallStatus::Error;
                    call.result = Some(NOT_RUN.into());
                }
            }
        }
        calls
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ToolCallStatus {
    /// Asked for; waiting for the user's word or its turn.
    Pending,
    Running,
    Done,
    /// It failed, timed out, or could not run; the model was told why.
    Error,
    /// The user said no; the model was told so.
    Denied,
}

/// The user's word on a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ToolDecision {
    /// Run this call.
    Once,
    /// Run it, and this tool's calls in this conversation from now on.
    AlwaysHere,
    /// Run it, and this tool's calls everywhere from now on.
    Always,
    /// Do not run it; the model is told so.
    Deny,
}

/// A tool call allowed for good, listed in Settings to be taken back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolPermissionView {
    pub id: i64,
    pub server: String,
    pub tool: String,
    /// The conversation it holds in; `null`: every conversation.
    pub conversation_id: Option<i64>,
    pub conversation_title: Option<String>,
}

/// How long a reasoning model may think, least first. Which ones a model takes is the
/// catalog's to say (`ModelView::efforts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningEffort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    Xhigh,
}

impl ReasoningEffort {
    const ALL: [Self; 6] = [
        Self::None,
        Self::Minimal,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Xhigh,
    ];

    /// The word the API takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minimal => "minimal",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Xhigh => "xhigh",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == word)
    }
}

/// What a conversation is sent with: model, system prompt, options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSettings {
    pub model: String,
    pub system_prompt: Option<String>,
    pub options: ChatOptions,
}

/// A system-prompt preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PersonaView {
    pub id: i64,
    pub name: String,
    pub prompt: String,
}

/// A persona to add (`id` absent) or change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PersonaInput {
    #[ts(optional)]
    pub id: Option<i64>,
    pub name: String,
    pub prompt: String,
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
    /// "Send this one anyway": let this request past the budget's hard stop.
    #[serde(default)]
    #[ts(optional)]
    pub allow_over_budget: Option<bool>,
    /// The user message this text replaces (an edit): sent as a new branch beside it.
    #[serde(default)]
    #[ts(optional)]
    pub edit_of: Option<i64>,
    /// Settings of a new conversation (the defaults when absent); they take precedence
    /// over `model`.
    #[serde(default)]
    #[ts(optional)]
    pub settings: Option<ConversationSettings>,
    /// What the message carries (kept by `attachment_add`), in order.
    #[serde(default)]
    #[ts(optional)]
    pub attachments: Option<Vec<AttachmentRef>>,
}

// ----- search -----

/// One search result: a conversation whose title matched, or a message in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchHitView {
    pub conversation_id: i64,
    pub conversation_title: String,
    /// `null` when the title matched.
    pub message_id: Option<i64>,
    /// The matching part; matched words are between U+E000 and U+E001.
    pub snippet: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchView {
    pub hits: Vec<SearchHitView>,
    /// Message hits by relevance; `false` for a very common word (newest first).
    pub by_relevance: bool,
}

// ----- spend -----

/// The meter's colour band (`none` when no budget is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MeterLevel {
    None,
    Calm,
    Notice,
    Warning,
    Over,
}

/// The monthly budget as set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BudgetView {
    pub monthly_nanos: i64,
    pub reset_day: u8,
    pub thresholds: Vec<u16>,
    pub hard_stop: bool,
}

/// A budget as the user typed it; the amount is dollars as text ("10", "12.50").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BudgetInput {
    pub amount: String,
    pub reset_day: u8,
    pub thresholds: Vec<u16>,
    pub hard_stop: bool,
}

/// A budget threshold that alerted this month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BudgetAlertView {
    pub threshold: u16,
    pub fired_at: i64,
    /// What the banner and the OS notification say.
    pub message: String,
}

/// Everything the spend meter shows. Sent as the `spend_updated` event after every
/// billed request and every budget change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SpendView {
    /// The budget month (the calendar month with no budget), UTC epoch ms, `[start, end)`.
    pub period_start: i64,
    pub period_end: i64,
    /// The period's last day, `YYYY-MM-DD` in the user's time zone.
    pub last_day: String,
    pub spent_nanos: i64,
    /// The part of `spent_nanos` estimated with the tokenizer.
    pub estimated_nanos: i64,
    /// Requests of models with no known price this period (metered in tokens only).
    pub unpriced_requests: i64,
    pub requests: i64,
    /// At this pace, what the period will have cost by its end.
    pub projected_nanos: i64,
    pub budget: Option<BudgetView>,
    pub level: MeterLevel,
    /// Alerts of this period not yet dismissed, lowest threshold first.
    pub alerts: Vec<BudgetAlertView>,
    /// The day the shipped prices were checked.
    pub prices_checked_on: String,
}

/// One model's price, shipped or the user's (rates in nano-USD per 1M tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PriceView {
    pub model: String,
    pub input_nanos: i64,
    pub cached_input_nanos: Option<i64>,
    pub output_nanos: i64,
    pub context_window: u32,
    pub max_output: u32,
    pub user_set: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PricesView {
    pub checked_on: String,
    pub models: Vec<PriceView>,
    /// Models used that have no price (the UI prompts the user to set one).
    pub unpriced_models: Vec<String>,
}

/// A model a picker offers, with what the catalog knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelView {
    /// The id the API takes (the option's value).
    pub id: String,
    /// In the catalog or priced by the user; `false`: price unknown, metered in tokens.
    pub known: bool,
    /// Its price in words, e.g. "$0.75 in, $4.50 out per million tokens".
    pub price_words: Option<String>,
    /// Thinks before it answers.
    pub reasoning: bool,
    /// The reasoning efforts it accepts, least first (`none` … `xhigh`).
    pub efforts: Vec<String>,
    /// Served only by the Responses API.
    pub responses_only: bool,
    pub context_window: Option<u32>,
}

/// The models to offer: the key's own list once it was tested, else the catalog's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelsView {
    /// Known models first (newest first), then the ones the catalog does not know.
    pub models: Vec<ModelView>,
    /// The list is the one `GET /models` gave for the key.
    pub from_key: bool,
    /// The day the catalog was checked.
    pub checked_on: String,
    /// What a reply's web searches may cost: at most this many calls, each this fee.
    pub web_search: WebSearchView,
}

/// A price as the user typed it: dollars per 1M tokens as text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PriceInput {
    pub model: String,
    pub input: String,
    /// Empty: no cached rate (cached tokens billed at the input rate).
    pub cached_input: String,
    pub output: String,
    pub context_window: u32,
    pub max_output: u32,
}

/// What the composer holds, for the pre-send estimate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DraftRequest {
    pub conversation_id: Option<i64>,
    /// The model of a new conversation; the default model when absent.
    #[ts(optional)]
    pub model: Option<String>,
    pub text: String,
    /// The tools chosen for a new conversation; its defaults' when absent.
    #[ts(optional)]
    #[serde(default)]
    pub tools: Option<Vec<ToolRef>>,
    /// The draft's attachments (kept ones), counted with it.
    #[ts(optional)]
    #[serde(default)]
    pub attachments: Option<Vec<AttachmentRef>>,
}

/// The pre-send estimate under the composer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DraftEstimate {
    pub model: String,
    /// Exact input tokens of the conversation's branch and the draft, before any oldest
    /// turns are left out to fit the context window (the header shows it against it).
    pub input_tokens: u64,
    /// Of `input_tokens`, what the definitions of the tools offered add to every request
    /// ("tools add 2,140 tokens to every message").
    pub tools_tokens: u64,
    pub context_window: Option<u32>,
    /// The longest reply allowed: the conversation's limit, or the model's most.
    pub max_output_tokens: Option<u32>,
    /// The cost with no output at all, and with every output token allowed; `None`
    /// when the model's price is unknown.
    pub min_cost_nanos: Option<i64>,
    pub max_cost_nanos: Option<i64>,
    /// Costly enough that the user should confirm (a large paste, say).
    pub unusual: bool,
    /// The model's long-prompt tier, on the models that have one.
    pub long_prompt: Option<LongPromptView>,
    /// With web search on: the searches a reply may run and the fee of each, counted in
    /// `max_cost_nanos` (with what they may read).
    pub web_search: Option<WebSearchView>,
    /// Of `input_tokens`, each draft attachment's, in the order asked (its chip shows it).
    pub attachment_tokens: Vec<u64>,
    /// Why the draft's attachments cannot be sent to this model (a picture for a model
    /// that takes none; one no longer kept), in words; sending would be refused so.
    pub attachment_problem: Option<String>,
}

/// The web searches a request may make, and what each costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WebSearchView {
    pub max_calls: u32,
    pub fee_nanos: i64,
}

/// A price tier for long prompts, and where this request stands against its line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LongPromptView {
    /// Past this many input tokens the whole request bills at the higher tier.
    pub over_input_tokens: u64,
    /// The higher tier's rates, in percent of the usual ones (200: twice as much).
    pub input_percent: u32,
    pub output_percent: u32,
    /// This request is past the line: the costs above are at the higher tier.
    pub crossed: bool,
}

/// One bar of a chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SpendBar {
    /// The first day of the bar, `YYYY-MM-DD` in the user's time zone.
    pub label: String,
    pub start: i64,
    pub cost_nanos: i64,
    pub requests: i64,
    pub unpriced: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelSpendView {
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSpendView {
    pub conversation_id: i64,
    pub title: String,
    pub requests: i64,
    pub cost_nanos: i64,
}

/// The usage page: this budget month by day, the last 12 budget months, by model, and
/// the costliest conversations. Its totals are the meter's, to the nano-USD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    pub spend: SpendView,
    pub days: Vec<SpendBar>,
    pub months: Vec<SpendBar>,
    pub by_model: Vec<ModelSpendView>,
    pub top_conversations: Vec<ConversationSpendView>,
    /// This month's web searches and their fees, shown apart (they are in the totals).
    pub web_search_calls: i64,
    pub web_search_fees_nanos: i64,
    /// What each computer that syncs spent this month (one row when there is no other).
    pub by_computer: Vec<SyncDeviceView>,
}

/// Which ledger rows the request log shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LedgerQuery {
    #[ts(optional)]
    pub from: Option<i64>,
    #[ts(optional)]
    pub to: Option<i64>,
    #[ts(optional)]
    pub model: Option<String>,
    #[ts(optional)]
    pub purpose: Option<String>,
    #[ts(optional)]
    pub status: Option<String>,
    #[ts(optional)]
    pub limit: Option<u32>,
    #[ts(optional)]
    pub offset: Option<u32>,
}

/// One billed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LedgerRowView {
    pub id: i64,
    pub created_at: i64,
    pub conversation_id: Option<i64>,
    pub conversation_title: Option<String>,
    pub purpose: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub cached_tokens: u64,
    /// Prompt tokens written to the cache.
    pub cache_write_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
    pub web_search_calls: u64,
    pub cost_nanos: Option<i64>,
    pub estimated: bool,
    pub status: String,
    pub request_id: Option<String>,
    pub first_token_ms: Option<i64>,
    pub duration_ms: Option<i64>,
}

/// A conversation's new title, written by a model after its first reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TitleView {
    pub conversation_id: i64,
    pub title: String,
}

/// Why a backup was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BackupKind {
    Daily,
    Manual,
    BeforeUpgrade,
    BeforeRestore,
}

/// One backup of the database, as Settings lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BackupView {
    /// What `backup_restore` takes.
    pub name: String,
    pub created_at: i64,
    pub kind: BackupKind,
    /// For a backup made before an upgrade: the schema version upgraded to.
    pub upgrade_to: Option<i64>,
    pub size_bytes: u64,
}

/// Told once the app starts after a damaged database was replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryNotice {
    /// What happened and what may be missing, in plain words.
    pub message: String,
    /// Where the damaged file was kept.
    pub damaged_copy: String,
}

/// Where an export was written, and how many rows (ledger rows, or conversations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportResult {
    pub path: String,
    pub rows: u64,
}

/// How conversations are exported: Markdown to read, Tally JSON to move them (every
/// branch, the settings and the costs, imported back as they were).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Markdown,
    Json,
}

/// Which conversations to export, and how.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    /// One conversation; all of them (not the Trash) when absent.
    #[ts(optional)]
    pub conversation_id: Option<i64>,
    pub format: ExportFormat,
}

/// How far an import has got, for its progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportProgress {
    pub done: u32,
    pub total: u32,
}

/// Which app an imported file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportSource {
    Tally,
    Chatgpt,
}

/// What an import did, for the summary after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    pub source: ImportSource,
    /// Conversations added.
    pub imported: u32,
    /// Conversations left alone because an earlier import (or this app) has them.
    pub already_there: u32,
    /// Messages added, every branch counted.
    pub messages: u32,
    /// Pictures, files and other parts that are not text, left out with a note.
    pub skipped_parts: u32,
    /// Pictures brought in with their messages (ChatGPT's come with its export's `.zip`).
    pub pictures: u32,
    /// Conversations the file holds that could not be read.
    pub unreadable: u32,
}

/// Where the computers meet to sync, as typed in Settings. A secret left out keeps the one
/// stored in the keychain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SyncLocationInput {
    /// A folder another program syncs (Syncthing, Dropbox, OneDrive, iCloud Drive).
    Folder { path: String },
    /// A WebDAV server's folder (Nextcloud, a NAS).
    #[serde(rename_all = "camelCase")]
    WebDav {
        url: String,
        username: String,
        #[ts(optional)]
        #[serde(default, skip_serializing)]
        password: Option<String>,
    },
    /// S3-compatible storage.
    #[serde(rename_all = "camelCase")]
    S3 {
        endpoint: String,
        region: String,
        bucket: String,
        access_key_id: String,
        #[ts(optional)]
        #[serde(default, skip_serializing)]
        secret_access_key: Option<String>,
    },
}

/// Turning sync on: where, and the passphrase every computer uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncSetupInput {
    pub location: SyncLocationInput,
    pub passphrase: String,
}

/// Sync's state: `off`, `idle` (on, between syncs), `syncing`, `error` (the last sync
/// failed; `problem` says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    Off,
    Idle,
    Syncing,
    Error,
}

/// A computer that syncs, with what it spent this budget month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncDeviceView {
    pub name: String,
    pub this_computer: bool,
    /// When its files were last read here (none for this computer).
    pub last_seen: Option<i64>,
    pub spent_nanos: i64,
    pub requests: i64,
}

/// What Settings' Sync shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncView {
    pub status: SyncStatus,
    /// Where, without its secrets (kept after sync is turned off, to turn it on again).
    pub location: Option<SyncLocationInput>,
    pub last_sync_at: Option<i64>,
    /// What the last sync did, in words ("Sent 4 changes; received 2 messages.").
    pub last_result: Option<String>,
    /// Why the last sync failed, or files that could not be read, in words.
    pub problem: Option<String>,
    pub devices: Vec<SyncDeviceView>,
    /// With a budget and more than one computer: how far their spending together can pass
    /// it while all are offline, in words.
    pub overshoot: Option<String>,
    /// Conversations, messages or spending that arrived in the last sync (the window
    /// reloads its lists when this is above 0).
    pub received: u64,
}

/// How to reach an MCP server: a program on this computer, or an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum McpTransport {
    Stdio {
        command: String,
        args: Vec<String>,
        /// The server's own environment variables (shown to the user, kept in the database).
        env: std::collections::BTreeMap<String, String>,
        cwd: Option<String>,
    },
    Http {
        url: String,
    },
}

/// Where a server is: `off` (turned off by the user), `starting`, `ready`, `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum McpStatus {
    Off,
    Starting,
    Ready,
    Failed,
}

/// A tool a server offers, with its hints (the server's word, not a guarantee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct McpToolView {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub read_only: bool,
    pub destructive: bool,
}

/// What a server is doing now (also the payload of the `mcp-server-changed` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct McpServerStateView {
    pub id: i64,
    pub status: McpStatus,
    pub tools: Vec<McpToolView>,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// The last lines its program wrote to stderr.
    pub stderr: Vec<String>,
}

/// An MCP server in Settings. Its token never crosses IPC: `hasToken` says if there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct McpServerView {
    pub id: i64,
    pub name: String,
    pub transport: McpTransport,
    pub enabled: bool,
    pub has_token: bool,
    pub state: McpServerStateView,
}

/// A server to add (`id` absent) or change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct McpServerInput {
    #[ts(optional)]
    pub id: Option<i64>,
    pub name: String,
    pub transport: McpTransport,
    pub enabled: bool,
    /// A remote server's bearer token, for the keychain: absent keeps the stored one, an
    /// empty text removes it.
    #[ts(optional)]
    pub token: Option<String>,
}

/// An entry of a pasted `mcpServers` list that was not added, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct McpSkippedView {
    pub name: String,
    pub reason: String,
}

/// What an import of a pasted `mcpServers` list did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct McpImportView {
    pub added: Vec<String>,
    pub skipped: Vec<McpSkippedView>,
    pub servers: Vec<McpServerView>,
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
        ConversationCursor::decl(&cfg),
        ConversationListQuery::decl(&cfg),
        ConversationPage::decl(&cfg),
        MessageView::decl(&cfg),
        AttachmentKind::decl(&cfg),
        AttachmentView::decl(&cfg),
        AttachmentInput::decl(&cfg),
        AddedAttachment::decl(&cfg),
        AttachmentContent::decl(&cfg),
        AttachmentRef::decl(&cfg),
        CitationView::decl(&cfg),
        ReplyUsage::decl(&cfg),
        ConversationView::decl(&cfg),
        KeySource::decl(&cfg),
        KeyStatusView::decl(&cfg),
        KeyTestResult::decl(&cfg),
        SettingsView::decl(&cfg),
        AboutView::decl(&cfg),
        UpdateView::decl(&cfg),
        AvailableUpdate::decl(&cfg),
        UpdateProgress::decl(&cfg),
        SettingsUpdate::decl(&cfg),
        ChatOptions::decl(&cfg),
        ReasoningEffort::decl(&cfg),
        ConversationSettings::decl(&cfg),
        PersonaView::decl(&cfg),
        PersonaInput::decl(&cfg),
        SendRequest::decl(&cfg),
        SearchHitView::decl(&cfg),
        SearchView::decl(&cfg),
        MeterLevel::decl(&cfg),
        BudgetView::decl(&cfg),
        BudgetInput::decl(&cfg),
        BudgetAlertView::decl(&cfg),
        SpendView::decl(&cfg),
        PriceView::decl(&cfg),
        PricesView::decl(&cfg),
        ModelView::decl(&cfg),
        ModelsView::decl(&cfg),
        PriceInput::decl(&cfg),
        DraftEstimate::decl(&cfg),
        LongPromptView::decl(&cfg),
        WebSearchView::decl(&cfg),
        DraftRequest::decl(&cfg),
        SpendBar::decl(&cfg),
        ModelSpendView::decl(&cfg),
        ConversationSpendView::decl(&cfg),
        UsageReport::decl(&cfg),
        LedgerQuery::decl(&cfg),
        LedgerRowView::decl(&cfg),
        ExportResult::decl(&cfg),
        ExportFormat::decl(&cfg),
        ExportRequest::decl(&cfg),
        ImportProgress::decl(&cfg),
        ImportSource::decl(&cfg),
        ImportSummary::decl(&cfg),
        TitleView::decl(&cfg),
        BackupKind::decl(&cfg),
        BackupView::decl(&cfg),
        RecoveryNotice::decl(&cfg),
        McpTransport::decl(&cfg),
        McpStatus::decl(&cfg),
        McpToolView::decl(&cfg),
        McpServerStateView::decl(&cfg),
        McpServerView::decl(&cfg),
        McpServerInput::decl(&cfg),
        McpSkippedView::decl(&cfg),
        McpImportView::decl(&cfg),
        ToolRef::decl(&cfg),
        ReplyFormat::decl(&cfg),
        JsonCheckView::decl(&cfg),
        ToolCallView::decl(&cfg),
        ToolCallStatus::decl(&cfg),
        ToolDecision::decl(&cfg),
        ToolPermissionView::decl(&cfg),
        SyncLocationInput::decl(&cfg),
        SyncSetupInput::decl(&cfg),
        SyncStatus::decl(&cfg),
        SyncDeviceView::decl(&cfg),
        SyncView::decl(&cfg),
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
            pinned: c.pinned_at.is_some(),
            deleted_at: c.deleted_at,
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
            cost_nanos: None,
            price_unknown: false,
            sibling_ids: Vec::new(),
            endpoint: m.endpoint,
            thinking: m.thinking,
            // Sources that no longer parse are left out rather than shown broken.
            citations: m
                .citations
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok())
                .unwrap_or_default(),
            usage: None,
            tool_calls: ToolCallView::stored(m.tool_calls.as_deref(), m.status),
            json_check: m
                .json_check
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok()),
            attachments: Vec::new(),
        }
    }
}
