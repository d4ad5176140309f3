//! The client of OpenAI's Chat Completions and Responses APIs.
//!
//! This crate owns everything about talking to an OpenAI-compatible API: the typed
//! requests, chunks and events of both APIs, the SSE stream of a reply, timeouts, and the taxonomy that
//! turns each way the API fails into one [`ErrorKind`]. It knows nothing of storage,
//! money, the UI or Tauri, and it never logs or returns the API key: the key enters as a
//! [`SecretString`] and leaves only in the `Authorization` header.
//!
//! The whole project's map is `ARCHITECTURE.md` at the repository's root.

mod attempt;
mod capabilities;
mod client;
mod error;
mod responses;
mod retry;
mod stream;
mod types;

pub use attempt::{Attempt, ClientEvent, RateLimits};
pub use capabilities::{Adaptation, Capabilities, RequestOptions, adapt};
pub use client::{
    ClientConfig, LONG_THINKING_FIRST_TOKEN, OpenAiClient, is_loopback, parse_base_url,
};
pub use error::{ApiErrorBody, ApiErrorDetail, ErrorKind, OpenAiError, classify};
pub use responses::{
    Annotation, Api, InputItem, InputPart, OutputItem, ReasoningInput, ResponseObject,
    ResponsesEvent, ResponsesRequest, ResponsesUsage, TextFormat, TextOptions, ToolSpec,
};
pub use retry::{RetryNotice, RetryPolicy, is_retryable};
pub use stream::{
    ChatStream, Citation, MAX_CITATION_TITLE_CHARS, MAX_CITATION_URL_BYTES, MAX_CITATIONS,
    MAX_LINE_BYTES, MAX_REASONING_ITEM_BYTES, MAX_REASONING_ITEMS, MAX_REPLY_BYTES,
    MAX_TOOL_ARGUMENT_BYTES, MAX_TOOL_CALLS, ReasoningItem, StreamEvent, StreamTimeouts,
};
pub use types::*;

pub use secrecy::{ExposeSecret, SecretString};

/// The detail every picture is sent at (the one Tally's estimates count by).
pub(crate) const PICTURE_DETAIL: &str = "high";
