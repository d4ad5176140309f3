import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConversationSummary, IpcError, TitleView } from "../../lib/ipc";
import { chatWithHistory } from "../chat/testing";
import { HistoryState } from "./history.svelte";
import Sidebar from "./Sidebar.svelte";

const HOUR = 3_600_000;

function conversation(id: number, title: string, extra: Partial<ConversationSummary> = {}) {
  return {
    id,
    title,
    model: "gpt-4o-mini",
    updatedAt: Date.now() - id * HOUR,
    pinned: false,
    deletedAt: null,
    ...extra,
  } satisfies ConversationSummary;
}

const ipc = vi.hoisted(() => ({
  conversationList: vi.fn(),
  conversationGet: vi.fn(),
  conversationSearch: vi.fn(),
  conversationRename: vi.fn(),
  conversationPin: vi.fn(),
  conversationTrash: vi.fn(),
  conversationRestore: vi.fn(),
  trashList: vi.fn(),
  trashDelete: vi.fn(),
  trashEmpty: vi.fn(),
}));

const titled = vi.hoisted(() => ({ handler: null as ((t: TitleView) => void) | null }));

vi.mock("../../lib/ipc", () => ({
  ipc,
  notices: {
    onConversationTitled: vi.fn(async (handler: (t: TitleView) => void) => {
      titled.handler = handler;
      return () => {};
    }),
  },
  asIpcError: (e: unknown) => e as IpcError,
}));

beforeEach(() => {
  vi.clearAllMocks();
  // Midday, so "an hour ago" is still today whenever the tests run (they failed after midnight).
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(2026, 5, 15, 12, 0));
  ipc.conversationList.mockResolvedValue({
    pinned: [conversation(9, "Pinned one", { pinned: true })],
    recent: [conversation(1, "Trip plan"), conversation(2, "Cake recipe")],
    next: null,
  });
  ipc.conversationGet.mockImplementation(async (id: number) => ({
    conversation: conversation(id, `Conversation ${id}`),
    messages: [],
    earlierCount: 0,
    costNanos: 0,
  }));
});

afterEach(() => vi.useRealTimers());

async function sidebar({ loaded = true } = {}) {
  const { chat, history } = chatWithHistory();
  render(Sidebar, {
    history,
    chat,
    onOpenSettings: () => {},
    onOpenUsage: () => {},
    onOpenHelp: () => {},
    onShowChat: () => {},
  });
  await history.load();
  if (loaded) await screen.findByText("Trip plan");
  return { chat, history };
}

function row(title: string) {
  return screen.getByText(title).closest("li") as HTMLElement;
}

