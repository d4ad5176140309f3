//! The recorded transcripts in `wire/`, parsed into status, headers and body.

/// One recorded HTTP response.
#[derive(Debug, Clone)]
pub struct WireFile {
    pub name: &'static str,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body bytes as recorded. For streams with a `[connection closed …]` note, the note is
    /// removed and `aborts` is set: the server then breaks the connection at that point.
    pub body: String,
    pub aborts: bool,
}

impl WireFile {
    pub fn is_stream(&self) -> bool {
        self.headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/event-stream"))
    }

    /// The SSE events of a stream body, each with its terminating blank line.
    pub fn events(&self) -> Vec<String> {
        self.body
            .split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .map(|e| format!("{e}\n\n"))
            .collect()
    }
}

const FILES: &[(&str, &str)] = &[
    (
        "error-400-context-length",
        include_str!("../wire/error-400-context-length.http"),
    ),
    (
        "error-400-unsupported-parameter",
        include_str!("../wire/error-400-unsupported-parameter.http"),
    ),
    (
        "error-400-unsupported-value",
        include_str!("../wire/error-400-unsupported-value.http"),
    ),
    (
        "error-401-invalid-key",
        include_str!("../wire/error-401-invalid-key.http"),
    ),
    (
        "error-404-model",
        include_str!("../wire/error-404-model.http"),
    ),
    (
        "error-404-responses-only-model",
        include_str!("../wire/error-404-responses-only-model.http"),
    ),
    (
        "error-429-insufficient-quota",
        include_str!("../wire/error-429-insufficient-quota.http"),
    ),
    (
        "error-429-rate-limit",
        include_str!("../wire/error-429-rate-limit.http"),
    ),
    (
        "error-429-spend-limit",
        include_str!("../wire/error-429-spend-limit.http"),
    ),
    ("error-500", include_str!("../wire/error-500.http")),
    (
        "error-502-html",
        include_str!("../wire/error-502-html.http"),
    ),
    ("error-503", include_str!("../wire/error-503.http")),
    ("models", include_str!("../wire/models.http")),
    (
        "responses-stream-basic",
        include_str!("../wire/responses-stream-basic.http"),
    ),
    (
        "responses-stream-error-event",
        include_str!("../wire/responses-stream-error-event.http"),
    ),
    (
        "responses-stream-failed",
        include_str!("../wire/responses-stream-failed.http"),
    ),
    (
        "responses-stream-function-call",
        include_str!("../wire/responses-stream-function-call.http"),
    ),
    (
        "responses-stream-incomplete",
        include_str!("../wire/responses-stream-incomplete.http"),
    ),
    (
        "responses-stream-reasoning-summary",
        include_str!("../wire/responses-stream-reasoning-summary.http"),
    ),
    (
        "responses-stream-web-search",
        include_str!("../wire/responses-stream-web-search.http"),
    ),
    ("stream-basic", include_str!("../wire/stream-basic.http")),
    (
        "stream-error-midstream",
        include_str!("../wire/stream-error-midstream.http"),
    ),
    ("stream-length", include_str!("../wire/stream-length.http")),
    (
        "stream-no-usage",
        include_str!("../wire/stream-no-usage.http"),
    ),
    (
        "stream-tool-calls",
        include_str!("../wire/stream-tool-calls.http"),
    ),
];

/// Names of every recorded transcript (file names without `.http`).
pub fn wire_names() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(name, _)| *name)
}

/// A recorded transcript by name.
pub fn wire_file(name: &str) -> Option<WireFile> {
    let (name, text) = FILES.iter().find(|(n, _)| *n == name)?;
    Some(parse(name, text))
}

fn parse(name: &'static str, text: &str) -> WireFile {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{name}: status line"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut aborts = false;
    let body: String = body
        .split_inclusive('\n')
        .filter(|line| {
            let note = line.starts_with("[connection closed");
            aborts |= note;
            !note
        })
        .collect();
    let body = if body.starts_with("data:") {
        body
    } else {
        body.trim_end().to_string()
    };
    WireFile {
        name,
        status,
        headers,
        body,
        aborts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses() {
        for name in wire_names() {
            let file = wire_file(name).unwrap();
            assert!(file.status >= 200, "{name}");
            assert!(!file.body.is_empty(), "{name}");
        }
        let dropped = wire_file("stream-no-usage").unwrap();
        assert!(dropped.aborts && dropped.is_stream());
        assert_eq!(dropped.events().len(), 2);
        assert!(!wire_file("stream-basic").unwrap().aborts);
        assert_eq!(wire_file("error-502-html").unwrap().status, 502);
    }
}
