//! A reply's stream read to its end, and the end of each request: the text saved as it
//! comes, the request log, the ledger row, the reply's final state, and what the UI is
//! told. `send.rs` decides what is sent; this decides what is kept of what came back.

use std::time::Duration;

use tally_openai::{
    Api, Attempt, ChatRequest, ChatStream, Citation, OpenAiError, StreamEvent, Usage,
};
use tally_spend::TokenUsage;
use tally_store::{
    Message, MessageOutcome, MessageStatus, Purpose, ReplyDetails, RequestLogRow, UsageRow,
};
use tokio_util::sync::CancellationToken;

use crate::api::{self, ChatEvent};
use crate::meter::{estimate_usage, token_usage};
use crate::{ChatSink, CoreError, Engine};

/// How a reply stream ended.
pub(crate) enum Ending {
    Complete,
    Stopped,
    Failed(CoreError, MessageStatus),
}

impl Engine {
    /// Reads the stream to its end, forwarding deltas and saving the text at least every
    /// `flush_interval`.
    pub(crate) async fn pump(
        &self,
        mut stream: ChatStream,
        reply: &Message,
        cancel: &CancellationToken,
        sink: &impl ChatSink,
        state: &mut StreamState,
    ) -> Ending {
        let mut flush = tokio::time::interval(self.flush_interval);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut dirty = false;
        let mut thinking_dirty = false;
        state.api = stream.api();
        let ending = loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break Ending::Stopped,
                _ = flush.tick() => {
                    if dirty {
                        self.save_partial(reply.id, &state.text);
                        dirty = false;
                    }
                    if thinking_dirty {
                        self.save_partial_thinking(reply.id, &state.thinking);
                        thinking_dirty = false;
                    }
                }
                event = stream.next() => match event {
                    None => break Ending::Complete,
                    Some(Ok(StreamEvent::Delta(text))) => {
                        state.text.push_str(&text);
                        dirty = true;
                        sink.send(ChatEvent::Delta { text });
                    }
                    Some(Ok(StreamEvent::Thinking(text))) => {
                        state.thinking.push_str(&text);
                        thinking_dirty = true;
                        sink.send(ChatEvent::Thinking { text });
                    }
                    Some(Ok(StreamEvent::Searching { query })) => {
                        sink.send(ChatEvent::Searching { query });
                    }
                    // Each page once, also across the parts of a continued reply.
                    Some(Ok(StreamEvent::Citation(citation)))
                        if state.citations.len() < tally_openai::MAX_CITATIONS
                            && !state.citations.iter().any(|c| c.url == citation.url) =>
                    {
                        sink.send(ChatEvent::Citation {
                            url: citation.url.clone(),
                            title: citation.title.clone(),
                        });
                        state.citations.push(citation);
                    }
                    Some(Ok(StreamEvent::Citation(_))) => {}
                    Some(Ok(StreamEvent::Finished(reason))) => {
                        state.finish_reason = Some(reason.as_str().to_string());
                    }
                    Some(Ok(StreamEvent::Usage(usage))) => {
                        state.usage = Some(usage);
                        sink.send(ChatEvent::Usage {
                            prompt_tokens: usage.prompt_tokens,
                            cached_tokens: usage.cached_tokens(),
                            completion_tokens: usage.completion_tokens,
                            reasoning_tokens: usage.reasoning_tokens(),
                        });
                    }
                    Some(Err(error)) => {
                        let status = match error {
                            OpenAiError::Stream { .. } => MessageStatus::Error,
                            _ => MessageStatus::Interrupted,
                        };
                        break Ending::Failed(error.into(), status);
                    }
                },
            }
        };
        state.reasoning_items = stream.reasoning_items().to_vec();
        state.tool_calls = stream.tool_calls().to_vec();
        // Searches run before a failure are billed all the same.
        state.web_searches = stream.web_searches();
        state.attempt = Some(AttemptTiming {
            attempt: stream.attempt().clone(),
            first_token: stream.first_token_after(),
            total: stream.elapsed(),
        });
        // Dropping the stream here closes the HTTP connection (this is how Stop cancels).
        drop(stream);
        ending
    }

    /// Writes one HTTP attempt to the request log.
    pub(crate) fn log_attempt(
        &self,
        reply: &Message,
        attempt: &Attempt,
        first_byte: Option<Duration>,
        total: Option<Duration>,
        error_code: Option<String>,
    ) {
        let millis = |d: Duration| d.as_millis() as i64;
        let limits = &attempt.rate_limits;
        let count = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let row = RequestLogRow {
            started_at: attempt
                .started_at
                .duration_since(std::time::UNIX_EPOCH)
                .map(millis)
                .unwrap_or(0),
            conversation_id: Some(reply.conversation_id),
            message_id: Some(reply.id),
            model: reply.model.clone().unwrap_or_default(),
            attempt: attempt.number,
            http_status: attempt.status,
            request_id: attempt.request_id.clone(),
            first_byte_ms: first_byte.map(millis),
            total_ms: total.map(millis),
            error_code,
            ratelimit_limit_requests: count(limits.limit_requests),
            ratelimit_remaining_requests: count(limits.remaining_requests),
            ratelimit_reset_requests: limits.reset_requests.clone(),
            ratelimit_limit_tokens: count(limits.limit_tokens),
            ratelimit_remaining_tokens: count(limits.remaining_tokens),
            ratelimit_reset_tokens: limits.reset_tokens.clone(),
        };
        if let Err(e) = self.store().record_request(&row) {
            tracing::warn!(error = %e, "could not write the request log");
        }
    }

    pub(crate) fn save_partial(&self, reply_id: i64, text: &str) {
        if let Err(e) = self.store().save_partial_reply(reply_id, text, self.now()) {
            tracing::warn!(error = %e, "could not save the partial reply");
        }
    }

    fn save_partial_thinking(&self, reply_id: i64, thinking: &str) {
        if let Err(e) = self.store().save_partial_thinking(reply_id, thinking) {
            tracing::warn!(error = %e, "could not save the model's thinking");
        }
    }

    /// Writes the request log and the ledger row of one request of `reply` (a round of a
    /// reply with tools, or its only request), and returns what it used and cost.
    pub(crate) async fn record_request(
        &self,
        reply: &Message,
        purpose: Purpose,
        request: &ChatRequest,
        state: &StreamState,
        status: MessageStatus,
        error: Option<&CoreError>,
    ) -> Metered {
        if state.unsent {
            return Metered {
                tokens: TokenUsage::default(),
                cost: Some(0),
                estimated: false,
            };
        }
        let model = request.model.as_str();
        if let Some(timing) = &state.attempt {
            let code = error.map(|e| code_name(e.code()));
            self.log_attempt(
                reply,
                &timing.attempt,
                timing.first_token,
                Some(timing.total),
                code,
            );
        }
        let (mut tokens, estimated) = match (state.usage, state.api_error_before_stream) {
            (Some(usage), _) => (token_usage(&usage), false),
            // The API bills nothing for a request it refused.
            (None, true) => (TokenUsage::default(), false),
            (None, false) => (
                estimate_usage(
                    self.meter.encoding(model),
                    request,
                    &state.text[state.prefix_len.min(state.text.len())..],
                )
                .await,
                true,
            ),
        };
        tokens.web_searches = u64::from(state.web_searches);
        let cost = self
            .meter
            .price_of(model)
            .map(|price| tally_spend::cost(&tokens, &price));
        let row = UsageRow {
            created_at: self.now(),
            conversation_id: Some(reply.conversation_id),
            message_id: Some(reply.id),
            purpose,
            model: model.to_string(),
            prompt_tokens: tokens.prompt,
            cached_tokens: tokens.cached_prompt,
            cache_write_tokens: tokens.cache_write,
            completion_tokens: tokens.completion,
            reasoning_tokens: tokens.reasoning,
            web_search_calls: tokens.web_searches,
            cost_nanos: cost,
            estimated,
            request_id: state.request_id.clone(),
            status: status.as_str().to_string(),
            first_token_ms: state
                .attempt
                .as_ref()
                .and_then(|t| t.first_token)
                .map(|d| d.as_millis() as i64),
            duration_ms: state.attempt.as_ref().map(|t| t.total.as_millis() as i64),
        };
        if let Err(e) = self.store().record_usage(&row) {
            tracing::error!(error = %e, "could not write the usage ledger row");
        }
        if let Err(e) = self.spend_changed() {
            tracing::warn!(error = %e, "could not update the spend meter");
        }
        Metered {
            tokens,
            cost,
            estimated,
        }
    }

    /// Gives the reply its final state, writes the ledger row of its last request, and
    /// tells the UI what the whole reply used (`earlier`: its rounds before the last).
    #[allow(clippy::too_many_arguments, reason = "the reply's whole ending")]
    pub(crate) async fn finish(
        &self,
        reply: &Message,
        purpose: Purpose,
        request: &ChatRequest,
        state: StreamState,
        ending: Ending,
        earlier: Option<Metered>,
        sink: &impl ChatSink,
    ) {
        let model = request.model.as_str();
        let (status, error) = match ending {
            Ending::Complete => (MessageStatus::Complete, None),
            Ending::Stopped => (MessageStatus::Stopped, None),
            Ending::Failed(error, status) => (status, Some(error)),
        };
        let outcome = MessageOutcome {
            status,
            finish_reason: state.finish_reason.clone(),
            error_code: error.as_ref().map(|e| code_name(e.code())),
            error_message: error.as_ref().map(ToString::to_string),
        };
        if let Err(e) = self
            .store()
            .finish_reply(reply.id, &state.text, &outcome, self.now())
        {
            tracing::error!(error = %e, "could not save the final reply");
        }
        if let Err(e) = self.save_reply_details(reply.id, &state) {
            tracing::error!(error = %e, "could not save how the reply was written");
        }
        let last = self
            .record_request(reply, purpose, request, &state, status, error.as_ref())
            .await;
        let Metered {
            tokens,
            cost,
            estimated,
        } = match earlier {
            Some(earlier) => earlier.and(last),
            None => last,
        };
        let ask_price = cost.is_none()
            && error.is_none()
            && self.ask_price_once(model).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not remember asking for a price");
                false
            });
        let ask_price_of = ask_price.then(|| model.to_string());

        sink.send(match error {
            None => ChatEvent::Done {
                status: status.into(),
                finish_reason: state.finish_reason,
                cost,
                estimated,
                endpoint: endpoint_name(state.api).into(),
                usage: api::ReplyUsage {
                    prompt_tokens: tokens.prompt,
                    cached_tokens: tokens.cached_prompt,
                    completion_tokens: tokens.completion,
                    reasoning_tokens: tokens.reasoning,
                    web_searches: tokens.web_searches,
                    estimated,
                },
                ask_price_of,
            },
            Some(error) => ChatEvent::Failed {
                status: status.into(),
                code: error.code(),
                message: error.to_string(),
            },
        });
    }
}

