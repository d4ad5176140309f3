use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt, TryStreamExt};

use crate::attempt::Attempt;
use crate::error::{ApiErrorBody, ApiErrorDetail, classify_detail};
use crate::responses::{Annotation, OutputItem, ResponseObject, ResponsesEvent};
use crate::{Api, ChatChunk, FinishReason, OpenAiError, ToolCall, Usage};

/// What a reply stream yields, in order: text deltas, then the finish reason, then (when
/// asked for with `include_usage`) the usage, then the end of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Delta(String),
    /// Responses: a piece of the model's summary of its reasoning, before or between the
    /// pieces of the reply.
    Thinking(String),
    /// Responses: the model starts a web search (for this query, when it says).
    Searching {
        query: Option<String>,
    },
    /// Responses: a web page the reply cites (each page once).
    Citation(Citation),
    Finished(FinishReason),
    Usage(Usage),
}

impl StreamEvent {
    /// A piece of what the model writes (its reply or its thinking), as opposed to news
    /// about the reply: the first one marks the first token.
    fn is_written(&self) -> bool {
        !matches!(self, Self::Searching { .. } | Self::Citation(_))
    }
}

/// A web page a reply cites: only http(s) addresses are kept, bounded in length.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Citation {
    pub url: String,
    pub title: String,
}

/// The most sources one reply may cite, the longest address kept, and the longest title
/// (cut, not refused).
pub const MAX_CITATIONS: usize = 64;
pub const MAX_CITATION_URL_BYTES: usize = 2048;
pub const MAX_CITATION_TITLE_CHARS: usize = 300;
/// The longest search query shown.
const MAX_QUERY_CHARS: usize = 300;

impl Citation {
    /// A citation Tally can show and open, or `None`: an address that is not http(s),
    /// too long, or has spaces or control characters; a title cut to its bound (the
    /// address stands in for a missing one).
    pub fn checked(url: String, title: Option<String>) -> Option<Self> {
        let lower = url.get(..8).unwrap_or(&url).to_ascii_lowercase();
        let web = lower.starts_with("https://") || lower.starts_with("http://");
        if !web
            || url.len() > MAX_CITATION_URL_BYTES
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return None;
        }
        let title = title
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| url.clone());
        Some(Self {
            title: title.chars().take(MAX_CITATION_TITLE_CHARS).collect(),
            url,
        })
    }
}

/// The longest SSE line Tally reads. A real chunk is well under 10 KB; a line without
/// end would otherwise be buffered until memory runs out.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// The most reply text one stream may bring (about 2,000 pages): a reply that never
/// ends is cut here, with what came before kept.
pub const MAX_REPLY_BYTES: usize = 8 << 20;
/// The most a tool call's arguments may hold.
pub const MAX_TOOL_ARGUMENT_BYTES: usize = 1 << 20;
/// The most tool calls one reply may make.
pub const MAX_TOOL_CALLS: usize = 128;
/// The most reasoning items one reply may carry back, and the most each may hold.
pub const MAX_REASONING_ITEMS: usize = 128;
pub const MAX_REASONING_ITEM_BYTES: usize = 1 << 20;

/// A reasoning item of a Responses reply: opaque, kept to be sent back on the next turn.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReasoningItem {
    pub id: String,
    pub encrypted_content: String,
}

/// How long a stream may stay silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamTimeouts {
    /// Before the first piece of the reply (a reasoning model thinks here, silently).
    pub first_token: Duration,
    /// Between pieces once the reply is flowing.
    pub idle: Duration,
}

type SseStream = Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<OpenAiError>>> + Send>>;

/// A reply arriving over SSE. Dropping it drops the HTTP connection, which is how a
/// request is cancelled.
pub struct ChatStream {
    api: Api,
    events: SseStream,
    timeouts: StreamTimeouts,
    attempt: Attempt,
    began: Instant,
    /// Set when the first piece of the reply is handed out.
    first_token_after: Option<Duration>,
    done: bool,
    pending: std::collections::VecDeque<StreamEvent>,
    tool_calls: Vec<ToolCall>,
    /// Reply text handed out so far, in bytes, against [`MAX_REPLY_BYTES`].
    reply_bytes: usize,
    /// Responses only: bytes of the model's reasoning summary handed out (against
    /// [`MAX_REPLY_BYTES`]; the text itself goes out as `Thinking` events), its reasoning
    /// items, and the web searches it ran.
    thinking_bytes: usize,
    reasoning_items: Vec<ReasoningItem>,
    web_searches: u32,
    /// Responses: the addresses cited so far (each is handed out once).
    cited: Vec<String>,
}

