use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::attempt::{Attempt, ClientEvent, RateLimits};
use crate::error::classify;
use crate::retry::{retry_after, should_retry};
use crate::{Api, ChatRequest, ChatStream, ModelList, OpenAiError, ResponsesRequest};
use crate::{RetryNotice, RetryPolicy, StreamTimeouts, adapt};

/// Where the API is and how patient to be with it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL including the version, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub connect_timeout: Duration,
    /// Longest wait for the response headers and the first piece of the reply.
    pub first_token_timeout: Duration,
    /// Longest silence tolerated once a reply flows, and for non-streaming calls the
    /// whole answer. Streams have no total timeout: a long reply may take minutes.
    pub idle_timeout: Duration,
    /// When to try a failed request again.
    pub retry: RetryPolicy,
}

/// How long a model that may think for many minutes (OpenAI's pro models, at high effort)
/// is given before its first token.
pub const LONG_THINKING_FIRST_TOKEN: Duration = Duration::from_secs(30 * 60);

impl ClientConfig {
    pub const OPENAI: &'static str = "https://api.openai.com/v1";

    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            connect_timeout: Duration::from_secs(10),
            first_token_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }

    /// Defaults for a model that reasons or not. A reasoning model thinks before it
    /// writes and sends nothing while it does, for minutes at high effort, so it gets 10
    /// minutes to its first token; others answer within seconds, and 60 s of silence means
    /// something broke. Once text flows, 60 s of silence is a stall for every model.
    pub fn for_reasoning(base_url: impl Into<String>, reasoning: bool) -> Self {
        let mut config = Self::new(base_url);
        if reasoning {
            config.first_token_timeout = Duration::from_secs(600);
        }
        config
    }
}

/// A Chat Completions client. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    config: ClientConfig,
}

