//! The Responses API (`POST /responses`), beside Chat Completions: the request, built from
//! the same [`ChatRequest`] the rest of Tally makes, and the typed events of its stream.
//! Its stream has named events and no `[DONE]`: it ends with `response.completed`,
//! `response.incomplete` or `response.failed`, or an `error` event.

use serde::{Deserialize, Serialize};

use crate::{ChatRequest, Role, Usage};

/// The API a request goes to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// `POST /chat/completions`: every OpenAI-compatible server speaks it.
    #[default]
    ChatCompletions,
    /// `POST /responses`: OpenAI's newer API, the only one some models answer on.
    Responses,
}

impl Api {
    /// The path under the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Self::ChatCompletions => "chat/completions",
            Self::Responses => "responses",
        }
    }
}

/// A streaming `POST /responses` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponsesRequest {
    pub model: String,
    /// The system prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    pub input: Vec<InputItem>,
    pub stream: bool,
    /// `false`: OpenAI keeps nothing, so each turn sends the conversation again.
    pub store: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningOptions>,
    /// What a reasoning model's reasoning items carry back (their encrypted content, which
    /// a later turn sends again since nothing is stored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// The built-in tools offered (web search).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    /// The most tool calls (web searches) the model may make for this reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tool_calls: Option<u32>,
    /// A reply in JSON (`{"format": {"type": "json_object"}}`, or a schema's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<TextOptions>,
}

/// Responses' `text` options: the reply's format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextOptions {
    pub format: TextFormat,
}

/// The same formats as Chat Completions' `response_format`, the schema's fields flat.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TextFormat {
    JsonObject,
    JsonSchema {
        name: String,
        schema: serde_json::Map<String, serde_json::Value>,
        strict: bool,
    },
}

impl From<&crate::ResponseFormat> for TextFormat {
    fn from(format: &crate::ResponseFormat) -> Self {
        match format {
            crate::ResponseFormat::JsonObject => Self::JsonObject,
            crate::ResponseFormat::JsonSchema { json_schema } => Self::JsonSchema {
                name: json_schema.name.clone(),
                schema: json_schema.schema.clone(),
                strict: json_schema.strict,
            },
        }
    }
}

/// A tool a request offers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolSpec {
    /// OpenAI's own web search: each search is billed as one call.
    WebSearch,
    /// A function Tally runs (an MCP server's tool). Not strict: MCP's schemas are not
    /// written for strict mode's rules.
    Function {
        name: String,
        description: String,
        parameters: serde_json::Map<String, serde_json::Value>,
        strict: bool,
    },
}

/// How a reasoning model reasons: its effort, and whether to summarise its reasoning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasoningOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<&'static str>,
}

/// One item of a request's `input`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum InputItem {
    /// A message in its short form: a role and its text.
    Message {
        role: Role,
        content: String,
    },
    /// A message with pictures: its text and pictures as parts.
    MessageParts {
        role: Role,
        content: Vec<InputPart>,
    },
    /// A reasoning item of an earlier reply, sent back as it came.
    Reasoning(ReasoningInput),
    /// A call an earlier reply made, and what it returned.
    FunctionCall(FunctionCallInput),
    FunctionCallOutput(FunctionCallOutputInput),
}

/// One part of an input message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputPart {
    InputText {
        text: String,
    },
    InputImage {
        image_url: String,
        detail: &'static str,
    },
}

/// A function call of an earlier reply, sent back as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename = "function_call")]
pub struct FunctionCallInput {
    pub call_id: String,
    pub name: String,
    pub arguments: String,
}

/// What a function call returned (or why it did not run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename = "function_call_output")]
pub struct FunctionCallOutputInput {
    pub call_id: String,
    pub output: String,
}

/// A reasoning item as a request carries it back.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename = "reasoning")]
pub struct ReasoningInput {
    pub id: String,
    /// Its summary is not sent back (the API takes it empty).
    pub summary: Vec<String>,
    pub encrypted_content: String,
}

