// The chat screen's state: the open conversation, its messages, the reply being written.
import { tick } from "svelte";
import { asIpcError, ipc, notices } from "../../lib/ipc";
import { DraftAttachments } from "./attachments.svelte";
import type {
  ChatEvent,
  ConversationSettings,
  ConversationView,
  IpcError,
  MessageView,
  ReplyUsage,
  ToolDecision,
  ToolRef,
} from "../../lib/ipc";

/**
 * How many of a conversation's last messages are fetched first: more than the tallest
 * window shows, so that a long conversation is drawn at once; the rest come right after.
 */
export const OPEN_TAIL = 60;
/** How long the end of a conversation has to itself on screen before the rest is read. */
export const EARLIER_AFTER_MS = 200;

/** The performance mark of the moment a reply's first text reached the page. */
export const FIRST_TEXT_MARK = "tally:reply-first-text";

/**
 * The list of conversations the chat keeps in step with what happens here (the sidebar's:
 * `HistoryState` is one). The app hands it in; the chat feature does not own it.
 */
export interface ConversationList {
  load(): Promise<void>;
  find(id: number): { title: string } | undefined;
  /** A conversation was written to now (it moves to the top). */
  touch(id: number, title: string, now?: number): void;
  /** A model gave a conversation its title. */
  retitled(id: number, title: string): void;
  /** Renames a conversation; returns the problem in plain words, or `null`. */
  rename(id: number, title: string): Promise<string | null>;
  moveToTrash(id: number): Promise<void>;
}

export class ChatState {
  /** The conversations kept in step with what is sent here. */
  readonly #conversations: ConversationList;

  constructor(conversations: ConversationList) {
    this.#conversations = conversations;
  }

  currentId = $state<number | null>(null);
  /** The open conversation's title ("New chat" before the first message). */
  title = $state("New chat");
  /** What the open conversation is sent with. */
  settings = $state<ConversationSettings | null>(null);
  /** Chosen for the next new chat; the defaults from Settings when `null`. */
  pendingSettings = $state<ConversationSettings | null>(null);
  messages = $state<MessageView[]>([]);
  draft = $state("");
  /** The files the draft carries. */
  readonly attachments = new DraftAttachments();
  streaming = $state(false);
  error = $state<IpcError | null>(null);
  /** A wait before another attempt, for "Retrying in 2 s…". */
  retry = $state<{ attempt: number; reason: string; until: number } | null>(null);
  /** The model is searching the web (for this query, when it said). */
  searching = $state<{ query: string | null } | null>(null);
  /** A model whose price Tally asks for under the last reply (once per model). */
  priceAsk = $state<string | null>(null);
  /** The reply's model may think for minutes (a pro model), and no text has come yet. */
  thinksForMinutes = $state(false);
  /** A tool call the reply waits on, and what the next round can cost at most. */
  approval = $state<{ callId: string; atMost: number | null } | null>(null);

  /** The tools a new chat will offer, when chosen for it (else its defaults'). */
  get newChatTools(): ToolRef[] | undefined {
    return this.currentId === null ? this.pendingSettings?.options.tools : undefined;
  }

  /** The model chosen for the next new chat (else the default), or the open one's: the
   * estimate is asked again when it changes. */
  get draftModel(): string | undefined {
    return this.currentId === null ? this.pendingSettings?.model : this.settings?.model;
  }

  get longThinking(): boolean {
    const reply = this.reply();
    return this.thinksForMinutes && reply?.status === "streaming" && reply.content === "";
  }
  /** A send the budget's hard stop refused; `again` repeats it (past the stop, or not). */
  blocked = $state<{ message: string; again: (overBudget: boolean) => Promise<void> } | null>(null);
  /** Older messages the last request left out to fit the model's context window. */
  droppedMessages = $state(0);
  /** What the open conversation has cost so far (nano-USD). */
  costNanos = $state(0);
  /** What screen readers are told politely: a reply once it has ended. */
  announcement = $state("");
  /** A message to scroll to once the conversation is on screen (from a search). */
  focusMessageId = $state<number | null>(null);
  /** Earlier messages are being put in front of those on screen (the list keeps its place). */
  prepending = $state(false);

  /** Text received but not yet shown: applied at most once per animation frame. */
  #pending = "";
  #frame: number | null = null;
  /** The user message an edit replaces, and its new text, while the edit is sent. */
  #editing: { id: number; text: string } | null = null;

