import { describe, expect, it } from "vitest";
import { ChatState, FIRST_TEXT_MARK } from "./chat.svelte";
import { chatWithHistory, NO_USAGE, newChatState, startedEvent } from "./testing";

function started(state: ChatState) {
  state.draft = "  Hello there ";
  state.apply(startedEvent());
}

describe("ChatState", () => {
  it("shows a reply's thinking as it streams, and its API once it is done", () => {
    const state = newChatState();
    started(state);
    state.apply({ type: "thinking", text: "**Checking** " });
    state.apply({ type: "thinking", text: "the dates" });
    expect(state.messages[1].thinking).toBe("**Checking** the dates");
    state.apply({ type: "delta", text: "Monday." });
    state.apply({
      type: "done",
      status: "complete",
      finishReason: "stop",
      cost: 10,
      estimated: false,
      endpoint: "responses",
      usage: NO_USAGE,
      askPriceOf: null,
    });
    expect(state.messages[1].content).toBe("Monday.");
    expect(state.messages[1].endpoint).toBe("responses");
    expect(state.messages[1].thinking).toBe("**Checking** the dates");
  });

  it("shows a web search while it runs, the reply's sources as they come, and its usage", () => {
    const state = newChatState();
    started(state);
    state.apply({ type: "searching", query: "Lisbon tram 28" });
    expect(state.searching).toEqual({ query: "Lisbon tram 28" });
    state.apply({ type: "delta", text: "Every 10 minutes." });
    expect(state.searching).toBeNull();
    const source = { url: "https://www.carris.pt/", title: "Carris" };
    state.apply({ type: "citation", ...source });
    state.apply({ type: "citation", ...source });
    expect(state.messages[1].citations).toEqual([source]);
    const usage = { ...NO_USAGE, promptTokens: 8_412, completionTokens: 96, webSearches: 1 };
    state.apply({
      type: "done",
      status: "complete",
      finishReason: "stop",
      cost: 16_741_000,
      estimated: false,
      endpoint: "responses",
      usage,
      askPriceOf: null,
    });
    expect(state.messages[1].usage).toEqual(usage);

    // Continue: the reply keeps its sources, cost and usage, and the new request adds to them.
    state.apply(startedEvent({ kind: "continue" }));
    expect(state.messages[1].citations).toEqual([source]);
    state.apply({
      type: "done",
      status: "complete",
      finishReason: "stop",
      cost: 1_000,
      estimated: true,
      endpoint: "responses",
      usage: { ...NO_USAGE, promptTokens: 10, completionTokens: 4, estimated: true },
      askPriceOf: null,
    });
    expect(state.messages[1].costNanos).toBe(16_742_000);
    expect(state.messages[1].usage).toEqual({
      ...usage,
      promptTokens: 8_422,
      completionTokens: 100,
      estimated: true,
    });
  });

  it("says a pro model may think for minutes, until its first text", () => {
    const state = newChatState();
    state.draft = "Prove it";
    state.apply(startedEvent({ title: "Prove it", thinksForMinutes: true }));
    expect(state.longThinking).toBe(true);
    state.apply({ type: "delta", text: "Here" });
    state.flush();
    expect(state.longThinking).toBe(false);
  });

  it("builds the exchange from events; the composer gives up the message once it is saved", () => {
    const { chat: state, history } = chatWithHistory();
    started(state);
    expect(state.currentId).toBe(7);
    expect(state.messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "Hello there", "complete"],
      ["assistant", "", "streaming"],
    ]);
    expect(history.recent[0].title).toBe("Hello there");
    expect(state.title).toBe("Hello there");
    expect(state.draft).toBe("");

    performance.clearMarks(FIRST_TEXT_MARK);
    state.apply({ type: "delta", text: "Hi" });
    // The first text is on screen at once, not a frame later, and marked for the bench:
    // once per reply, not for every piece.
    expect(performance.getEntriesByName(FIRST_TEXT_MARK)).toHaveLength(1);
    const firstText = performance.getEntriesByName(FIRST_TEXT_MARK)[0].startTime;
    expect(state.messages[1].content).toBe("Hi");
    // What is typed while the reply streams is the next message: later pieces keep it.
    state.draft = "And then?";
    state.apply({ type: "delta", text: "!" });
    expect(state.draft).toBe("And then?");
    expect(performance.getEntriesByName(FIRST_TEXT_MARK).map((m) => m.startTime)).toEqual([
      firstText,
    ]);
    state.flush();
    expect(state.messages[1].content).toBe("Hi!");

    state.apply({
      type: "done",
      status: "complete",
      finishReason: "stop",
      cost: 10,
      estimated: false,
      endpoint: "chat",
      usage: NO_USAGE,
      askPriceOf: null,
    });
    expect(state.messages[1].status).toBe("complete");
    expect(state.draft).toBe("And then?");
  });

  it("keeps the partial reply when the request fails, and the message in one place only", () => {
    const state = newChatState();
    started(state);
    state.apply({ type: "delta", text: "Par" });
    state.apply({
      type: "failed",
      status: "interrupted",
      code: "network",
      message: "Tally could not reach OpenAI.",
    });
    expect(state.messages[1].content).toBe("Par");
    expect(state.messages[1].status).toBe("interrupted");
    expect(state.error?.code).toBe("network");

    // Failed before any text (a billing 429, say): the message is saved in the chat, where
    // Try again sends it again; the composer gives it up, so Send cannot send it twice.
    const failedEarly = newChatState();
    started(failedEarly);
    failedEarly.apply({ type: "failed", status: "error", code: "quota_exhausted", message: "x" });
    expect(failedEarly.messages[0].content).toBe("Hello there");
    expect(failedEarly.draft).toBe("");
    expect(failedEarly.canSend).toBe(false);

    // Text typed after sending is the next message: a failure keeps it.
    const typedOn = newChatState();
    started(typedOn);
    typedOn.draft = "Something else entirely";
    typedOn.apply({ type: "failed", status: "error", code: "network", message: "x" });
    expect(typedOn.draft).toBe("Something else entirely");
  });

  it("announces a retry until text arrives", () => {
    const state = newChatState();
    started(state);
    state.apply({
      type: "retrying",
      attempt: 2,
      inMs: 1500,
      reason: "OpenAI asked Tally to slow down",
    });
    expect(state.retry?.attempt).toBe(2);
    expect(state.retry!.until).toBeGreaterThan(Date.now() + 1000);
    state.apply({ type: "delta", text: "Hi" });
    expect(state.retry).toBeNull();
  });

  it("retry replaces the reply on screen; continue appends to it", () => {
    const state = newChatState();
    started(state);
    state.apply({ type: "delta", text: "Cut" });
    state.apply({ type: "failed", status: "interrupted", code: "network", message: "x" });
    state.flush();
    expect(state.redo).toEqual({ retry: true, continue: true });

    state.draft = "typing the next question";
    state.apply({
      type: "started",
      userText: null,
      conversationId: 7,
      userMessageId: 1,
      assistantMessageId: 3,
      title: "Hello there",
      droppedMessages: 0,
      thinksForMinutes: false,
      kind: "retry",
    });
    expect(state.messages.map((m) => m.id)).toEqual([1, 3]);
    state.apply({ type: "delta", text: "Whole" });
    state.apply({
      type: "done",
      status: "stopped",
      finishReason: null,
      cost: 1,
      estimated: true,
      endpoint: "chat",
      usage: NO_USAGE,
      askPriceOf: null,
    });
    expect(state.draft).toBe("typing the next question");

    state.apply({
      type: "started",
      userText: null,
      conversationId: 7,
      userMessageId: 1,
      assistantMessageId: 3,
      title: "Hello there",
      droppedMessages: 0,
      thinksForMinutes: false,
      kind: "continue",
    });
    expect(state.messages[1].status).toBe("streaming");
    state.apply({ type: "delta", text: " answer" });
    state.flush();
    expect(state.messages[1].content).toBe("Whole answer");
    state.apply({
      type: "done",
      status: "complete",
      finishReason: "stop",
      cost: 1,
      estimated: false,
      endpoint: "chat",
      usage: NO_USAGE,
      askPriceOf: null,
    });
    expect(state.redo).toEqual({ retry: false, continue: false });
  });

  it("opens the new chat a summary streams into, with the request the engine wrote", () => {
    const { chat: state, history } = chatWithHistory();
    started(state);
    state.draft = "half a thought";
    state.apply({
      type: "started",
      userText: "Summarize our conversation “Hello there” so that we can go on from it here.",
      conversationId: 9,
      userMessageId: 11,
      assistantMessageId: 12,
      title: "Hello there (continued)",
      droppedMessages: 0,
      thinksForMinutes: false,
      kind: "summary",
    });
    expect(state.currentId).toBe(9);
    expect(state.title).toBe("Hello there (continued)");
    expect(state.messages.map((m) => [m.id, m.role, m.content, m.status])).toEqual([
      [
        11,
        "user",
        "Summarize our conversation “Hello there” so that we can go on from it here.",
        "complete",
      ],
      [12, "assistant", "", "streaming"],
    ]);
    expect(state.draft).toBe("half a thought");
    expect(history.recent[0].id).toBe(9);
  });

  it("shows more messages left out when the server found the request too long", () => {
    const state = newChatState();
    started(state);
    state.apply({ type: "trimmed", droppedMessages: 4 });
    expect(state.droppedMessages).toBe(4);
  });

  it("remembers how many older messages a request left out, until another chat opens", () => {
    const state = newChatState();
    state.draft = "A long conversation";
    state.apply({
      type: "started",
      userText: null,
      conversationId: 7,
      userMessageId: 1,
      assistantMessageId: 2,
      title: "Long",
      droppedMessages: 6,
      thinksForMinutes: false,
      kind: "send",
    });
    expect(state.droppedMessages).toBe(6);
    state.newChat();
    expect(state.droppedMessages).toBe(0);
  });

  it("cannot send blank text", () => {
    const state = newChatState();
    state.draft = " \n\t ";
    expect(state.canSend).toBe(false);
    state.draft = "hi";
    expect(state.canSend).toBe(true);
  });
});
