//! Sending a message and streaming the reply: the data flow of ARCHITECTURE.md, steps 1–5.

use std::sync::Arc;

use tally_openai::{Api, ChatMessage, ChatRequest, ClientEvent, OpenAiClient, RequestOptions};
use tally_store::{Message, MessageStatus, Purpose, Role};
use tokio_util::sync::CancellationToken;

use crate::api::{self, AttachmentView, ChatEvent, SendRequest, StartKind};
use crate::attachments::{Carried, Pictures};
use crate::context::{self, MAX_MESSAGE_CHARS, Turn};
use crate::engine::KeyFor;
use crate::error::code_of;
use crate::meter::Reservation;
use crate::reply_stream::{Ending, Metered, StreamState, code_name};
use crate::tool_calls::round_messages;
use crate::tools::{MAX_ROUNDS, OfferedTools};
use crate::{ChatSink, CoreError, Engine};

/// What the model is told of the calls it asked for past the last round allowed.
const NOT_RUN_PAST_ROUNDS: &str =
    "This call did not run: the reply reached the most rounds of tool calls it may make.";

/// What the model is told to continue a reply that was cut off.
const CONTINUE_INSTRUCTION: &str =
    "Continue your previous reply exactly where it stopped. Do not repeat anything.";

/// What the model is asked after the conversation, for "Summarize and continue in a new
/// chat".
const SUMMARY_INSTRUCTION: &str = "Summarize the conversation above so that it can go on \
    in a new chat: the topic, what was decided or found, facts and figures that matter, and \
    open questions. Write it in the conversation's language, as a short text or a list.";

fn nothing_to_redo() -> CoreError {
    CoreError::InvalidInput("There is no reply to retry or continue here.".into())
}

/// One reply to stream: which message, for whom, with what context.
struct ReplyJob {
    conversation: tally_store::Conversation,
    user_message_id: i64,
    reply: Message,
    kind: StartKind,
    /// The user message's text when the engine wrote it (a summary's request).
    user_text: Option<String>,
    context: Vec<ChatMessage>,
    /// Messages of the branch left out to fit the context window.
    dropped: u32,
    purpose: Purpose,
    /// Held against the budget until the ledger row is written.
    reservation: Reservation,
    /// Whether later rounds (with tools) may pass the budget.
    allow_over_budget: bool,
    /// The tools the model may call.
    offered: OfferedTools,
    /// A share of the writers' lock, from the first read until the reply is saved.
    writing: crate::engine::Writing,
}

/// What every request of one reply is sent with.
struct Sending<'a> {
    client: &'a OpenAiClient,
    key: &'a KeyFor,
    /// The model's API when it does not search.
    usual_api: Api,
}

/// Where a new message goes (see `Engine::destination`).
#[allow(
    clippy::large_enum_variant,
    reason = "one lives for the start of each send, never in a collection"
)]
enum Destination {
    /// An open conversation: after its branch, or beside `edited` (a branch from its parent).
    Existing {
        conversation: tally_store::Conversation,
        edited: Option<Message>,
    },
    /// A new conversation, with these settings.
    New(api::ConversationSettings),
}

impl Destination {
    /// The model that answers, and the options it is asked with.
    fn model_and_options(&self) -> (String, RequestOptions) {
        match self {
            Self::Existing { conversation, .. } => (
                conversation.model.clone(),
                crate::chat_settings::request_options(conversation),
            ),
            Self::New(settings) => (
                settings.model.clone(),
                crate::chat_settings::request_options_of(&settings.options),
            ),
        }
    }

    /// The tools the model may call.
    fn tools(&self) -> Vec<api::ToolRef> {
        match self {
            Self::Existing { conversation, .. } => {
                crate::chat_settings::from_store(&conversation.options).tools
            }
            Self::New(settings) => settings.options.tools.clone(),
        }
    }

    fn start_kind(&self) -> StartKind {
        match self {
            Self::Existing {
                edited: Some(_), ..
            } => StartKind::Edit,
            _ => StartKind::Send,
        }
    }
}

