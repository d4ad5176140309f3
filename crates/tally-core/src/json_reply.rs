//! JSON replies as pure functions: a pasted schema checked before use (in words), the
//! request's format for a conversation's choice, and a reply checked against its schema.

use serde_json::{Map, Value};
use tally_openai::{JsonSchemaFormat, ResponseFormat};

use crate::api::{JsonCheckView, ReplyFormat};

/// The longest schema Tally takes, in characters (real ones are a few thousand).
pub(crate) const SCHEMA_MAX_CHARS: usize = 100_000;

/// The most problems a check lists (the first ones say enough).
const MAX_PROBLEMS: usize = 8;

/// The schema's name in the request (the API asks for one; the user never sees it).
const SCHEMA_NAME: &str = "reply";

/// What the model is told when it must write JSON and no message says so (the API refuses
/// JSON mode unless a message mentions JSON).
pub(crate) const JSON_INSTRUCTION: &str = "Write your reply as a single JSON object.";

/// `text` as a JSON Schema the API and the check can use, or what is wrong with it in
/// words.
pub(crate) fn checked_schema(text: &str) -> Result<Map<String, Value>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Paste the JSON Schema the replies must match.".into());
    }
    if text.chars().count() > SCHEMA_MAX_CHARS {
        return Err("This schema is too long: keep it under 100,000 characters.".into());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "The schema is not valid JSON (line {}, column {}): check its brackets, quotes \
             and commas.",
            e.line(),
            e.column()
        )
    })?;
    let Value::Object(schema) = value else {
        return Err("A schema is a JSON object, in { … }.".into());
    };
    let Err(error) = compiled(&schema) else {
        return Ok(schema);
    };
    match *error {
        boon::CompileError::ValidationError { src, .. } => Err(format!(
            "This is not a valid JSON Schema: {}.",
            problems(&src).into_iter().next().unwrap_or_default()
        )),
        _ => Err(
            "Tally cannot use this schema: it refers to other files or addresses, or to parts \
             it does not have. Paste a schema that is complete in itself."
                .into(),
        ),
    }
}

/// Where a pasted schema lives for the validator (it is never fetched from there).
const SCHEMA_URL: &str = "urn:tally:reply-schema";

/// `schema` compiled (checked against its draft's meta-schema on the way), with no loader:
/// a reference to a file or an address is refused, never read.
fn compiled(
    schema: &Map<String, Value>,
) -> Result<(boon::Schemas, boon::SchemaIndex), Box<boon::CompileError>> {
    let mut compiler = boon::Compiler::new();
    compiler.use_loader(Box::new(NothingElse));
    compiler.add_resource(SCHEMA_URL, Value::Object(schema.clone()))?;
    let mut schemas = boon::Schemas::new();
    let index = compiler.compile(SCHEMA_URL, &mut schemas)?;
    Ok((schemas, index))
}

/// Loads nothing: a pasted schema must be complete in itself.
struct NothingElse;

impl boon::UrlLoader for NothingElse {
    fn load(&self, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
        Err(format!("{url} is not part of the schema").into())
    }
}

/// The validator's findings, the innermost ones, each with where (at most
/// [`MAX_PROBLEMS`]).
fn problems(error: &boon::ValidationError<'_, '_>) -> Vec<String> {
    fn leaves(error: &boon::ValidationError<'_, '_>, out: &mut Vec<String>) {
        if out.len() >= MAX_PROBLEMS {
            return;
        }
        if error.causes.is_empty() {
            out.push(format!(
                "At {}: {}",
                location(&error.instance_location.to_string()),
                error.kind
            ));
        }
        for cause in &error.causes {
            leaves(cause, out);
        }
    }
    let mut out = Vec::new();
    leaves(error, &mut out);
    out
}

/// A JSON Pointer as a reader sees it.
fn location(pointer: &str) -> String {
    if pointer.is_empty() {
        "the top".into()
    } else {
        pointer.to_string()
    }
}

/// The request's format for a conversation's choice; `None` for text (or a schema that
/// no longer parses, which the settings check keeps from being saved).
pub(crate) fn response_format(format: ReplyFormat, schema: Option<&str>) -> Option<ResponseFormat> {
    match format {
        ReplyFormat::Text => None,
        ReplyFormat::Json => Some(ResponseFormat::JsonObject),
        ReplyFormat::JsonSchema => {
            let schema = checked_schema(schema?).ok()?;
            Some(ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name: SCHEMA_NAME.into(),
                    strict: strict_ready(&Value::Object(schema.clone())),
                    schema,
                },
            })
        }
    }
}

