//! The client against the mock server on loopback, which replays the real wire format.

mod errors;
mod hostile;
mod parsing;
mod responses;
mod retries;
mod streaming;

use mock_openai::{MockConfig, MockServer};
use std::time::Duration;

use tally_openai::{
    ChatMessage, ChatRequest, ClientConfig, OpenAiClient, RetryPolicy, Role, SecretString,
};

pub const KEY: &str = "sk-proj-TestKeyForTallyOnly0000000000abcd";

/// A streaming request with one user message.
pub fn ask(text: &str) -> ChatRequest {
    ChatRequest::streaming("gpt-4o-mini", vec![ChatMessage::new(Role::User, text)])
}

pub fn key() -> SecretString {
    SecretString::from(KEY.to_string())
}

pub async fn server(config: MockConfig) -> MockServer {
    MockServer::start(config).await.unwrap()
}

pub fn client(server: &MockServer) -> OpenAiClient {
    OpenAiClient::new(ClientConfig::new(server.base_url())).unwrap()
}

/// A client that never retries, for tests of a single attempt.
pub fn client_without_retries(base_url: String) -> OpenAiClient {
    let mut config = ClientConfig::new(base_url);
    config.retry.max_retries = 0;
    OpenAiClient::new(config).unwrap()
}

/// A client with the default retry count and a fast backoff.
pub fn quick_retrying_client(server: &MockServer) -> OpenAiClient {
    let mut config = ClientConfig::new(server.base_url());
    config.retry = RetryPolicy {
        initial_backoff: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    OpenAiClient::new(config).unwrap()
}
