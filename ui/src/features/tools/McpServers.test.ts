import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { IpcError, McpServerStateView, McpServerView } from "../../lib/ipc";
import McpServers from "./McpServers.svelte";

const ipc = vi.hoisted(() => ({
  mcpServerList: vi.fn(),
  mcpServerSave: vi.fn(),
  mcpServerRemove: vi.fn(),
  mcpServerSetEnabled: vi.fn(),
  mcpServerRestart: vi.fn(),
  mcpImportJson: vi.fn(),
}));
const changes = vi.hoisted(() => ({ handler: null as ((s: McpServerStateView) => void) | null }));

vi.mock("../../lib/ipc", () => ({
  ipc,
  notices: {
    onMcpServerChanged: vi.fn(async (handler: (s: McpServerStateView) => void) => {
      changes.handler = handler;
      return () => (changes.handler = null);
    }),
  },
  asIpcError: (e: unknown) => e as IpcError,
}));

function state(id: number, status: McpServerStateView["status"]): McpServerStateView {
  return { id, status, tools: [], error: null, stderr: [] };
}

function stdioServer(id: number, name: string, status: McpServerStateView["status"]) {
  return {
    id,
    name,
    transport: {
      kind: "stdio",
      command: "uvx",
      args: ["mcp-server-time"],
      env: {},
      cwd: null,
    },
    enabled: status !== "off",
    hasToken: false,
    state: state(id, status),
  } satisfies McpServerView;
}

const remote: McpServerView = {
  id: 2,
  name: "Remote",
  transport: { kind: "http", url: "https://mcp.example.com/mcp" },
  enabled: true,
  hasToken: true,
  state: state(2, "ready"),
};

beforeEach(() => {
  vi.clearAllMocks();
  // In name order, as the engine lists them.
  ipc.mcpServerList.mockResolvedValue([remote, stdioServer(1, "time", "starting")]);
});

/** The item of the server named `name`. */
function item(name: string): HTMLElement {
  const found = screen.getAllByTestId("mcp-server-item").find((i) => i.dataset.server === name);
  if (!found) throw new Error(`no server named ${name} is listed`);
  return found;
}

