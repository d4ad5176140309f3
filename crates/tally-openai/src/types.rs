//! Wire types of the Chat Completions API. Unknown fields are ignored on input, so new
//! fields the API adds never break a stream.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

/// A message of a request. Its serialised form is Chat Completions' (see the `Serialize`
/// impl below): `content` is its text, or, when it carries pictures, a list of parts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    /// Pictures a user message carries, after its text.
    #[serde(skip)]
    pub pictures: Vec<PictureInput>,
    /// Responses only: the reasoning items that came with this (assistant) message, sent
    /// back before it. Chat Completions has no place for them.
    #[serde(skip)]
    pub reasoning: Vec<crate::ReasoningItem>,
    /// An assistant message's calls of the request's tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<MessageToolCall>,
    /// A `tool` message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

/// A picture as a request carries it: a data URL (`data:image/jpeg;base64,…`), read by the
/// model at high detail (the detail Tally's estimates assume). Its size is not sent: the
/// caller counts its tokens by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureInput {
    pub data_url: String,
    pub width: u32,
    pub height: u32,
}

impl Serialize for ChatMessage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        /// One part of a message's content, in Chat Completions' shape.
        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Part<'a> {
            Text { text: &'a str },
            ImageUrl { image_url: ImageUrl<'a> },
        }
        #[derive(Serialize)]
        struct ImageUrl<'a> {
            url: &'a str,
            detail: &'static str,
        }

        let fields =
            2 + usize::from(!self.tool_calls.is_empty()) + usize::from(self.tool_call_id.is_some());
        let mut message = serializer.serialize_struct("ChatMessage", fields)?;
        message.serialize_field("role", &self.role)?;
        if self.pictures.is_empty() {
            message.serialize_field("content", &self.content)?;
        } else {
            let text = (!self.content.is_empty()).then_some(Part::Text {
                text: &self.content,
            });
            let pictures = self.pictures.iter().map(|picture| Part::ImageUrl {
                image_url: ImageUrl {
                    url: &picture.data_url,
                    detail: crate::PICTURE_DETAIL,
                },
            });
            let parts: Vec<Part> = text.into_iter().chain(pictures).collect();
            message.serialize_field("content", &parts)?;
        }
        if !self.tool_calls.is_empty() {
            message.serialize_field("tool_calls", &self.tool_calls)?;
        }
        if let Some(id) = &self.tool_call_id {
            message.serialize_field("tool_call_id", id)?;
        }
        message.end()
    }
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            pictures: Vec::new(),
            reasoning: Vec::new(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// The answer to tool call `call_id`: what the tool returned, or why it did not run.
    pub fn tool_result(call_id: impl Into<String>, output: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(call_id.into()),
            ..Self::new(Role::Tool, output)
        }
    }
}

/// A tool call as a later request carries it back, in Chat Completions' shape
/// (`{"id", "type": "function", "function": {"name", "arguments"}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "function")]
pub struct MessageToolCall {
    pub id: String,
    pub function: CalledFunction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalledFunction {
    pub name: String,
    /// The arguments as the model wrote them (JSON text).
    pub arguments: String,
}

impl From<&ToolCall> for MessageToolCall {
    fn from(call: &ToolCall) -> Self {
        Self {
            id: call.id.clone(),
            function: CalledFunction {
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            },
        }
    }
}

/// A function the model may call: its name, what it does, and the JSON Schema of its
/// arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub parameters: serde_json::Map<String, serde_json::Value>,
}

/// A tool as Chat Completions takes it: `{"type": "function", "function": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "function")]
pub struct ChatTool {
    pub function: FunctionTool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

/// A `POST /chat/completions` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub stream: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f32>,
    /// A reasoning model's effort (`none` … `xhigh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Responses only: ask for a summary of the model's reasoning (`reasoning.summary`).
    #[serde(skip)]
    pub reasoning_summary: bool,
    /// Responses only: let the model search the web, at most this many times
    /// (`max_tool_calls`); `None`: no web search.
    #[serde(skip)]
    pub web_searches: Option<u32>,
    /// The functions the model may call (on Responses, sent in its own shape).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ChatTool>,
    /// A reply in JSON: any object, or one that matches a schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
}

/// How the reply is written, when not as text: Chat Completions' `response_format`
/// (`{"type": "json_object"}`, or `{"type": "json_schema", "json_schema": {…}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Any JSON object (the messages must say "JSON" somewhere: the API refuses otherwise).
    JsonObject,
    /// JSON matching a schema.
    JsonSchema { json_schema: JsonSchemaFormat },
}

/// A schema a reply must match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// `^[a-zA-Z0-9_-]{1,64}$`.
    pub name: String,
    pub schema: serde_json::Map<String, serde_json::Value>,
    /// Whether the API holds the reply to the schema exactly (only for schemas written to
    /// strict mode's rules).
    pub strict: bool,
}

impl ChatRequest {
    /// A streaming request that asks for the usage chunk at the end.
    pub fn streaming(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            stream: true,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            max_tokens: None,
            max_completion_tokens: None,
            temperature: None,
            top_p: None,
            presence_penalty: None,
            frequency_penalty: None,
            reasoning_effort: None,
            reasoning_summary: false,
            web_searches: None,
            tools: Vec::new(),
            response_format: None,
        }
    }
}

/// One `chat.completion.chunk` of a stream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatChunk {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub delta: Delta,
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Delta {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A fragment of a tool call inside a chunk; fragments with the same `index` belong to
/// the same call.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ToolCallDelta {
    pub index: u32,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FunctionDelta {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

/// A whole tool call, merged from its fragments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolCall {
    pub index: u32,
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// Why the model stopped writing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ContentFilter,
    ToolCalls,
    FunctionCall,
    #[serde(untagged)]
    Other(String),
}

impl FinishReason {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ContentFilter => "content_filter",
            Self::ToolCalls => "tool_calls",
            Self::FunctionCall => "function_call",
            Self::Other(other) => other,
        }
    }
}

/// Token usage as the API reports it in the final chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

impl Usage {
    pub fn cached_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0)
    }

    /// Prompt tokens this request wrote to the cache (2026 usage objects carry it).
    pub fn cache_write_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .and_then(|d| d.cache_write_tokens)
            .unwrap_or(0)
    }

    pub fn reasoning_tokens(&self) -> u64 {
        self.completion_tokens_details
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_tokens: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

/// `GET /models`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelList {
    pub data: Vec<ModelInfo>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    #[serde(default)]
    pub owned_by: String,
}

#[cfg(test)]
mod tests {
    use super::Usage;

    #[test]
    fn usage_reads_cache_writes_where_reported_and_none_where_not() {
        let with: Usage = serde_json::from_str(
            r#"{"prompt_tokens":9000,"completion_tokens":96,"total_tokens":9096,
                "prompt_tokens_details":{"cached_tokens":512,"cache_write_tokens":8192}}"#,
        )
        .unwrap();
        assert_eq!(
            (with.cached_tokens(), with.cache_write_tokens()),
            (512, 8192)
        );
        let without: Usage = serde_json::from_str(
            r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,
                "prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0}}"#,
        )
        .unwrap();
        assert_eq!(without.cache_write_tokens(), 0);
    }
}
