// Sync as Settings shows it: where, the status line, and what the person does to it. The
// engine's `sync_changed` notices keep it current; one that brought something from another
// computer tells the window to read its lists again.
import { asIpcError, ipc, notices } from "../../lib/ipc";
import type { SyncLocationInput, SyncView } from "../../lib/ipc";

export type SyncKind = SyncLocationInput["kind"];

export class SyncState {
  view = $state<SyncView | null>(null);
  /** An action under way: enabling checks the passphrase, which takes a moment. */
  working = $state(false);
  /** The last action's failure, in the engine's words (the status line has the sync's). */
  problem = $state("");
  /** The end of the last sync whose arrivals were read. */
  #handled: number | null = null;

  /** Follows the engine's notices until the returned function is called; `onReceived`
   * runs after a sync that brought conversations, messages, spending or changes. */
  follow(onReceived: () => void): Promise<() => void> {
    return notices.onSyncChanged((view) => {
      this.view = view;
      // Each sync's end once (its time tells them apart), whoever started it.
      const ended = view.status !== "syncing" && view.lastSyncAt !== null;
      if (ended && view.received > 0 && view.lastSyncAt !== this.#handled) {
        this.#handled = view.lastSyncAt;
        onReceived();
      }
    });
  }

  async load(): Promise<void> {
    await this.#attempt(async () => {
      this.view = await ipc.syncGet();
    });
  }

  async enable(location: SyncLocationInput, passphrase: string): Promise<boolean> {
    return this.#attempt(async () => {
      this.view = await ipc.syncEnable({ location, passphrase });
    });
  }

  async disable(): Promise<boolean> {
    return this.#attempt(async () => {
      this.view = await ipc.syncDisable();
    });
  }

  async syncNow(): Promise<boolean> {
    return this.#attempt(async () => {
      this.view = await ipc.syncNow();
    });
  }

  async #attempt(action: () => Promise<void>): Promise<boolean> {
    this.working = true;
    this.problem = "";
    try {
      await action();
      return true;
    } catch (e) {
      this.problem = asIpcError(e).message;
      // The status line says how the failed sync ended.
      this.view = await ipc.syncGet().catch(() => this.view);
      return false;
    } finally {
      this.working = false;
    }
  }
}

/** The status line's words for `view`. */
export function statusWords(view: SyncView, now: number): string {
  switch (view.status) {
    case "off":
      return "Sync is off.";
    case "syncing":
      return "Syncing…";
    case "error":
      return `The last sync failed: ${view.problem ?? "no reason was given"}`;
    case "idle": {
      const when = view.lastSyncAt === null ? "" : `Last synced ${ago(view.lastSyncAt, now)}. `;
      return `${when}${view.lastResult ?? ""}`.trim();
    }
  }
}

/** How long ago `at` was, in words. */
export function ago(at: number, now: number): string {
  const minutes = Math.floor(Math.max(0, now - at) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes === 1) return "a minute ago";
  if (minutes < 60) return `${minutes} minutes ago`;
  const hours = Math.floor(minutes / 60);
  if (hours === 1) return "an hour ago";
  if (hours < 24) return `${hours} hours ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? "yesterday" : `${days} days ago`;
}
