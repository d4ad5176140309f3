//! Which request parameters a model family takes, and how a request is adapted when the
//! API refuses one.

use serde::{Deserialize, Serialize};

use crate::{ChatRequest, ErrorKind, OpenAiError};

/// How a model takes the optional parameters of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// `max_completion_tokens` (reasoning models, and the API's current name) rather than
    /// `max_tokens` (what older OpenAI-compatible servers know).
    pub max_completion_tokens: bool,
    /// Whether `temperature`, `top_p` and the penalties may be set (reasoning models take
    /// only defaults).
    pub sampling: bool,
    /// Whether a summary of the reasoning may be asked for (Responses; OpenAI refuses it
    /// to organisations it has not verified). Absent in what older versions learned: yes.
    #[serde(default = "yes")]
    pub reasoning_summary: bool,
    /// Whether the `web_search` tool may be offered (Responses). Absent: yes.
    #[serde(default = "yes")]
    pub web_search: bool,
}

fn yes() -> bool {
    true
}

impl Capabilities {
    /// Reasoning models take `max_completion_tokens` and no sampling parameters; the
    /// others take `max_tokens`, which every OpenAI-compatible server understands, and
    /// sampling. (Which models reason is the model catalog's to say, in tally-spend.)
    pub fn for_reasoning(reasoning: bool) -> Self {
        Self {
            max_completion_tokens: reasoning,
            sampling: !reasoning,
            reasoning_summary: reasoning,
            web_search: true,
        }
    }
}

/// Optional parameters a conversation may set.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RequestOptions {
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub presence_penalty: Option<f32>,
    pub frequency_penalty: Option<f32>,
    /// A reasoning model's effort, as the API names it.
    pub reasoning_effort: Option<&'static str>,
    /// Web searches the model may run for one reply (Responses); `None`: none.
    pub web_searches: Option<u32>,
}

impl ChatRequest {
    /// Sets `options` in the form `capabilities` says the model takes; sampling
    /// parameters a model cannot take are left out rather than sent to be refused, and a
    /// reasoning effort goes only to a model that reasons.
    pub fn with_options(mut self, options: &RequestOptions, capabilities: Capabilities) -> Self {
        if capabilities.max_completion_tokens {
            self.max_completion_tokens = options.max_output_tokens;
            self.reasoning_effort = options.reasoning_effort.map(str::to_string);
            self.reasoning_summary = capabilities.reasoning_summary;
        } else {
            self.max_tokens = options.max_output_tokens;
        }
        if capabilities.web_search {
            self.web_searches = options.web_searches;
        }
        if capabilities.sampling {
            self.temperature = options.temperature;
            self.top_p = options.top_p;
            self.presence_penalty = options.presence_penalty;
            self.frequency_penalty = options.frequency_penalty;
        }
        self
    }
}

/// What a refusal taught about a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Adaptation {
    UseMaxCompletionTokens,
    UseMaxTokens,
    NoSampling,
    /// The effort asked for is not one this model takes: its default is used.
    NoReasoningEffort,
    NoReasoningSummary,
    /// The server refused the `web_search` tool: the model answers without searching.
    NoWebSearch,
}

impl Capabilities {
    /// These capabilities, corrected by what a refusal taught.
    pub fn learn(self, adaptation: Adaptation) -> Self {
        match adaptation {
            Adaptation::UseMaxCompletionTokens => Self {
                max_completion_tokens: true,
                ..self
            },
            Adaptation::UseMaxTokens => Self {
                max_completion_tokens: false,
                ..self
            },
            Adaptation::NoSampling => Self {
                sampling: false,
                ..self
            },
            // Learned per request, not per model: another effort may suit it.
            Adaptation::NoReasoningEffort => self,
            Adaptation::NoReasoningSummary => Self {
                reasoning_summary: false,
                ..self
            },
            Adaptation::NoWebSearch => Self {
                web_search: false,
                ..self
            },
        }
    }
}

impl ChatRequest {
    fn has_sampling(&self) -> bool {
        self.temperature.is_some()
            || self.top_p.is_some()
            || self.presence_penalty.is_some()
            || self.frequency_penalty.is_some()
    }
}