describe("MCP servers in Settings", () => {
  it("shows each server's state and follows its changes", async () => {
    render(McpServers);
    const items = await screen.findAllByTestId("mcp-server-item");
    expect(items.map((i) => i.dataset.status)).toEqual(["ready", "starting"]);
    expect(item("time").textContent).toContain("Starting…");
    expect(item("time").textContent).toContain("uvx mcp-server-time");

    changes.handler!({
      ...state(1, "ready"),
      tools: [
        {
          name: "get_current_time",
          title: null,
          description: "Now.",
          readOnly: true,
          destructive: false,
        },
        { name: "set_alarm", title: null, description: "", readOnly: false, destructive: true },
      ],
    });
    await waitFor(() => expect(item("time").dataset.status).toBe("ready"));
    expect(item("time").textContent).toContain("Ready · 2 tools");
    expect(item("time").textContent).toContain("only reads");
    expect(item("time").textContent).toContain("may change or delete");

    changes.handler!({
      ...state(1, "failed"),
      error: "The server stopped by itself.",
      stderr: ["Traceback (most recent call last):", "ValueError: no config"],
    });
    await waitFor(() => expect(item("time").dataset.status).toBe("failed"));
    expect(item("time").textContent).toContain("Failed: The server stopped by itself.");
    expect(within(item("time")).getByTestId("mcp-server-stderr").textContent).toContain(
      "ValueError: no config",
    );
  });

  it("keeps a change heard while the list or a save was on its way", async () => {
    // The server became ready after the engine read the list, before the list arrived.
    let answerList: (servers: McpServerView[]) => void = () => {};
    ipc.mcpServerList.mockReturnValue(new Promise((resolve) => (answerList = resolve)));
    render(McpServers);
    await waitFor(() => expect(changes.handler).not.toBeNull());
    changes.handler!(state(1, "ready"));
    answerList([remote, stdioServer(1, "time", "starting")]);
    await waitFor(() => expect(item("time").dataset.status).toBe("ready"));

    // A restart's answer ("starting") after its own events (starting, then ready).
    let answerRestart: (server: McpServerView) => void = () => {};
    ipc.mcpServerRestart.mockReturnValue(new Promise((resolve) => (answerRestart = resolve)));
    await fireEvent.click(within(item("time")).getByTestId("mcp-server-restart"));
    changes.handler!(state(1, "starting"));
    changes.handler!(state(1, "ready"));
    answerRestart(stdioServer(1, "time", "starting"));
    await waitFor(() => expect(ipc.mcpServerRestart).toHaveBeenCalledWith(1));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(item("time").dataset.status).toBe("ready");

    // Turned off, it is off whatever was heard before; turned on, it follows again.
    ipc.mcpServerSetEnabled.mockResolvedValueOnce(stdioServer(1, "time", "off"));
    await fireEvent.click(within(item("time")).getByTestId("mcp-server-enabled"));
    await waitFor(() => expect(item("time").dataset.status).toBe("off"));
    ipc.mcpServerSetEnabled.mockResolvedValueOnce(stdioServer(1, "time", "starting"));
    await fireEvent.click(within(item("time")).getByTestId("mcp-server-enabled"));
    await waitFor(() => expect(item("time").dataset.status).toBe("starting"));
  });

  it("adds a program with quoted arguments and its environment", async () => {
    ipc.mcpServerSave.mockResolvedValue(stdioServer(3, "files", "starting"));
    render(McpServers);
    await screen.findAllByTestId("mcp-server-item");
    await fireEvent.click(screen.getByTestId("mcp-server-add"));
    await fireEvent.input(screen.getByTestId("mcp-server-name-input"), {
      target: { value: "files" },
    });
    await fireEvent.input(screen.getByTestId("mcp-server-command-input"), {
      target: { value: "npx" },
    });
    const args = screen.getByTestId("mcp-server-args-input");
    await fireEvent.input(args, { target: { value: `-y server-filesystem "/home/ann/My Notes"` } });
    await fireEvent.input(screen.getByTestId("mcp-server-env-input"), {
      target: { value: "DEBUG=1" },
    });
    await fireEvent.click(screen.getByTestId("mcp-server-save"));
    expect(ipc.mcpServerSave).toHaveBeenCalledWith({
      id: undefined,
      name: "files",
      transport: {
        kind: "stdio",
        command: "npx",
        args: ["-y", "server-filesystem", "/home/ann/My Notes"],
        env: { DEBUG: "1" },
        cwd: null,
      },
      enabled: true,
      token: undefined,
    });
    await waitFor(() => expect(screen.queryByTestId("mcp-server-save")).toBeNull());
    expect(screen.getAllByTestId("mcp-server-item").map((i) => i.dataset.server)).toEqual([
      "files",
      "Remote",
      "time",
    ]);
  });

  it("keeps the form and says why when the arguments or the engine refuse it", async () => {
    render(McpServers);
    await screen.findAllByTestId("mcp-server-item");
    await fireEvent.click(screen.getByTestId("mcp-server-add"));
    await fireEvent.input(screen.getByTestId("mcp-server-command-input"), {
      target: { value: "npx" },
    });
    await fireEvent.input(screen.getByTestId("mcp-server-args-input"), {
      target: { value: `"unclosed` },
    });
    await fireEvent.click(screen.getByTestId("mcp-server-save"));
    expect(ipc.mcpServerSave).not.toHaveBeenCalled();
    expect(screen.getByRole("alert").textContent).toContain("double quote is not closed");

    await fireEvent.input(screen.getByTestId("mcp-server-args-input"), {
      target: { value: "ok" },
    });
    ipc.mcpServerSave.mockRejectedValue({
      code: "invalid_input",
      message: "Give the server a name.",
    });
    await fireEvent.click(screen.getByTestId("mcp-server-save"));
    await waitFor(() =>
      expect(screen.getByRole("alert").textContent).toContain("Give the server a name."),
    );
    expect((screen.getByTestId("mcp-server-args-input") as HTMLInputElement).value).toBe("ok");
  });

  it("keeps a remote server's saved token unless a new one is typed or it is forgotten", async () => {
    ipc.mcpServerSave.mockResolvedValue(remote);
    render(McpServers);
    await screen.findAllByTestId("mcp-server-item");
    await fireEvent.click(within(item("Remote")).getByTestId("mcp-server-edit"));
    expect((screen.getByTestId("mcp-server-url-input") as HTMLInputElement).value).toBe(
      "https://mcp.example.com/mcp",
    );
    await fireEvent.click(screen.getByTestId("mcp-server-save"));
    expect(ipc.mcpServerSave.mock.calls[0][0]).toMatchObject({ id: 2, token: undefined });
    await waitFor(() => expect(screen.queryByTestId("mcp-server-save")).toBeNull());

    await fireEvent.click(within(item("Remote")).getByTestId("mcp-server-edit"));
    await fireEvent.click(screen.getByLabelText("Forget the saved token"));
    await fireEvent.click(screen.getByTestId("mcp-server-save"));
    expect(ipc.mcpServerSave.mock.calls[1][0]).toMatchObject({ id: 2, token: "" });
  });

  it("imports a pasted list and says what it left out", async () => {
    ipc.mcpImportJson.mockResolvedValue({
      added: ["fetch"],
      skipped: [{ name: "old", reason: "It uses the older SSE transport." }],
      servers: [stdioServer(4, "fetch", "starting"), remote],
    });
    render(McpServers);
    await screen.findAllByTestId("mcp-server-item");
    await fireEvent.click(screen.getByTestId("mcp-import-open"));
    await fireEvent.input(screen.getByTestId("mcp-import-json"), {
      target: { value: '{"mcpServers": {}}' },
    });
    await fireEvent.click(screen.getByTestId("mcp-import-submit"));
    expect(ipc.mcpImportJson).toHaveBeenCalledWith('{"mcpServers": {}}');
    const report = await screen.findByTestId("mcp-import-report");
    expect(report.textContent).toContain("Added fetch.");
    expect(report.textContent).toContain("Left out old: It uses the older SSE transport.");
    expect(screen.getAllByTestId("mcp-server-item")).toHaveLength(2);
  });

  it("turns a server off and on, restarts and removes it", async () => {
    ipc.mcpServerSetEnabled.mockResolvedValue(stdioServer(1, "time", "off"));
    ipc.mcpServerRemove.mockResolvedValue([remote]);
    render(McpServers);
    await screen.findAllByTestId("mcp-server-item");
    await fireEvent.click(within(item("time")).getByTestId("mcp-server-enabled"));
    expect(ipc.mcpServerSetEnabled).toHaveBeenCalledWith(1, false);
    await waitFor(() => expect(item("time").dataset.status).toBe("off"));
    expect(within(item("time")).queryByTestId("mcp-server-restart")).toBeNull();
    // A change from the engine does not wake a server the user turned off.
    changes.handler!(state(1, "ready"));
    expect(item("time").dataset.status).toBe("off");
    await fireEvent.click(within(item("Remote")).getByTestId("mcp-server-restart"));
    expect(ipc.mcpServerRestart).toHaveBeenCalledWith(2);
    await fireEvent.click(within(item("time")).getByTestId("mcp-server-remove"));
    expect(ipc.mcpServerRemove).toHaveBeenCalledWith(1);
    await waitFor(() => expect(screen.getAllByTestId("mcp-server-item")).toHaveLength(1));
  });
});
