import { render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { DraftEstimate, IpcError } from "../../lib/ipc";
import { newChatState } from "./testing";
import ContextMeter from "./ContextMeter.svelte";

const ipc = vi.hoisted(() => ({ costEstimate: vi.fn() }));
vi.mock("../../lib/ipc", () => ({ ipc, asIpcError: (e: unknown) => e as IpcError }));

function estimate(inputTokens: number, contextWindow: number | null): DraftEstimate {
  return {
    model: "gpt-4o-mini",
    inputTokens,
    toolsTokens: 0,
    contextWindow,
    maxOutputTokens: 16_384,
    minCostNanos: 1,
    maxCostNanos: 2,
    unusual: false,
    longPrompt: null,
    webSearch: null,
    attachmentTokens: [],
    attachmentProblem: null,
  };
}

function chatIn(conversationId: number | null) {
  const chat = newChatState();
  chat.currentId = conversationId;
  return chat;
}

beforeEach(() => vi.clearAllMocks());

describe("the header's context meter", () => {
  it.each([
    [12_345, "calm", "12.3k / 128k tokens"],
    [110_000, "high", "110k / 128k tokens"],
    [131_000, "over", "131k / 128k tokens"],
  ])("%s tokens of 128k: %s", async (tokens, level, shown) => {
    ipc.costEstimate.mockResolvedValue(estimate(tokens, 128_000));
    render(ContextMeter, { chat: chatIn(7) });
    const meter = await screen.findByTestId("context-meter");
    expect(meter.textContent?.trim()).toBe(shown);
    expect(meter.dataset.level).toBe(level);
    expect(ipc.costEstimate).toHaveBeenCalledWith({ conversationId: 7, text: "" });
  });

  it("is absent in a new chat, and for a model of unknown window", async () => {
    ipc.costEstimate.mockResolvedValue(estimate(500, null));
    render(ContextMeter, { chat: chatIn(null) });
    render(ContextMeter, { chat: chatIn(3) });
    await waitFor(() => expect(ipc.costEstimate).toHaveBeenCalledTimes(1));
    expect(screen.queryByTestId("context-meter")).toBeNull();
  });

  it("is counted again when a reply has ended, not while it streams", async () => {
    ipc.costEstimate.mockResolvedValue(estimate(1_000, 128_000));
    const chat = chatIn(7);
    render(ContextMeter, { chat });
    await waitFor(() => expect(ipc.costEstimate).toHaveBeenCalledTimes(1));
    chat.streaming = true;
    await Promise.resolve();
    expect(ipc.costEstimate).toHaveBeenCalledTimes(1);
    ipc.costEstimate.mockResolvedValue(estimate(2_000, 128_000));
    chat.streaming = false;
    await waitFor(() => expect(screen.getByTestId("context-meter").textContent).toContain("2k"));
  });

  it("never shows one conversation's count on another", async () => {
    ipc.costEstimate.mockResolvedValue(estimate(50_000, 128_000));
    const chat = chatIn(7);
    render(ContextMeter, { chat });
    await screen.findByTestId("context-meter");
    ipc.costEstimate.mockResolvedValue(estimate(900, 128_000));
    chat.currentId = 8;
    await Promise.resolve();
    expect(screen.queryByTestId("context-meter")).toBeNull();
    await waitFor(() => expect(screen.getByTestId("context-meter").textContent).toContain("900"));
    expect(ipc.costEstimate).toHaveBeenLastCalledWith({ conversationId: 8, text: "" });
  });
});
