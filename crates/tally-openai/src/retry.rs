//! When and how long to wait before trying a request again: the official SDKs' policy,
//! without their one flaw (they retry billing errors, which never succeed on retry).

use std::time::{Duration, SystemTime};

use crate::{ErrorKind, OpenAiError};

/// Longest server-requested wait Tally honours; beyond it, its own backoff applies.
const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

/// How often to retry, and the backoff between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (the SDKs' default is 2).
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// An announced retry, for the UI's "Retrying in 2 s…".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryNotice {
    /// The attempt about to be made: 2 for the first retry.
    pub attempt: u32,
    pub delay: Duration,
    pub kind: ErrorKind,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based) after `error`, or `None` when the
    /// error must not be retried or the retries are used up.
    pub fn delay_after(&self, error: &OpenAiError, retry: u32, jitter: f64) -> Option<Duration> {
        if retry >= self.max_retries || !is_retryable(error) {
            return None;
        }
        if let OpenAiError::Api {
            retry_after: Some(wait),
            ..
        } = error
            && *wait <= MAX_SERVER_DELAY
        {
            return Some(*wait);
        }
        Some(self.backoff(retry, jitter))
    }

    /// min(initial · 2ⁿ, max) · (1 − 0.25 · jitter), with `jitter` in [0, 1).
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let doubled = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.min(16)));
        doubled
            .min(self.max_backoff)
            .mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
    }
}

/// Whether trying again can help. Streams are never retried once a 200 is in: that
/// decision belongs to the caller, which sees the partial reply.
pub fn is_retryable(error: &OpenAiError) -> bool {
    match error {
        OpenAiError::Api {
            status,
            kind,
            should_retry,
            ..
        } => {
            if *kind == ErrorKind::QuotaExhausted {
                return false;
            }
            if let Some(explicit) = should_retry {
                return *explicit;
            }
            matches!(status, 408 | 409 | 429) || *status >= 500
        }
        OpenAiError::Connect | OpenAiError::Timeout(_) => true,
        OpenAiError::Stream { .. }
        | OpenAiError::Dropped
        | OpenAiError::Decode(_)
        | OpenAiError::InvalidBaseUrl(_)
        | OpenAiError::InsecureBaseUrl(_)
        | OpenAiError::TooLarge(_)
        | OpenAiError::Redirected(_) => false,
    }
}