impl OpenAiClient {
    pub fn new(config: ClientConfig) -> Result<Self, OpenAiError> {
        let base = config.base_url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|_| OpenAiError::InvalidBaseUrl(config.base_url.clone()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(OpenAiError::InvalidBaseUrl(config.base_url.clone()));
        }
        // The key travels in every request: in clear text only to this computer.
        if parsed.scheme() == "http" && !is_loopback(&parsed) {
            return Err(OpenAiError::InsecureBaseUrl(config.base_url.clone()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            // A redirect would carry the key to an address the user never chose.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Tally/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OpenAiError::Decode(e.to_string()))?;
        Ok(Self {
            http,
            config: ClientConfig {
                base_url: base,
                ..config
            },
        })
    }

    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// This client, sharing its connection pool, with the timeouts a model that reasons
    /// (or not) needs (see [`ClientConfig::for_reasoning`]).
    pub fn for_reasoning(&self, reasoning: bool) -> Self {
        let defaults = ClientConfig::for_reasoning(self.config.base_url.clone(), reasoning);
        Self {
            http: self.http.clone(),
            config: ClientConfig {
                first_token_timeout: defaults.first_token_timeout,
                idle_timeout: defaults.idle_timeout,
                ..self.config.clone()
            },
        }
    }

    /// This client with the time a model that may think for many minutes (a pro model)
    /// needs before its first token: [`LONG_THINKING_FIRST_TOKEN`].
    pub fn for_long_thinking(&self) -> Self {
        let mut client = self.clone();
        client.config.first_token_timeout = LONG_THINKING_FIRST_TOKEN;
        client
    }

    /// Adds the key to `request`. Without one (a server on this computer that asks for
    /// none) the request carries no `Authorization` header at all.
    fn with_key(
        request: reqwest::RequestBuilder,
        key: Option<&SecretString>,
    ) -> Result<reqwest::RequestBuilder, OpenAiError> {
        Ok(match key {
            Some(key) => request.header(AUTHORIZATION, Self::auth(key)?),
            None => request,
        })
    }

    fn auth(key: &SecretString) -> Result<HeaderValue, OpenAiError> {
        // The header's text is wiped once the header holds its copy.
        let bearer = SecretString::from(format!("Bearer {}", key.expose_secret()));
        let mut value = HeaderValue::from_str(bearer.expose_secret())
            .map_err(|_| OpenAiError::Decode("the API key is not valid header text".into()))?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// `GET /models`: lists the models the key can use. Also the cheapest way to test a key.
    pub async fn list_models(&self, key: Option<&SecretString>) -> Result<ModelList, OpenAiError> {
        let request = Self::with_key(
            self.http.get(format!("{}/models", self.config.base_url)),
            key,
        )?
        .timeout(self.config.idle_timeout);
        let response = request.send().await.map_err(OpenAiError::from_reqwest)?;
        let response = self.check(response).await?;
        let body = read_capped(response, MAX_MODEL_LIST_BYTES, self.config.idle_timeout)
            .await?
            .ok_or(OpenAiError::TooLarge("a model list"))?;
        serde_json::from_slice(&body).map_err(|e| OpenAiError::Decode(e.to_string()))
    }

    /// Sends a streaming chat request and returns once the response headers are in,
    /// retrying per the [`RetryPolicy`] before any byte of a 200 arrived. `observe` hears
    /// of each failed attempt and of each wait before it starts; dropping the future
    /// cancels the wait.
    pub async fn stream_chat(
        &self,
        key: Option<&SecretString>,
        request: &ChatRequest,
        observe: impl FnMut(ClientEvent<'_>),
    ) -> Result<ChatStream, OpenAiError> {
        self.stream(key, Api::ChatCompletions, request, observe)
            .await
    }

    /// [`stream_chat`](Self::stream_chat) on the API `api`: the request goes to Responses
    /// as [`ResponsesRequest::from_chat`] makes it, with the same retries, adaptations and
    /// timeouts.
    pub async fn stream(
        &self,
        key: Option<&SecretString>,
        api: Api,
        request: &ChatRequest,
        mut observe: impl FnMut(ClientEvent<'_>),
    ) -> Result<ChatStream, OpenAiError> {
        let mut request = request.clone();
        let mut retry = 0;
        let mut number = 1;
        loop {
            let (result, attempt) = self.stream_once(key, api, &request, number).await;
            number += 1;
            let error = match result {
                Ok(stream) => return Ok(stream),
                Err(error) => error,
            };
            observe(ClientEvent::AttemptFailed(&attempt));
            // A refused parameter is fixed and sent again at once, outside the retry budget;
            // `adapt` changes each parameter at most once, so this ends.
            if let Some(adaptation) = adapt(&mut request, &error) {
                observe(ClientEvent::Adapted(adaptation));
                continue;
            }
            let Some(delay) = self
                .config
                .retry
                .delay_after(&error, retry, fastrand::f64())
            else {
                return Err(error);
            };
            retry += 1;
            observe(ClientEvent::Retrying(&RetryNotice {
                attempt: number,
                delay,
                kind: error.kind(),
            }));
            tokio::time::sleep(delay).await;
        }
    }

    async fn stream_once(
        &self,
        key: Option<&SecretString>,
        api: Api,
        request: &ChatRequest,
        number: u32,
    ) -> (Result<ChatStream, OpenAiError>, Attempt) {
        let started = Instant::now();
        let mut attempt = Attempt::new(number);
        let result = async {
            let post = Self::with_key(
                self.http
                    .post(format!("{}/{}", self.config.base_url, api.path())),
                key,
            )?
            .header(ACCEPT, "text/event-stream")
            .header(CONTENT_TYPE, "application/json");
            let send = match api {
                Api::ChatCompletions => post.json(request),
                Api::Responses => post.json(&ResponsesRequest::from_chat(request)),
            }
            .send();
            let response = tokio::time::timeout(self.config.first_token_timeout, send)
                .await
                .map_err(|_| OpenAiError::Timeout(started.elapsed()))?
                .map_err(OpenAiError::from_reqwest)?;
            attempt.headers_after = Some(started.elapsed());
            attempt.status = Some(response.status().as_u16());
            attempt.request_id = request_id(&response);
            attempt.rate_limits = RateLimits::from_headers(response.headers());
            let response = self.check(response).await?;
            let timeouts = StreamTimeouts {
                first_token: self.config.first_token_timeout,
                idle: self.config.idle_timeout,
            };
            Ok(ChatStream::new(
                api,
                response,
                timeouts,
                attempt.clone(),
                started,
            ))
        }
        .await;
        match result {
            Err(error) => {
                let failed = attempt.failed(&error);
                (Err(error), failed)
            }
            ok => (ok, attempt),
        }
    }

    /// Turns a non-2xx response into a classified error. A redirect is an error that
    /// names where it pointed; an error body is read up to [`MAX_ERROR_BODY_BYTES`] and for
    /// at most [`ERROR_BODY_TIME`] (or the idle timeout, if shorter), so a huge or endless
    /// one cannot hold a send.
    async fn check(&self, response: reqwest::Response) -> Result<reqwest::Response, OpenAiError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(200).collect::<String>())
                .unwrap_or_else(|| "another address".into());
            return Err(OpenAiError::Redirected(to));
        }
        let request_id = request_id(&response);
        let retry_after = retry_after(response.headers(), std::time::SystemTime::now());
        let should_retry = should_retry(response.headers());
        // What arrived in time and within bounds is classified; the rest is not waited for.
        let time = self.config.idle_timeout.min(ERROR_BODY_TIME);
        let body = read_capped(response, MAX_ERROR_BODY_BYTES, time)
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let (kind, detail) = classify(status.as_u16(), &body);
        Err(OpenAiError::Api {
            status: status.as_u16(),
            kind,
            code: detail.code,
            param: detail.param,
            request_id,
            retry_after,
            should_retry,
        })
    }
}

/// `base` parsed as a URL, when it is one.
pub fn parse_base_url(base: &str) -> Option<reqwest::Url> {
    reqwest::Url::parse(base.trim()).ok()
}

/// Whether `url` names this computer: `localhost` or a loopback IP. A name under
/// `.localhost` is not taken on trust: the system resolves it like any other name, and a
/// resolver may send it anywhere.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The most of an error body Tally reads (a real one is under 1 KB).
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// How long Tally waits for an error body to finish.
const ERROR_BODY_TIME: Duration = Duration::from_secs(10);
/// The most a `GET /models` answer may hold (a real one is under 100 KB).
const MAX_MODEL_LIST_BYTES: usize = 8 << 20;

/// The body of `response` if it ends within `limit` bytes and `time`; `Ok(None)` when it
/// is longer. A body that does not end in time is a timeout.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    time: Duration,
) -> Result<Option<Vec<u8>>, OpenAiError> {
    let read = async {
        let mut body = Vec::new();
        while let Some(piece) = response.chunk().await.map_err(OpenAiError::from_reqwest)? {
            if body.len() + piece.len() > limit {
                return Ok(None);
            }
            body.extend_from_slice(&piece);
        }
        Ok(Some(body))
    };
    tokio::time::timeout(time, read)
        .await
        .map_err(|_| OpenAiError::Timeout(time))?
}

fn request_id(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_models_get_time_to_think() {
        let thinking = ClientConfig::for_reasoning("http://x", true);
        let plain = ClientConfig::for_reasoning("http://x", false);
        assert_eq!(thinking.first_token_timeout, Duration::from_secs(600));
        assert_eq!(plain.first_token_timeout, plain.idle_timeout);
        assert_eq!(thinking.idle_timeout, plain.idle_timeout);
        let client = OpenAiClient::new(ClientConfig::new("http://127.0.0.1:1")).unwrap();
        assert_eq!(
            client.for_reasoning(true).config().first_token_timeout,
            thinking.first_token_timeout
        );
        let long = client.for_reasoning(true).for_long_thinking();
        assert_eq!(long.config().first_token_timeout, LONG_THINKING_FIRST_TOKEN);
        assert_eq!(long.config().idle_timeout, thinking.idle_timeout);
    }
}
