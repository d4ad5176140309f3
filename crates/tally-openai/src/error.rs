use std::time::Duration;

use serde::Deserialize;

/// What went wrong, in the terms the rest of Tally acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The key was refused (401).
    InvalidKey,
    /// The key is valid but may not do this (403).
    PermissionDenied,
    /// Billing: no credit left, or the organisation's/project's own spend limit. Never retried.
    QuotaExhausted,
    /// Too many requests or tokens per minute: try again shortly.
    RateLimited,
    /// The conversation does not fit the model's context window.
    ContextTooLong,
    /// The model does not exist or this key cannot use it.
    ModelNotFound,
    /// The model answers only on the Responses API, not on Chat Completions (404 "This is
    /// not a chat model…"): the request belongs there.
    ResponsesOnly,
    /// A request parameter this model does not accept.
    UnsupportedParameter,
    /// Any other request the API refused (4xx).
    BadRequest,
    /// The service failed (5xx, or a proxy's error page).
    ServerError,
    /// The server could not be reached, or the connection broke.
    Network,
    /// No byte arrived for too long.
    Timeout,
    /// The response could not be read as the API's format.
    InvalidResponse,
}

/// The API's JSON error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiErrorBody {
    pub error: ApiErrorDetail,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
}

/// A failed call. The API's own message is kept for logs and diagnostics; user-facing text
/// is written from [`ErrorKind`] by the caller, since the API's text can quote part of the
/// key and is written for developers.
#[derive(Debug, thiserror::Error)]
pub enum OpenAiError {
    #[error("the API answered HTTP {status} ({kind:?}, code {code:?})")]
    Api {
        status: u16,
        kind: ErrorKind,
        code: Option<String>,
        param: Option<String>,
        request_id: Option<String>,
        retry_after: Option<Duration>,
        /// The server's `x-should-retry` verdict, when it gave one.
        should_retry: Option<bool>,
    },
    #[error("the stream ended with an error ({kind:?}, code {code:?})")]
    Stream {
        kind: ErrorKind,
        code: Option<String>,
    },
    #[error("could not connect to the API server")]
    Connect,
    #[error("no data from the API for {0:?}")]
    Timeout(Duration),
    #[error("the connection to the API broke off")]
    Dropped,
    #[error("the API's answer could not be read: {0}")]
    Decode(String),
    #[error("“{0}” is not a valid API address")]
    InvalidBaseUrl(String),
    /// Plain `http://` to another computer: the key would cross the network readable.
    #[error("“{0}” would send the key unencrypted")]
    InsecureBaseUrl(String),
    /// Something the server sent went past Tally's bound for it (a line, a reply, a tool
    /// call's arguments, an error body): what came before is kept, the rest is not read.
    #[error("the server sent {0} larger than Tally accepts")]
    TooLarge(&'static str),
    /// The server answered with a redirect; Tally follows none (the key would go along).
    #[error("the API address redirected to {0}")]
    Redirected(String),
}

impl OpenAiError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Api { kind, .. } | Self::Stream { kind, .. } => *kind,
            Self::Connect | Self::Dropped => ErrorKind::Network,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Decode(_) => ErrorKind::InvalidResponse,
            Self::InvalidBaseUrl(_) | Self::InsecureBaseUrl(_) => ErrorKind::Network,
            Self::TooLarge(_) | Self::Redirected(_) => ErrorKind::InvalidResponse,
        }
    }

    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        // reqwest's messages name the URL, never headers, but they are for developers:
        // keep only the category.
        if error.is_timeout() {
            Self::Timeout(Duration::ZERO)
        } else if error.is_connect() {
            Self::Connect
        } else if error.is_body() || error.is_decode() || error.is_request() {
            Self::Dropped
        } else {
            Self::Decode(error.without_url().to_string())
        }
    }
}

/// The billing family: a 429 with any of these never succeeds on retry.
const BILLING_CODES: &[&str] = &[
    "insufficient_quota",
    "credit_balance_exhausted",
    "organization_spend_limit_exceeded",
    "project_spend_limit_exceeded",
    "organization_usage_limit_exceeded",
];

/// Maps an HTTP error response (status and body, which may be HTML or empty) to a kind.
pub fn classify(status: u16, body: &[u8]) -> (ErrorKind, ApiErrorDetail) {
    let detail = serde_json::from_slice::<ApiErrorBody>(body)
        .map(|b| b.error)
        .unwrap_or_default();
    (classify_detail(Some(status), &detail), detail)
}

pub(crate) fn classify_detail(status: Option<u16>, detail: &ApiErrorDetail) -> ErrorKind {
    let code = detail.code.as_deref().unwrap_or("");
    let kind = detail.kind.as_deref().unwrap_or("");
    if kind == "insufficient_quota" || BILLING_CODES.contains(&code) {
        return ErrorKind::QuotaExhausted;
    }
    match code {
        "invalid_api_key" => return ErrorKind::InvalidKey,
        "context_length_exceeded" => return ErrorKind::ContextTooLong,
        "model_not_found" => return ErrorKind::ModelNotFound,
        "unsupported_parameter" | "unsupported_value" => return ErrorKind::UnsupportedParameter,
        "rate_limit_exceeded" => return ErrorKind::RateLimited,
        _ => {}
    }
    // The API gives this refusal no code: its words are the only sign.
    let message = detail.message.as_deref().unwrap_or("");
    if status == Some(404) && message.contains("not a chat model") {
        return ErrorKind::ResponsesOnly;
    }
    match status {
        Some(401) => ErrorKind::InvalidKey,
        Some(403) => ErrorKind::PermissionDenied,
        Some(404) => ErrorKind::ModelNotFound,
        Some(408) => ErrorKind::Timeout,
        Some(429) => ErrorKind::RateLimited,
        Some(s) if s >= 500 => ErrorKind::ServerError,
        Some(_) => ErrorKind::BadRequest,
        // An error object inside a 200 stream.
        None if kind == "server_error" || kind.is_empty() => ErrorKind::ServerError,
        None => ErrorKind::BadRequest,
    }
}