/// Whether `schema` follows strict mode's rules, so the API can hold replies to it
/// exactly: every object lists all its properties as required and allows no others.
/// Other schemas are sent as guidance, and the reply is checked here.
pub(crate) fn strict_ready(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            let is_object = map.get("type").is_some_and(|t| t == "object");
            if is_object {
                let properties = map.get("properties").and_then(Value::as_object);
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
                let all_required =
                    properties.is_none_or(|p| p.keys().all(|k| required.contains(&k.as_str())));
                if !closed || !all_required {
                    return false;
                }
            }
            map.values().all(strict_ready)
        }
        Value::Array(items) => items.iter().all(strict_ready),
        _ => true,
    }
}

/// A reply checked: JSON or not, and against `schema` when there is one.
pub(crate) fn check_reply(text: &str, schema: Option<&Map<String, Value>>) -> JsonCheckView {
    let value: Value = match serde_json::from_str(text.trim()) {
        Ok(value) => value,
        Err(e) => {
            return JsonCheckView {
                is_json: false,
                matches_schema: schema.map(|_| false),
                problems: vec![format!(
                    "The reply is not valid JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                )],
            };
        }
    };
    let Some(schema) = schema else {
        return JsonCheckView {
            is_json: true,
            matches_schema: None,
            problems: Vec::new(),
        };
    };
    let Ok((schemas, index)) = compiled(schema) else {
        return JsonCheckView {
            is_json: true,
            matches_schema: None,
            problems: vec!["The schema could not be used to check the reply.".into()],
        };
    };
    let problems = match schemas.validate(&value, index) {
        Ok(()) => Vec::new(),
        Err(error) => problems(&error),
    };
    JsonCheckView {
        is_json: true,
        matches_schema: Some(problems.is_empty()),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CITY: &str = r#"{"type": "object", "properties": {"city": {"type": "string"},
        "people": {"type": "integer"}}, "required": ["city", "people"],
        "additionalProperties": false}"#;

    #[test]
    fn a_pasted_schema_is_checked_and_refused_in_words() {
        let cases = [
            ("", "Paste the JSON Schema"),
            ("{\"type\": ", "not valid JSON (line 1"),
            ("[1, 2]", "a JSON object"),
            (r#"{"type": "nothing-real"}"#, "not a valid JSON Schema"),
            (
                r#"{"$ref": "https://example.com/schema.json"}"#,
                "refers to other files",
            ),
        ];
        for (text, words) in cases {
            let problem = checked_schema(text).unwrap_err();
            assert!(problem.contains(words), "{text}: {problem}");
        }
        assert!(checked_schema(CITY).is_ok());
        let long = format!("{{\"description\": \"{}\"}}", "x".repeat(SCHEMA_MAX_CHARS));
        assert!(checked_schema(&long).unwrap_err().contains("too long"));
    }

    #[test]
    fn only_a_schema_written_to_strict_rules_is_sent_strict() {
        let strict = |text: &str| strict_ready(&serde_json::from_str(text).unwrap());
        assert!(strict(CITY));
        assert!(!strict(
            r#"{"type": "object", "properties": {"a": {"type": "string"}}}"#
        ));
        assert!(!strict(
            r#"{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "required": ["a"], "additionalProperties": false}"#
        ));
        // A nested object counts too.
        assert!(!strict(
            r#"{"type": "object", "properties": {"a": {"type": "object"}}, "required": ["a"],
                "additionalProperties": false}"#
        ));
        let format = response_format(ReplyFormat::JsonSchema, Some(CITY)).unwrap();
        assert!(matches!(format, ResponseFormat::JsonSchema { json_schema } if json_schema.strict));
        assert_eq!(response_format(ReplyFormat::Text, Some(CITY)), None);
        assert_eq!(
            response_format(ReplyFormat::Json, None),
            Some(ResponseFormat::JsonObject)
        );
    }

    #[test]
    fn a_reply_is_checked_against_its_schema() {
        let schema = checked_schema(CITY).unwrap();
        let good = check_reply(r#"{"city": "Oslo", "people": 709000}"#, Some(&schema));
        assert_eq!((good.is_json, good.matches_schema), (true, Some(true)));
        assert!(good.problems.is_empty());

        let bad = check_reply(r#"{"city": 7}"#, Some(&schema));
        assert_eq!(bad.matches_schema, Some(false));
        assert!(bad.problems.iter().any(|p| p.contains("/city")), "{bad:?}");
        assert!(bad.problems.iter().any(|p| p.contains("people")), "{bad:?}");

        let not_json = check_reply("Sure! Here it is: {", Some(&schema));
        assert_eq!(
            (not_json.is_json, not_json.matches_schema),
            (false, Some(false))
        );
        let any = check_reply(" [1, 2] ", None);
        assert_eq!((any.is_json, any.matches_schema), (true, None));
    }
}