impl ResponsesRequest {
    /// `request` as the Responses API takes it: system messages become `instructions`,
    /// the others input messages; the output limit is `max_output_tokens` whichever name
    /// the chat request used; penalties, which Responses does not take, are left out.
    pub fn from_chat(request: &ChatRequest) -> Self {
        let instructions: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| matches!(m.role, Role::System | Role::Developer))
            .map(|m| m.content.as_str())
            .collect();
        let input = request
            .messages
            .iter()
            .flat_map(|m| {
                let reasoning = m.reasoning.iter().map(|item| {
                    InputItem::Reasoning(ReasoningInput {
                        id: item.id.clone(),
                        summary: Vec::new(),
                        encrypted_content: item.encrypted_content.clone(),
                    })
                });
                // A reply that only called tools has no text to send back.
                let message = match m.role {
                    Role::User if !m.pictures.is_empty() => {
                        let text = (!m.content.is_empty()).then(|| InputPart::InputText {
                            text: m.content.clone(),
                        });
                        let pictures = m.pictures.iter().map(|picture| InputPart::InputImage {
                            image_url: picture.data_url.clone(),
                            detail: crate::PICTURE_DETAIL,
                        });
                        Some(InputItem::MessageParts {
                            role: m.role,
                            content: text.into_iter().chain(pictures).collect(),
                        })
                    }
                    Role::User => Some(InputItem::Message {
                        role: m.role,
                        content: m.content.clone(),
                    }),
                    Role::Assistant if !m.content.is_empty() || m.tool_calls.is_empty() => {
                        Some(InputItem::Message {
                            role: m.role,
                            content: m.content.clone(),
                        })
                    }
                    Role::Tool => m.tool_call_id.as_ref().map(|call_id| {
                        InputItem::FunctionCallOutput(FunctionCallOutputInput {
                            call_id: call_id.clone(),
                            output: m.content.clone(),
                        })
                    }),
                    _ => None,
                };
                let calls = m.tool_calls.iter().map(|call| {
                    InputItem::FunctionCall(FunctionCallInput {
                        call_id: call.id.clone(),
                        name: call.function.name.clone(),
                        arguments: call.function.arguments.clone(),
                    })
                });
                let reasoning: Vec<InputItem> = if m.role == Role::Assistant {
                    reasoning.collect()
                } else {
                    Vec::new()
                };
                reasoning.into_iter().chain(message).chain(calls)
            })
            .collect();
        Self {
            model: request.model.clone(),
            instructions: (!instructions.is_empty()).then(|| instructions.join("\n\n")),
            input,
            stream: true,
            store: false,
            max_output_tokens: request.max_completion_tokens.or(request.max_tokens),
            temperature: request.temperature,
            top_p: request.top_p,
            reasoning: (request.reasoning_effort.is_some() || request.reasoning_summary).then(
                || ReasoningOptions {
                    effort: request.reasoning_effort.clone(),
                    summary: request.reasoning_summary.then_some("auto"),
                },
            ),
            include: vec!["reasoning.encrypted_content".into()],
            tools: request
                .web_searches
                .filter(|n| *n > 0)
                .map(|_| ToolSpec::WebSearch)
                .into_iter()
                .chain(request.tools.iter().map(|tool| ToolSpec::Function {
                    name: tool.function.name.clone(),
                    description: tool.function.description.clone(),
                    parameters: tool.function.parameters.clone(),
                    strict: false,
                }))
                .collect(),
            max_tool_calls: request.web_searches.filter(|n| *n > 0),
            text: request.response_format.as_ref().map(|format| TextOptions {
                format: format.into(),
            }),
        }
    }
}

/// One event of a Responses stream. Events Tally does not use are read as [`Other`].
///
/// [`Other`]: ResponsesEvent::Other
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum ResponsesEvent {
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta { delta: String },
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta { delta: String },
    /// A piece of the model's summary of its reasoning.
    #[serde(rename = "response.reasoning_summary_text.delta")]
    ReasoningSummaryDelta { delta: String },
    /// An output item begins (Tally reads a web search's query here, to show it).
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded { item: OutputItem },
    #[serde(rename = "response.output_item.done")]
    OutputItemDone { item: OutputItem },
    /// A note on the reply's text: a web source it cites.
    #[serde(rename = "response.output_text.annotation.added")]
    AnnotationAdded { annotation: Annotation },
    #[serde(rename = "response.completed")]
    Completed { response: ResponseObject },
    #[serde(rename = "response.incomplete")]
    Incomplete { response: ResponseObject },
    #[serde(rename = "response.failed")]
    Failed { response: ResponseObject },
    #[serde(rename = "error")]
    Error {
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        param: Option<String>,
    },
    #[serde(other)]
    Other,
}

