"""Tally's token counts must equal PyPI tiktoken's, string for string; and its count of
function definitions must equal OpenAI's cookbook rule, transcribed below from the
cookbook's `num_tokens_for_tools` (with Tally's addition for schemas the rule does not
describe), over tiktoken's counts.

Usage: compare.py ORACLE_BINARY WORK_DIR

The official tokenizer downloads its vocabularies from OpenAI's blob storage, which is
out of reach here. Instead, the Rust oracle writes the vocabularies Tally uses into
tiktoken's cache; tiktoken checks each file against the SHA-256 of OpenAI's published
file before using it, so the vocabularies are proven identical and the comparison then
tests the two implementations of the tokenizer itself.
"""

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

BLOB = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
ENCODINGS = ["o200k_base", "cl100k_base"]

FIXED = [
    "",
    " ",
    "hello world",
    "Hello, World! How's it going? I'm fine; they'll see—we've done it.",
    "The quick brown fox jumps over the lazy dog. " * 20,
    "Größenwahn, naïve café, façade, Øresund, Ærø, señor, São Paulo.",
    "fn main() {\n    let x: Vec<u8> = vec![1, 2, 3];\n    println!(\"{x:?}\");\n}\n",
    "def f(a, b=2, *args, **kw):\n\treturn [i ** 2 for i in range(a) if i % b]\n",
    '{"id": "chatcmpl-123", "choices": [{"delta": {"content": "Hi"}}], "n": 1.5e-3}',
    "<div class=\"a\">&amp; <b>bold</b></div><!-- c --><script>alert(1)</script>",
    "SELECT id, title FROM conversations WHERE updated_at > ?1 ORDER BY id DESC;",
    "我们今天去公园散步，天气非常好。机器学习是人工智能的一个分支。",
    "日本語のテキストです。カタカナとひらがな、そして漢字が混ざっています。",
    "안녕하세요. 한국어 문장을 토큰화합니다.",
    "مرحبا بالعالم. هذه جملة عربية.",
    "नमस्ते दुनिया। यह हिंदी का वाक्य है।",
    "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "Привет, мир! Съешь же ещё этих мягких французских булок.",
    "😀😃😄 👩‍👩‍👧‍👦 👍🏽 🇩🇪🇯🇵 ❤️‍🔥 🧑🏿‍🚀",
    "emoji inside words: pre😀post, 🎉party🎉, a👍b",
    "    four spaces\n\n\n\ttab\t\ttabs   \n   \r\n\r\n trailing   ",
    " " * 100,
    "\n" * 50,
    "\t \n \t\n" * 30,
    "a" * 1000,
    "1234567890 3.14159 1,000,000 0x1F 2026-11-23T13:35:23Z 1e10",
    "<|endoftext|> <|fim_prefix|> <|endofprompt|> <|im_start|>",
    "URL: https://example.com/path?q=a+b&x=%20y#frag and user@example.org",
    "MixedCASE camelCase snake_case kebab-case SCREAMING_CASE",
    "'s 't 're 've 'm 'll 'd 'S 'T 'RE",
    "\u00a0non-breaking\u2009thin\u3000ideographic space\u200bzero-width",
    "e\u0301 combining acute, a\u0308, n\u0303",
]

POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
    " \t\n\r  ",
    ".,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`",
    "的一是不了人我在有他这为之大来以个中上们",
    "あいうえおカキクケコ漢字",
    "😀👍🏽🇩🇪❤️‍🔥👩‍👩‍👧",
    "äöüßéèçñøåÆ",
    "абвгдеёжз",
]


def corpus():
    rng = random.Random(20261123)
    texts = list(FIXED)
    for _ in range(2000):
        length = rng.randint(1, 200)
        weights = [rng.random() for _ in POOLS]
        texts.append(
            "".join(rng.choice(rng.choices(POOLS, weights)[0]) for _ in range(length))
        )
    return texts


def cookbook_tool_tokens(encoding, functions, legacy):
    """OpenAI cookbook, "How to count tokens with tiktoken", `num_tokens_for_tools`: 7 per
    function (10 on gpt-4 / gpt-3.5), `name:description`; 3 for properties, then 3 and
    `name:type:description` each, an enum -3 and 3 plus the item per item; 12 at the end.
    Tally adds the JSON text of what else a property holds (nested schemas)."""
    func_init, prop_init, prop_key, enum_init, enum_item, func_end = (
        (10 if legacy else 7), 3, 3, -3, 3, 12
    )
    count = 0
    for function in functions:
        count += func_init
        description = function["description"].removesuffix(".")
        count += len(encoding.encode_ordinary(function["name"] + ":" + description))
        properties = function["parameters"].get("properties") or {}
        if not isinstance(properties, dict) or not properties:
            continue
        count += prop_init
        for key in sorted(properties):
            prop = properties[key]
            count += prop_key
            kind = prop.get("type", "")
            if isinstance(kind, list):
                kind = ",".join(kind)
            description = (prop.get("description") or "").removesuffix(".")
            count += len(encoding.encode_ordinary(f"{key}:{kind}:{description}"))
            if prop.get("enum"):
                count += enum_init
                for item in prop["enum"]:
                    item = item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))
                    count += enum_item + len(encoding.encode_ordinary(item))
            rest = {k: v for k, v in prop.items() if k not in ("type", "description", "enum")}
            if rest:
                count += len(encoding.encode_ordinary(json.dumps(rest, separators=(",", ":"), ensure_ascii=False)))
    if functions:
        count += func_end
    return count