  canSend = $derived(
    (this.draft.trim().length > 0 || this.attachments.list.length > 0) &&
      this.attachments.pending === 0 &&
      !this.streaming,
  );

  /** Follows titles written by a model; returns a function that stops following. */
  async follow(): Promise<() => void> {
    return notices.onConversationTitled(({ conversationId, title }) => {
      this.#conversations.retitled(conversationId, title);
      if (this.currentId === conversationId) this.title = title;
    });
  }

  async open(id: number, focusMessageId: number | null = null) {
    if (this.streaming) return;
    try {
      // From a search result the message sought may be anywhere: then the whole branch.
      const view = await ipc.conversationGet(id, focusMessageId === null ? OPEN_TAIL : null);
      this.currentId = id;
      this.droppedMessages = 0;
      this.priceAsk = null;
      this.title = view.conversation.title;
      this.settings = view.settings;
      this.messages = [];
      this.#showBranch(id, view);
      this.costNanos = view.costNanos;
      this.focusMessageId = focusMessageId;
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  newChat() {
    if (this.streaming) return;
    this.currentId = null;
    this.title = "New chat";
    this.settings = null;
    this.droppedMessages = 0;
    this.priceAsk = null;
    this.messages = [];
    this.costNanos = 0;
    this.error = null;
  }

  /** Moves a conversation to the Trash, leaving it first if it is open. */
  async moveToTrash(id: number) {
    if (this.streaming && id === this.currentId) return;
    if (id === this.currentId) this.newChat();
    await this.#conversations.moveToTrash(id);
  }

  /** Renames a conversation; returns the problem in plain words, or `null`. */
  async rename(id: number, title: string): Promise<string | null> {
    const problem = await this.#conversations.rename(id, title);
    if (problem === null && id === this.currentId) {
      this.title = this.#conversations.find(id)?.title ?? this.title;
    }
    return problem;
  }

  /** Sends the composer's text; `overBudget` lets it past the budget's hard stop. */
  async send(overBudget = false) {
    const text = this.draft.trim();
    const attachments = this.attachments.refs;
    if ((!text && attachments.length === 0) || this.streaming) return;
    const conversationId = this.currentId;
    // A new chat goes with the settings chosen for it, if any.
    const settings = conversationId === null ? (this.pendingSettings ?? undefined) : undefined;
    await this.#stream(
      (onEvent) =>
        ipc.chatSend(
          {
            conversationId,
            text,
            settings,
            allowOverBudget: overBudget || undefined,
            attachments: attachments.length > 0 ? attachments : undefined,
          },
          onEvent,
        ),
      (again) => this.send(again),
    );
  }

  /** A new answer to the last message (after a failure, or to try again). */
  async retryLast(overBudget = false) {
    await this.regenerate(null, overBudget);
  }

  /** A new answer in place of reply `messageId` (the last when `null`); the old one stays
   * as a sibling, reachable with the ‹ › switcher. */
  async regenerate(messageId: number | null, overBudget = false) {
    const id = this.currentId;
    if (id === null || this.streaming) return;
    await this.#stream(
      (onEvent) => ipc.chatRetry(id, messageId, overBudget, onEvent),
      (again) => this.regenerate(messageId, again),
    );
  }

