//! The client against the mock server on loopback, which replays the real wire format.

mod errors;
mod streaming;

use mock_openai::{MockConfig, MockServer};
use tally_openai::{ClientConfig, OpenAiClient, Sensitive};

pub const KEY: &str = "sk-proj-TestKeyForTallyOnly0000000000abcd";

pub fn key() -> Sensitive<String> {
    Sensitive::new(KEY.to_string())
}

pub async fn server(config: MockConfig) -> MockServer {
    MockServer::start(config).await.unwrap()
}

pub fn client(server: &MockServer) -> OpenAiClient {
    OpenAiClient::new(ClientConfig::new(server.base_url())).unwrap()
}
