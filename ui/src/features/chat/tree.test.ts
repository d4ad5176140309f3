import { fireEvent, render, screen } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatEvent, IpcError, MessageView } from "../../lib/ipc";
import { message, newChatState } from "./testing";
import Message from "./Message.svelte";

const ipc = vi.hoisted(() => ({
  chatSend: vi.fn(),
  chatRetry: vi.fn(),
  conversationGet: vi.fn(),
  conversationList: vi.fn(async () => ({ pinned: [], recent: [], next: null })),
  conversationSwitch: vi.fn(),
  messageDelete: vi.fn(),
}));

vi.mock("../../lib/ipc", () => ({ ipc, asIpcError: (e: unknown) => e as IpcError }));

const conversation = [
  message(1, "user", "q1"),
  message(2, "assistant", "a1"),
  message(3, "user", "q2"),
  message(4, "assistant", "a2"),
];

function opened() {
  const chat = newChatState();
  chat.currentId = 7;
  chat.messages = conversation.map((m) => ({ ...m }));
  return chat;
}

function view(messages: MessageView[]) {
  return {
    conversation: { id: 7, title: "T", model: "m", updatedAt: 0, pinned: false, deletedAt: null },
    messages,
    earlierCount: 0,
    costNanos: 0,
  };
}

beforeEach(() => vi.clearAllMocks());

describe("the message tree in ChatState", () => {
  it("regenerating a reply mid-conversation drops what followed it on screen", async () => {
    const chat = opened();
    ipc.conversationGet.mockResolvedValue(view([]));
    ipc.chatRetry.mockImplementation(
      async (
        _c: number,
        messageId: number | null,
        _o: boolean,
        onEvent: (e: ChatEvent) => void,
      ) => {
        expect(messageId).toBe(2);
        onEvent({
          type: "started",
          userText: null,
          conversationId: 7,
          userMessageId: 1,
          assistantMessageId: 9,
          title: "T",
          droppedMessages: 0,
          thinksForMinutes: false,
          kind: "retry",
        });
        expect(chat.messages.map((m) => m.id)).toEqual([1, 9]);
      },
    );
    await chat.regenerate(2);
    expect(ipc.chatRetry).toHaveBeenCalled();
  });

  it("an edit replaces the message and what followed with the new branch", async () => {
    const chat = opened();
    chat.draft = "a draft the edit must not touch";
    ipc.conversationGet.mockResolvedValue(view([]));
    ipc.chatSend.mockImplementation(async (request, onEvent: (e: ChatEvent) => void) => {
      expect(request).toMatchObject({ conversationId: 7, text: "q2, better", editOf: 3 });
      onEvent({
        type: "started",
        userText: null,
        conversationId: 7,
        userMessageId: 10,
        assistantMessageId: 11,
        title: "T",
        droppedMessages: 0,
        thinksForMinutes: false,
        kind: "edit",
      });
      expect(chat.messages.map((m) => [m.id, m.content])).toEqual([
        [1, "q1"],
        [2, "a1"],
        [10, "q2, better"],
        [11, ""],
      ]);
      onEvent({ type: "delta", text: "new answer" });
    });
    await chat.edit(3, "  q2, better ");
    expect(chat.draft).toBe("a draft the edit must not touch");
  });

  it("switching versions and deleting show the conversation the engine returns", async () => {
    const chat = opened();
    const switched = [
      message(1, "user", "q1"),
      message(5, "assistant", "a1 again", { siblingIds: [2, 5] }),
    ];
    ipc.conversationSwitch.mockResolvedValue(view(switched));
    await chat.switchTo(5);
    expect(ipc.conversationSwitch).toHaveBeenCalledWith(7, 5);
    expect(chat.messages.map((m) => m.id)).toEqual([1, 5]);

    ipc.messageDelete.mockRejectedValue({
      code: "invalid_input",
      message: "A reply is still being written.",
    });
    await chat.deleteMessage(5);
    expect(chat.error?.message).toContain("still being written");
  });
});

