//! Automatic titles: after a new conversation's first reply, a short title from a cheap
//! model, metered in the ledger as purpose `title`. It can be turned off; without it (or
//! when it fails, or the budget's hard stop is reached) the first words of the message
//! stay the title. A title the user typed meanwhile is never replaced.

use std::sync::Arc;

use tally_openai::{ChatMessage, ChatRequest, RequestOptions, StreamEvent};
use tally_spend::TokenUsage;
use tally_store::{Purpose, UsageRow};

use crate::api::TitleView;
use crate::notices::Notice;
use crate::settings;
use crate::{CoreError, Engine};

/// Asked on OpenAI itself; elsewhere the conversation's own model is asked.
const TITLE_MODEL: &str = "gpt-4o-mini";
/// What the model is told (the mock server knows a title request by its start).
const TITLE_INSTRUCTION: &str = "Write a title of at most 6 words for the conversation \
    below, in its language. Reply with the title only: no quotes, no final period.";
const TITLE_MAX_TOKENS: u32 = 24;
/// How much of the message and the reply the title is written from.
const EXCERPT_CHARS: usize = 1_500;
const TITLE_MAX_CHARS: usize = 80;
/// A title reply is read no further than this: a server that never stops is cut off here
/// (24 tokens are about 100 bytes).
const TITLE_READ_BYTES: usize = 2_000;

impl Engine {
    /// Whether new conversations get a title written by a model (on unless turned off).
    pub(crate) fn auto_titles(&self) -> Result<bool, CoreError> {
        Ok(settings::AUTO_TITLES.get(&self.store())?.unwrap_or(true))
    }

    pub(crate) fn set_auto_titles(&self, on: bool) -> Result<(), CoreError> {
        settings::AUTO_TITLES.set(&self.store(), &on)
    }