  /** Sends `text` in place of user message `messageId`: a new branch beside the old. */
  async edit(messageId: number, text: string, overBudget = false) {
    const conversationId = this.currentId;
    const clean = text.trim();
    if (conversationId === null || !clean || this.streaming) return;
    this.#editing = { id: messageId, text: clean };
    await this.#stream(
      (onEvent) =>
        ipc.chatSend(
          {
            conversationId,
            text: clean,
            editOf: messageId,
            allowOverBudget: overBudget || undefined,
          },
          onEvent,
        ),
      (again) => this.edit(messageId, clean, again),
    );
  }

  /** Changes what the open conversation is sent with, or (before its first message)
   * what the new chat will start with. Returns the problem in plain words, or `null`. */
  async saveSettings(settings: ConversationSettings): Promise<string | null> {
    const id = this.currentId;
    if (id === null) {
      try {
        // Checked now (a pasted schema too), so a problem is said here, not at Send.
        this.pendingSettings = await ipc.conversationSettingsCheck(settings);
        return null;
      } catch (e) {
        return asIpcError(e).message;
      }
    }
    try {
      const view = await ipc.conversationSettingsSet(id, settings);
      if (this.currentId === id) this.settings = view.settings;
      return null;
    } catch (e) {
      return asIpcError(e).message;
    }
  }

  /** Shows another version of a message (a sibling) and the branch below it. */
  async switchTo(messageId: number) {
    const id = this.currentId;
    if (id === null || this.streaming) return;
    await this.#show(id, () => ipc.conversationSwitch(id, messageId));
  }

  /** Deletes a message and the replies that followed it. */
  async deleteMessage(messageId: number) {
    const id = this.currentId;
    if (id === null || this.streaming) return;
    await this.#show(id, () => ipc.messageDelete(messageId));
  }

  /**
   * Puts a view's messages on screen. A view of only the branch's last messages replaces
   * those and keeps the earlier ones already here; when those are not here (yet), they are
   * fetched and put in front.
   */
  #showBranch(id: number, view: ConversationView) {
    const earlier = view.earlierCount;
    const joint = earlier > 0 ? this.messages[earlier - 1] : undefined;
    if (earlier === 0) {
      this.messages = view.messages;
    } else if (joint && joint.id === view.messages[0]?.parentId) {
      this.messages = [...this.messages.slice(0, earlier), ...view.messages];
    } else {
      this.messages = view.messages;
      if (view.messages[0]) void this.#loadEarlier(id, view.messages[0].id);
    }
  }

  /** Fetches the whole branch and puts what comes before `firstId` in front. */
  async #loadEarlier(id: number, firstId: number) {
    try {
      // Once the end is drawn and settled: reading the rest would hold up those frames.
      await new Promise((resolve) => setTimeout(resolve, EARLIER_AFTER_MS));
      const whole = await ipc.conversationGet(id, null);
      // Another conversation, or another branch or a deletion, shown meanwhile.
      if (this.currentId !== id || this.messages[0]?.id !== firstId) return;
      const at = whole.messages.findIndex((m) => m.id === firstId);
      if (at <= 0) return;
      this.prepending = true;
      this.messages = [...whole.messages.slice(0, at), ...this.messages];
      await tick();
    } catch {
      // The end of the conversation stays on screen; reopening it tries again.
    } finally {
      this.prepending = false;
    }
  }

  async #show(id: number, load: () => Promise<ConversationView>) {
    try {
      const view = await load();
      if (this.currentId !== id) return;
      this.messages = view.messages;
      this.settings = view.settings;
      this.costNanos = view.costNanos;
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** More of the last reply, where it was cut off. */
  async continueLast(overBudget = false) {
    const id = this.currentId;
    if (id === null || this.streaming) return;
    await this.#stream(
      (onEvent) => ipc.chatContinue(id, overBudget, onEvent),
      (again) => this.continueLast(again),
    );
  }

  /** "Summarize and continue in a new chat": the summary streams into a new conversation,
   * which opens. */
  async summarize(overBudget = false) {
    const id = this.currentId;
    if (id === null || this.streaming) return;
    await this.#stream(
      (onEvent) => ipc.chatSummarize(id, overBudget, onEvent),
      (again) => this.summarize(again),
    );
  }

  /** Runs the send the hard stop refused, past the stop ("send this one anyway") or
   * not (after the budget was raised). */
  async sendBlocked(overBudget: boolean) {
    const blocked = this.blocked;
    this.blocked = null;
    await blocked?.again(overBudget);
  }

  async #stream(
    start: (onEvent: (event: ChatEvent) => void) => Promise<void>,
    again: (overBudget: boolean) => Promise<void>,
  ) {
    this.streaming = true;
    this.error = null;
    this.blocked = null;
    try {
      await start((event) => this.apply(event));
    } catch (e) {
      // Nothing was sent (no key, bad input, the budget): the text stays in the composer.
      const error = asIpcError(e);
      if (error.code === "budget_exceeded") this.blocked = { message: error.message, again };
      else this.error = error;
    } finally {
      this.flush();
      this.streaming = false;
      this.#editing = null;
      await Promise.all([this.#conversations.load(), this.reload()]);
    }
  }

  /** Reads the open conversation again once a reply has ended: its saved text, costs
   * from the ledger (every request, failed ones too) and the ‹ › versions. */
  async reload() {
    const id = this.currentId;
    if (id === null || this.streaming) return;
    try {
      const view = await ipc.conversationGet(id, OPEN_TAIL);
      if (this.currentId !== id || this.streaming) return;
      this.#showBranch(id, view);
      this.settings = view.settings;
      this.costNanos = view.costNanos;
    } catch {
      // What is on screen stays; the meter is updated by its own notice.
    }
  }

  /** The price asked under a reply was saved (the replies so far now have a cost) or put
   * off: the question goes. */
  async priceAnswered() {
    this.priceAsk = null;
    await this.reload();
  }

  async stop() {
    if (this.currentId !== null) await ipc.chatStop(this.currentId);
  }

  /** The user's word on the tool call the reply waits on. */
  async decide(decision: ToolDecision) {
    const approval = this.approval;
    const id = this.currentId;
    if (!approval || id === null) return;
    this.approval = null;
    try {
      await ipc.toolCallDecide(id, approval.callId, decision);
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  apply(event: ChatEvent) {
    switch (event.type) {
      case "started": {
        const now = Date.now();
        if (this.currentId !== event.conversationId) {
          this.currentId = event.conversationId;
          this.messages = [];
          this.costNanos = 0;
        }
        const base = {
          finishReason: null,
          errorCode: null,
          errorMessage: null,
          createdAt: now,
          costNanos: null,
          priceUnknown: false,
          siblingIds: [],
          endpoint: null,
          thinking: null,
          citations: [],
          usage: null,
          toolCalls: [],
          jsonCheck: null,
          attachments: [],
        };
        const reply = {
          ...base,
          id: event.assistantMessageId,
          parentId: event.userMessageId,
          role: "assistant" as const,
          content: "",
          status: "streaming" as const,
          model: null,
        };
        const userMessage = (content: string) => ({
          ...base,
          id: event.userMessageId,
          parentId: this.messages.at(-1)?.id ?? null,
          role: "user" as const,
          content,
          status: "complete" as const,
          model: null,
        });
        if (event.kind === "send") {
          this.messages.push(
            {
              ...userMessage(this.draft.trim()),
              attachments: this.attachments.list.map((d) => d.attachment),
            },
            reply,
          );
          // The message is saved and shown in the chat: the composer gives it up now, while
          // the server thinks (emptying it with the first text would add its layout to the
          // moment that text appears). What is typed from here on is the next message.
          this.draft = "";
          this.attachments.clear();
        } else if (event.kind === "summary") {
          // A new conversation (cleared above): the engine wrote its first message.
          this.messages.push(userMessage(event.userText ?? ""), reply);
        } else if (event.kind === "edit" && this.#editing) {
          // The edited message and what followed it give way to the new branch.
          const at = this.messages.findIndex((m) => m.id === this.#editing?.id);
          if (at >= 0) this.messages.length = at;
          this.messages.push(userMessage(this.#editing.text), reply);
        } else if (event.kind === "retry") {
          // The new reply takes the old one's place, and what followed it goes.
          const at = this.messages.findIndex((m) => m.id === event.userMessageId);
          if (at >= 0) this.messages.length = at + 1;
          this.messages.push(reply);
        } else {
          const last = this.reply();
          // A continued reply goes on from its thinking, its sources, its cost and usage
          // (as the engine keeps and sums them); the new request's add to them.
          if (last)
            Object.assign(last, {
              ...base,
              createdAt: last.createdAt,
              thinking: last.thinking,
              citations: last.citations,
              toolCalls: last.toolCalls,
              costNanos: last.costNanos,
              priceUnknown: last.priceUnknown,
              usage: last.usage,
              status: "streaming",
            });
        }
        this.title = event.title;
        this.droppedMessages = event.droppedMessages;
        this.thinksForMinutes = event.thinksForMinutes;
        this.#conversations.touch(event.conversationId, event.title, now);
        // The new chat was created with the settings chosen for it: they are its own now.
        if (event.kind === "send" && this.pendingSettings) {
          this.settings ??= this.pendingSettings;
          this.pendingSettings = null;
        }
        break;
      }
      case "trimmed":
        this.droppedMessages = event.droppedMessages;
        break;
      case "retrying":
        this.retry = {
          attempt: event.attempt,
          reason: event.reason,
          until: Date.now() + event.inMs,
        };
        break;
      case "delta":
        this.retry = null;
        this.searching = null;
        this.#pending += event.text;
        if (this.reply()?.content === "") {
          // The first text of a reply is shown at once: waiting for the next frame would
          // add up to one frame to the moment the user sees the reply begin. The mark is
          // where `cargo xtask bench` splits that moment's delay: the channel before it,
          // the page's work after.
          performance.clearMarks(FIRST_TEXT_MARK);
          performance.mark(FIRST_TEXT_MARK);
          this.flush();
        } else {
          this.#frame ??= requestAnimationFrame(() => this.flush());
        }
        break;
      case "searching":
        this.searching = { query: event.query };
        break;
      case "toolCall": {
        // The text so far belongs before the call: shown now, not a frame later.
        this.flush();
        const reply = this.reply();
        if (!reply) break;
        const at = reply.toolCalls.findIndex((c) => c.id === event.call.id);
        if (at >= 0) reply.toolCalls[at] = event.call;
        else reply.toolCalls.push(event.call);
        if (this.approval?.callId === event.call.id && event.call.status !== "pending") {
          this.approval = null;
        }
        break;
      }
      case "toolApproval":
        this.approval = { callId: event.callId, atMost: event.atMost };
        break;
      case "citation": {
        const reply = this.reply();
        if (reply && !reply.citations.some((c) => c.url === event.url))
          reply.citations.push({ url: event.url, title: event.title });
        break;
      }
      case "thinking": {
        // The model's summary of its reasoning: shown as it comes, in the reply's
        // "Thinking" part, without waiting for a frame (it is far less frequent than text).
        const reply = this.reply();
        if (reply) reply.thinking = (reply.thinking ?? "") + event.text;
        break;
      }
      case "done": {
        this.retry = null;
        this.searching = null;
        this.approval = null;
        this.flush();
        const reply = this.reply();
        if (reply) {
          this.announcement = reply.content;
          reply.status = event.status;
          reply.finishReason = event.finishReason;
          reply.endpoint = event.endpoint;
          reply.usage = addUsage(reply.usage, event.usage);
          if (event.askPriceOf) this.priceAsk = event.askPriceOf;
          if (event.cost !== null) reply.costNanos = (reply.costNanos ?? 0) + event.cost;
          else reply.priceUnknown = true;
        }
        break;
      }
      case "failed": {
        this.retry = null;
        this.searching = null;
        this.approval = null;
        // The message is saved in the conversation, where Try again sends it again; the
        // composer gave it up when the send started, so Send cannot send it a second time.
        this.flush();
        const reply = this.reply();
        if (reply) {
          reply.status = event.status;
          reply.errorCode = event.code;
          reply.errorMessage = event.message;
        }
        this.error = { code: event.code, message: event.message };
        break;
      }
      case "usage":
        break;
    }
  }

  flush() {
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#frame = null;
    if (!this.#pending) return;
    const reply = this.reply();
    if (reply) reply.content += this.#pending;
    this.#pending = "";
  }

  /** What can be done with the last reply once it has ended. */
  get redo(): { retry: boolean; continue: boolean } {
    const last = this.reply();
    if (!last || this.streaming || last.status === "streaming") {
      return { retry: false, continue: false };
    }
    const cutOff = last.status !== "complete" || last.finishReason === "length";
    return {
      retry: last.status !== "complete",
      continue: cutOff && last.content.trim().length > 0 && last.status !== "error",
    };
  }

  private reply(): MessageView | undefined {
    const last = this.messages.at(-1);
    return last?.role === "assistant" ? last : undefined;
  }
}

/** The usage of a reply's requests so far, with one more request's. */
export function addUsage(sum: ReplyUsage | null, more: ReplyUsage): ReplyUsage {
  if (!sum) return { ...more };
  return {
    promptTokens: sum.promptTokens + more.promptTokens,
    cachedTokens: sum.cachedTokens + more.cachedTokens,
    completionTokens: sum.completionTokens + more.completionTokens,
    reasoningTokens: sum.reasoningTokens + more.reasoningTokens,
    webSearches: sum.webSearches + more.webSearches,
    estimated: sum.estimated || more.estimated,
  };
}
