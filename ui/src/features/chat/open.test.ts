import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConversationView, IpcError, MessageView } from "../../lib/ipc";
import { EARLIER_AFTER_MS, OPEN_TAIL } from "./chat.svelte";
import { DEFAULT_CHAT_SETTINGS, message, newChatState } from "./testing";

const ipc = vi.hoisted(() => ({
  conversationGet: vi.fn(),
  conversationList: vi.fn(async () => ({ pinned: [], recent: [], next: null })),
}));

vi.mock("../../lib/ipc", () => ({ ipc, asIpcError: (e: unknown) => e as IpcError }));

/** A branch of `count` messages, ids 1..count, each the reply to the one before. */
function branch(count: number, text = (id: number) => `message ${id}`): MessageView[] {
  return Array.from({ length: count }, (_, i) =>
    message(i + 1, i % 2 === 0 ? "user" : "assistant", text(i + 1)),
  );
}

/** What the engine answers for `conversation_get(id, tail)` over `messages`. */
function engine(id: number, messages: () => MessageView[]) {
  return async (asked: number, tail: number | null): Promise<ConversationView> => {
    const all = messages();
    const earlierCount = tail === null ? 0 : Math.max(0, all.length - tail);
    return {
      conversation: {
        id: asked,
        title: `Conversation ${asked}`,
        model: "gpt-4o-mini",
        updatedAt: 0,
        pinned: false,
        deletedAt: null,
      } as ConversationView["conversation"],
      settings: DEFAULT_CHAT_SETTINGS,
      messages: asked === id ? all.slice(earlierCount) : [],
      earlierCount: asked === id ? earlierCount : 0,
      costNanos: 0,
    };
  };
}

/** The wait before the earlier messages are read, and the reading. */
const settled = () => vi.advanceTimersByTimeAsync(EARLIER_AFTER_MS + 1);

beforeEach(() => {
  vi.clearAllMocks();
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("opening a long conversation", () => {
  it("shows its last messages first, then puts the earlier ones in front, in order", async () => {
    ipc.conversationGet.mockImplementation(engine(3, () => branch(500)));
    const chat = newChatState();
    const opening = chat.open(3);
    await opening;
    expect(ipc.conversationGet.mock.calls).toEqual([[3, OPEN_TAIL]]);
    expect(chat.messages.map((m) => m.id)).toEqual(
      branch(500)
        .slice(-OPEN_TAIL)
        .map((m) => m.id),
    );
    await settled();
    expect(ipc.conversationGet.mock.calls[1]).toEqual([3, null]);
    expect(chat.messages.map((m) => m.id)).toEqual(branch(500).map((m) => m.id));
    expect(chat.prepending).toBe(false);
  });

  it("a short one comes whole in one request", async () => {
    ipc.conversationGet.mockImplementation(engine(3, () => branch(12)));
    const chat = newChatState();
    await chat.open(3);
    await settled();
    expect(ipc.conversationGet).toHaveBeenCalledTimes(1);
    expect(chat.messages).toHaveLength(12);
  });

  it("from a search result, the whole branch at once (the message may be anywhere)", async () => {
    ipc.conversationGet.mockImplementation(engine(3, () => branch(500)));
    const chat = newChatState();
    await chat.open(3, 40);
    expect(ipc.conversationGet.mock.calls).toEqual([[3, null]]);
    expect(chat.messages).toHaveLength(500);
    expect(chat.focusMessageId).toBe(40);
  });

  it("earlier messages arriving after another conversation was opened are dropped", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const long = engine(3, () => branch(500));
    ipc.conversationGet.mockImplementation(async (id: number, tail: number | null) => {
      if (id === 3 && tail === null) await gate;
      return id === 3 ? long(id, tail) : engine(4, () => branch(2))(id, tail);
    });
    const chat = newChatState();
    await chat.open(3);
    await chat.open(4);
    release();
    await settled();
    expect(chat.currentId).toBe(4);
    expect(chat.messages.map((m) => m.id)).toEqual([1, 2]);
  });

  it("after a reply, only the last messages are read again, and the earlier ones stay", async () => {
    let messages = branch(500);
    ipc.conversationGet.mockImplementation(engine(3, () => messages));
    const chat = newChatState();
    await chat.open(3);
    await settled();
    expect(chat.messages).toHaveLength(500);
    ipc.conversationGet.mockClear();

    messages = [...branch(502, (id) => (id > 500 ? `new ${id}` : `message ${id}`))];
    await chat.reload();
    await settled();
    expect(ipc.conversationGet.mock.calls).toEqual([[3, OPEN_TAIL]]);
    expect(chat.messages).toHaveLength(502);
    expect(chat.messages[0].content).toBe("message 1");
    expect(chat.messages.at(-1)?.content).toBe("new 502");
  });

  it("a reload whose start is not on screen shows it, and fetches the rest again", async () => {
    ipc.conversationGet.mockImplementation(engine(3, () => branch(500)));
    const chat = newChatState();
    chat.currentId = 3;
    chat.messages = branch(10);
    await chat.reload();
    await settled();
    expect(chat.messages.map((m) => m.id)).toEqual(branch(500).map((m) => m.id));
  });
});
