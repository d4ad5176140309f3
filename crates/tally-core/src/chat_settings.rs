//! What a conversation is sent with: its model, system prompt and request options,
//! checked against the API's ranges; the defaults for new chats; and personas (system-
//! prompt presets).

use tally_openai::RequestOptions;
use tally_store::ConversationOptions;

use crate::api::{
    ChatOptions, ConversationSettings, ConversationView, PersonaInput, PersonaView,
    ReasoningEffort, ReplyFormat,
};
use crate::settings::{self, StoredDefaults};
use crate::{CoreError, Engine};

const SYSTEM_PROMPT_MAX_CHARS: usize = 100_000;
const PERSONA_NAME_MAX_CHARS: usize = 60;
/// The reply limit allowed for a model whose own limit is unknown.
const ANY_MODEL_MAX_OUTPUT: u32 = 1_000_000;
/// The most tools a request may offer (the API's limit).
const MAX_TOOLS: usize = 128;

impl Engine {
    /// Changes an open conversation's model, system prompt and options (checked first).
    pub fn conversation_settings_set(
        &self,
        id: i64,
        settings: ConversationSettings,
    ) -> Result<ConversationView, CoreError> {
        let settings = self.checked(settings)?;
        self.store().set_conversation_settings(
            id,
            &settings.model,
            settings.system_prompt.as_deref(),
            &to_store(&settings.options),
        )?;
        self.conversation_get(id)
    }

    /// `settings` as a new chat would start with them: checked (a pasted schema too) and
    /// tidied, or what is wrong in words. Nothing is saved.
    pub fn conversation_settings_check(
        &self,
        settings: ConversationSettings,
    ) -> Result<ConversationSettings, CoreError> {
        self.checked(settings)
    }

    /// What a new chat starts with.
    pub(crate) fn chat_defaults(&self) -> Result<ConversationSettings, CoreError> {
        let stored = settings::CHAT_DEFAULTS
            .get(&self.store())?
            .unwrap_or_default();
        Ok(ConversationSettings {
            model: self.default_model()?,
            system_prompt: stored.system_prompt,
            options: stored.options,
        })
    }

    /// Checks and keeps new defaults; returns them as kept.
    pub(crate) fn set_chat_defaults(
        &self,
        settings: ConversationSettings,
    ) -> Result<ConversationSettings, CoreError> {
        let settings = self.checked(settings)?;
        let stored = StoredDefaults {
            system_prompt: settings.system_prompt.clone(),
            options: settings.options.clone(),
        };
        settings::CHAT_DEFAULTS.set(&self.store(), &stored)?;
        Ok(settings)
    }

    /// `settings` trimmed and checked against the API's ranges, each problem in words.
    pub(crate) fn checked(
        &self,
        settings: ConversationSettings,
    ) -> Result<ConversationSettings, CoreError> {
        let invalid = |message: String| Err(CoreError::InvalidInput(message));
        let model = crate::models::checked_model(&settings.model)?;
        let system_prompt = settings
            .system_prompt
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        if system_prompt
            .as_ref()
            .is_some_and(|p| p.chars().count() > SYSTEM_PROMPT_MAX_CHARS)
        {
            return invalid(
                "The system prompt is too long: keep it under 100,000 characters.".into(),
            );
        }
        let mut options = settings.options;
        options.json_schema = options
            .json_schema
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if options.reply_format == ReplyFormat::JsonSchema {
            crate::json_reply::checked_schema(options.json_schema.as_deref().unwrap_or(""))
                .map_err(CoreError::InvalidInput)?;
        } else if options
            .json_schema
            .as_ref()
            .is_some_and(|s| s.chars().count() > crate::json_reply::SCHEMA_MAX_CHARS)
        {
            return invalid("This schema is too long: keep it under 100,000 characters.".into());
        }
        let outside = |value: Option<f64>, low: f64, high: f64| {
            value.is_some_and(|v| !(low..=high).contains(&v) || v.is_nan())
        };
        if options.tools.len() > MAX_TOOLS {
            return invalid(format!(
                "A conversation can offer the model at most {MAX_TOOLS} tools: turn some off."
            ));
        }
        if outside(options.temperature, 0.0, 2.0) {
            return invalid("Temperature goes from 0 (focused) to 2 (most varied).".into());
        }
        if outside(options.top_p, 0.0, 1.0) {
            return invalid("Top P goes from 0 to 1.".into());
        }
        if outside(options.presence_penalty, -2.0, 2.0) {
            return invalid("Presence penalty goes from −2 to 2.".into());
        }
        if outside(options.frequency_penalty, -2.0, 2.0) {
            return invalid("Frequency penalty goes from −2 to 2.".into());
        }
        if let Some(limit) = options.max_output_tokens {
            let most = self
                .meter
                .price_of(&model)
                .map_or(ANY_MODEL_MAX_OUTPUT, |p| p.max_output);
            if limit == 0 {
                return invalid("The reply limit must be at least 1 token.".into());
            }
            if limit > most {
                return invalid(format!(
                    "{model} writes at most {most} tokens per reply: set the limit to that or less."
                ));
            }
        }
        Ok(ConversationSettings {
            model,
            system_prompt,
            options,
        })
    }

