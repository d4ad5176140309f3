import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { IpcError } from "../../lib/ipc";
import { NO_USAGE, newChatState, startedEvent } from "../chat/testing";
import PricePrompt from "./PricePrompt.svelte";

const ipc = vi.hoisted(() => ({
  priceSet: vi.fn(),
  conversationGet: vi.fn(),
  conversationList: vi.fn(async () => ({ pinned: [], recent: [], next: null })),
}));
vi.mock("../../lib/ipc", () => ({ ipc, asIpcError: (e: unknown) => e as IpcError }));

beforeEach(() => vi.clearAllMocks());

describe("the price of a model Tally does not know, asked in the chat", () => {
  it("is saved with the limits a model priced by hand starts with", async () => {
    const onDone = vi.fn();
    ipc.priceSet.mockResolvedValue({});
    render(PricePrompt, { model: "tomorrows-model", onDone });
    expect(screen.getByTestId("price-prompt").textContent).toContain("tomorrows-model");
    await fireEvent.input(screen.getByTestId("price-prompt-input"), { target: { value: "2" } });
    await fireEvent.input(screen.getByTestId("price-prompt-output"), { target: { value: "8" } });
    await fireEvent.click(screen.getByTestId("price-prompt-save"));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(ipc.priceSet).toHaveBeenCalledWith({
      model: "tomorrows-model",
      input: "2",
      cachedInput: "",
      output: "8",
      contextWindow: 128_000,
      maxOutput: 16_384,
    });
  });

  it("a price the engine refuses is explained and the question stays", async () => {
    const onDone = vi.fn();
    ipc.priceSet.mockRejectedValue({ code: "invalid_input", message: "“eight” is not an amount" });
    render(PricePrompt, { model: "m", onDone });
    await fireEvent.input(screen.getByTestId("price-prompt-input"), { target: { value: "1" } });
    await fireEvent.input(screen.getByTestId("price-prompt-output"), {
      target: { value: "eight" },
    });
    await fireEvent.click(screen.getByTestId("price-prompt-save"));
    expect((await screen.findByRole("alert")).textContent).toContain("not an amount");
    expect(onDone).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId("price-prompt-dismiss"));
    expect(onDone).toHaveBeenCalled();
  });

  it("is asked when the engine says so, and goes once answered or when another chat opens", async () => {
    const chat = newChatState();
    chat.draft = "hi";
    chat.apply(startedEvent({ title: "hi" }));
    chat.apply({
      type: "done",
      status: "complete",
      finishReason: "stop",
      cost: null,
      estimated: false,
      endpoint: "chat",
      usage: NO_USAGE,
      askPriceOf: "tomorrows-model",
    });
    expect(chat.priceAsk).toBe("tomorrows-model");
    expect(chat.messages[1].priceUnknown).toBe(true);
    ipc.conversationGet.mockRejectedValue({ code: "not_found", message: "gone" });
    await chat.priceAnswered();
    expect(chat.priceAsk).toBeNull();
    chat.priceAsk = "again";
    chat.newChat();
    expect(chat.priceAsk).toBeNull();
  });
});