impl ChatStream {
    pub(crate) fn new(
        api: Api,
        response: reqwest::Response,
        timeouts: StreamTimeouts,
        attempt: Attempt,
        began: Instant,
    ) -> Self {
        let body = response.bytes_stream().map_err(OpenAiError::from_reqwest);
        let mut stream = Self::from_byte_stream(body, timeouts, attempt.request_id.clone());
        stream.api = api;
        stream.attempt = attempt;
        stream.began = began;
        stream
    }

    /// Reads a reply from any source of SSE bytes, split anywhere (the HTTP body in the
    /// app; arbitrary chunks in the parser's tests).
    pub fn from_byte_stream(
        body: impl Stream<Item = Result<Bytes, OpenAiError>> + Send + 'static,
        timeouts: StreamTimeouts,
        request_id: Option<String>,
    ) -> Self {
        let mut attempt = Attempt::new(1);
        attempt.request_id = request_id;
        Self {
            api: Api::ChatCompletions,
            events: Box::pin(bounded_lines(body, MAX_LINE_BYTES).eventsource()),
            timeouts,
            attempt,
            began: Instant::now(),
            first_token_after: None,
            done: false,
            pending: Default::default(),
            tool_calls: Vec::new(),
            reply_bytes: 0,
            thinking_bytes: 0,
            reasoning_items: Vec::new(),
            web_searches: 0,
            cited: Vec::new(),
        }
    }

    /// The same stream read as the Responses API's events.
    pub fn responses(mut self) -> Self {
        self.api = Api::Responses;
        self
    }

    /// The API whose stream this is.
    pub fn api(&self) -> Api {
        self.api
    }

    /// Responses: the reasoning items finished so far, to send back on the next turn.
    pub fn reasoning_items(&self) -> &[ReasoningItem] {
        &self.reasoning_items
    }

    /// Responses: the web searches run so far (each a billed call).
    pub fn web_searches(&self) -> u32 {
        self.web_searches
    }

    /// Tool calls streamed so far, their argument fragments merged by `index`.
    pub fn tool_calls(&self) -> &[ToolCall] {
        &self.tool_calls
    }

    /// The `x-request-id` of the response, for support and the request log.
    pub fn request_id(&self) -> Option<&str> {
        self.attempt.request_id.as_deref()
    }

    /// The HTTP attempt this stream is the answer to.
    pub fn attempt(&self) -> &Attempt {
        &self.attempt
    }

    /// From the start of the attempt to the first piece of the reply, once it came.
    pub fn first_token_after(&self) -> Option<Duration> {
        self.first_token_after
    }

    /// Since the start of the attempt.
    pub fn elapsed(&self) -> Duration {
        self.began.elapsed()
    }