/// What one request (or several, added up) used and cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Metered {
    pub tokens: TokenUsage,
    /// nano-USD; `None` when a price is unknown.
    pub cost: Option<i64>,
    pub estimated: bool,
}

impl Metered {
    /// This and `other` together.
    pub(crate) fn and(self, other: Metered) -> Metered {
        let (a, b) = (self.tokens, other.tokens);
        Metered {
            tokens: TokenUsage {
                prompt: a.prompt + b.prompt,
                cached_prompt: a.cached_prompt + b.cached_prompt,
                cache_write: a.cache_write + b.cache_write,
                completion: a.completion + b.completion,
                reasoning: a.reasoning + b.reasoning,
                web_searches: a.web_searches + b.web_searches,
            },
            cost: self.cost.zip(other.cost).map(|(a, b)| a.saturating_add(b)),
            estimated: self.estimated || other.estimated,
        }
    }
}

#[derive(Default)]
pub(crate) struct StreamState {
    pub text: String,
    /// The model's summary of its reasoning, as it streamed (Responses).
    pub thinking: String,
    /// The API the reply came from, and (Responses) its reasoning items.
    pub api: Api,
    pub reasoning_items: Vec<tally_openai::ReasoningItem>,
    /// Responses: the sources the reply cites, and the web searches it ran.
    pub citations: Vec<Citation>,
    pub web_searches: u32,
    /// The tools the model called in this request.
    pub tool_calls: Vec<tally_openai::ToolCall>,
    /// Bytes of `text` that were there before this request (a continued reply, or the
    /// rounds before with tools).
    pub prefix_len: usize,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    pub request_id: Option<String>,
    pub api_error_before_stream: bool,
    /// The attempt that streamed, for the request log.
    pub attempt: Option<AttemptTiming>,
    /// A reply asked for in JSON, checked once it is complete.
    pub json_check: Option<crate::api::JsonCheckView>,
    /// No request was made since the last was metered (a reply with tools stopped, or
    /// refused by the budget, between rounds): there is nothing to meter.
    pub unsent: bool,
}

