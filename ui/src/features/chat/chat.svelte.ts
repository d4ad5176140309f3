// The chat screen's state: the open conversation, its messages, the reply being written.
import { asIpcError, ipc } from "../../lib/ipc";
import type { ChatEvent, ConversationSummary, IpcError, MessageView } from "../../lib/ipc";

export class ChatState {
  conversations = $state<ConversationSummary[]>([]);
  currentId = $state<number | null>(null);
  messages = $state<MessageView[]>([]);
  draft = $state("");
  streaming = $state(false);
  error = $state<IpcError | null>(null);
  /** A wait before another attempt, for "Retrying in 2 s…". */
  retry = $state<{ attempt: number; reason: string; until: number } | null>(null);

  /** Text received but not yet shown: applied at most once per animation frame. */
  #pending = "";
  #frame: number | null = null;
  /** The stream under way carries the composer's text (so the composer may be cleared). */
  #sending = false;

  canSend = $derived(this.draft.trim().length > 0 && !this.streaming);

  async loadConversations() {
    try {
      this.conversations = await ipc.conversationList();
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  async open(id: number) {
    if (this.streaming) return;
    try {
      const view = await ipc.conversationGet(id);
      this.currentId = id;
      this.messages = view.messages;
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  newChat() {
    if (this.streaming) return;
    this.currentId = null;
    this.messages = [];
    this.error = null;
  }

  async send() {
    const text = this.draft.trim();
    if (!text || this.streaming) return;
    await this.#stream((onEvent) =>
      ipc.chatSend({ conversationId: this.currentId, text }, onEvent),
    );
  }

  /** A new answer to the last message (after a failure, or to try again). */
  async retryLast() {
    const id = this.currentId;
    if (id === null || this.streaming) return;
    await this.#stream((onEvent) => ipc.chatRetry(id, onEvent));
  }

  /** More of the last reply, where it was cut off. */
  async continueLast() {
    const id = this.currentId;
    if (id === null || this.streaming) return;
    await this.#stream((onEvent) => ipc.chatContinue(id, onEvent));
  }

  async #stream(start: (onEvent: (event: ChatEvent) => void) => Promise<void>) {
    this.streaming = true;
    this.error = null;
    try {
      await start((event) => this.apply(event));
    } catch (e) {
      // Nothing was sent (no key, bad input): the text stays in the composer.
      this.error = asIpcError(e);
    } finally {
      this.flush();
      this.streaming = false;
      this.#sending = false;
      await this.loadConversations();
    }
  }

  async stop() {
    if (this.currentId !== null) await ipc.chatStop(this.currentId);
  }

  apply(event: ChatEvent) {
    switch (event.type) {
      case "started": {
        const now = Date.now();
        if (this.currentId !== event.conversationId) {
          this.currentId = event.conversationId;
          this.messages = [];
        }
        const base = {
          finishReason: null,
          errorCode: null,
          errorMessage: null,
          createdAt: now,
          costNanos: null,
          priceUnknown: false,
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
        this.#sending = event.kind === "send";
        if (event.kind === "send") {
          this.messages.push(
            {
              ...base,
              id: event.userMessageId,
              parentId: this.messages.at(-1)?.id ?? null,
              role: "user",
              content: this.draft.trim(),
              status: "complete",
              model: null,
            },
            reply,
          );
        } else if (event.kind === "retry") {
          // The new reply takes the old one's place on screen.
          if (this.reply()?.parentId === event.userMessageId) this.messages.pop();
          this.messages.push(reply);
        } else {
          const last = this.reply();
          if (last)
            Object.assign(last, { ...base, createdAt: last.createdAt, status: "streaming" });
        }
        if (!this.conversations.some((c) => c.id === event.conversationId)) {
          this.conversations.unshift({
            id: event.conversationId,
            title: event.title,
            model: "",
            updatedAt: now,
          });
        }
        break;
      }
      case "retrying":
        this.retry = {
          attempt: event.attempt,
          reason: event.reason,
          until: Date.now() + event.inMs,
        };
        break;
      case "delta":
        this.retry = null;
        // The message is saved and the reply is coming: the composer can be cleared.
        if (this.#sending) this.draft = "";
        this.#pending += event.text;
        this.#frame ??= requestAnimationFrame(() => this.flush());
        break;
      case "done": {
        this.retry = null;
        this.flush();
        if (this.#sending) this.draft = "";
        const reply = this.reply();
        if (reply) {
          reply.status = event.status;
          reply.finishReason = event.finishReason;
        }
        break;
      }
      case "failed": {
        this.retry = null;
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
