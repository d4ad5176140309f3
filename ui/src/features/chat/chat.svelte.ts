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
    this.streaming = true;
    this.error = null;
    try {
      await ipc.chatSend({ conversationId: this.currentId, text }, (event) => this.apply(event));
    } catch (e) {
      // Nothing was sent (no key, bad input): the text stays in the composer.
      this.error = asIpcError(e);
    } finally {
      this.flush();
      this.streaming = false;
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
        const base = { finishReason: null, errorCode: null, errorMessage: null, createdAt: now };
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
          {
            ...base,
            id: event.assistantMessageId,
            parentId: event.userMessageId,
            role: "assistant",
            content: "",
            status: "streaming",
            model: null,
          },
        );
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
        this.draft = "";
        this.#pending += event.text;
        this.#frame ??= requestAnimationFrame(() => this.flush());
        break;
      case "done": {
        this.retry = null;
        this.flush();
        this.draft = "";
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

  private reply(): MessageView | undefined {
    const last = this.messages.at(-1);
    return last?.role === "assistant" ? last : undefined;
  }
}