impl StreamState {
    /// Ready for the reply's next request: what the reply wrote stays, what belonged to
    /// the request that ended goes.
    pub(crate) fn next_request(&mut self) {
        *self = StreamState {
            prefix_len: self.text.len(),
            text: std::mem::take(&mut self.text),
            thinking: std::mem::take(&mut self.thinking),
            citations: std::mem::take(&mut self.citations),
            api: self.api,
            unsent: true,
            ..StreamState::default()
        };
    }
}

pub(crate) struct AttemptTiming {
    attempt: Attempt,
    first_token: Option<Duration>,
    total: Duration,
}

pub(crate) fn code_name(code: api::ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl Engine {
    /// The reply's API, and on Responses its thinking, its reasoning items (to send back
    /// on the next turn) and the sources it cites.
    fn save_reply_details(&self, reply_id: i64, state: &StreamState) -> Result<(), CoreError> {
        let items = (!state.reasoning_items.is_empty())
            .then(|| to_json(&state.reasoning_items))
            .transpose()?;
        let citations = (!state.citations.is_empty())
            .then(|| to_json(&state.citations))
            .transpose()?;
        let json_check = state.json_check.as_ref().map(to_json).transpose()?;
        self.store().set_reply_details(
            reply_id,
            &ReplyDetails {
                endpoint: endpoint_name(state.api),
                thinking: (!state.thinking.is_empty()).then_some(state.thinking.as_str()),
                reasoning_items: items.as_deref(),
                citations: citations.as_deref(),
                json_check: json_check.as_deref(),
            },
        )?;
        Ok(())
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CoreError> {
    serde_json::to_string(value).map_err(|e| CoreError::Internal(e.to_string()))
}

/// How a reply's API is written in the database and shown (`data-endpoint`).
pub(crate) fn endpoint_name(api: Api) -> &'static str {
    match api {
        Api::ChatCompletions => "chat",
        Api::Responses => "responses",
    }
}
