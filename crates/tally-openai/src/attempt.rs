//! What each HTTP attempt looked like, for the request log.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::{ErrorKind, OpenAiError, RetryNotice};

/// One HTTP attempt of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// 1 for the first try, 2 for the first retry, …
    pub number: u32,
    pub started_at: SystemTime,
    /// `None` when no response arrived (connection failed, timed out).
    pub status: Option<u16>,
    pub request_id: Option<String>,
    /// Time until the response headers were in.
    pub headers_after: Option<Duration>,
    pub error_kind: Option<ErrorKind>,
    pub error_code: Option<String>,
    pub rate_limits: RateLimits,
}

/// The `x-ratelimit-*` headers, when the server sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    pub limit_requests: Option<u64>,
    pub remaining_requests: Option<u64>,
    pub reset_requests: Option<String>,
    pub limit_tokens: Option<u64>,
    pub remaining_tokens: Option<u64>,
    pub reset_tokens: Option<String>,
}

impl RateLimits {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let number = |name: &str| text(name).and_then(|v| v.parse().ok());
        Self {
            limit_requests: number("x-ratelimit-limit-requests"),
            remaining_requests: number("x-ratelimit-remaining-requests"),
            reset_requests: text("x-ratelimit-reset-requests"),
            limit_tokens: number("x-ratelimit-limit-tokens"),
            remaining_tokens: number("x-ratelimit-remaining-tokens"),
            reset_tokens: text("x-ratelimit-reset-tokens"),
        }
    }
}

impl Attempt {
    pub(crate) fn new(number: u32) -> Self {
        Self {
            number,
            started_at: SystemTime::now(),
            status: None,
            request_id: None,
            headers_after: None,
            error_kind: None,
            error_code: None,
            rate_limits: RateLimits::default(),
        }
    }

    pub(crate) fn failed(mut self, error: &OpenAiError) -> Self {
        self.error_kind = Some(error.kind());
        self.error_code = match error {
            OpenAiError::Api { code, .. } | OpenAiError::Stream { code, .. } => code.clone(),
            _ => None,
        };
        self
    }
}

/// What the client reports while it works on a request.
#[derive(Debug)]
pub enum ClientEvent<'a> {
    /// An attempt failed (it may be retried).
    AttemptFailed(&'a Attempt),
    /// Waiting before the next attempt.
    Retrying(&'a RetryNotice),
    /// The API refused a parameter; the request was rewritten and is sent again at once.
    /// Callers remember this for the model.
    Adapted(crate::Adaptation),
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn rate_limit_headers_are_optional() {
        assert_eq!(
            RateLimits::from_headers(&HeaderMap::new()),
            RateLimits::default()
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-ratelimit-limit-tokens",
            HeaderValue::from_static("30000"),
        );
        headers.insert(
            "x-ratelimit-remaining-tokens",
            HeaderValue::from_static("0"),
        );
        headers.insert("x-ratelimit-reset-tokens", HeaderValue::from_static("1.5s"));
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("lots"),
        );
        let limits = RateLimits::from_headers(&headers);
        assert_eq!(limits.limit_tokens, Some(30000));
        assert_eq!(limits.remaining_tokens, Some(0));
        assert_eq!(limits.reset_tokens.as_deref(), Some("1.5s"));
        assert_eq!(
            limits.remaining_requests, None,
            "unreadable values are left out"
        );
    }
}
