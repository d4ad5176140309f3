//! The Rust side of the tokenizer parity check against PyPI's `tiktoken`
//! (`tests/tiktoken-parity/compare.py` drives it).
//!
//! `tiktoken_oracle vocab DIR` writes the vocabularies Tally tokenizes with, rebuilt from
//! tiktoken-rs's tables in OpenAI's `.tiktoken` file format; the Python tokenizer loads
//! them only if they hash to the exact files OpenAI publishes.
//! `tiktoken_oracle count CORPUS.json` prints, as JSON, Tally's token count of every
//! string in the corpus for both encodings; `tiktoken_oracle tools TOOLS.json`, its count
//! of each list of function definitions (`[{name, description, parameters}]`).

use std::io::Write;

use base64::Engine;
use tally_spend::{Encoding, ToolDefinition, count_text, count_tools};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1..).unwrap_or_default() {
        [command, dir] if command == "vocab" => write_vocab(dir.as_ref()),
        [command, corpus] if command == "count" => count(corpus.as_ref()),
        [command, corpus] if command == "tools" => tools(corpus.as_ref()),
        _ => {
            eprintln!("usage: tiktoken_oracle vocab DIR | count CORPUS.json | tools TOOLS.json");
            std::process::exit(2);
        }
    }
}

fn write_vocab(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("create the vocabulary folder");
    let encodings = [
        ("o200k_base", tiktoken_rs::o200k_base_singleton()),
        ("cl100k_base", tiktoken_rs::cl100k_base_singleton()),
    ];
    for (name, bpe) in encodings {
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(dir.join(format!("{name}.tiktoken"))).expect("create file"),
        );
        // Ordinary tokens have the ranks 0..n without gaps; special tokens come after a gap.
        let mut rank = 0;
        while let Ok(bytes) = bpe.decode_bytes(&[rank]) {
            let line = base64::engine::general_purpose::STANDARD.encode(bytes);
            writeln!(file, "{line} {rank}").expect("write vocabulary");
            rank += 1;
        }
        file.flush().expect("write vocabulary");
        eprintln!("{name}: {rank} tokens");
    }
}

fn count(corpus: &std::path::Path) {
    let text = std::fs::read_to_string(corpus).expect("read the corpus");
    let corpus: Vec<String> = serde_json::from_str(&text).expect("a JSON list of strings");
    let counts = |encoding| {
        corpus
            .iter()
            .map(|s| count_text(encoding, s))
            .collect::<Vec<_>>()
    };
    let result = serde_json::json!({
        "o200k_base": counts(Encoding::O200kBase),
        "cl100k_base": counts(Encoding::Cl100kBase),
    });
    println!("{result}");
}

#[derive(serde::Deserialize)]
struct Function {
    name: String,
    description: String,
    parameters: serde_json::Map<String, serde_json::Value>,
}

fn tools(corpus: &std::path::Path) {
    let text = std::fs::read_to_string(corpus).expect("read the tool lists");
    let lists: Vec<Vec<Function>> = serde_json::from_str(&text).expect("a JSON list of tool lists");
    let counts = |encoding| {
        lists
            .iter()
            .map(|list| {
                let definitions: Vec<ToolDefinition> = list
                    .iter()
                    .map(|f| ToolDefinition {
                        name: &f.name,
                        description: &f.description,
                        parameters: &f.parameters,
                    })
                    .collect();
                count_tools(encoding, &definitions)
            })
            .collect::<Vec<_>>()
    };
    let result = serde_json::json!({
        "o200k_base": counts(Encoding::O200kBase),
        "cl100k_base": counts(Encoding::Cl100kBase),
    });
    println!("{result}");
}
