"""The official `openai` Python SDK against the mock server: every scenario it serves must
parse the way the real API's responses do, and exactly as `tally-openai` parses it.
Usage: check.py BASE_URL TALLY_RESULTS.jsonl (from the parse_scenarios example)"""

import json
import sys
import traceback

import openai

BASE = sys.argv[1]
KEY = "sk-proj-SdkCheckKeyNotReal0000000000abcd"
results = []


def client(key=KEY):
    return openai.OpenAI(base_url=BASE, api_key=key, max_retries=0, timeout=20)


def ask(text, **kw):
    return [{"role": "user", "content": text}]


def case(name):
    def run(fn):
        try:
            fn()
            results.append(True)
            print(f"ok   {name}")
        except Exception:
            results.append(False)
            print(f"FAIL {name}\n{traceback.format_exc()}")
        return fn

    return run


def stream(text):
    return client().chat.completions.create(
        model="gpt-4o-mini",
        messages=ask(text),
        stream=True,
        stream_options={"include_usage": True},
    )


@case("generated stream: text, finish reason, usage")
def _():
    text, finish, usage = "", None, None
    for chunk in stream("hello"):
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
        usage = chunk.usage or usage
    assert "mock" in text, text
    assert finish == "stop"
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.prompt_tokens_details.cached_tokens == 0


@case("non-streaming completion")
def _():
    done = client().chat.completions.create(model="gpt-4o-mini", messages=ask("hi"))
    assert done.choices[0].message.role == "assistant"
    assert "mock" in done.choices[0].message.content
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens


@case("models list")
def _():
    ids = [m.id for m in client().models.list()]
    assert "gpt-4o-mini" in ids


@case("recorded streams: basic, length, tool calls")
def _():
    texts = {}
    for name in ["stream-basic", "stream-length", "stream-tool-calls"]:
        text, finish, tools = "", None, {}
        for chunk in stream(f"[mock:{name}]"):
            for choice in chunk.choices:
                text += choice.delta.content or ""
                finish = choice.finish_reason or finish
                for call in choice.delta.tool_calls or []:
                    tools.setdefault(call.index, "")
                    tools[call.index] += call.function.arguments or ""
        texts[name] = (text, finish, tools)
    assert texts["stream-basic"][0] == "Hello! How can I help you today? Привет 👋"
    assert texts["stream-length"][1] == "length"
    assert texts["stream-tool-calls"][2] == {
        0: '{"timezone": "Europe/Paris"}',
        1: '{"expression":"17*23"}',
    }


@case("an error line mid-stream raises after the partial text")
def _():
    text = ""
    try:
        for chunk in stream("[mock:stream-error-midstream]"):
            for choice in chunk.choices:
                text += choice.delta.content or ""
    except openai.APIError:
        assert text == "The first half of the answer"
        return
    raise AssertionError("no error raised")


@case("a dropped connection raises after the partial text")
def _():
    text = ""
    try:
        for chunk in stream("[mock:stream-no-usage]"):
            for choice in chunk.choices:
                text += choice.delta.content or ""
    except Exception:
        assert text == "This answer stops in the midd", text
        return
    raise AssertionError("no error raised")


ERRORS = {
    "error-400-context-length": (openai.BadRequestError, "context_length_exceeded"),
    "error-400-unsupported-parameter": (openai.BadRequestError, "unsupported_parameter"),
    "error-400-unsupported-value": (openai.BadRequestError, "unsupported_value"),
    "error-401-invalid-key": (openai.AuthenticationError, "invalid_api_key"),
    "error-404-model": (openai.NotFoundError, "model_not_found"),
    "error-429-insufficient-quota": (openai.RateLimitError, "insufficient_quota"),
    "error-429-rate-limit": (openai.RateLimitError, "rate_limit_exceeded"),
    "error-429-spend-limit": (openai.RateLimitError, "project_spend_limit_exceeded"),
    "error-500": (openai.InternalServerError, None),
    "error-502-html": (openai.InternalServerError, None),
    "error-503": (openai.InternalServerError, None),
}

