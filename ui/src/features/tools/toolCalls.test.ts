import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { IpcError, McpServerView, ToolCallView } from "../../lib/ipc";
import Message from "../chat/Message.svelte";
import { message, newChatState, startedEvent } from "../chat/testing";
import ToolsButton from "./ToolsButton.svelte";
import { toolCall } from "./testing";

const ipc = vi.hoisted(() => ({
  toolCallDecide: vi.fn(async () => undefined),
  mcpServerList: vi.fn(),
  conversationList: vi.fn(async () => ({ pinned: [], recent: [], next: null })),
  conversationGet: vi.fn(),
}));

vi.mock("../../lib/ipc", () => ({
  ipc,
  notices: { onMcpServerChanged: vi.fn(async () => () => {}) },
  asIpcError: (e: unknown) => e as IpcError,
}));

/** A pending call of `get_current_time` in Oslo, read-only as its server says. */
function call(over: Partial<ToolCallView> = {}): ToolCallView {
  return toolCall({
    arguments: '{"timezone":"Europe/Oslo"}',
    readOnly: true,
    destructive: false,
    ...over,
  });
}

beforeEach(() => vi.clearAllMocks());

describe("tool calls in a reply", () => {
  it("the chat keeps each call as it changes and asks the engine for the user's word", async () => {
    const chat = newChatState();
    chat.apply(startedEvent());
    chat.apply({ type: "toolCall", call: call() });
    chat.apply({ type: "toolApproval", callId: "call_1", atMost: 12_000_000 });
    expect(chat.approval).toEqual({ callId: "call_1", atMost: 12_000_000 });
    expect(chat.messages[1].toolCalls.map((c) => c.status)).toEqual(["pending"]);

    await chat.decide("always_here");
    expect(ipc.toolCallDecide).toHaveBeenCalledWith(7, "call_1", "always_here");
    expect(chat.approval).toBeNull();

    chat.apply({ type: "toolCall", call: call({ status: "running" }) });
    chat.apply({
      type: "toolCall",
      call: call({ status: "done", result: "12:00", durationMs: 300 }),
    });
    expect(chat.messages[1].toolCalls).toHaveLength(1);
    expect(chat.messages[1].toolCalls[0].result).toBe("12:00");
  });

  it("an approval shows the tool, its arguments in words, its hint and the cost at most", async () => {
    const onDecide = vi.fn();
    render(Message, {
      message: message(2, "assistant", "", { status: "streaming", toolCalls: [call()] }),
      approval: { callId: "call_1", atMost: 12_000_000 },
      onDecide,
    });
    const approval = screen.getByTestId("tool-approval");
    expect(approval.textContent).toContain("get_current_time");
    expect(approval.textContent).toContain("timezone");
    expect(approval.textContent).toContain("Europe/Oslo");
    expect(approval.textContent).not.toContain("{");
    expect(approval.textContent).toContain("only reads");
    expect(screen.getByTestId("tool-approval-cost").textContent).toContain("at most $0.01.");
    await fireEvent.click(screen.getByTestId("tool-deny"));
    expect(onDecide).toHaveBeenCalledWith("deny");
  });

  it("a finished call is folded to a line and opens to its arguments and result", () => {
    render(Message, {
      message: message(2, "assistant", "It is noon.", {
        toolCalls: [call({ status: "done", result: "12:00 in Oslo", durationMs: 420 })],
      }),
    });
    const shown = screen.getByTestId("tool-call");
    expect(shown.dataset.status).toBe("done");
    expect(shown.hasAttribute("open")).toBe(false);
    expect(within(shown).getByTestId("tool-call-status").textContent).toBe("Done");
    expect(shown.textContent).toContain("0.4 s");
    expect(within(shown).getByTestId("tool-call-result").textContent).toBe("12:00 in Oslo");
    expect(screen.queryByTestId("tool-approval")).toBeNull();
  });
});

describe("choosing a chat's tools", () => {
  it("lists the ready servers' tools and hands back the new choice", async () => {
    const server: McpServerView = {
      id: 1,
      name: "time",
      transport: { kind: "stdio", command: "uvx", args: [], env: {}, cwd: null },
      enabled: true,
      hasToken: false,
      state: {
        id: 1,
        status: "ready",
        tools: [
          {
            name: "get_current_time",
            title: null,
            description: "Now",
            readOnly: true,
            destructive: false,
          },
          {
            name: "convert_time",
            title: null,
            description: "",
            readOnly: true,
            destructive: false,
          },
        ],
        error: null,
        stderr: [],
      },
    };
    ipc.mcpServerList.mockResolvedValue([server]);
    const onChange = vi.fn(async () => null);
    render(ToolsButton, { tools: [{ server: "time", tool: "convert_time" }], onChange });
    const button = screen.getByTestId("tools-button");
    expect(button.textContent?.trim()).toBe("Tools (1)");
    await fireEvent.click(button);
    await waitFor(() => expect(screen.getAllByTestId("tool-toggle")).toHaveLength(2));
    const [now, convert] = screen.getAllByTestId("tool-toggle") as HTMLInputElement[];
    expect([now.checked, convert.checked]).toEqual([false, true]);
    await fireEvent.click(now);
    expect(onChange).toHaveBeenCalledWith([
      { server: "time", tool: "convert_time" },
      { server: "time", tool: "get_current_time" },
    ]);
  });
});