    pub fn persona_list(&self) -> Result<Vec<PersonaView>, CoreError> {
        Ok(self
            .store()
            .personas()?
            .into_iter()
            .map(|p| PersonaView {
                id: p.id,
                name: p.name,
                prompt: p.prompt,
            })
            .collect())
    }

    /// Adds or changes a persona; returns them all.
    pub fn persona_save(&self, input: PersonaInput) -> Result<Vec<PersonaView>, CoreError> {
        let name = input.name.split_whitespace().collect::<Vec<_>>().join(" ");
        let prompt = input.prompt.trim();
        if name.is_empty() || name.chars().count() > PERSONA_NAME_MAX_CHARS {
            return Err(CoreError::InvalidInput(
                "Give the persona a short name (up to 60 characters).".into(),
            ));
        }
        if prompt.is_empty() || prompt.chars().count() > SYSTEM_PROMPT_MAX_CHARS {
            return Err(CoreError::InvalidInput(
                "Write what the persona should tell the model (up to 100,000 characters).".into(),
            ));
        }
        self.store()
            .save_persona(input.id, &name, prompt, self.now())?;
        self.persona_list()
    }

    pub fn persona_delete(&self, id: i64) -> Result<Vec<PersonaView>, CoreError> {
        self.store().delete_persona(id)?;
        self.persona_list()
    }
}

pub(crate) fn to_store(options: &ChatOptions) -> ConversationOptions {
    ConversationOptions {
        temperature: options.temperature,
        top_p: options.top_p,
        max_output_tokens: options.max_output_tokens.map(i64::from),
        presence_penalty: options.presence_penalty,
        frequency_penalty: options.frequency_penalty,
        reasoning_effort: options.reasoning_effort.map(|e| e.as_str().to_string()),
        web_search: options.web_search,
        tools: (!options.tools.is_empty())
            .then(|| serde_json::to_string(&options.tools).ok())
            .flatten(),
        reply_format: (options.reply_format != ReplyFormat::Text || options.json_schema.is_some())
            .then(|| {
                serde_json::to_string(&StoredReplyFormat {
                    format: options.reply_format,
                    schema: options.json_schema.clone(),
                })
                .ok()
            })
            .flatten(),
    }
}

/// How a conversation's replies are written, as its `reply_format` column keeps it.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct StoredReplyFormat {
    format: ReplyFormat,
    schema: Option<String>,
}

pub(crate) fn from_store(options: &ConversationOptions) -> ChatOptions {
    ChatOptions {
        temperature: options.temperature,
        top_p: options.top_p,
        max_output_tokens: options
            .max_output_tokens
            .and_then(|n| u32::try_from(n).ok()),
        presence_penalty: options.presence_penalty,
        frequency_penalty: options.frequency_penalty,
        reasoning_effort: options
            .reasoning_effort
            .as_deref()
            .and_then(ReasoningEffort::parse),
        web_search: options.web_search,
        // Tools that no longer parse are left off rather than offered broken.
        tools: options
            .tools
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default(),
        reply_format: stored_format(options).format,
        json_schema: stored_format(options).schema,
    }
}

/// A conversation's reply format as kept (text when it no longer parses).
fn stored_format(options: &ConversationOptions) -> StoredReplyFormat {
    options
        .reply_format
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// The conversation's options as the request carries them.
pub(crate) fn request_options(conversation: &tally_store::Conversation) -> RequestOptions {
    request_options_of(&from_store(&conversation.options))
}

/// `options` as the request carries them.
pub(crate) fn request_options_of(options: &ChatOptions) -> RequestOptions {
    RequestOptions {
        max_output_tokens: options.max_output_tokens,
        temperature: options.temperature.map(|v| v as f32),
        top_p: options.top_p.map(|v| v as f32),
        presence_penalty: options.presence_penalty.map(|v| v as f32),
        frequency_penalty: options.frequency_penalty.map(|v| v as f32),
        reasoning_effort: options.reasoning_effort.map(ReasoningEffort::as_str),
        web_searches: options
            .web_search
            .then_some(crate::models::MAX_WEB_SEARCHES),
    }
}

pub(crate) fn settings_of(conversation: &tally_store::Conversation) -> ConversationSettings {
    ConversationSettings {
        model: conversation.model.clone(),
        system_prompt: conversation.system_prompt.clone(),
        options: from_store(&conversation.options),
    }
}