describe("Sidebar", () => {
  it("shows pinned conversations first, then groups by day", async () => {
    await sidebar();
    const labels = screen.getAllByRole("heading", { level: 2 }).map((h) => h.textContent);
    expect(labels[0]).toBe("Pinned");
    expect(labels).toContain("Today");
    const items = screen.getAllByTestId("conversation-item").map((b) => b.textContent?.trim());
    expect(items[0]).toContain("Pinned one");
  });

  it("renames inline: Enter saves, a refused name keeps the editor open with the reason", async () => {
    const { history } = await sidebar();
    await fireEvent.click(within(row("Trip plan")).getByTestId("conversation-menu"));
    await fireEvent.click(screen.getByTestId("conversation-rename"));
    const input = screen.getByTestId("conversation-title-input") as HTMLInputElement;
    expect(input.value).toBe("Trip plan");

    ipc.conversationRename.mockRejectedValueOnce({
      code: "invalid_input",
      message: "Give the conversation a name, or press Escape to keep the old one.",
    });
    await fireEvent.input(input, { target: { value: " " } });
    await fireEvent.keyDown(input, { key: "Enter" });
    expect((await screen.findByRole("alert")).textContent).toContain(
      "Give the conversation a name",
    );

    ipc.conversationRename.mockResolvedValueOnce(conversation(1, "Kyoto in spring"));
    await fireEvent.input(input, { target: { value: "Kyoto in spring" } });
    await fireEvent.keyDown(input, { key: "Enter" });
    await screen.findByText("Kyoto in spring");
    expect(ipc.conversationRename).toHaveBeenLastCalledWith(1, "Kyoto in spring");
    expect(history.find(1)?.title).toBe("Kyoto in spring");
  });

  it("Escape leaves a rename without saving", async () => {
    await sidebar();
    await fireEvent.click(within(row("Trip plan")).getByTestId("conversation-menu"));
    await fireEvent.click(screen.getByTestId("conversation-rename"));
    const input = screen.getByTestId("conversation-title-input");
    await fireEvent.input(input, { target: { value: "Something else" } });
    await fireEvent.keyDown(input, { key: "Escape" });
    expect(screen.queryByTestId("conversation-title-input")).toBeNull();
    expect(ipc.conversationRename).not.toHaveBeenCalled();
  });

  it("moves to the Trash with Undo, and leaves the open conversation", async () => {
    const { chat } = await sidebar();
    await chat.open(1);
    ipc.conversationTrash.mockResolvedValue(
      conversation(1, "Trip plan", { deletedAt: Date.now() }),
    );
    ipc.conversationRestore.mockResolvedValue(conversation(1, "Trip plan"));
    await fireEvent.click(within(row("Trip plan")).getByTestId("conversation-menu"));
    await fireEvent.click(screen.getByTestId("conversation-delete"));

    const toast = await screen.findByTestId("undo-toast");
    expect(toast.textContent).toContain("“Trip plan” moved to Trash.");
    expect(chat.currentId).toBeNull();
    expect(screen.queryByText("Trip plan", { selector: "button" })).toBeNull();

    await fireEvent.click(screen.getByTestId("undo-button"));
    await waitFor(() => expect(ipc.conversationRestore).toHaveBeenCalledWith(1));
    expect(ipc.conversationList).toHaveBeenCalledTimes(2);
    await waitFor(() => expect(screen.queryByTestId("undo-toast")).toBeNull());
  });

  it("the Undo offer goes away after a few seconds", async () => {
    // All timers this time, not only the clock the other tests fake.
    vi.useRealTimers();
    vi.useFakeTimers();
    const history = new HistoryState();
    ipc.conversationTrash.mockResolvedValue(conversation(2, "Cake recipe"));
    await history.moveToTrash(2);
    expect(history.undo?.title).toBe("Cake recipe");
    vi.advanceTimersByTime(8001);
    expect(history.undo).toBeNull();
  });

  it("the Trash restores, deletes for good, and empties after a confirmation", async () => {
    await sidebar();
    ipc.trashList.mockResolvedValue([
      conversation(3, "Old idea", { deletedAt: Date.now() - 2 * 86_400_000 }),
      conversation(4, "Older idea", { deletedAt: Date.now() - 29.5 * 86_400_000 }),
    ]);
    await fireEvent.click(screen.getByTestId("trash-button"));
    const view = await screen.findByTestId("trash-view");
    expect(within(view).getAllByTestId("trash-item")).toHaveLength(2);
    expect(view.textContent).toContain("Deleted for good in 28 days");
    expect(view.textContent).toContain("Deleted for good within a day");

    ipc.conversationRestore.mockResolvedValue(conversation(3, "Old idea"));
    await fireEvent.click(within(row("Old idea")).getByTestId("trash-restore"));
    await waitFor(() => expect(within(view).getAllByTestId("trash-item")).toHaveLength(1));

    ipc.trashEmpty.mockResolvedValue(1);
    await fireEvent.click(screen.getByTestId("trash-empty"));
    expect(ipc.trashEmpty).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId("trash-empty-confirm"));
    await screen.findByText("The Trash is empty.");
    expect(ipc.trashEmpty).toHaveBeenCalledTimes(1);

    await fireEvent.click(screen.getByTestId("trash-close"));
    expect(screen.queryByTestId("trash-view")).toBeNull();
  });

  it("pages: loads more after the last one, without duplicates", async () => {
    const history = new HistoryState();
    ipc.conversationList
      .mockResolvedValueOnce({
        pinned: [],
        recent: [conversation(1, "a"), conversation(2, "b")],
        next: { updatedAt: 5, id: 2 },
      })
      .mockResolvedValueOnce({
        pinned: [],
        recent: [conversation(2, "b"), conversation(3, "c")],
        next: null,
      });
    await history.load();
    await history.loadMore();
    expect(ipc.conversationList).toHaveBeenLastCalledWith({
      after: { updatedAt: 5, id: 2 },
      limit: 100,
    });
    expect(history.recent.map((c) => c.title)).toEqual(["a", "b", "c"]);
    expect(history.next).toBeNull();
    await history.loadMore();
    expect(ipc.conversationList).toHaveBeenCalledTimes(2);
  });

  it("a title written by a model replaces the first words, in the list and the header", async () => {
    const { chat } = await sidebar();
    await chat.open(1);
    await chat.follow();
    titled.handler?.({ conversationId: 1, title: "Kyoto in spring" });
    await screen.findByText("Kyoto in spring");
    expect(chat.title).toBe("Kyoto in spring");
    titled.handler?.({ conversationId: 2, title: "Lemon cake" });
    await screen.findByText("Lemon cake");
    expect(chat.title).toBe("Kyoto in spring");
  });

  it("says what went wrong when the list cannot be read", async () => {
    ipc.conversationList.mockRejectedValueOnce({
      code: "storage",
      message: "Tally could not read your conversations.",
    });
    await sidebar({ loaded: false });
    expect((await screen.findByRole("alert")).textContent).toContain("could not read");
  });
});
