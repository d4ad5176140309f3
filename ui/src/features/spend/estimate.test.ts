import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DraftEstimate, IpcError } from "../../lib/ipc";
import { newChatState } from "../chat/testing";
import Composer from "../chat/Composer.svelte";
import CostEstimate from "./CostEstimate.svelte";
import { longPromptText } from "./money";

const ipc = vi.hoisted(() => ({ costEstimate: vi.fn() }));
vi.mock("../../lib/ipc", () => ({ ipc, asIpcError: (e: unknown) => e as IpcError }));

const estimate = (overrides: Partial<DraftEstimate> = {}): DraftEstimate => ({
  model: "gpt-4o-mini",
  inputTokens: 9,
  toolsTokens: 0,
  contextWindow: 128_000,
  maxOutputTokens: 16_384,
  minCostNanos: 1_350,
  maxCostNanos: 9_831_750,
  unusual: false,
  longPrompt: null,
  webSearch: null,
  attachmentTokens: [],
  attachmentProblem: null,
  ...overrides,
});

beforeEach(() => vi.clearAllMocks());
afterEach(() => vi.useRealTimers());

describe("the pre-send estimate", () => {
  it("asks once typing pauses, and shows tokens and the cost range", async () => {
    vi.useFakeTimers();
    ipc.costEstimate.mockResolvedValue(estimate());
    const chat = newChatState();
    render(CostEstimate, { chat });
    for (const draft of ["h", "he", "hello", "hello world"]) {
      chat.draft = draft;
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(200);
    expect(ipc.costEstimate).toHaveBeenCalledOnce();
    expect(ipc.costEstimate).toHaveBeenCalledWith({ conversationId: null, text: "hello world" });
    expect(screen.getByTestId("cost-estimate").textContent?.trim()).toBe(
      "9 tokens to send · <$0.00001 to $0.00983",
    );
  });

  it("says when the message is longer than the model can read", async () => {
    ipc.costEstimate.mockResolvedValue(estimate({ inputTokens: 200_000 }));
    const chat = newChatState();
    chat.draft = "x";
    render(CostEstimate, { chat });
    await waitFor(() =>
      expect(screen.getByTestId("cost-estimate").textContent).toContain(
        "longer than gpt-4o-mini can read",
      ),
    );
  });
});

describe("a large paste", () => {
  const big = "lorem ipsum ".repeat(1_000);

  it("is held back with a warning when it would be unusually expensive", async () => {
    ipc.costEstimate.mockResolvedValue(
      estimate({ inputTokens: 250_000, minCostNanos: 625_000_000, unusual: true }),
    );
    const chat = newChatState();
    chat.draft = "Summarise: ";
    render(Composer, { chat, model: "gpt-4o-mini" });
    const input = screen.getByTestId("composer-input") as HTMLTextAreaElement;
    input.setSelectionRange(11, 11);
    await fireEvent.paste(input, { clipboardData: { getData: () => big } });
    const warning = await screen.findByTestId("paste-warning");
    expect(warning.textContent).toContain("about 250,000 tokens");
    expect(warning.textContent).toContain("at least $0.63");
    expect(chat.draft).toBe("Summarise: ");
    await fireEvent.click(screen.getByTestId("paste-anyway"));
    expect(chat.draft).toBe("Summarise: " + big);
  });

  it("goes in at once when it is ordinary, and can be refused", async () => {
    ipc.costEstimate.mockResolvedValueOnce(estimate());
    const chat = newChatState();
    render(Composer, { chat, model: "gpt-4o-mini" });
    const input = screen.getByTestId("composer-input");
    await fireEvent.paste(input, { clipboardData: { getData: () => big } });
    await waitFor(() => expect(chat.draft).toBe(big));

    chat.draft = "";
    ipc.costEstimate.mockResolvedValueOnce(estimate({ unusual: true }));
    await fireEvent.paste(input, { clipboardData: { getData: () => big } });
    await fireEvent.click(await screen.findByTestId("paste-cancel"));
    expect(chat.draft).toBe("");
    expect(screen.queryByTestId("paste-warning")).toBeNull();
  });
});

describe("the long-prompt jump", () => {
  const tier = (crossed: boolean) => ({
    overInputTokens: 272_000,
    inputPercent: 200,
    outputPercent: 150,
    crossed,
  });

  it.each([
    ["no tier", 250_000, null, null],
    ["far below the line", 200_000, tier(false), null],
    [
      "near the line",
      250_000,
      tier(false),
      "22,000 tokens more and the whole request costs twice as much for what is sent and 1.5 times as much for the reply.",
    ],
    [
      "past the line",
      272_001,
      tier(true),
      "Over 272,000 tokens, this message makes the whole request cost twice as much for what is sent and 1.5 times as much for the reply.",
    ],
  ])("%s", (_case, inputTokens, longPrompt, text) => {
    expect(longPromptText(estimate({ inputTokens, longPrompt }))).toBe(text);
  });

  it("is shown under the estimate before the message is sent", async () => {
    ipc.costEstimate.mockResolvedValue(
      estimate({
        model: "gpt-5.4",
        inputTokens: 300_000,
        contextWindow: 1_050_000,
        longPrompt: tier(true),
      }),
    );
    const chat = newChatState();
    render(CostEstimate, { chat });
    chat.draft = "a very long paste";
    const warning = await screen.findByTestId("long-prompt-warning");
    expect(warning.textContent).toContain("makes the whole request cost twice as much");
  });
});