impl Engine {
    /// Sends `request.text` and streams the reply to `sink`, returning when the reply has
    /// ended and everything about it is saved. The user's message is saved before the
    /// request leaves, so it is never lost; the reply is saved as it streams.
    pub async fn send(
        self: &Arc<Self>,
        request: SendRequest,
        sink: impl ChatSink,
    ) -> Result<(), CoreError> {
        let text = request.text.trim();
        let refs = request.attachments.clone().unwrap_or_default();
        if text.is_empty() && refs.is_empty() {
            return Err(CoreError::InvalidInput("Type a message first.".into()));
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(CoreError::InvalidInput(
                "This message is too long to send. Shorten it, or split it into parts.".into(),
            ));
        }
        let (writing, key) = self.ready_to_send().await?;
        let destination = self.destination(&request)?;
        let (model, options) = destination.model_and_options();
        // An edit keeps what the message carried unless it names attachments of its own.
        let refs = match (&destination, &request.attachments) {
            (
                Destination::Existing {
                    edited: Some(edited),
                    ..
                },
                None,
            ) => self.attachments_of_message(edited.id)?,
            _ => refs,
        };
        // What will be sent: the branch so far and the new message. The budget gate
        // decides before anything is written, so a refused message stays in the composer.
        let mut context = self.context_before(&destination)?;
        let (attachments, carried) = self.attachments_for_send(&refs, &model)?;
        context.push(ChatMessage {
            pictures: carried.pictures.clone(),
            ..ChatMessage::new(tally_openai::Role::User, carried.text_with_files(text))
        });
        let dropped = self
            .meter
            .fit_to_window(&model, &mut context, options.max_output_tokens);
        let offered = self.offered_tools_when_ready(&destination.tools()).await?;
        let allow_over_budget = request.allow_over_budget.unwrap_or(false);
        let reservation = self
            .reserve(
                &model,
                &context,
                offered.tokens(self.meter.encoding(&model)),
                &options,
                allow_over_budget,
            )
            .await?;
        let kind = destination.start_kind();
        let (conversation, user, reply) = self.begin_exchange(destination, text, &attachments)?;
        let job = ReplyJob {
            conversation,
            user_message_id: user.id,
            reply,
            kind,
            user_text: None,
            context,
            dropped,
            purpose: Purpose::Chat,
            reservation,
            allow_over_budget,
            offered,
            writing,
        };
        let reply_id = job.reply.id;
        let new_conversation = job.conversation.current_leaf_id.is_none();
        let conversation_id = job.conversation.id;
        self.run(job, key, sink).await?;
        // A new conversation's first complete reply: time for a better title, in the
        // background (the user can send again meanwhile).
        let complete = self
            .store()
            .message(reply_id)
            .is_ok_and(|m| m.status == MessageStatus::Complete);
        // The reply is saved: nothing about the title may fail the send now.
        if new_conversation && complete && self.auto_titles().unwrap_or(false) {
            let engine = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(e) = engine.title_conversation(conversation_id).await {
                    tracing::warn!(error = %e, "could not title the conversation");
                }
            });
        }
        Ok(())
    }

    /// Where a new message goes: an open conversation (after its branch, or as an edit
    /// beside one of its messages), or a new conversation with its settings.
    fn destination(&self, request: &SendRequest) -> Result<Destination, CoreError> {
        let Some(id) = request.conversation_id else {
            if request.edit_of.is_some() {
                return Err(CoreError::InvalidInput(
                    "Open the conversation to edit its messages.".into(),
                ));
            }
            // A new conversation starts with the settings it was given, or the defaults.
            let settings = match request.settings.clone() {
                Some(settings) => self.checked(settings)?,
                None => {
                    let mut defaults = self.chat_defaults()?;
                    if let Some(model) = request.model.as_deref().map(str::trim)
                        && !model.is_empty()
                    {
                        defaults.model = crate::models::checked_model(model)?;
                    }
                    defaults
                }
            };
            return Ok(Destination::New(settings));
        };
        let conversation = crate::history::live_conversation(&self.store(), id)?;
        // Editing a message sends the new text beside it: a branch from its parent.
        let edited = match request.edit_of {
            None => None,
            Some(id) => {
                let message = self.store().message(id)?;
                if message.conversation_id != conversation.id || message.role != Role::User {
                    return Err(CoreError::InvalidInput(
                        "Only your own messages in this conversation can be edited.".into(),
                    ));
                }
                Some(message)
            }
        };
        Ok(Destination::Existing {
            conversation,
            edited,
        })
    }

    /// The messages sent before the new one.
    fn context_before(&self, destination: &Destination) -> Result<Vec<ChatMessage>, CoreError> {
        Ok(match destination {
            Destination::Existing {
                conversation,
                edited: Some(edited),
            } => self.context_up_to(conversation, edited.parent_id)?,
            Destination::Existing {
                conversation,
                edited: None,
            } => self.context_for(conversation, None)?,
            Destination::New(settings) => {
                context::messages_of(settings.system_prompt.as_deref(), [])
            }
        })
    }

    /// Saves the new message and an empty reply (creating the conversation first when it
    /// is new), in one transaction each.
    fn begin_exchange(
        &self,
        destination: Destination,
        text: &str,
        attachments: &[AttachmentView],
    ) -> Result<(tally_store::Conversation, Message, Message), CoreError> {
        let attached: Vec<(i64, &str)> = attachments
            .iter()
            .map(|a| (a.id, a.name.as_str()))
            .collect();
        // A message of pictures alone is titled by its first one's name.
        let title = match attachments.first() {
            Some(first) if text.is_empty() => title_from(&first.name),
            _ => title_from(text),
        };
        let mut store = self.store();
        let (conversation, edited) = match destination {
            Destination::Existing {
                conversation,
                edited,
            } => (conversation, edited),
            Destination::New(settings) => {
                let conversation = store.create_conversation_with(
                    &title,
                    &settings.model,
                    settings.system_prompt.as_deref(),
                    &crate::chat_settings::to_store(&settings.options),
                    self.now(),
                )?;
                (conversation, None)
            }
        };
        let parent = match edited {
            Some(edited) => edited.parent_id,
            // After the branch as stored now (what the user sees).
            None => store.conversation(conversation.id)?.current_leaf_id,
        };
        let (user, reply) = store.begin_exchange_with(
            conversation.id,
            parent,
            text,
            &attached,
            &conversation.model,
            self.now(),
        )?;
        Ok((conversation, user, reply))
    }

    /// Writes a new reply to the user message of `reply` (the last reply when `None`),
    /// after a failure or for a different answer ("Regenerate"). The old reply stays in
    /// the tree as a sibling; the branch on screen goes on from the new one. When the
    /// branch ends with a user message (its reply was deleted), that message gets a reply.
    pub async fn retry(
        self: &Arc<Self>,
        conversation_id: i64,
        reply: Option<i64>,
        allow_over_budget: bool,
        sink: impl ChatSink,
    ) -> Result<(), CoreError> {
        let (writing, key) = self.ready_to_send().await?;
        let (conversation, parent) = {
            let store = self.store();
            let conversation = crate::history::live_conversation(&store, conversation_id)?;
            let target = match reply {
                Some(id) => store.message(id)?,
                None => store
                    .current_branch(conversation_id)?
                    .pop()
                    .ok_or_else(nothing_to_redo)?,
            };
            if target.conversation_id != conversation_id {
                return Err(nothing_to_redo());
            }
            if target.status == MessageStatus::Streaming {
                return Err(CoreError::InvalidInput(
                    "A reply is still being written. Stop it first.".into(),
                ));
            }
            let parent = match target.role {
                Role::Assistant => target.parent_id.ok_or_else(nothing_to_redo)?,
                Role::User => target.id,
                Role::System => return Err(nothing_to_redo()),
            };
            (conversation, parent)
        };
        // The branch up to the user message, without the reply being replaced.
        let mut context = self.context_up_to(&conversation, Some(parent))?;
        let options = crate::chat_settings::request_options(&conversation);
        let dropped =
            self.meter
                .fit_to_window(&conversation.model, &mut context, options.max_output_tokens);
        let offered = self
            .offered_tools_when_ready(
                &crate::chat_settings::from_store(&conversation.options).tools,
            )
            .await?;
        let reservation = self
            .reserve(
                &conversation.model,
                &context,
                offered.tokens(self.meter.encoding(&conversation.model)),
                &options,
                allow_over_budget,
            )
            .await?;
        let reply =
            self.store()
                .begin_reply(conversation.id, parent, &conversation.model, self.now())?;
        let job = ReplyJob {
            conversation,
            user_message_id: parent,
            reply,
            kind: StartKind::Retry,
            user_text: None,
            context,
            dropped,
            purpose: Purpose::Chat,
            reservation,
            allow_over_budget,
            offered,
            writing,
        };
        self.run(job, key, sink).await
    }

    /// Asks the model to go on with a reply that was cut off (by the length limit, a
    /// dropped connection, or Stop); the new text is appended to the same reply.
    pub async fn continue_reply(
        self: &Arc<Self>,
        conversation_id: i64,
        allow_over_budget: bool,
        sink: impl ChatSink,
    ) -> Result<(), CoreError> {
        let (writing, key) = self.ready_to_send().await?;
        let (conversation, last) = self.last_reply(conversation_id)?;
        if last.content.trim().is_empty() {
            return Err(nothing_to_redo());
        }
        let parent = last.parent_id.ok_or_else(nothing_to_redo)?;
        let mut context = self.context_for(&conversation, None)?;
        // The partial reply is the last message; a plain instruction asks for the rest.
        context.push(ChatMessage::new(
            tally_openai::Role::User,
            CONTINUE_INSTRUCTION,
        ));
        let options = crate::chat_settings::request_options(&conversation);
        let dropped =
            self.meter
                .fit_to_window(&conversation.model, &mut context, options.max_output_tokens);
        let offered = self
            .offered_tools_when_ready(
                &crate::chat_settings::from_store(&conversation.options).tools,
            )
            .await?;
        let reservation = self
            .reserve(
                &conversation.model,
                &context,
                offered.tokens(self.meter.encoding(&conversation.model)),
                &options,
                allow_over_budget,
            )
            .await?;
        let reply = self.store().resume_reply(last.id, self.now())?;
        let job = ReplyJob {
            conversation,
            user_message_id: parent,
            reply,
            kind: StartKind::Continue,
            user_text: None,
            context,
            dropped,
            purpose: Purpose::Continue,
            reservation,
            allow_over_budget,
            offered,
            writing,
        };
        self.run(job, key, sink).await
    }

    /// "Summarize and continue in a new chat": a new conversation with the same settings,
    /// whose first message asks for a summary of conversation `id` and whose reply, streamed
    /// to `sink`, is that summary (metered as purpose `summary`). The model reads the whole
    /// branch on screen, less its oldest turns if the window is too small. Talking on in
    /// the new chat sends the summary instead of the long history.
    pub async fn summarize_into_new_chat(
        self: &Arc<Self>,
        id: i64,
        allow_over_budget: bool,
        sink: impl ChatSink,
    ) -> Result<(), CoreError> {
        let (writing, key) = self.ready_to_send().await?;
        let old = crate::history::live_conversation(&self.store(), id)?;
        let mut context = self.context_for(&old, None)?;
        if !context
            .iter()
            .any(|m| m.role == tally_openai::Role::Assistant)
        {
            return Err(CoreError::InvalidInput(
                "There is nothing to summarize in this conversation yet.".into(),
            ));
        }
        context.push(ChatMessage::new(
            tally_openai::Role::User,
            SUMMARY_INSTRUCTION,
        ));
        let options = crate::chat_settings::request_options(&old);
        let dropped = self
            .meter
            .fit_to_window(&old.model, &mut context, options.max_output_tokens);
        // Refused by the budget: nothing is written, not even the new conversation.
        let reservation = self
            .reserve(&old.model, &context, 0, &options, allow_over_budget)
            .await?;
        let asked = format!(
            "Summarize our conversation “{}” so that we can go on from it here.",
            old.title
        );
        let (conversation, user, reply) = {
            let mut store = self.store();
            let conversation = store.create_conversation_with(
                &title_from(&format!("{} (continued)", old.title)),
                &old.model,
                old.system_prompt.as_deref(),
                &old.options,
                self.now(),
            )?;
            let (user, reply) =
                store.begin_exchange(conversation.id, &asked, &conversation.model, self.now())?;
            (conversation, user, reply)
        };
        let job = ReplyJob {
            conversation,
            user_message_id: user.id,
            reply,
            kind: StartKind::Summary,
            user_text: Some(asked),
            context,
            dropped,
            purpose: Purpose::Summary,
            reservation,
            allow_over_budget,
            // A summary is the model's own words: no tools.
            offered: OfferedTools::default(),
            writing,
        };
        self.run(job, key, sink).await
    }

    /// The writers' share a send holds from its first read, and the key it sends with,
    /// cleared for the API address (so nothing is written for a request that cannot
    /// leave: no key, an unusable address, a host the person would not send the key to).
    async fn ready_to_send(
        self: &Arc<Self>,
    ) -> Result<(crate::engine::Writing, KeyFor), CoreError> {
        let writing = self.writing()?;
        let key = self.key_off_the_runtime().await?;
        Ok((writing, key))
    }

    /// [`Engine::key_to_send`] on a blocking thread: the keychain (D-Bus) may take its
    /// time, and the person may be asked where the key may go.
    pub(crate) async fn key_off_the_runtime(self: &Arc<Self>) -> Result<KeyFor, CoreError> {
        let engine = Arc::clone(self);
        tokio::task::spawn_blocking(move || engine.key_to_send())
            .await
            .map_err(|e| CoreError::Internal(format!("reading the key: {e}")))?
    }

    /// The conversation and its last reply, which must not be streaming.
    fn last_reply(
        &self,
        conversation_id: i64,
    ) -> Result<(tally_store::Conversation, Message), CoreError> {
        let store = self.store();
        let conversation = crate::history::live_conversation(&store, conversation_id)?;
        let last = store
            .current_branch(conversation_id)?
            .pop()
            .filter(|m| m.role == Role::Assistant)
            .ok_or_else(nothing_to_redo)?;
        if last.status == MessageStatus::Streaming {
            return Err(CoreError::InvalidInput(
                "A reply is still being written. Stop it first.".into(),
            ));
        }
        Ok((conversation, last))
    }

    /// `context` with its pictures no larger than `model` reads them (scaled off the async
    /// threads; see `sent_pictures`).
    async fn at_read_size(
        self: &Arc<Self>,
        mut context: Vec<ChatMessage>,
        model: &str,
    ) -> Result<Vec<ChatMessage>, CoreError> {
        if context.iter().all(|m| m.pictures.is_empty()) {
            return Ok(context);
        }
        let rule = self.meter.traits(model).pictures;
        let engine = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            engine.sent_pictures.at_read_size(&mut context, rule);
            context
        })
        .await
        .map_err(|e| CoreError::Internal(format!("the pictures: {e}")))
    }

    /// Streams one reply for `job` to its end and saves everything about it.
    async fn run(
        self: &Arc<Self>,
        job: ReplyJob,
        key: KeyFor,
        sink: impl ChatSink,
    ) -> Result<(), CoreError> {
        let ReplyJob {
            conversation,
            user_message_id,
            reply,
            kind,
            user_text,
            context,
            dropped,
            purpose,
            reservation,
            allow_over_budget,
            offered,
            writing: _writing,
        } = job;
        let client = self.client_for(&key, Some(&conversation.model))?;
        let context = self.at_read_size(context, &conversation.model).await?;
        // The conversation's options, in the form the model's capabilities allow.
        let capabilities = self.capabilities(&conversation.model)?;
        let mut chat_request = ChatRequest::streaming(conversation.model.clone(), context)
            .with_options(
                &crate::chat_settings::request_options(&conversation),
                capabilities,
            );
        chat_request.tools = offered.definitions();
        // A reply in JSON, when the conversation asks for one.
        let chat_options = crate::chat_settings::from_store(&conversation.options);
        let schema = match chat_options.reply_format {
            api::ReplyFormat::JsonSchema => chat_options
                .json_schema
                .as_deref()
                .and_then(|s| crate::json_reply::checked_schema(s).ok()),
            _ => None,
        };
        chat_request.response_format = crate::json_reply::response_format(
            chat_options.reply_format,
            chat_options.json_schema.as_deref(),
        );
        if chat_request.response_format.is_some()
            && !chat_request
                .messages
                .iter()
                .any(|m| m.content.to_lowercase().contains("json"))
        {
            // JSON mode is refused unless a message mentions JSON.
            chat_request.messages.insert(
                0,
                ChatMessage::new(
                    tally_openai::Role::System,
                    crate::json_reply::JSON_INSTRUCTION,
                ),
            );
        }
        // One reply at a time per conversation: a new send stops the old one.
        let active = self.replies.begin(conversation.id);
        let cancel = active.cancelled().clone();
        sink.send(ChatEvent::Started {
            conversation_id: conversation.id,
            user_message_id,
            assistant_message_id: reply.id,
            title: conversation.title.clone(),
            kind,
            user_text,
            dropped_messages: dropped,
            thinks_for_minutes: self.meter.traits(&conversation.model).thinks_for_minutes,
        });

        let mut stream_state = StreamState {
            prefix_len: reply.content.len(),
            text: reply.content.clone(),
            // A continued reply's thinking goes on from what it had.
            thinking: reply.thinking.clone().unwrap_or_default(),
            // … and its sources.
            citations: reply
                .citations
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok())
                .unwrap_or_default(),
            ..StreamState::default()
        };
        let mut dropped = dropped;
        let usual_api = self.api_for(&conversation.model)?;
        let mut api = self.api_for_reply(
            &conversation.model,
            usual_api,
            chat_request.web_searches.is_some(),
        );
        // A continued reply keeps the calls it made; its next round is numbered on.
        let mut calls = crate::api::ToolCallView::stored(reply.tool_calls.as_deref(), reply.status);
        let mut round = calls.last().map_or(0, |c| c.round + 1);
        let mut earlier: Option<Metered> = None;
        let options = crate::chat_settings::request_options(&conversation);
        let tools_tokens = offered.tokens(self.meter.encoding(&conversation.model));
        let mut reservation = Some(reservation);
        let ending = loop {
            let sending = Sending {
                client: &client,
                key: &key,
                usual_api,
            };
            let ending = self
                .stream_request(
                    &sending,
                    &mut api,
                    &mut chat_request,
                    &reply,
                    &cancel,
                    &sink,
                    &mut stream_state,
                    &mut dropped,
                )
                .await;
            if !matches!(ending, Ending::Complete) || stream_state.tool_calls.is_empty() {
                break ending;
            }
            // The model asked for tools: this request is metered now, the calls run, and
            // their results go back in the next request.
            let metered = self
                .record_request(
                    &reply,
                    purpose,
                    &chat_request,
                    &stream_state,
                    MessageStatus::Complete,
                    None,
                )
                .await;
            earlier = Some(earlier.map_or(metered, |e| e.and(metered)));
            let first = calls.len();
            let offset = stream_state.text.len();
            calls.extend(
                stream_state
                    .tool_calls
                    .iter()
                    .map(|c| offered.call_view(c, round, offset)),
            );
            self.save_partial(reply.id, &stream_state.text);
            self.save_tool_calls(reply.id, &calls);
            for call in &calls[first..] {
                sink.send(ChatEvent::ToolCall { call: call.clone() });
            }
            let round_text = stream_state.text[stream_state.prefix_len..].to_string();
            let reasoning = std::mem::take(&mut stream_state.reasoning_items);
            stream_state.next_request();
            if round >= MAX_ROUNDS {
                self.not_run(&mut calls[first..], NOT_RUN_PAST_ROUNDS, &sink);
                self.save_tool_calls(reply.id, &calls);
                break Ending::Failed(CoreError::ToolRounds(MAX_ROUNDS), MessageStatus::Stopped);
            }
            // What the next request can cost at most: this one's messages, the calls, and
            // each result as long as one may be.
            let mut next = chat_request.messages.clone();
            next.extend(round_messages(&round_text, &calls[first..], Vec::new()));
            let results_at_most =
                self.result_max_tokens(&conversation.model) * (calls.len() - first) as u64;
            // Counted only when someone will be asked: calls allowed for good need no figure.
            let at_most = if self.any_to_ask(conversation.id, &calls[first..]) {
                self.worst_case(
                    &conversation.model,
                    &next,
                    tools_tokens + results_at_most,
                    &options,
                )
                .await
                .unwrap_or(None)
            } else {
                None
            };
            self.run_round(
                conversation.id,
                reply.id,
                &offered,
                &mut calls,
                first,
                at_most,
                &conversation.model,
                &cancel,
                &sink,
            )
            .await;
            if cancel.is_cancelled() {
                break Ending::Stopped;
            }
            chat_request
                .messages
                .extend(round_messages(&round_text, &calls[first..], reasoning));
            round += 1;
            // Each round passes the budget gate like any request: the hard stop can end a
            // reply between rounds. The last request's ledger row is written: what it held
            // is released first.
            drop(reservation.take());
            reservation = match self
                .reserve(
                    &conversation.model,
                    &chat_request.messages,
                    tools_tokens,
                    &options,
                    allow_over_budget,
                )
                .await
            {
                Ok(held) => Some(held),
                Err(e) => break Ending::Failed(e, MessageStatus::Stopped),
            };
        };
        drop(key);
        if chat_request.response_format.is_some() && matches!(ending, Ending::Complete) {
            stream_state.json_check = Some(crate::json_reply::check_reply(
                &stream_state.text,
                schema.as_ref(),
            ));
        }
        self.finish(
            &reply,
            purpose,
            &chat_request,
            stream_state,
            ending,
            earlier,
            &sink,
        )
        .await;
        // The ledger row now counts this request; release what it held against the budget.
        drop(reservation);
        drop(active);
        Ok(())
    }

    /// Makes one request of a reply and reads its stream to the end: a request too long
    /// for the model loses its oldest turns and is made again; a model served only on
    /// Responses is asked there.
    #[allow(clippy::too_many_arguments, reason = "one request's whole context")]
    async fn stream_request(
        &self,
        sending: &Sending<'_>,
        api: &mut Api,
        request: &mut ChatRequest,
        reply: &Message,
        cancel: &CancellationToken,
        sink: &impl ChatSink,
        state: &mut StreamState,
        dropped: &mut u32,
    ) -> Ending {
        let Sending {
            client,
            key,
            usual_api,
        } = *sending;
        let model = request.model.clone();
        let model = model.as_str();
        state.unsent = false;
        loop {
            let opened = tokio::select! {
                biased;
                _ = cancel.cancelled() => break Ending::Stopped,
                opened = client.stream(key.secret(), *api, request, |event| match event {
                    ClientEvent::Retrying(notice) => sink.send(ChatEvent::Retrying {
                        attempt: notice.attempt,
                        in_ms: notice.delay.as_millis() as u64,
                        reason: retry_reason(notice.kind).into(),
                    }),
                    ClientEvent::AttemptFailed(attempt) => {
                        let since = attempt.started_at.elapsed().ok();
                        let code = attempt.error_kind.map(|k| code_name(code_of(k)));
                        self.log_attempt(reply, attempt, attempt.headers_after, since, code);
                    }
                    ClientEvent::Adapted(adaptation) => {
                        if let Err(e) = self.learn(model, adaptation) {
                            tracing::warn!(error = %e, "could not remember a model's parameters");
                        }
                    }
                }) => opened,
            };
            match opened {
                Ok(stream) => {
                    state.request_id = stream.request_id().map(str::to_string);
                    break self.pump(stream, reply, cancel, sink, state).await;
                }
                // Too long for the model after all (a window Tally does not know, or the
                // server counts differently): the oldest turns go, as they would have if
                // the window were known, and the request is made again. Nothing was billed.
                Err(e) if e.kind() == tally_openai::ErrorKind::ContextTooLong => {
                    let left_out = self.meter.trim_after_refusal(model, &mut request.messages);
                    if left_out == 0 {
                        state.api_error_before_stream = true;
                        break Ending::Failed(e.into(), MessageStatus::Error);
                    }
                    *dropped += left_out;
                    sink.send(ChatEvent::Trimmed {
                        dropped_messages: *dropped,
                    });
                }
                // A model served only on the Responses API (one the catalog does not know):
                // asked there at once, and from now on. Nothing was billed.
                Err(e)
                    if e.kind() == tally_openai::ErrorKind::ResponsesOnly
                        && *api == tally_openai::Api::ChatCompletions =>
                {
                    *api = tally_openai::Api::Responses;
                    if let Err(e) = self.learn_api(model, *api) {
                        tracing::warn!(error = %e, "could not remember a model's API");
                    }
                }
                // Asked on Responses only to search, by a server that has no such API (an
                // OpenAI-compatible one): the model answers on its usual API, unsearched.
                // Nothing was billed.
                Err(e)
                    if e.kind() == tally_openai::ErrorKind::ModelNotFound
                        && *api == tally_openai::Api::Responses
                        && usual_api == tally_openai::Api::ChatCompletions =>
                {
                    *api = usual_api;
                    request.web_searches = None;
                }
                Err(e) => {
                    state.api_error_before_stream = true;
                    break Ending::Failed(key.refusal(e), MessageStatus::Error);
                }
            }
        }
    }

    /// The messages sent to the API: the system prompt, then the branch on screen (less
    /// `exclude`, the empty reply being written, and replies that failed with no text).
    pub(crate) fn context_for(
        &self,
        conversation: &tally_store::Conversation,
        exclude: Option<i64>,
    ) -> Result<Vec<ChatMessage>, CoreError> {
        let mut branch = self.store().current_branch(conversation.id)?;
        branch.retain(|m| Some(m.id) != exclude);
        self.context_of(conversation, branch, Pictures::Sent)
    }

    /// The messages of the branch on screen as counted, not sent: each picture measured,
    /// its content not read (the pre-send estimate counts a conversation this way).
    pub(crate) fn context_counted(
        &self,
        conversation: &tally_store::Conversation,
    ) -> Result<Vec<ChatMessage>, CoreError> {
        let branch = self.store().current_branch(conversation.id)?;
        self.context_of(conversation, branch, Pictures::Counted)
    }

    /// The messages sent to the API for the branch ending at `leaf` (`None`: nothing yet).
    fn context_up_to(
        &self,
        conversation: &tally_store::Conversation,
        leaf: Option<i64>,
    ) -> Result<Vec<ChatMessage>, CoreError> {
        let branch = match leaf {
            Some(leaf) => self.store().branch_ending_at(leaf)?,
            None => Vec::new(),
        };
        self.context_of(conversation, branch, Pictures::Sent)
    }

    /// `branch` (oldest first) as the request's messages, after the system prompt.
    fn context_of(
        &self,
        conversation: &tally_store::Conversation,
        branch: Vec<Message>,
        pictures: Pictures,
    ) -> Result<Vec<ChatMessage>, CoreError> {
        let mut carried = self.carried_by(&branch, pictures)?;
        Ok(context::messages_of(
            conversation.system_prompt.as_deref(),
            branch.into_iter().map(|m| {
                let carries = carried.remove(&m.id).unwrap_or_default();
                turn_of(m, &conversation.model, carries)
            }),
        ))
    }
}