describe("Message actions", () => {
  it("a reply's thinking is a folded part above it, rendered safely, and its API is marked", () => {
    render(Message, {
      message: message(2, "assistant", "Monday.", {
        endpoint: "responses",
        thinking: "**Checking** the dates <img src=x onerror=alert(1)>",
      }),
    });
    const thinking = screen.getByTestId("message-thinking") as HTMLDetailsElement;
    expect(thinking.open).toBe(false);
    expect(thinking.querySelector("strong")?.textContent).toBe("Checking");
    expect(thinking.querySelector("img[onerror]")).toBeNull();
    expect(screen.getByTestId("message").dataset.endpoint).toBe("responses");
  });

  it("a reply's sources are links the app opens safely; only web addresses link", () => {
    render(Message, {
      message: message(2, "assistant", "Tram 28 runs every 10 minutes.", {
        endpoint: "responses",
        citations: [
          { url: "https://www.carris.pt/", title: "Carris — Lisbon public transport" },
          { url: "javascript:alert(1)", title: "Not a page" },
        ],
      }),
    });
    const links = screen.getAllByTestId("message-citation") as HTMLAnchorElement[];
    expect(links.map((a) => a.textContent)).toEqual([
      "Carris — Lisbon public transport",
      "Not a page",
    ]);
    expect(links[0].getAttribute("href")).toBe("https://www.carris.pt/");
    expect(links[1].hasAttribute("href")).toBe(false);
  });

  it("a source listed twice (an old or hand-made file) is shown, not a broken page", () => {
    const source = { url: "https://example.org/", title: "Example" };
    render(Message, {
      message: message(2, "assistant", "Hi.", { citations: [source, source] }),
    });
    expect(screen.getAllByTestId("message-citation")).toHaveLength(2);
  });

  it("a reply's cost shows what it is made of: tokens, thinking and searches", () => {
    render(Message, {
      message: message(2, "assistant", "Hi.", {
        costNanos: 16_741_000,
        usage: {
          promptTokens: 8_412,
          cachedTokens: 1_000,
          completionTokens: 96,
          reasoningTokens: 64,
          webSearches: 1,
          estimated: false,
        },
      }),
    });
    expect(screen.getByTestId("message-cost").textContent).toBe(
      "Cost: $0.02 · 8,412 tokens in (1,000 cached) · 96 out, 64 of them thinking · 1 web search",
    );
  });

  it("a reply without thinking has no such part", () => {
    render(Message, { message: message(2, "assistant", "Hi.") });
    expect(screen.queryByTestId("message-thinking")).toBeNull();
    expect(screen.getByTestId("message").dataset.endpoint).toBe("chat");
  });

  it("the ‹ 2/3 › switcher moves between versions", async () => {
    const onSwitch = vi.fn();
    render(Message, {
      message: message(5, "assistant", "second", { siblingIds: [2, 5, 8] }),
      onSwitch,
    });
    expect(screen.getByTestId("sibling-position").textContent).toBe("2/3");
    await fireEvent.click(screen.getByTestId("sibling-prev"));
    await fireEvent.click(screen.getByTestId("sibling-next"));
    expect(onSwitch.mock.calls).toEqual([[2], [8]]);
  });

  it("the first and last versions cannot go further, and nothing changes while a reply streams", () => {
    render(Message, {
      message: message(2, "assistant", "first", { siblingIds: [2, 5] }),
      busy: true,
      onSwitch: () => {},
      onRegenerate: () => {},
      onDelete: () => {},
    });
    expect((screen.getByTestId("sibling-prev") as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId("sibling-next") as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId("message-regenerate") as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId("message-delete") as HTMLButtonElement).disabled).toBe(true);
  });

  it("editing: Enter sends the new text, Escape keeps the old", async () => {
    const onEdit = vi.fn();
    render(Message, { message: message(3, "user", "q2"), onEdit });
    await fireEvent.click(screen.getByTestId("message-edit"));
    const input = screen.getByTestId("message-edit-input") as HTMLTextAreaElement;
    expect(input.value).toBe("q2");
    await fireEvent.input(input, { target: { value: "q2, better" } });
    await fireEvent.keyDown(input, { key: "Escape" });
    expect(onEdit).not.toHaveBeenCalled();
    expect(screen.queryByTestId("message-edit-input")).toBeNull();

    await fireEvent.click(screen.getByTestId("message-edit"));
    const again = screen.getByTestId("message-edit-input");
    await fireEvent.input(again, { target: { value: "q2, better" } });
    await fireEvent.keyDown(again, { key: "Enter" });
    expect(onEdit).toHaveBeenCalledWith("q2, better");
  });

  it("delete asks first; copy puts the raw text on the clipboard", async () => {
    const onDelete = vi.fn();
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    render(Message, { message: message(4, "assistant", "**bold** answer"), onDelete });
    await fireEvent.click(screen.getByTestId("message-delete"));
    expect(onDelete).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId("message-delete-confirm"));
    expect(onDelete).toHaveBeenCalledTimes(1);

    await fireEvent.click(screen.getByTestId("message-copy"));
    expect(writeText).toHaveBeenCalledWith("**bold** answer");
    expect((await screen.findByText("Copied")).tagName).toBe("BUTTON");
  });
});
