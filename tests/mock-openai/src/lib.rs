//! A faithful OpenAI-compatible server on loopback, the one fake in Tally's tests.
//!
//! It owns the wire format as recorded in `wire/` (a copy of `shared/openai-wire/`): error
//! responses and canned streams are replayed byte for byte from those files, and generated
//! replies use exactly the chunk shape of `stream-basic.http`. Reply text, chunk size and
//! the delay between chunks are configurable; a scenario is picked per request with the
//! `x-mock-scenario` header or a `[mock:NAME]` marker in the last user message (`NAME*N`
//! for the first N requests only; `stall` and `silent` hang mid-stream; `echo` streams
//! the user's message back;
//! `usage:P/C/K/R[/W]` reports that usage, W being cache writes). Usage is counted with the model's real tokenizer
//! (reasoning models add reasoning tokens) and summed in its stats, so tests can check
//! the ledger against what the server billed. It counts streams that the client dropped,
//! so tests can prove that Stop really closes the connection. A request for a title (a
//! system message starting "Write a title") is answered with the first six words of the
//! message, so titled conversations stay predictable in tests. It must never reach beyond
//! 127.0.0.1, and it is not part of the app.

mod server;
mod wire;

pub use server::responses::{MOCK_SOURCE_TITLE, MOCK_SOURCE_URL, SEARCH_CONTENT_TOKENS};
pub use server::tool_calls::AFTER_CALLS;
pub use server::{MockConfig, MockServer, REASONING_TOKENS, ReceivedRequest, Stats, UsageTotals};
pub use wire::{WireFile, wire_file, wire_names};