/// A finished output item, as far as Tally reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum OutputItem {
    /// The model's reasoning: opaque, but sent back on the next turn.
    #[serde(rename = "reasoning")]
    Reasoning {
        #[serde(default)]
        id: String,
        #[serde(default)]
        encrypted_content: Option<String>,
    },
    /// One web search; with a `search` action it is one billed call.
    #[serde(rename = "web_search_call")]
    WebSearchCall {
        #[serde(default)]
        action: Option<WebSearchAction>,
    },
    /// A call of one of the request's functions, whole (its arguments as JSON text).
    #[serde(rename = "function_call")]
    FunctionCall {
        call_id: String,
        name: String,
        #[serde(default)]
        arguments: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebSearchAction {
    #[serde(rename = "type")]
    pub kind: String,
    /// What the model searched for (a `search` action).
    #[serde(default)]
    pub query: Option<String>,
}

/// An annotation on the reply's text, as far as Tally reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type")]
pub enum Annotation {
    /// A web page the text cites.
    #[serde(rename = "url_citation")]
    UrlCitation {
        url: String,
        #[serde(default)]
        title: Option<String>,
    },
    #[serde(other)]
    Other,
}

/// The response object of a terminal event.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ResponseObject {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub error: Option<ResponseError>,
    #[serde(default)]
    pub incomplete_details: Option<IncompleteDetails>,
    #[serde(default)]
    pub usage: Option<ResponsesUsage>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ResponseError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IncompleteDetails {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Token usage as the Responses API reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct ResponsesUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub input_tokens_details: Option<InputTokensDetails>,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub output_tokens_details: Option<OutputTokensDetails>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct InputTokensDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_tokens: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct OutputTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

impl From<ResponsesUsage> for Usage {
    /// The same counts under Chat Completions' names, which the ledger reads.
    fn from(usage: ResponsesUsage) -> Self {
        let input = usage.input_tokens_details.unwrap_or_default();
        let output = usage.output_tokens_details.unwrap_or_default();
        Usage {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
            total_tokens: usage.input_tokens.saturating_add(usage.output_tokens),
            prompt_tokens_details: Some(crate::PromptTokensDetails {
                cached_tokens: input.cached_tokens,
                cache_write_tokens: input.cache_write_tokens,
            }),
            completion_tokens_details: Some(crate::CompletionTokensDetails {
                reasoning_tokens: output.reasoning_tokens,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChatMessage, RequestOptions};

    #[test]
    fn a_chat_request_becomes_a_responses_request_that_stores_nothing_and_carries_reasoning_back() {
        let options = RequestOptions {
            max_output_tokens: Some(500),
            temperature: Some(0.5),
            presence_penalty: Some(1.0),
            ..Default::default()
        };
        let chat = ChatRequest::streaming(
            "gpt-5.5-pro",
            vec![
                ChatMessage::new(Role::System, "Answer in French."),
                ChatMessage::new(Role::User, "Hello"),
                ChatMessage {
                    reasoning: vec![crate::ReasoningItem {
                        id: "rs_1".into(),
                        encrypted_content: "gAAAA-opaque".into(),
                    }],
                    ..ChatMessage::new(Role::Assistant, "Bonjour")
                },
            ],
        )
        .with_options(&options, crate::Capabilities::for_reasoning(true));
        let request = ResponsesRequest::from_chat(&chat);
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "model": "gpt-5.5-pro",
                "instructions": "Answer in French.",
                "input": [
                    {"role": "user", "content": "Hello"},
                    {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAA-opaque"},
                    {"role": "assistant", "content": "Bonjour"}
                ],
                "stream": true,
                "store": false,
                "max_output_tokens": 500,
                "reasoning": {"summary": "auto"},
                "include": ["reasoning.encrypted_content"]
            })
        );
    }

    /// A user message with pictures: Chat Completions gets `text` and `image_url` parts,
    /// Responses `input_text` and `input_image` (the shapes of shared/openai-wire's
    /// responses-request.json), each picture at high detail; a message without pictures
    /// keeps its plain text.
    #[test]
    fn pictures_take_each_apis_shape() {
        let picture = |n: u8| crate::PictureInput {
            data_url: format!("data:image/jpeg;base64,/9j/{n}"),
            width: 640,
            height: 480,
        };
        let chat = ChatRequest::streaming(
            "gpt-5.4-mini",
            vec![
                ChatMessage {
                    pictures: vec![picture(1), picture(2)],
                    ..ChatMessage::new(Role::User, "What is in these?")
                },
                ChatMessage::new(Role::Assistant, "A cat and a hat."),
                ChatMessage {
                    pictures: vec![picture(3)],
                    ..ChatMessage::new(Role::User, "")
                },
            ],
        );
        let json = serde_json::to_value(&chat).unwrap();
        assert_eq!(
            json["messages"],
            serde_json::json!([
                {"role": "user", "content": [
                    {"type": "text", "text": "What is in these?"},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/1", "detail": "high"}},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/2", "detail": "high"}}
                ]},
                {"role": "assistant", "content": "A cat and a hat."},
                {"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/3", "detail": "high"}}
                ]}
            ])
        );
        let json = serde_json::to_value(ResponsesRequest::from_chat(&chat)).unwrap();
        assert_eq!(
            json["input"],
            serde_json::json!([
                {"role": "user", "content": [
                    {"type": "input_text", "text": "What is in these?"},
                    {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/1", "detail": "high"},
                    {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/2", "detail": "high"}
                ]},
                {"role": "assistant", "content": "A cat and a hat."},
                {"role": "user", "content": [
                    {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/3", "detail": "high"}
                ]}
            ])
        );
    }

    /// A conversation in which the model called a function: Chat Completions gets the
    /// tools, the assistant's `tool_calls` and the `tool` answer in its shapes; Responses
    /// gets `function` tools, then `function_call` and `function_call_output` items (the
    /// shapes of shared/openai-wire's function-call transcripts).
    #[test]
    fn function_tools_their_calls_and_results_take_each_apis_shape() {
        let parameters = serde_json::json!({
            "type": "object",
            "properties": {"timezone": {"type": "string"}},
            "required": ["timezone"]
        });
        let call = crate::ToolCall {
            index: 0,
            id: "call_Q2xh8fVb1".into(),
            name: "get_time".into(),
            arguments: r#"{"timezone":"Europe/Lisbon"}"#.into(),
        };
        let mut chat = ChatRequest::streaming(
            "gpt-5.4-mini",
            vec![
                ChatMessage::new(Role::System, "Be brief."),
                ChatMessage::new(Role::User, "What time is it in Lisbon?"),
                ChatMessage {
                    tool_calls: vec![(&call).into()],
                    ..ChatMessage::new(Role::Assistant, "")
                },
                ChatMessage::tool_result("call_Q2xh8fVb1", "14:05"),
            ],
        );
        chat.tools = vec![crate::ChatTool {
            function: crate::FunctionTool {
                name: "get_time".into(),
                description: "Current time in a time zone".into(),
                parameters: parameters.as_object().unwrap().clone(),
            },
        }];

        let json = serde_json::to_value(&chat).unwrap();
        assert_eq!(
            json["tools"],
            serde_json::json!([{"type": "function", "function": {
                "name": "get_time", "description": "Current time in a time zone",
                "parameters": parameters}}])
        );
        assert_eq!(
            json["messages"][2],
            serde_json::json!({"role": "assistant", "content": "", "tool_calls": [
                {"type": "function", "id": "call_Q2xh8fVb1", "function": {
                    "name": "get_time", "arguments": r#"{"timezone":"Europe/Lisbon"}"#}}]})
        );
        assert_eq!(
            json["messages"][3],
            serde_json::json!({"role": "tool", "content": "14:05", "tool_call_id": "call_Q2xh8fVb1"})
        );
        assert!(json["messages"][1].get("tool_calls").is_none());

        let json = serde_json::to_value(ResponsesRequest::from_chat(&chat)).unwrap();
        assert_eq!(
            json["tools"],
            serde_json::json!([{"type": "function", "name": "get_time",
                "description": "Current time in a time zone", "parameters": parameters,
                "strict": false}])
        );
        assert_eq!(json["instructions"], "Be brief.");
        assert_eq!(
            json["input"],
            serde_json::json!([
                {"role": "user", "content": "What time is it in Lisbon?"},
                {"type": "function_call", "call_id": "call_Q2xh8fVb1", "name": "get_time",
                 "arguments": r#"{"timezone":"Europe/Lisbon"}"#},
                {"type": "function_call_output", "call_id": "call_Q2xh8fVb1", "output": "14:05"}
            ])
        );
    }

    #[test]
    fn a_json_reply_is_asked_in_each_apis_shape() {
        let schema: serde_json::Map<String, serde_json::Value> = serde_json::from_value(
            serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"], "additionalProperties": false}),
        )
        .unwrap();
        let mut chat =
            ChatRequest::streaming("gpt-5.4-mini", vec![ChatMessage::new(Role::User, "Hi")]);
        chat.response_format = Some(crate::ResponseFormat::JsonSchema {
            json_schema: crate::JsonSchemaFormat {
                name: "reply".into(),
                schema: schema.clone(),
                strict: true,
            },
        });
        let json = serde_json::to_value(&chat).unwrap();
        assert_eq!(
            json["response_format"],
            serde_json::json!({"type": "json_schema", "json_schema":
                {"name": "reply", "schema": schema, "strict": true}})
        );
        let json = serde_json::to_value(ResponsesRequest::from_chat(&chat)).unwrap();
        assert_eq!(
            json["text"],
            serde_json::json!({"format": {"type": "json_schema", "name": "reply",
                "schema": schema, "strict": true}})
        );

        chat.response_format = Some(crate::ResponseFormat::JsonObject);
        let json = serde_json::to_value(&chat).unwrap();
        assert_eq!(
            json["response_format"],
            serde_json::json!({"type": "json_object"})
        );
        let json = serde_json::to_value(ResponsesRequest::from_chat(&chat)).unwrap();
        assert_eq!(
            json["text"],
            serde_json::json!({"format": {"type": "json_object"}})
        );

        chat.response_format = None;
        assert!(
            serde_json::to_value(&chat)
                .unwrap()
                .get("response_format")
                .is_none()
        );
        let json = serde_json::to_value(ResponsesRequest::from_chat(&chat)).unwrap();
        assert!(json.get("text").is_none());
    }

    #[test]
    fn web_search_is_offered_as_the_built_in_tool_with_a_cap_on_its_calls() {
        let options = RequestOptions {
            web_searches: Some(3),
            ..Default::default()
        };
        let chat = ChatRequest::streaming("gpt-5.4-mini", vec![ChatMessage::new(Role::User, "Hi")])
            .with_options(&options, crate::Capabilities::for_reasoning(true));
        let json = serde_json::to_value(ResponsesRequest::from_chat(&chat)).unwrap();
        // The tool's shape is the one in shared/openai-wire/responses-request.json.
        assert_eq!(json["tools"], serde_json::json!([{"type": "web_search"}]));
        assert_eq!(json["max_tool_calls"], 3);
        let unsearched = ChatRequest::streaming("gpt-5.4-mini", vec![]);
        let json = serde_json::to_value(ResponsesRequest::from_chat(&unsearched)).unwrap();
        assert!(json.get("tools").is_none() && json.get("max_tool_calls").is_none());
        // Chat Completions has no such tool: nothing about it is sent there.
        let chat_json = serde_json::to_string(&chat).unwrap();
        assert!(!chat_json.contains("web_search") && !chat_json.contains("tools"));
    }

    #[test]
    fn events_tally_does_not_use_are_read_as_other() {
        for (data, expected) in [
            (
                r#"{"type":"response.output_text.delta","sequence_number":6,"item_id":"m","output_index":1,"content_index":0,"delta":"Hi","logprobs":[]}"#,
                ResponsesEvent::OutputTextDelta { delta: "Hi".into() },
            ),
            (
                r#"{"type":"response.in_progress","sequence_number":1,"response":{}}"#,
                ResponsesEvent::Other,
            ),
            (
                r#"{"type":"response.web_search_call.searching","sequence_number":4,"item_id":"ws","output_index":0}"#,
                ResponsesEvent::Other,
            ),
            (
                r#"{"type":"response.output_text.annotation.added","sequence_number":12,"item_id":"m","output_index":1,"content_index":0,"annotation_index":0,"annotation":{"type":"file_citation","file_id":"f","filename":"a.pdf","index":3}}"#,
                ResponsesEvent::AnnotationAdded {
                    annotation: Annotation::Other,
                },
            ),
        ] {
            assert_eq!(
                serde_json::from_str::<ResponsesEvent>(data).unwrap(),
                expected
            );
        }
    }

    #[test]
    fn responses_usage_reads_as_chat_usage() {
        let usage: ResponsesUsage = serde_json::from_str(
            r#"{"input_tokens":8412,"input_tokens_details":{"cached_tokens":100,"cache_write_tokens":8192},"output_tokens":96,"output_tokens_details":{"reasoning_tokens":40},"total_tokens":8508}"#,
        )
        .unwrap();
        let usage = Usage::from(usage);
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (8412, 96));
        assert_eq!(usage.cached_tokens(), 100);
        assert_eq!(usage.cache_write_tokens(), 8192);
        assert_eq!(usage.reasoning_tokens(), 40);
    }
}