/// `retry-after-ms`, then `retry-after` as seconds or an HTTP date. Any value, however
/// large, odd or hostile, gives a wait or `None`, never a panic (a wait too long to honour
/// is left to [`RetryPolicy::delay_after`]).
pub(crate) fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: SystemTime,
) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    // `try_from_secs_f64` refuses NaN, negative and overflowing values (1e300 seconds
    // used to panic here, and the release build aborts on a panic).
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && let Ok(wait) = Duration::try_from_secs_f64(ms / 1000.0)
    {
        return Some(wait);
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `x-should-retry: true|false`, the server's own verdict.
pub(crate) fn should_retry(headers: &reqwest::header::HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry")?.to_str().ok()?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;

    fn api(
        status: u16,
        kind: ErrorKind,
        should_retry: Option<bool>,
        retry_after: Option<Duration>,
    ) -> OpenAiError {
        OpenAiError::Api {
            status,
            kind,
            code: None,
            param: None,
            request_id: None,
            retry_after,
            should_retry,
        }
    }

    #[test]
    fn what_is_retried() {
        let cases = [
            (api(429, ErrorKind::RateLimited, None, None), true),
            (api(429, ErrorKind::QuotaExhausted, None, None), false),
            // Billing wins even over the server's own header.
            (api(429, ErrorKind::QuotaExhausted, Some(true), None), false),
            (api(408, ErrorKind::Timeout, None, None), true),
            (api(409, ErrorKind::BadRequest, None, None), true),
            (api(500, ErrorKind::ServerError, None, None), true),
            (api(502, ErrorKind::ServerError, None, None), true),
            (api(503, ErrorKind::ServerError, Some(false), None), false),
            (api(400, ErrorKind::BadRequest, Some(true), None), true),
            (api(400, ErrorKind::ContextTooLong, None, None), false),
            (api(401, ErrorKind::InvalidKey, None, None), false),
            (api(404, ErrorKind::ModelNotFound, None, None), false),
            (OpenAiError::Connect, true),
            (OpenAiError::Timeout(Duration::from_secs(1)), true),
            (OpenAiError::Dropped, false),
            (
                OpenAiError::Stream {
                    kind: ErrorKind::ServerError,
                    code: None,
                },
                false,
            ),
            (OpenAiError::Decode("x".into()), false),
        ];
        for (error, retry) in cases {
            assert_eq!(is_retryable(&error), retry, "{error:?}");
        }
    }

    #[test]
    fn delays() {
        let policy = RetryPolicy::default();
        let rate = api(429, ErrorKind::RateLimited, None, None);
        assert_eq!(
            policy.delay_after(&rate, 0, 0.0),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            policy.delay_after(&rate, 1, 0.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            policy.delay_after(&rate, 2, 0.0),
            None,
            "two retries at most"
        );
        assert_eq!(
            policy.delay_after(&rate, 1, 0.999_999),
            Some(Duration::from_secs(1).mul_f64(1.0 - 0.25 * 0.999_999))
        );
        let many = RetryPolicy {
            max_retries: 10,
            ..policy
        };
        assert_eq!(
            many.delay_after(&rate, 6, 0.0),
            Some(Duration::from_secs(8)),
            "capped"
        );
        // The server's delay wins up to 60 s; beyond, Tally's own backoff.
        let told = api(
            429,
            ErrorKind::RateLimited,
            None,
            Some(Duration::from_millis(1500)),
        );
        assert_eq!(
            policy.delay_after(&told, 0, 0.5),
            Some(Duration::from_millis(1500))
        );
        let too_long = api(
            429,
            ErrorKind::RateLimited,
            None,
            Some(Duration::from_secs(600)),
        );
        assert_eq!(
            policy.delay_after(&too_long, 0, 0.0),
            Some(Duration::from_millis(500))
        );
        let none = RetryPolicy {
            max_retries: 0,
            ..policy
        };
        assert_eq!(none.delay_after(&rate, 0, 0.0), None);
    }

    #[test]
    fn retry_after_headers() {
        let now = httpdate::parse_http_date("Mon, 23 Nov 2026 10:00:00 GMT").unwrap();
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, HeaderValue::from_static(v));
            }
            map
        };
        type Headers = &'static [(&'static str, &'static str)];
        let cases: &[(Headers, Option<Duration>)] = &[
            (
                &[("retry-after-ms", "1500"), ("retry-after", "2")],
                Some(Duration::from_millis(1500)),
            ),
            (&[("retry-after", "2")], Some(Duration::from_secs(2))),
            (&[("retry-after", "0.25")], Some(Duration::from_millis(250))),
            (
                &[("retry-after", "Mon, 23 Nov 2026 10:00:07 GMT")],
                Some(Duration::from_secs(7)),
            ),
            (
                &[("retry-after", "Mon, 23 Nov 2026 09:59:00 GMT")],
                Some(Duration::ZERO),
            ),
            (&[("retry-after", "soon")], None),
            (&[("retry-after-ms", "-5")], None),
            (&[("retry-after", "1e300")], None),
            (&[("retry-after-ms", "1e300")], None),
            (&[("retry-after", "inf")], None),
            (&[("retry-after-ms", "NaN")], None),
            (&[("retry-after", "-0.5")], None),
            (
                &[("retry-after", "1e19")],
                Some(Duration::from_secs(10_000_000_000_000_000_000)),
            ),
            (&[], None),
        ];
        for (pairs, expected) in cases {
            assert_eq!(retry_after(&headers(pairs), now), *expected, "{pairs:?}");
        }
        assert_eq!(
            should_retry(&headers(&[("x-should-retry", "false")])),
            Some(false)
        );
        assert_eq!(
            should_retry(&headers(&[("x-should-retry", "true")])),
            Some(true)
        );
        assert_eq!(should_retry(&headers(&[("x-should-retry", "maybe")])), None);
    }

    proptest::proptest! {
        /// Any header value a server can send (numbers of any size, dates of any year,
        /// garbage) gives a wait or none, never a panic; and the wait Tally then takes is
        /// never longer than its own bound.
        #[test]
        fn any_retry_after_value_gives_a_bounded_wait(
            value in proptest::prop_oneof![
                "[0-9eE.+-]{0,40}",
                "(inf|NaN|-inf|1e[0-9]{1,4}|-?[0-9]{1,30}(\\.[0-9]{0,30})?)",
                "[A-Za-z]{3}, [0-9]{1,2} [A-Za-z]{3} [0-9]{1,6} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
                "\\PC{0,60}",
            ],
            name in proptest::prop_oneof!["retry-after", "retry-after-ms"],
            now in 0u64..=u64::from(u32::MAX) * 100,
        ) {
            let mut map = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.insert(reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
            }
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now);
            let wait = retry_after(&map, now);
            let error = api(429, ErrorKind::RateLimited, None, wait);
            let delay = RetryPolicy::default().delay_after(&error, 0, 0.5);
            proptest::prop_assert!(delay.is_some_and(|d| d <= MAX_SERVER_DELAY));
        }
    }
}
