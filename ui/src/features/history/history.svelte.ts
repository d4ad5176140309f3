// The sidebar's conversations: pages loaded as the user scrolls, pins, renaming, and the
// Trash with Undo.
import { asIpcError, ipc } from "../../lib/ipc";
import type { ConversationCursor, ConversationSummary } from "../../lib/ipc";

/** Conversations loaded at a time; a refresh reloads as many as are shown (up to 500). */
const PAGE = 100;
const REFRESH_MAX = 500;
/** How long "Moved to Trash · Undo" stays on screen. */
export const UNDO_MS = 8000;

/**
 * What the sidebar needs of the open chat: which conversation is open, whether a reply is
 * being written, and opening, starting, renaming and trashing conversations through it
 * (so the open one is left first). The app hands in its `ChatState`.
 */
export interface OpenChat {
  readonly currentId: number | null;
  readonly streaming: boolean;
  open(id: number, focusMessageId?: number | null): Promise<void>;
  newChat(): void;
  rename(id: number, title: string): Promise<string | null>;
  moveToTrash(id: number): Promise<void>;
}

export class HistoryState {
  pinned = $state<ConversationSummary[]>([]);
  recent = $state<ConversationSummary[]>([]);
  next = $state<ConversationCursor | null>(null);
  loadingMore = $state(false);
  /** The last thing that went wrong, in plain words ("" when nothing did). */
  problem = $state("");
  /** The Trash when it is open in the sidebar, else `null`. */
  trash = $state<ConversationSummary[] | null>(null);
  /** The conversation just moved to the Trash, while Undo is offered. */
  undo = $state<ConversationSummary | null>(null);
  #undoTimer: ReturnType<typeof setTimeout> | null = null;

  /** (Re)loads the first page, keeping as many conversations as were shown. */
  async load() {
    await this.#attempt(async () => {
      const limit = Math.min(Math.max(PAGE, this.recent.length), REFRESH_MAX);
      const page = await ipc.conversationList({ limit });
      this.pinned = page.pinned;
      this.recent = page.recent;
      this.next = page.next;
    });
  }

  async loadMore() {
    const after = this.next;
    if (!after || this.loadingMore) return;
    this.loadingMore = true;
    try {
      await this.#attempt(async () => {
        const page = await ipc.conversationList({ after, limit: PAGE });
        // A refresh may have happened meanwhile; it decides where the list ends.
        if (this.next !== after) return;
        // A throwaway lookup, not state: nothing renders from it.
        // eslint-disable-next-line svelte/prefer-svelte-reactivity
        const shown = new Set(this.recent.map((c) => c.id));
        this.recent.push(...page.recent.filter((c) => !shown.has(c.id)));
        this.next = page.next;
      });
    } finally {
      this.loadingMore = false;
    }
  }

  find(id: number): ConversationSummary | undefined {
    return this.pinned.find((c) => c.id === id) ?? this.recent.find((c) => c.id === id);
  }

  /** A conversation just had activity: it goes to the top (pinned ones stay put). */
  touch(id: number, title: string, now = Date.now()) {
    const pinned = this.pinned.find((c) => c.id === id);
    if (pinned) {
      pinned.updatedAt = now;
      return;
    }
    const existing = this.recent.find((c) => c.id === id);
    this.recent = [
      existing
        ? { ...existing, updatedAt: now }
        : { id, title, model: "", updatedAt: now, pinned: false, deletedAt: null },
      ...this.recent.filter((c) => c.id !== id),
    ];
  }

  /** A conversation was titled elsewhere (by a model): show its new title. */
  retitled(id: number, title: string) {
    const shown = this.find(id);
    if (shown) this.#replace({ ...shown, title });
  }

  /** Renames; returns the problem in plain words, or `null` when it worked. */
  async rename(id: number, title: string): Promise<string | null> {
    try {
      const renamed = await ipc.conversationRename(id, title);
      this.#replace(renamed);
      return null;
    } catch (e) {
      return asIpcError(e).message;
    }
  }

  /** The titles `id` had that lost to a later rename on another computer, newest first
   * (none when they cannot be read: the menu then simply does not offer them). */
  async earlierTitles(id: number): Promise<string[]> {
    try {
      return await ipc.conversationTitleHistory(id);
    } catch {
      return [];
    }
  }

  async setPinned(id: number, pinned: boolean) {
    await this.#attempt(async () => {
      await ipc.conversationPin(id, pinned);
      await this.load();
    });
  }

  /** Moves a conversation to the Trash and offers Undo for a few seconds. */
  async moveToTrash(id: number) {
    await this.#attempt(async () => {
      const trashed = await ipc.conversationTrash(id);
      this.pinned = this.pinned.filter((c) => c.id !== id);
      this.recent = this.recent.filter((c) => c.id !== id);
      this.#offerUndo(trashed);
    });
  }

  async undoTrash() {
    const trashed = this.undo;
    this.#offerUndo(null);
    if (trashed) await this.restore(trashed.id);
  }

  dismissUndo() {
    this.#offerUndo(null);
  }

  async openTrash() {
    await this.#attempt(async () => {
      this.trash = await ipc.trashList();
    });
  }

  closeTrash() {
    this.trash = null;
  }

  async restore(id: number) {
    await this.#attempt(async () => {
      await ipc.conversationRestore(id);
      if (this.trash) this.trash = this.trash.filter((c) => c.id !== id);
      await this.load();
    });
  }

  async deleteForever(id: number) {
    await this.#attempt(async () => {
      this.trash = await ipc.trashDelete(id);
    });
  }

  async emptyTrash() {
    await this.#attempt(async () => {
      await ipc.trashEmpty();
      this.trash = [];
    });
  }

  #replace(updated: ConversationSummary) {
    for (const list of [this.pinned, this.recent]) {
      const at = list.findIndex((c) => c.id === updated.id);
      if (at >= 0) list[at] = updated;
    }
  }

  #offerUndo(conversation: ConversationSummary | null) {
    if (this.#undoTimer !== null) clearTimeout(this.#undoTimer);
    this.#undoTimer = null;
    this.undo = conversation;
    if (conversation) this.#undoTimer = setTimeout(() => (this.undo = null), UNDO_MS);
  }

  async #attempt(action: () => Promise<void>) {
    try {
      await action();
      this.problem = "";
    } catch (e) {
      this.problem = asIpcError(e).message;
    }
  }
}