    /// Titles conversation `id` from its first message and reply. Returns the new title,
    /// or `None` when titles are off, the user renamed it, or the budget said no.
    pub async fn title_conversation(
        self: &Arc<Self>,
        id: i64,
    ) -> Result<Option<String>, CoreError> {
        if !self.auto_titles()? {
            return Ok(None);
        }
        let _writing = self.writing()?;
        let (conversation, question, answer) = {
            let store = self.store();
            let conversation = store.conversation(id)?;
            let branch = store.current_branch(id)?;
            let mut texts = branch.into_iter().map(|m| m.content);
            let (Some(question), Some(answer)) = (texts.next(), texts.next()) else {
                return Ok(None);
            };
            (conversation, question, answer)
        };
        // The title the first words gave it: anything else was typed by the user.
        let fallback = crate::send::title_from(&question);
        if conversation.title != fallback {
            return Ok(None);
        }
        // OpenAI has the small title model; another server may only serve the chat's own.
        let model = if crate::clearance::is_openai_base(&self.api_base()?) {
            TITLE_MODEL.to_string()
        } else {
            conversation.model.clone()
        };
        let excerpt = |text: &str| text.chars().take(EXCERPT_CHARS).collect::<String>();
        let context = vec![
            ChatMessage::new(tally_openai::Role::System, TITLE_INSTRUCTION),
            ChatMessage::new(
                tally_openai::Role::User,
                format!("{}\n\n---\n\n{}", excerpt(&question), excerpt(&answer)),
            ),
        ];
        let options = RequestOptions {
            max_output_tokens: Some(TITLE_MAX_TOKENS),
            ..RequestOptions::default()
        };
        // A title is never worth going past the budget's hard stop.
        let reservation = match self.reserve(&model, &context, 0, &options, false).await {
            Ok(reservation) => reservation,
            Err(CoreError::BudgetExceeded { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let key = self.key_off_the_runtime().await?;
        let request = ChatRequest::streaming(model.clone(), context)
            .with_options(&options, self.capabilities(&model)?);
        let client = self.client_for(&key, Some(&model))?;
        let mut stream = client
            .stream(key.secret(), self.api_for(&model)?, &request, |_| {})
            .await
            .map_err(|e| key.refusal(e))?;
        drop(key);
        let request_id = stream.request_id().map(str::to_string);
        let mut text = String::new();
        let mut usage = None;
        let mut failed = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(StreamEvent::Delta(piece)) => {
                    text.push_str(&piece);
                    if text.len() > TITLE_READ_BYTES {
                        // The beginning is the title; the rest is not read.
                        break;
                    }
                }
                Ok(StreamEvent::Usage(reported)) => usage = Some(reported),
                // A title is its text; the model's reasoning about it is not kept.
                Ok(
                    StreamEvent::Finished(_)
                    | StreamEvent::Thinking(_)
                    | StreamEvent::Searching { .. }
                    | StreamEvent::Citation(_),
                ) => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let (tokens, estimated) = match &usage {
            Some(usage) => (crate::meter::token_usage(usage), false),
            None => (
                crate::meter::estimate_usage(self.meter.encoding(&model), &request, &text).await,
                true,
            ),
        };
        self.record_title_usage(id, &model, tokens, estimated, request_id, failed.is_none());
        drop(reservation);
        if let Some(e) = failed {
            return Err(e.into());
        }
        let title = clean_title(&text);
        if title.is_empty() || !self.store().retitle(id, &fallback, &title)? {
            return Ok(None);
        }
        self.notify(Notice::ConversationTitled(TitleView {
            conversation_id: id,
            title: title.clone(),
        }));
        Ok(Some(title))
    }

    fn record_title_usage(
        &self,
        conversation_id: i64,
        model: &str,
        tokens: TokenUsage,
        estimated: bool,
        request_id: Option<String>,
        complete: bool,
    ) {
        let row = UsageRow {
            created_at: self.now(),
            conversation_id: Some(conversation_id),
            message_id: None,
            purpose: Purpose::Title,
            model: model.to_string(),
            prompt_tokens: tokens.prompt,
            cached_tokens: tokens.cached_prompt,
            cache_write_tokens: tokens.cache_write,
            completion_tokens: tokens.completion,
            reasoning_tokens: tokens.reasoning,
            web_search_calls: 0,
            cost_nanos: self
                .meter
                .price_of(model)
                .map(|price| tally_spend::cost(&tokens, &price)),
            estimated,
            request_id,
            status: if complete { "complete" } else { "error" }.into(),
            first_token_ms: None,
            duration_ms: None,
        };
        if let Err(e) = self.store().record_usage(&row) {
            tracing::error!(error = %e, "could not write the title's ledger row");
        }
        if let Err(e) = self.spend_changed() {
            tracing::warn!(error = %e, "could not update the spend meter");
        }
    }
}

/// A model's title as a sidebar shows it: one line, no quotes or closing period, short.
fn clean_title(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = line
        .trim_start_matches(|c: char| "\"'“”‘’*#".contains(c))
        .trim_end_matches(|c: char| "\"'“”‘’*.".contains(c))
        .trim();
    let line = line.strip_prefix("Title:").unwrap_or(line).trim();
    if line.chars().count() <= TITLE_MAX_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(TITLE_MAX_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    #[test]
    fn model_titles_are_cleaned_for_the_sidebar() {
        let cases = [
            ("Kyoto Trip Plan", "Kyoto Trip Plan"),
            ("\"Kyoto Trip Plan.\"", "Kyoto Trip Plan"),
            ("  “Baking   a\nlemon cake” ", "Baking a lemon cake"),
            ("Title: Tax questions", "Tax questions"),
            ("**Bold title**", "Bold title"),
            ("", ""),
        ];
        for (raw, shown) in cases {
            assert_eq!(super::clean_title(raw), shown, "{raw:?}");
        }
        let long = super::clean_title(&"word ".repeat(40));
        assert_eq!(long.chars().count(), 80);
        assert!(long.ends_with('…'));
    }
}