for name, (error_type, code) in ERRORS.items():

    @case(f"{name} raises {error_type.__name__}")
    def _(name=name, error_type=error_type, code=code):
        try:
            stream(f"[mock:{name}]")
        except error_type as e:
            assert e.code == code, (e.code, code)
            return
        raise AssertionError("no error raised")


@case("a wrong key is refused")
def _():
    try:
        client("sk-proj-invalid-0000000000000000").models.list()
    except openai.AuthenticationError:
        return
    raise AssertionError("accepted")


# The functions a tools scenario offers (parse_scenarios offers the same), and the earlier
# call and result a `+results` scenario carries.
TEST_FUNCTIONS = [
    (
        "get_time",
        "Current time in a time zone",
        {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
    ),
    (
        "add",
        "Adds two numbers",
        {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
        },
    ),
]
EARLIER_CALL = ("call_earlier", "get_time", '{"timezone":"Europe/Lisbon"}', "14:05 in Lisbon")


def tool_prefix(scenario):
    """(offers the functions, carries an earlier result, the marker) of a scenario."""
    rest = scenario.removeprefix("responses+")
    for prefix, results in (("tools+results:", True), ("tools:", False)):
        if rest.startswith(prefix):
            return True, results, rest.removeprefix(prefix)
    return False, False, None


def responses_events(marker, accumulate, search=False, tools=False, results=False):
    """The SDK's typed events of a Responses scenario: through the `responses.stream()`
    helper, which also rebuilds the whole response and refuses a stream whose events do
    not fit together, or (`accumulate=False`) as the plain event stream. With `search`,
    the web_search tool is offered, as Tally offers it; with `tools`, the test functions;
    with `results`, an earlier call and its output follow the question."""
    request = dict(
        model="gpt-5.4-mini",
        input=[{"role": "user", "content": f"[mock:{marker}]"}],
        store=False,
        include=["reasoning.encrypted_content"],
        reasoning={"summary": "auto"},
    )
    if search:
        request.update(tools=[{"type": "web_search"}], max_tool_calls=3)
    if tools:
        request.update(
            tools=[
                {"type": "function", "name": n, "description": d, "parameters": p, "strict": False}
                for n, d, p in TEST_FUNCTIONS
            ]
        )
    if results:
        call_id, name, arguments, output = EARLIER_CALL
        request["input"] += [
            {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments},
            {"type": "function_call_output", "call_id": call_id, "output": output},
        ]
    if not accumulate:
        yield from client().responses.create(stream=True, **request)
        return
    with client().responses.stream(**request) as events:
        yield from events


def responses_parse(scenario, marker, accumulate, search=False, tools=False, results=False):
    """A Responses scenario read with the SDK, in the shape tally-openai's
    parse_scenarios example prints."""
    text, finish, usage, error = "", None, None, None
    sources, searches, calls = [], 0, []
    try:
        for event in responses_events(marker, accumulate, search, tools, results):
            if event.type == "response.output_text.delta":
                text += event.delta
            elif event.type == "response.output_text.annotation.added":
                note = event.annotation
                if note.type == "url_citation":
                    sources.append([note.url, note.title or note.url])
            elif event.type == "response.output_item.done":
                item = event.item
                if item.type == "web_search_call" and item.action and item.action.type == "search":
                    searches += 1
                elif item.type == "function_call":
                    calls.append([item.call_id, item.name, item.arguments])
            elif event.type == "error":
                error = [None, event.code]
                break
            elif event.type == "response.failed":
                error = [None, event.response.error.code if event.response.error else None]
                break
            elif event.type in ("response.completed", "response.incomplete"):
                done = event.response
                details = done.incomplete_details
                # A reply that called functions waits for them (Chat Completions' finish
                # reason "tool_calls"); Responses says so by its output alone.
                if event.type == "response.completed":
                    finish = "tool_calls" if calls else "stop"
                elif details and details.reason == "content_filter":
                    finish = "content_filter"
                else:
                    finish = "length"
                u = done.usage
                if u:
                    usage = [
                        u.input_tokens,
                        u.output_tokens,
                        u.total_tokens,
                        u.input_tokens_details.cached_tokens or 0,
                        u.output_tokens_details.reasoning_tokens or 0,
                    ]
    except openai.APIStatusError as e:
        error = [e.status_code, e.code]
    except openai.APIError as e:
        error = [None, e.code] if e.body is not None else "dropped"
    except Exception:
        error = "dropped"
    return {
        "scenario": scenario,
        "api": "responses",
        "text": text,
        "finish_reason": finish,
        "usage": usage,
        "tool_calls": calls,
        "sources": sources,
        "searches": searches,
        "error": error,
    }


def sdk_parse(scenario):
    """The same shape as tally-openai's parse_scenarios example prints."""
    # The mock's own streams must satisfy the SDK's accumulating helper. The recorded ones
    # are read as plain typed events: `responses-stream-error-event` has no
    # `content_part.added` before its delta, which the helper cannot accumulate.
    if scenario.startswith("responses:"):
        return responses_parse(scenario, scenario.removeprefix("responses:"), True)
    if scenario.startswith("responses+search:"):
        marker = scenario.removeprefix("responses+search:")
        return responses_parse(scenario, marker, True, search=True)
    offers, results, marker = tool_prefix(scenario)
    if offers and scenario.startswith("responses+"):
        return responses_parse(scenario, marker, True, tools=True, results=results)
    if scenario.startswith("responses-"):
        return responses_parse(scenario, scenario, False)
    messages = ask(f"[mock:{marker if offers else scenario}]")
    if results:
        call_id, name, arguments, output = EARLIER_CALL
        messages += [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
                ],
            },
            {"role": "tool", "tool_call_id": call_id, "content": output},
        ]
    request = dict(
        model="gpt-4o-mini",
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    if offers:
        request["tools"] = [
            {"type": "function", "function": {"name": n, "description": d, "parameters": p}}
            for n, d, p in TEST_FUNCTIONS
        ]
    text, finish, usage, tools, error = "", None, None, {}, None
    try:
        for chunk in client().chat.completions.create(**request):
            for choice in chunk.choices:
                text += choice.delta.content or ""
                finish = choice.finish_reason or finish
                for call in choice.delta.tool_calls or []:
                    entry = tools.setdefault(call.index, ["", "", ""])
                    entry[0] = call.id or entry[0]
                    entry[1] += (call.function.name or "") if call.function else ""
                    entry[2] += (call.function.arguments or "") if call.function else ""
            if chunk.usage:
                u = chunk.usage
                usage = [
                    u.prompt_tokens,
                    u.completion_tokens,
                    u.total_tokens,
                    (u.prompt_tokens_details.cached_tokens or 0) if u.prompt_tokens_details else 0,
                    (u.completion_tokens_details.reasoning_tokens or 0)
                    if u.completion_tokens_details
                    else 0,
                ]
    except openai.APIStatusError as e:
        error = [e.status_code, e.code]
    except openai.APIError as e:
        # An error object inside a 200 stream, or a broken connection (no status).
        error = [None, e.code] if e.body is not None else "dropped"
    except Exception:
        error = "dropped"
    return {
        "scenario": scenario,
        "api": "chat_completions",
        "text": text,
        "finish_reason": finish,
        "usage": usage,
        "tool_calls": [tools[i] for i in sorted(tools)],
        "sources": [],
        "searches": 0,
        "error": error,
    }


if len(sys.argv) > 2:
    with open(sys.argv[2]) as lines:
        tally = [json.loads(line) for line in lines if line.strip()]
    for ours in tally:

        @case(f"oracle: tally-openai parses {ours['scenario']} as the SDK does")
        def _(ours=ours):
            theirs = sdk_parse(ours["scenario"])
            assert theirs == ours, f"\n  sdk:   {theirs}\n  tally: {ours}"

    assert len(tally) >= 15, "too few scenarios compared"


failed = results.count(False)
print(f"\n{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