    /// The next event; `None` once `[DONE]` arrived (Responses: a terminal event). A
    /// connection that closes before yields [`OpenAiError::Dropped`]; an `error` data line
    /// (Responses: an `error` event or `response.failed`) yields [`OpenAiError::Stream`];
    /// no byte for the idle timeout yields [`OpenAiError::Timeout`].
    pub async fn next(&mut self) -> Option<Result<StreamEvent, OpenAiError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                if self.first_token_after.is_none() && event.is_written() {
                    self.first_token_after = Some(self.began.elapsed());
                }
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            // Until the first piece of the reply, the (longer) first-token limit applies.
            let limit = if self.first_token_after.is_some() {
                self.timeouts.idle
            } else {
                self.timeouts.first_token
            };
            let next = match tokio::time::timeout(limit, self.events.next()).await {
                Err(_) => return self.fail(OpenAiError::Timeout(limit)),
                Ok(next) => next,
            };
            match next {
                None => return self.fail(OpenAiError::Dropped),
                Some(Err(EventStreamError::Transport(e))) => return self.fail(e),
                Some(Err(EventStreamError::Utf8(e))) => {
                    return self.fail(OpenAiError::Decode(e.to_string()));
                }
                Some(Err(EventStreamError::Parser(e))) => {
                    return self.fail(OpenAiError::Decode(e.to_string()));
                }
                Some(Ok(event)) => {
                    if let Err(e) = self.accept(&event.data) {
                        return self.fail(e);
                    }
                }
            }
        }
    }

    fn fail(&mut self, error: OpenAiError) -> Option<Result<StreamEvent, OpenAiError>> {
        self.done = true;
        Some(Err(error))
    }

    /// Parses one `data:` payload into zero or more pending events.
    fn accept(&mut self, data: &str) -> Result<(), OpenAiError> {
        let data = data.trim();
        if data.is_empty() {
            return Ok(());
        }
        if self.api == Api::Responses {
            let event: ResponsesEvent =
                serde_json::from_str(data).map_err(|e| OpenAiError::Decode(e.to_string()))?;
            return self.accept_responses(event);
        }
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        if let Ok(body) = serde_json::from_str::<ApiErrorBody>(data) {
            return Err(OpenAiError::Stream {
                kind: classify_detail(None, &body.error),
                code: body.error.code,
            });
        }
        let chunk: ChatChunk =
            serde_json::from_str(data).map_err(|e| OpenAiError::Decode(e.to_string()))?;
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            for fragment in choice.delta.tool_calls.into_iter().flatten() {
                merge_tool_call(&mut self.tool_calls, fragment)?;
            }
            let texts = [choice.delta.content, choice.delta.refusal];
            for text in texts.into_iter().flatten().filter(|t| !t.is_empty()) {
                self.reply_bytes += text.len();
                if self.reply_bytes > MAX_REPLY_BYTES {
                    return Err(OpenAiError::TooLarge("a reply"));
                }
                self.pending.push_back(StreamEvent::Delta(text));
            }
            if let Some(reason) = choice.finish_reason {
                self.pending.push_back(StreamEvent::Finished(reason));
            }
        }
        if let Some(usage) = chunk.usage {
            self.pending.push_back(StreamEvent::Usage(usage));
        }
        Ok(())
    }

    fn push_text(&mut self, text: String) -> Result<(), OpenAiError> {
        if text.is_empty() {
            return Ok(());
        }
        self.reply_bytes += text.len();
        if self.reply_bytes > MAX_REPLY_BYTES {
            return Err(OpenAiError::TooLarge("a reply"));
        }
        self.pending.push_back(StreamEvent::Delta(text));
        Ok(())
    }

    /// One Responses event: text as deltas; a terminal event as the finish reason and the
    /// usage, then the end; a failure as an error.
    fn accept_responses(&mut self, event: ResponsesEvent) -> Result<(), OpenAiError> {
        match event {
            ResponsesEvent::OutputTextDelta { delta } | ResponsesEvent::RefusalDelta { delta } => {
                self.push_text(delta)?;
            }
            ResponsesEvent::ReasoningSummaryDelta { delta } => {
                self.thinking_bytes += delta.len();
                if self.thinking_bytes > MAX_REPLY_BYTES {
                    return Err(OpenAiError::TooLarge("the model's reasoning"));
                }
                if !delta.is_empty() {
                    self.pending.push_back(StreamEvent::Thinking(delta));
                }
            }
            ResponsesEvent::OutputItemAdded {
                item: OutputItem::WebSearchCall { action },
            } => {
                let query = action
                    .and_then(|a| a.query)
                    .map(|q| q.chars().take(MAX_QUERY_CHARS).collect::<String>())
                    .filter(|q| !q.trim().is_empty());
                self.pending.push_back(StreamEvent::Searching { query });
            }
            ResponsesEvent::OutputItemAdded { .. } => {}
            ResponsesEvent::OutputItemDone { item } => self.finished_item(item)?,
            ResponsesEvent::AnnotationAdded {
                annotation: Annotation::UrlCitation { url, title },
            } => self.cite(url, title),
            ResponsesEvent::AnnotationAdded { .. } => {}
            // Responses has no finish reason: a reply that called functions waits for them,
            // as Chat Completions' `tool_calls` says.
            ResponsesEvent::Completed { response } => {
                let finish = if self.tool_calls.is_empty() {
                    FinishReason::Stop
                } else {
                    FinishReason::ToolCalls
                };
                self.end(finish, response)
            }
            ResponsesEvent::Incomplete { response } => {
                let reason = response
                    .incomplete_details
                    .as_ref()
                    .and_then(|d| d.reason.as_deref());
                let finish = match reason {
                    Some("content_filter") => FinishReason::ContentFilter,
                    // `max_output_tokens`: the Responses form of a length cut.
                    _ => FinishReason::Length,
                };
                self.end(finish, response);
            }
            ResponsesEvent::Failed { response } => {
                let error = response.error.unwrap_or_default();
                return Err(stream_error(error.code, None));
            }
            ResponsesEvent::Error { code, param, .. } => return Err(stream_error(code, param)),
            ResponsesEvent::Other => {}
        }
        Ok(())
    }

    fn finished_item(&mut self, item: OutputItem) -> Result<(), OpenAiError> {
        match item {
            OutputItem::Reasoning {
                id,
                encrypted_content: Some(content),
            } => {
                if self.reasoning_items.len() >= MAX_REASONING_ITEMS
                    || content.len() + id.len() > MAX_REASONING_ITEM_BYTES
                {
                    return Err(OpenAiError::TooLarge("the model's reasoning"));
                }
                self.reasoning_items.push(ReasoningItem {
                    id,
                    encrypted_content: content,
                });
            }
            OutputItem::WebSearchCall {
                action: Some(action),
            } if action.kind == "search" => {
                self.web_searches = self.web_searches.saturating_add(1);
            }
            OutputItem::FunctionCall {
                call_id,
                name,
                arguments,
            } => {
                if self.tool_calls.len() >= MAX_TOOL_CALLS {
                    return Err(OpenAiError::TooLarge("too many tool calls"));
                }
                if name.len() + arguments.len() > MAX_TOOL_ARGUMENT_BYTES {
                    return Err(OpenAiError::TooLarge("a tool call"));
                }
                let index = u32::try_from(self.tool_calls.len()).unwrap_or(u32::MAX);
                self.tool_calls.push(ToolCall {
                    index,
                    id: call_id,
                    name,
                    arguments,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// A source the reply cites, handed out once; past [`MAX_CITATIONS`], or not an
    /// address Tally would open, it is left out (the reply itself goes on).
    fn cite(&mut self, url: String, title: Option<String>) {
        if self.cited.len() >= MAX_CITATIONS || self.cited.contains(&url) {
            return;
        }
        if let Some(citation) = Citation::checked(url, title) {
            self.cited.push(citation.url.clone());
            self.pending.push_back(StreamEvent::Citation(citation));
        }
    }

    fn end(&mut self, finish: FinishReason, response: ResponseObject) {
        self.pending.push_back(StreamEvent::Finished(finish));
        if let Some(usage) = response.usage {
            self.pending
                .push_back(StreamEvent::Usage(Usage::from(usage)));
        }
        self.done = true;
    }
}

fn stream_error(code: Option<String>, param: Option<String>) -> OpenAiError {
    let detail = ApiErrorDetail {
        message: None,
        kind: None,
        param,
        code,
    };
    OpenAiError::Stream {
        kind: classify_detail(None, &detail),
        code: detail.code,
    }
}

/// Fails the stream with [`OpenAiError::TooLarge`] once a line (bytes since the last line
/// break) grows past `max`: a line that never ends must not be buffered without end.
/// Counting is linear in the bytes read.
fn bounded_lines(
    body: impl Stream<Item = Result<Bytes, OpenAiError>> + Send + 'static,
    max: usize,
) -> impl Stream<Item = Result<Bytes, OpenAiError>> + Send + 'static {
    let mut line = 0usize;
    let mut over = false;
    body.map(move |piece| {
        if over {
            return Err(OpenAiError::TooLarge("a line"));
        }
        let piece = piece?;
        line = match piece.iter().rposition(|b| matches!(b, b'\n' | b'\r')) {
            Some(end) => piece.len() - end - 1,
            None => line + piece.len(),
        };
        if line > max {
            over = true;
            return Err(OpenAiError::TooLarge("a line"));
        }
        Ok(piece)
    })
}

/// Adds one streamed fragment to the call with the same `index`: the first fragment names
/// the call, later ones append to its arguments (at most [`MAX_TOOL_ARGUMENT_BYTES`], and
/// at most [`MAX_TOOL_CALLS`] calls).
fn merge_tool_call(
    calls: &mut Vec<ToolCall>,
    fragment: crate::ToolCallDelta,
) -> Result<(), OpenAiError> {
    let call = match calls.iter_mut().position(|c| c.index == fragment.index) {
        Some(i) => &mut calls[i],
        None if calls.len() >= MAX_TOOL_CALLS => {
            return Err(OpenAiError::TooLarge("too many tool calls"));
        }
        None => {
            calls.push(ToolCall {
                index: fragment.index,
                ..Default::default()
            });
            calls.last_mut().expect("just pushed")
        }
    };
    if let Some(id) = fragment.id {
        call.id = id;
    }
    if let Some(function) = fragment.function {
        if let Some(name) = function.name {
            call.name.push_str(&name);
        }
        if let Some(arguments) = function.arguments {
            call.arguments.push_str(&arguments);
        }
        if call.name.len() + call.arguments.len() > MAX_TOOL_ARGUMENT_BYTES {
            return Err(OpenAiError::TooLarge("a tool call"));
        }
    }
    Ok(())
}
