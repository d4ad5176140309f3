//! `POST /v1/responses`: the Responses API, in the event shapes of the shared
//! `responses-*` transcripts (named SSE events with a rising `sequence_number`, no
//! `[DONE]`, usage in the final response object). Every scenario of Chat Completions is
//! served here too; the recorded `responses-*` streams are replayed byte for byte.

use serde_json::json;

use super::*;

/// A Responses request as far as the mock reads it.
#[derive(Debug, Deserialize)]
struct ReceivedResponses {
    model: String,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(default)]
    input: Input,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    store: Option<bool>,
    #[serde(default)]
    max_output_tokens: Option<u32>,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    reasoning: Option<ReasoningParams>,
    #[serde(default)]
    tools: Vec<ToolParam>,
    #[serde(default)]
    max_tool_calls: Option<u32>,
    #[serde(default)]
    text: Option<TextParam>,
}

/// Responses' `text` options: the reply's format.
#[derive(Debug, Deserialize)]
struct TextParam {
    #[serde(default)]
    format: Option<ReceivedFormat>,
}

#[derive(Debug, Deserialize)]
struct ToolParam {
    #[serde(rename = "type")]
    kind: String,
    /// A `function` tool's name, description and parameters.
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct ReasoningParams {
    #[serde(default)]
    effort: Option<String>,
    #[serde(default)]
    summary: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Input {
    Text(String),
    Items(Vec<InputItem>),
}

impl Default for Input {
    fn default() -> Self {
        Self::Items(Vec::new())
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum InputItem {
    Message {
        role: String,
        #[serde(deserialize_with = "super::pictures::content")]
        content: super::pictures::Content,
    },
    /// A typed item: a reasoning item sent back (its encrypted content is recorded), a
    /// function call (not read here) or its output (read as a `tool` message).
    Typed {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        encrypted_content: Option<String>,
        #[serde(default)]
        output: Option<String>,
    },
    Other(serde::de::IgnoredAny),
}

impl ReceivedResponses {
    fn into_request(self) -> ReceivedRequest {
        let mut reasoning_items = Vec::new();
        let mut messages: Vec<ReceivedMessage> = self
            .instructions
            .map(|content| ReceivedMessage {
                role: "system".into(),
                content,
                pictures: Vec::new(),
            })
            .into_iter()
            .collect();
        match self.input {
            Input::Text(content) => messages.push(ReceivedMessage {
                role: "user".into(),
                content,
                pictures: Vec::new(),
            }),
            Input::Items(items) => {
                for item in &items {
                    if let InputItem::Typed {
                        kind,
                        encrypted_content: Some(content),
                        ..
                    } = item
                        && kind == "reasoning"
                    {
                        reasoning_items.push(content.clone());
                    }
                }
                messages.extend(items.into_iter().filter_map(|item| match item {
                    InputItem::Message { role, content } => Some(ReceivedMessage {
                        role,
                        content: content.text,
                        pictures: content.pictures,
                    }),
                    InputItem::Typed {
                        kind,
                        output: Some(output),
                        ..
                    } if kind == "function_call_output" => Some(ReceivedMessage {
                        role: "tool".into(),
                        content: output,
                        pictures: Vec::new(),
                    }),
                    InputItem::Typed { .. } | InputItem::Other(_) => None,
                }))
            }
        }
        ReceivedRequest {
            responses: true,
            reasoning_items,
            store: self.store,
            include: self.include,
            model: self.model,
            messages,
            stream: self.stream,
            stream_options: None,
            max_tokens: None,
            max_completion_tokens: self.max_output_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            presence_penalty: None,
            frequency_penalty: None,
            reasoning_effort: self.reasoning.as_ref().and_then(|r| r.effort.clone()),
            reasoning_summary: self.reasoning.and_then(|r| r.summary),
            web_search: self.tools.iter().any(|t| t.kind == "web_search"),
            max_tool_calls: self.max_tool_calls,
            functions: self
                .tools
                .into_iter()
                .filter(|t| t.kind == "function")
                .filter_map(|t| {
                    Some(ReceivedFunction {
                        name: t.name?,
                        description: t.description.unwrap_or_default(),
                        parameters: t.parameters,
                    })
                })
                .collect(),
            reply_format: self.text.and_then(|t| t.format),
        }
    }
}

/// Models OpenAI serves only on Responses (the mock's own knowledge: the pro and codex
/// models), which Chat Completions refuses with `error-404-responses-only-model`.
pub(super) fn only_on_responses(model: &str) -> bool {
    let model = model.trim().rsplit('/').next().unwrap_or(model);
    model.ends_with("-pro") || model.contains("-pro-") || model.contains("codex")
}

/// Whether the recorded transcript `name` is a Responses stream.
pub(super) fn is_responses_stream(name: &str) -> bool {
    name.starts_with("responses-")
}

pub(super) async fn respond(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.chat_requests.fetch_add(1, Ordering::SeqCst);
    shared.changed.notify_waiters();
    if !authorized(&shared, &headers) {
        return replay_whole(&wire_file("error-401-invalid-key").expect("recorded file"));
    }
    let request = match serde_json::from_slice::<ReceivedResponses>(&body) {
        Ok(r) => r.into_request(),
        Err(e) => return invalid_body(&e.to_string()),
    };
    shared.requests.lock().unwrap().push(request.clone());
    if let Some(refused) = super::picture_refusal(&request) {
        return refused;
    }
    if !request.stream {
        return invalid_body("the mock serves the Responses API as a stream only");
    }
    let scenario = headers
        .get("x-mock-scenario")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| marker_in(&request));
    let step = scenario.map(|s| step_for(&shared, &s));
    let step = match (step, refusal_for(&request)) {
        (None | Some(Step::Ok), Some(refusal)) => Step::Wire(refusal.to_string()),
        (step, _) => step.unwrap_or(Step::Ok),
    };
    answer(&shared, &request, step)
}

/// One named SSE event.
pub(super) fn event(kind: &str, sequence: &mut u64, mut data: serde_json::Value) -> String {
    if let serde_json::Value::Object(fields) = &mut data {
        let mut ordered = serde_json::Map::new();
        ordered.insert("type".into(), kind.into());
        ordered.insert("sequence_number".into(), (*sequence).into());
        ordered.extend(std::mem::take(fields));
        data = ordered.into();
    }
    *sequence += 1;
    format!("event: {kind}\ndata: {data}\n\n")
}

/// The page a generated reply cites when it searched the web.
pub const MOCK_SOURCE_URL: &str = "https://example.org/mock-source";
pub const MOCK_SOURCE_TITLE: &str = "Mock source — example.org";
/// Input tokens a search adds to the usage (what gpt-4o-mini is billed per call).
pub const SEARCH_CONTENT_TOKENS: u64 = 8_000;

/// What a reasoning model's generated reply says it thought, when asked to summarise.
pub const MOCK_THINKING: &str =
    "**Weighing the question**\n\nThe mock considers what was asked before it answers.";

/// A generated reply in the Responses API's event shapes (`responses-stream-basic.http`).
pub(super) fn generated(
    shared: &Arc<Shared>,
    request: &ReceivedRequest,
    how: Generated,
) -> Response {
    let n = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let id = format!("resp_mock{n:06}");
    let message_id = format!("msg_mock{n:06}");
    let request_id = format!("req_mock{n:024x}");
    let model = served_model(&request.model);
    let title = title_for(request);
    let reply = title
        .as_deref()
        .or(how.reply.as_deref())
        .unwrap_or(shared.config.reply.as_str());
    let formatted = in_format(request, reply);
    let reply = formatted.as_str();
    // Offered the web_search tool (and allowed a call), the mock searches once and cites
    // its source at the end of the reply, as `responses-stream-web-search.http` does.
    let searches = u32::from(request.web_search && request.max_tool_calls != Some(0));
    let cited;
    let (reply, annotations) = if searches > 0 {
        let link = format!("[example.org]({MOCK_SOURCE_URL})");
        cited = format!("{reply} ({link})");
        // Indexes count characters, as in the recorded transcript.
        let start = reply.chars().count() + 2;
        let end = start + link.chars().count();
        let annotation = json!({"type": "url_citation", "start_index": start, "end_index": end, "url": MOCK_SOURCE_URL, "title": MOCK_SOURCE_TITLE});
        (cited.as_str(), vec![annotation])
    } else {
        (reply, Vec::new())
    };
    let reasoning = is_reasoning_model(&request.model);
    let response = |status: &str, output: serde_json::Value, usage: serde_json::Value| {
        response_object(request, &id, &model, status, output, usage)
    };
    let mut sequence = 0;
    // Everything before the first delta leaves at once, as the real API sends it.
    let mut head = vec![
        event(
            "response.created",
            &mut sequence,
            json!({"response": response("in_progress", json!([]), json!(null))}),
        ),
        event(
            "response.in_progress",
            &mut sequence,
            json!({"response": response("in_progress", json!([]), json!(null))}),
        ),
    ];
    let mut output = Vec::new();
    if reasoning {
        output.push(reasoning_item(request, n, &mut sequence, &mut head));
    }
    if searches > 0 {
        let index = output.len();
        let id = format!("ws_mock{n:06}");
        let query: String = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map(|m| m.content.chars().take(60).collect())
            .unwrap_or_default();
        let item = |status: &str| json!({"id": id, "type": "web_search_call", "status": status, "action": {"type": "search", "query": query, "sources": null}});
        head.push(event(
            "response.output_item.added",
            &mut sequence,
            json!({"output_index": index, "item": item("in_progress")}),
        ));
        for kind in ["in_progress", "searching", "completed"] {
            head.push(event(
                &format!("response.web_search_call.{kind}"),
                &mut sequence,
                json!({"item_id": id, "output_index": index}),
            ));
        }
        head.push(event(
            "response.output_item.done",
            &mut sequence,
            json!({"output_index": index, "item": item("completed")}),
        ));
        output.push(item("completed"));
    }
    let index = output.len();
    head.push(event(
        "response.output_item.added",
        &mut sequence,
        json!({"output_index": index, "item": {"id": message_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}}),
    ));
    let part = |text: &str, annotations: &[serde_json::Value]| json!({"type": "output_text", "text": text, "annotations": annotations, "logprobs": []});
    head.push(event(
        "response.content_part.added",
        &mut sequence,
        json!({"item_id": message_id, "output_index": index, "content_index": 0, "part": part("", &[])}),
    ));
    let mut pieces = vec![Piece::Send(head.concat())];
    let parts = chunk_pieces(reply, shared.config.chunk_chars);
    let cut = match (how.stall, how.drop_after.or(how.garbage_after)) {
        (Stall::AfterTwoChunks, _) => 2,
        (Stall::AfterRole, _) => 0,
        (Stall::Never, Some(n)) => n,
        (Stall::Never, None) => parts.len(),
    };
    let sent = &parts[..parts.len().min(cut)];
    for delta in sent {
        pieces.push(Piece::Send(event(
            "response.output_text.delta",
            &mut sequence,
            json!({"item_id": message_id, "output_index": index, "content_index": 0, "delta": delta, "logprobs": [], "obfuscation": "q"}),
        )));
    }
    if how.garbage_after.is_some() {
        pieces.push(Piece::Send(
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.de\n\n"
                .into(),
        ));
    } else if how.drop_after.is_some() {
        pieces.push(Piece::Abort);
    } else if how.stall != Stall::Never {
        pieces.push(Piece::Hang);
    } else {
        for (i, annotation) in annotations.iter().enumerate() {
            pieces.push(Piece::Send(event(
                "response.output_text.annotation.added",
                &mut sequence,
                json!({"item_id": message_id, "output_index": index, "content_index": 0, "annotation_index": i, "annotation": annotation}),
            )));
        }
        for (kind, data) in [
            (
                "response.output_text.done",
                json!({"item_id": message_id, "output_index": index, "content_index": 0, "text": reply, "logprobs": []}),
            ),
            (
                "response.content_part.done",
                json!({"item_id": message_id, "output_index": index, "content_index": 0, "part": part(reply, &annotations)}),
            ),
        ] {
            pieces.push(Piece::Send(event(kind, &mut sequence, data)));
        }
        let message = json!({"id": message_id, "type": "message", "status": "completed", "content": [part(reply, &annotations)], "role": "assistant"});
        pieces.push(Piece::Send(event(
            "response.output_item.done",
            &mut sequence,
            json!({"output_index": index, "item": message}),
        )));
        output.push(message);
        // What a search read arrives as input tokens, at the model's rate.
        let usage = how.usage.unwrap_or_else(|| {
            let mut usage = usage_for(request, reply);
            usage.prompt_tokens += u64::from(searches) * SEARCH_CONTENT_TOKENS;
            usage.total_tokens += u64::from(searches) * SEARCH_CONTENT_TOKENS;
            usage
        });
        count_usage(shared, &usage);
        pieces.push(Piece::Send(event(
            "response.completed",
            &mut sequence,
            json!({"response": response("completed", output.into(), responses_usage(&usage))}),
        )));
    }
    // Piece 0 is everything before the text; piece 1 the first delta, when there is any.
    let first_content = (!sent.is_empty()).then_some(1);
    sse_response(
        paced_body(pieces, how.delay, shared, first_content),
        &request_id,
    )
}

/// A reasoning model's reasoning item (summarised when the request asked), its events
/// added to `head`; returns the finished item for the response's output.
pub(super) fn reasoning_item(
    request: &ReceivedRequest,
    n: u64,
    sequence: &mut u64,
    head: &mut Vec<String>,
) -> serde_json::Value {
    let encrypted = request
        .include
        .iter()
        .any(|i| i == "reasoning.encrypted_content")
        .then(|| format!("gAAAAABmock-reasoning-{n:06}"));
    let id = format!("rs_mock{n:06}");
    let item = |summary: serde_json::Value| json!({"id": id, "type": "reasoning", "summary": summary, "encrypted_content": encrypted});
    head.push(event(
        "response.output_item.added",
        sequence,
        json!({"output_index": 0, "item": item(json!([]))}),
    ));
    // Asked for (`reasoning.summary`), the model summarises its reasoning first.
    let mut parts = Vec::new();
    if request.reasoning_summary.is_some() {
        let text = MOCK_THINKING;
        let part = |text: &str| json!({"type": "summary_text", "text": text});
        let at = json!({"item_id": id, "output_index": 0, "summary_index": 0});
        let with = |extra: serde_json::Value| {
            let mut fields = at.clone();
            if let (serde_json::Value::Object(f), serde_json::Value::Object(e)) =
                (&mut fields, extra)
            {
                f.extend(e);
            }
            fields
        };
        head.push(event(
            "response.reasoning_summary_part.added",
            sequence,
            with(json!({"part": part("")})),
        ));
        for delta in text.split_inclusive("\n\n") {
            head.push(event(
                "response.reasoning_summary_text.delta",
                sequence,
                with(json!({"delta": delta, "obfuscation": "x1"})),
            ));
        }
        head.push(event(
            "response.reasoning_summary_text.done",
            sequence,
            with(json!({"text": text})),
        ));
        head.push(event(
            "response.reasoning_summary_part.done",
            sequence,
            with(json!({"part": part(text)})),
        ));
        parts.push(part(text));
    }
    let done = item(parts.into());
    head.push(event(
        "response.output_item.done",
        sequence,
        json!({"output_index": 0, "item": done}),
    ));
    done
}

/// The response object a generated stream's events carry, in the recorded shape.
pub(super) fn response_object(
    request: &ReceivedRequest,
    id: &str,
    model: &str,
    status: &str,
    output: serde_json::Value,
    usage: serde_json::Value,
) -> serde_json::Value {
    let mut tools: Vec<serde_json::Value> = Vec::new();
    if request.web_search {
        tools.push(json!({"type": "web_search", "filters": null, "search_context_size": "medium", "user_location": null}));
    }
    tools.extend(request.functions.iter().map(|f| {
        json!({"type": "function", "name": f.name, "description": f.description, "parameters": f.parameters, "strict": false})
    }));
    let reasoning = is_reasoning_model(&request.model);
    json!({
        "id": id, "object": "response", "created_at": CREATED, "status": status,
        "background": false, "error": null, "incomplete_details": null,
        "instructions": request.messages.iter().find(|m| m.role == "system").map(|m| &m.content),
        "max_output_tokens": request.max_completion_tokens, "max_tool_calls": request.max_tool_calls,
        "model": model, "output": output, "parallel_tool_calls": true,
        "previous_response_id": null, "prompt_cache_key": null,
        "reasoning": {"effort": if reasoning { json!("medium") } else { json!(null) }, "summary": null},
        "safety_identifier": null, "service_tier": "auto",
        "store": request.store.unwrap_or(true), "temperature": request.temperature.unwrap_or(1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto", "tools": tools, "top_logprobs": 0,
        "top_p": request.top_p.unwrap_or(1.0), "truncation": "disabled",
        "usage": usage, "user": null, "metadata": {}
    })
}

/// Chat Completions' usage under the Responses API's names.
pub(super) fn responses_usage(usage: &Usage) -> serde_json::Value {
    json!({
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.prompt_tokens_details.cached_tokens,
            "cache_write_tokens": usage.prompt_tokens_details.cache_write_tokens,
        },
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.completion_tokens_details.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    })
}
