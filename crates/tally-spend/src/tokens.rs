use tiktoken_rs::CoreBPE;

/// The byte-pair encodings OpenAI chat models use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    O200kBase,
    Cl100kBase,
}

impl Encoding {
    /// The encoding a model probably uses, from its id alone (the catalog knows better):
    /// cl100k_base for gpt-4 (not 4o or 4.1) and gpt-3.5, o200k_base for the rest.
    pub fn guess(model: &str) -> Self {
        let model = model.trim().rsplit('/').next().unwrap_or(model);
        let legacy = (model.starts_with("gpt-4")
            && !model.starts_with("gpt-4o")
            && !model.starts_with("gpt-4.1"))
            || model.starts_with("gpt-3.5");
        if legacy {
            Self::Cl100kBase
        } else {
            Self::O200kBase
        }
    }
}

fn bpe(encoding: Encoding) -> &'static CoreBPE {
    // The singletons load the tables lazily, once per process, on first use.
    match encoding {
        Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
        Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
    }
}

/// Number of tokens of `text` in `encoding`. Special-token text counts as ordinary text,
/// as the API does for user content.
pub fn count_text(encoding: Encoding, text: &str) -> u64 {
    bpe(encoding).encode_ordinary(text).len() as u64
}

/// Framing tokens each chat message costs beside its role and content (OpenAI's published
/// accounting for the gpt-4o and gpt-4 families).
pub const PER_MESSAGE_TOKENS: u64 = 3;
/// Tokens that prime the reply, once per request.
pub const REPLY_PRIMING_TOKENS: u64 = 3;

/// Tokens of a chat prompt: each message costs its role and content plus
/// [`PER_MESSAGE_TOKENS`], and the reply is primed with [`REPLY_PRIMING_TOKENS`].
pub fn count_chat_prompt<'a>(
    encoding: Encoding,
    messages: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> u64 {
    messages
        .into_iter()
        .map(|(role, content)| {
            PER_MESSAGE_TOKENS + count_text(encoding, role) + count_text(encoding, content)
        })
        .sum::<u64>()
        + REPLY_PRIMING_TOKENS
}

/// A function offered to the model, as its tokens are counted.
#[derive(Debug, Clone, Copy)]
pub struct ToolDefinition<'a> {
    pub name: &'a str,
    pub description: &'a str,
    /// Its arguments' JSON Schema.
    pub parameters: &'a serde_json::Map<String, serde_json::Value>,
}

/// The parts of a JSON Schema the count reads.
#[derive(serde::Deserialize, Default)]
struct Schema {
    #[serde(default)]
    properties: std::collections::BTreeMap<String, Property>,
}

