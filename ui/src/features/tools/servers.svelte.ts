// The MCP servers Settings shows: the list, kept up to date by the engine's
// `mcp_server_changed` events, and what the user does to it.
import { SvelteMap } from "svelte/reactivity";
import { asIpcError, ipc, notices } from "../../lib/ipc";
import type {
  McpImportView,
  McpServerInput,
  McpServerStateView,
  McpServerView,
} from "../../lib/ipc";

export class McpServersState {
  servers = $state<McpServerView[]>([]);
  /** The last action's failure, in the engine's words. */
  problem = $state("");
  #stopListening: (() => void) | null = null;
  /**
   * Each running server's last change as its event told it. An answer (the list, a save)
   * and an event travel apart, so an answer may arrive after a newer event: a server
   * that became ready while the list was read would stay "Starting…" for good. Events
   * come in order and every change sends one, so the last event heard is the truth.
   */
  #heard = new SvelteMap<number, McpServerStateView>();

  /** Reads the list and follows each server's changes until `close`. */
  async open(): Promise<void> {
    const stop = await notices.onMcpServerChanged((state) => this.changed(state));
    this.#stopListening = stop;
    await this.attempt(async () => {
      this.servers = this.#current(await ipc.mcpServerList());
    });
  }

  close(): void {
    this.#stopListening?.();
    this.#stopListening = null;
  }

  /** A server started, became ready, failed or stopped by itself. */
  changed(state: McpServerStateView): void {
    // Not for a server turned off here: it is off until turned on, which sends its own.
    const known = this.servers.find((server) => server.id === state.id);
    if (known?.enabled !== false) this.#heard.set(state.id, state);
    this.servers = this.servers.map((server) =>
      server.id === state.id && server.enabled ? { ...server, state } : server,
    );
  }

  async save(input: McpServerInput): Promise<boolean> {
    return this.attempt(async () => {
      const saved = await ipc.mcpServerSave(input);
      this.put(saved);
    });
  }

  async remove(id: number): Promise<boolean> {
    return this.attempt(async () => {
      this.servers = this.#current(await ipc.mcpServerRemove(id));
    });
  }

  async setEnabled(id: number, enabled: boolean): Promise<boolean> {
    return this.attempt(async () => this.put(await ipc.mcpServerSetEnabled(id, enabled)));
  }

  async restart(id: number): Promise<boolean> {
    return this.attempt(async () => this.put(await ipc.mcpServerRestart(id)));
  }

  async importJson(text: string): Promise<McpImportView | null> {
    let report: McpImportView | null = null;
    await this.attempt(async () => {
      report = await ipc.mcpImportJson(text);
      this.servers = this.#current(report.servers);
    });
    return report;
  }

  /** Adds or replaces one server, keeping the list in name order as the engine gives it. */
  private put(answered: McpServerView): void {
    const [server] = this.#current([answered]);
    const others = this.servers.filter((s) => s.id !== server.id);
    this.servers = [...others, server].sort((a, b) =>
      a.name.localeCompare(b.name, undefined, { sensitivity: "base" }),
    );
  }

  /** The engine's answer with what its events have told since (see `#heard`). */
  #current(answered: McpServerView[]): McpServerView[] {
    return answered.map((server) => {
      // A server turned off sends no event; one turned on again starts with one.
      if (!server.enabled) {
        this.#heard.delete(server.id);
        return server;
      }
      const heard = this.#heard.get(server.id);
      return heard ? { ...server, state: heard } : server;
    });
  }

  private async attempt(action: () => Promise<void>): Promise<boolean> {
    try {
      await action();
      this.problem = "";
      return true;
    } catch (e) {
      this.problem = asIpcError(e).message;
      return false;
    }
  }
}

/** What a server is doing, in words. */
export function statusText(server: McpServerView): string {
  const { state } = server;
  switch (state.status) {
    case "off":
      return "Off";
    case "starting":
      return "Starting…";
    case "ready":
      return `Ready · ${state.tools.length} ${state.tools.length === 1 ? "tool" : "tools"}`;
    case "failed":
      return `Failed: ${state.error ?? "it stopped."}`;
  }
}

/** How the server is reached, in one line. */
export function transportText(server: McpServerView): string {
  const { transport } = server;
  return transport.kind === "http"
    ? transport.url
    : [transport.command, ...transport.args].join(" ");
}