/// If `error` refused a parameter of `request`, rewrites `request` the way the API asks
/// and says what was learned; `None` when it was another error, or nothing is left to
/// change (so a request is adapted at most once per parameter).
pub fn adapt(request: &mut ChatRequest, error: &OpenAiError) -> Option<Adaptation> {
    let OpenAiError::Api {
        kind: ErrorKind::UnsupportedParameter,
        param: Some(param),
        ..
    } = error
    else {
        return None;
    };
    match param.as_str() {
        "max_tokens" if request.max_tokens.is_some() => {
            request.max_completion_tokens = request.max_tokens.take();
            Some(Adaptation::UseMaxCompletionTokens)
        }
        "max_completion_tokens" if request.max_completion_tokens.is_some() => {
            request.max_tokens = request.max_completion_tokens.take();
            Some(Adaptation::UseMaxTokens)
        }
        "temperature" | "top_p" | "presence_penalty" | "frequency_penalty"
            if request.has_sampling() =>
        {
            request.temperature = None;
            request.top_p = None;
            request.presence_penalty = None;
            request.frequency_penalty = None;
            Some(Adaptation::NoSampling)
        }
        "reasoning_effort" | "reasoning.effort" if request.reasoning_effort.is_some() => {
            request.reasoning_effort = None;
            Some(Adaptation::NoReasoningEffort)
        }
        "reasoning.summary" if request.reasoning_summary => {
            request.reasoning_summary = false;
            Some(Adaptation::NoReasoningSummary)
        }
        tools
            if (tools == "tools" || tools.starts_with("tools[") || tools == "max_tool_calls")
                && request.web_searches.is_some() =>
        {
            request.web_searches = None;
            Some(Adaptation::NoWebSearch)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(param: &str) -> OpenAiError {
        OpenAiError::Api {
            status: 400,
            kind: ErrorKind::UnsupportedParameter,
            code: Some("unsupported_parameter".into()),
            param: Some(param.into()),
            request_id: None,
            retry_after: None,
            should_retry: None,
        }
    }

    fn request(model: &str, reasoning: bool) -> ChatRequest {
        let options = RequestOptions {
            max_output_tokens: Some(500),
            temperature: Some(0.7),
            top_p: Some(0.9),
            presence_penalty: Some(0.5),
            frequency_penalty: Some(-0.5),
            reasoning_effort: Some("high"),
            web_searches: Some(3),
        };
        ChatRequest::streaming(model, vec![])
            .with_options(&options, Capabilities::for_reasoning(reasoning))
    }

    #[test]
    fn the_table_decides_the_parameters() {
        let o4 = request("o4-mini", true);
        assert_eq!((o4.max_tokens, o4.max_completion_tokens), (None, Some(500)));
        assert_eq!((o4.temperature, o4.top_p), (None, None));
        let gpt4o = request("gpt-4o", false);
        assert_eq!(
            (gpt4o.max_tokens, gpt4o.max_completion_tokens),
            (Some(500), None)
        );
        assert_eq!((gpt4o.temperature, gpt4o.top_p), (Some(0.7), Some(0.9)));
        assert_eq!(
            (gpt4o.presence_penalty, gpt4o.frequency_penalty),
            (Some(0.5), Some(-0.5))
        );
        assert_eq!((o4.presence_penalty, o4.frequency_penalty), (None, None));
        assert_eq!(o4.reasoning_effort.as_deref(), Some("high"));
        assert_eq!(
            gpt4o.reasoning_effort, None,
            "no effort for a model that does not reason"
        );
        let json = serde_json::to_string(&request("gpt-5", true)).unwrap();
        assert!(json.contains("\"max_completion_tokens\":500") && !json.contains("temperature"));
    }

    #[test]
    fn refusals_adapt_the_request_once() {
        let caps = Capabilities::for_reasoning(false);
        let mut r = request("some-new-model", false);
        let learned = adapt(&mut r, &refused("max_tokens")).unwrap();
        assert_eq!(learned, Adaptation::UseMaxCompletionTokens);
        assert!(caps.learn(learned).max_completion_tokens);
        assert_eq!((r.max_tokens, r.max_completion_tokens), (None, Some(500)));
        // The same refusal again has nothing left to adapt.
        assert_eq!(adapt(&mut r, &refused("max_tokens")), None);

        assert_eq!(
            adapt(&mut r, &refused("temperature")),
            Some(Adaptation::NoSampling)
        );
        assert_eq!((r.temperature, r.top_p), (None, None));
        assert_eq!((r.presence_penalty, r.frequency_penalty), (None, None));
        assert!(!caps.learn(Adaptation::NoSampling).sampling);
        assert_eq!(adapt(&mut r, &refused("presence_penalty")), None);

        let mut thinking = request("o4-mini", true);
        assert_eq!(
            adapt(&mut thinking, &refused("reasoning_effort")),
            Some(Adaptation::NoReasoningEffort)
        );
        assert_eq!(thinking.reasoning_effort, None);
        assert_eq!(
            adapt(&mut thinking, &refused("reasoning.summary")),
            Some(Adaptation::NoReasoningSummary)
        );
        assert!(!thinking.reasoning_summary);
        assert_eq!(adapt(&mut thinking, &refused("reasoning.summary")), None);
        let thinker = Capabilities::for_reasoning(true);
        assert!(
            !thinker
                .learn(Adaptation::NoReasoningSummary)
                .reasoning_summary
        );
        assert_eq!(thinker.learn(Adaptation::NoReasoningEffort), thinker);

        // A server that does not take the web_search tool: the model answers unsearched.
        let mut searching = request("gpt-5.4-mini", true);
        assert_eq!(searching.web_searches, Some(3));
        for param in ["tools", "tools[0]", "max_tool_calls"] {
            let mut again = searching.clone();
            assert_eq!(
                adapt(&mut again, &refused(param)),
                Some(Adaptation::NoWebSearch),
                "{param}"
            );
            assert_eq!(again.web_searches, None);
        }
        adapt(&mut searching, &refused("tools"));
        assert_eq!(adapt(&mut searching, &refused("tools")), None);
        let learned = thinker.learn(Adaptation::NoWebSearch);
        assert!(!learned.web_search);
        let unsearched = ChatRequest::streaming("m", vec![]).with_options(
            &RequestOptions {
                web_searches: Some(3),
                ..RequestOptions::default()
            },
            learned,
        );
        assert_eq!(unsearched.web_searches, None);

        let other = OpenAiError::Api {
            status: 400,
            kind: ErrorKind::ContextTooLong,
            code: None,
            param: Some("messages".into()),
            request_id: None,
            retry_after: None,
            should_retry: None,
        };
        assert_eq!(adapt(&mut r, &other), None);
    }
}