def tool_corpus():
    """Lists of function definitions: the cookbook's example, MCP servers' shapes, random."""
    weather = {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "format": {
                    "type": "string",
                    "description": "The temperature unit to use.",
                    "enum": ["celsius", "fahrenheit"],
                },
            },
            "required": ["location", "format"],
        },
    }
    nested = {
        "name": "files__write",
        "description": "Write files. Overwrites!",
        "parameters": {
            "type": "object",
            "properties": {
                "files": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"path": {"type": "string"}}},
                    "description": "What to write",
                },
                "mode": {"type": ["string", "null"], "enum": ["a", "w", 3], "default": "w"},
                "note": {},
            },
        },
    }
    empty = {"name": "ping", "description": "", "parameters": {"type": "object", "properties": {}}}
    rng = random.Random(20261130)
    lists = [[], [weather], [weather, nested, empty]]
    for _ in range(200):
        functions = []
        for n in range(rng.randint(1, 4)):
            properties = {}
            for p in range(rng.randint(0, 4)):
                prop = {"type": rng.choice(["string", "number", "integer", "boolean"])}
                if rng.random() < 0.7:
                    prop["description"] = "".join(rng.choice(POOLS[0] + " .") for _ in range(rng.randint(0, 40)))
                if rng.random() < 0.3:
                    prop["enum"] = ["".join(rng.choice(POOLS[0]) for _ in range(5)) for _ in range(rng.randint(1, 3))]
                if rng.random() < 0.2:
                    prop["minimum"] = rng.randint(0, 9)
                properties[f"p{p}_{rng.choice(['x', 'name', 'città'])}"] = prop
            description = "".join(rng.choice(rng.choice(POOLS)) for _ in range(rng.randint(0, 80)))
            functions.append(
                {
                    "name": f"tool_{n}",
                    "description": description,
                    "parameters": {"type": "object", "properties": properties},
                }
            )
        lists.append(functions)
    return lists


def main():
    oracle, work = Path(sys.argv[1]), Path(sys.argv[2])
    if work.exists():
        shutil.rmtree(work)
    vocab, cache = work / "vocab", work / "cache"
    cache.mkdir(parents=True)
    subprocess.run([oracle, "vocab", vocab], check=True)
    for name in ENCODINGS:
        key = hashlib.sha1(BLOB.format(name).encode()).hexdigest()
        shutil.copy(vocab / f"{name}.tiktoken", cache / key)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    import tiktoken  # after the cache is set

    texts = corpus()
    corpus_file = work / "corpus.json"
    corpus_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    tally = json.loads(
        subprocess.run(
            [oracle, "count", corpus_file], check=True, capture_output=True
        ).stdout
    )
    mismatches = 0
    for name in ENCODINGS:
        # get_encoding fails (it would download) unless the cached file has OpenAI's hash.
        encoding = tiktoken.get_encoding(name)
        theirs = [len(encoding.encode_ordinary(t)) for t in texts]
        for text, ours, reference in zip(texts, tally[name], theirs):
            if ours != reference:
                mismatches += 1
                if mismatches <= 10:
                    print(f"{name}: {text[:60]!r}: Tally {ours}, tiktoken {reference}")
        print(f"{name}: {len(texts)} strings, {sum(theirs)} tokens")
    tool_lists = tool_corpus()
    tools_file = work / "tools.json"
    tools_file.write_text(json.dumps(tool_lists, ensure_ascii=False), encoding="utf-8")
    tally_tools = json.loads(
        subprocess.run([oracle, "tools", tools_file], check=True, capture_output=True).stdout
    )
    for name in ENCODINGS:
        encoding = tiktoken.get_encoding(name)
        theirs = [cookbook_tool_tokens(encoding, f, name == "cl100k_base") for f in tool_lists]
        for functions, ours, reference in zip(tool_lists, tally_tools[name], theirs):
            if ours != reference:
                mismatches += 1
                if mismatches <= 10:
                    names = [f["name"] for f in functions]
                    print(f"{name}: tools {names}: Tally {ours}, cookbook rule {reference}")
        print(f"{name}: {len(tool_lists)} lists of functions, {sum(theirs)} tokens")
    if mismatches:
        print(f"{mismatches} counts differ")
        sys.exit(1)
    print(f"tiktoken {tiktoken.__version__}: identical counts")


if __name__ == "__main__":
    main()