/// A message of the branch as the request goes: with the reasoning items to send back
/// before it (those of a Responses reply by `model` itself: another model cannot read
/// them; items that no longer parse are left out rather than sent), its tool calls, and
/// what it `carries` (its pictures; its files' text after its own).
fn turn_of(message: Message, model: &str, carries: Carried) -> Turn {
    let own =
        message.endpoint.as_deref() == Some("responses") && message.model.as_deref() == Some(model);
    let reasoning = match (own, message.reasoning_items.as_deref()) {
        (true, Some(json)) => serde_json::from_str(json).unwrap_or_default(),
        _ => Vec::new(),
    };
    Turn {
        tool_calls: crate::api::ToolCallView::stored(message.tool_calls.as_deref(), message.status),
        role: message.role,
        content: carries.text_with_files(&message.content),
        pictures: carries.pictures,
        reasoning,
    }
}

/// Why Tally is waiting, in words for the "Retrying in 2 s…" line.
fn retry_reason(kind: tally_openai::ErrorKind) -> &'static str {
    use tally_openai::ErrorKind as K;
    match kind {
        K::RateLimited => "OpenAI asked Tally to slow down",
        K::Network => "Tally could not reach OpenAI",
        K::Timeout => "OpenAI took too long to answer",
        _ => "OpenAI's service had a problem",
    }
}

/// A first title: the opening words of the first message, on one line.
pub(crate) fn title_from(text: &str) -> String {
    const MAX_CHARS: usize = 48;
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_CHARS {
        return one_line;
    }
    let cut: String = one_line.chars().take(MAX_CHARS).collect();
    let at_word = cut
        .rsplit_once(' ')
        .map(|(head, _)| head)
        .filter(|h| h.len() > 12)
        .unwrap_or(&cut);
    format!("{}…", at_word.trim_end_matches([',', '.', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::title_from;

    #[test]
    fn titles_are_short_single_lines() {
        assert_eq!(title_from("Hello"), "Hello");
        assert_eq!(title_from("  two\n\nlines  "), "two lines");
        let long = "Please explain how the spending limit works when several replies stream at the same time";
        let title = title_from(long);
        assert!(
            title.ends_with('…') && title.chars().count() <= 49,
            "{title}"
        );
        assert!(long.starts_with(title.trim_end_matches('…')));
    }
}