#[derive(serde::Deserialize)]
struct Property {
    #[serde(rename = "type", default)]
    kind: Option<TypeName>,
    #[serde(default)]
    description: Option<String>,
    #[serde(rename = "enum", default)]
    variants: Vec<serde_json::Value>,
    /// Everything else (`items`, nested `properties`, `anyOf`, a default…).
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum TypeName {
    One(String),
    Many(Vec<String>),
}

/// Tokens the functions offered add to a prompt. The rule is the one OpenAI's cookbook
/// gives ("How to count tokens with tiktoken", function calling): per function 7 tokens
/// (10 for the cl100k models) and its `name:description`, a final period dropped; with
/// properties 3 more, then per property 3 and its `name:type:description`, an enum −3 and
/// per item 3 and the item; 12 at the end when any function is offered. What the rule does
/// not describe (nested objects, arrays' items, `anyOf`, defaults) adds its JSON text, so
/// an MCP tool's larger schema is not undercounted.
pub fn count_tools(encoding: Encoding, tools: &[ToolDefinition<'_>]) -> u64 {
    const PROPERTIES: u64 = 3;
    const PROPERTY: u64 = 3;
    const ENUM_ITEM: u64 = 3;
    const END: u64 = 12;
    let per_function: u64 = match encoding {
        Encoding::O200kBase => 7,
        Encoding::Cl100kBase => 10,
    };
    let text = |s: &str| count_text(encoding, s);
    let without_period = |s: &str| s.strip_suffix('.').unwrap_or(s).to_string();
    let mut total = 0u64;
    for tool in tools {
        total += per_function;
        total += text(&format!(
            "{}:{}",
            tool.name,
            without_period(tool.description)
        ));
        let schema: Schema =
            serde_json::from_value(serde_json::Value::Object(tool.parameters.clone()))
                .unwrap_or_default();
        if schema.properties.is_empty() {
            continue;
        }
        total += PROPERTIES;
        for (name, property) in &schema.properties {
            total += PROPERTY;
            let kind = match &property.kind {
                Some(TypeName::One(kind)) => kind.clone(),
                Some(TypeName::Many(kinds)) => kinds.join(","),
                None => String::new(),
            };
            let description = without_period(property.description.as_deref().unwrap_or(""));
            total += text(&format!("{name}:{kind}:{description}"));
            if !property.variants.is_empty() {
                // The cookbook's −3 for an enum, then 3 and the item for each.
                total = total.saturating_sub(3);
                for item in &property.variants {
                    let item = match item {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    total += ENUM_ITEM + text(&item);
                }
            }
            if !property.rest.is_empty() {
                let rest = serde_json::Value::Object(property.rest.clone()).to_string();
                total += text(&rest);
            }
        }
    }
    if !tools.is_empty() {
        total += END;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_guessed_by_family() {
        for (model, encoding) in [
            ("gpt-4o-mini", Encoding::O200kBase),
            ("gpt-4.1", Encoding::O200kBase),
            ("o4-mini", Encoding::O200kBase),
            ("gpt-4-turbo", Encoding::Cl100kBase),
            ("gpt-3.5-turbo", Encoding::Cl100kBase),
        ] {
            assert_eq!(Encoding::guess(model), encoding, "{model}");
        }
    }

    #[test]
    fn known_counts() {
        // Values from OpenAI's tiktoken for these strings.
        assert_eq!(count_text(Encoding::O200kBase, "hello world"), 2);
        assert_eq!(count_text(Encoding::Cl100kBase, "hello world"), 2);
        assert_eq!(count_text(Encoding::O200kBase, ""), 0);
        // "<|endoftext|>" typed by a user is text, not a special token.
        assert!(count_text(Encoding::Cl100kBase, "<|endoftext|>") > 1);
    }

    #[test]
    fn chat_framing() {
        let n = count_chat_prompt(Encoding::O200kBase, [("user", "hello world")]);
        // 3 framing + 1 role + 2 content + 3 priming
        assert_eq!(n, 9);
    }

    fn definition(json: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        json.as_object().cloned().unwrap()
    }

    /// The cookbook's example function (get_current_weather, a location and a unit enum),
    /// part by part as the rule reads it; `compare.py` checks the rule against a Python
    /// transcription of the cookbook's code on many more.
    #[test]
    fn tools_count_as_openais_cookbook_counts_them() {
        let parameters = definition(serde_json::json!({
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "format": {"type": "string", "description": "The temperature unit to use. Infer this from the users location.", "enum": ["celsius", "fahrenheit"]}
            },
            "required": ["location", "format"]
        }));
        let tool = ToolDefinition {
            name: "get_current_weather",
            description: "Get the current weather in a given location",
            parameters: &parameters,
        };
        let t = |s: &str| count_text(Encoding::O200kBase, s);
        let expected = 7
            + t("get_current_weather:Get the current weather in a given location")
            + 3
            + 3
            + t("format:string:The temperature unit to use. Infer this from the users location")
            + 3
            + t("celsius")
            + 3
            + t("fahrenheit")
            - 3
            + 3
            + t("location:string:The city and state, e.g. San Francisco, CA")
            + 12;
        assert_eq!(count_tools(Encoding::O200kBase, &[tool]), expected);
        let legacy = count_tools(Encoding::Cl100kBase, &[tool]);
        assert!(legacy > 0);
        assert_eq!(count_tools(Encoding::O200kBase, &[]), 0);
        // Nested schemas the rule does not describe add their JSON text.
        let nested = definition(serde_json::json!({
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}}
        }));
        let flat = definition(serde_json::json!({
            "type": "object",
            "properties": {"items": {"type": "array"}}
        }));
        let count = |parameters| {
            count_tools(
                Encoding::O200kBase,
                &[ToolDefinition {
                    name: "list",
                    description: "",
                    parameters,
                }],
            )
        };
        assert!(count(&nested) > count(&flat) + 5);
    }
}
