//! What a tool answered, as text for the model and the user, bounded.

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};

/// The most of a tool's answer kept (the conversation cuts it further to fit the window).
pub const MAX_RESULT_BYTES: usize = 256 * 1024;

/// A tool's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput {
    /// Its text parts in order; pictures and binary resources are named, not included.
    pub text: String,
    /// The tool said the call failed (the text says why, in the tool's words).
    pub is_error: bool,
    /// The answer was longer than [`MAX_RESULT_BYTES`] and was cut.
    pub truncated: bool,
}

impl ToolOutput {
    pub(crate) fn from_result(result: CallToolResult) -> Self {
        let mut parts: Vec<String> = result.content.into_iter().map(describe).collect();
        if parts.is_empty()
            && let Some(structured) = result.structured_content
        {
            parts.push(structured.to_string());
        }
        let (text, truncated) = bounded(parts.join("\n"), MAX_RESULT_BYTES);
        Self {
            text,
            is_error: result.is_error.unwrap_or(false),
            truncated,
        }
    }
}

fn describe(block: ContentBlock) -> String {
    match block {
        ContentBlock::Text(text) => text.text,
        ContentBlock::Image(image) => format!(
            "[a picture ({}, {} bytes) that Tally does not send to the model]",
            short(&image.mime_type),
            image.data.len() / 4 * 3
        ),
        ContentBlock::Audio(audio) => format!(
            "[a sound ({}) that Tally does not send to the model]",
            short(&audio.mime_type)
        ),
        ContentBlock::Resource(embedded) => match embedded.resource {
            ResourceContents::TextResourceContents { text, .. } => text,
            ResourceContents::BlobResourceContents { uri, .. } => {
                format!(
                    "[a file, {}, that Tally does not send to the model]",
                    short(&uri)
                )
            }
            _ => "[a resource of a kind Tally does not know]".into(),
        },
        ContentBlock::ResourceLink(link) => format!("[link: {}]", short(&link.uri)),
        _ => "[content of a kind Tally does not know]".into(),
    }
}

fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// `text` cut to at most `limit` bytes on a character boundary, and whether it was cut.
pub(crate) fn bounded(mut text: String, limit: usize) -> (String, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parts_are_joined_and_pictures_named() {
        let mut result = CallToolResult::success(vec![
            ContentBlock::text("first"),
            ContentBlock::image("aGVsbG8=", "image/png"),
            ContentBlock::text("second"),
        ]);
        result.is_error = Some(false);
        let output = ToolOutput::from_result(result);
        assert_eq!(output.text.lines().next(), Some("first"));
        assert!(output.text.contains("image/png"));
        assert!(output.text.ends_with("second"));
        assert!(!output.is_error && !output.truncated);
    }

    #[test]
    fn an_error_result_is_marked_and_structured_content_stands_in_for_no_text() {
        let output = ToolOutput::from_result(CallToolResult::error(vec![ContentBlock::text("no")]));
        assert!(output.is_error);
        let structured = CallToolResult::structured(serde_json::json!({"temperature": 21}));
        let output = ToolOutput::from_result(structured);
        assert!(output.text.contains("21"), "{}", output.text);
    }

    #[test]
    fn a_huge_answer_is_cut_on_a_character_boundary() {
        let text = "é".repeat(MAX_RESULT_BYTES);
        let output =
            ToolOutput::from_result(CallToolResult::success(vec![ContentBlock::text(text)]));
        assert!(output.truncated);
        assert!(output.text.len() <= MAX_RESULT_BYTES);
        assert!(output.text.chars().all(|c| c == 'é'));
    }
}
