use std::pin::Pin;
use std::time::Duration;

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};

use crate::error::{ApiErrorBody, classify_detail};
use crate::{ChatChunk, FinishReason, OpenAiError, Usage};

/// What a reply stream yields, in order: text deltas, then the finish reason, then (when
/// asked for with `include_usage`) the usage, then the end of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Delta(String),
    Finished(FinishReason),
    Usage(Usage),
}

type SseStream =
    Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<reqwest::Error>>> + Send>>;

/// A reply arriving over SSE. Dropping it drops the HTTP connection, which is how a
/// request is cancelled.
pub struct ChatStream {
    events: SseStream,
    idle_timeout: Duration,
    request_id: Option<String>,
    done: bool,
    pending: std::collections::VecDeque<StreamEvent>,
}

impl ChatStream {
    pub(crate) fn new(
        response: reqwest::Response,
        idle_timeout: Duration,
        request_id: Option<String>,
    ) -> Self {
        Self {
            events: Box::pin(response.bytes_stream().eventsource()),
            idle_timeout,
            request_id,
            done: false,
            pending: Default::default(),
        }
    }

    /// The `x-request-id` of the response, for support and the request log.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The next event; `None` once `[DONE]` arrived. A connection that closes before
    /// `[DONE]` yields [`OpenAiError::Dropped`]; an `error` data line yields
    /// [`OpenAiError::Stream`]; no byte for the idle timeout yields [`OpenAiError::Timeout`].
    pub async fn next(&mut self) -> Option<Result<StreamEvent, OpenAiError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            let next = match tokio::time::timeout(self.idle_timeout, self.events.next()).await {
                Err(_) => return self.fail(OpenAiError::Timeout(self.idle_timeout)),
                Ok(next) => next,
            };
            match next {
                None => return self.fail(OpenAiError::Dropped),
                Some(Err(EventStreamError::Transport(e))) => {
                    return self.fail(OpenAiError::from_reqwest(e));
                }
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
            if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                self.pending.push_back(StreamEvent::Delta(text));
            }
            if let Some(text) = choice.delta.refusal.filter(|t| !t.is_empty()) {
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
}
