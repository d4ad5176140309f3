// A stand-in for Tally's engine, for the browser tests: every command the UI calls,
// answered from memory with the IPC's own types, through `@tauri-apps/api/mocks`. The
// runner bundles this file and injects it before the built UI's scripts run. Tests steer
// it through `window.__tallyFake` (what the next reply streams, and how fast).
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import type { Channel } from "@tauri-apps/api/core";
import type {
  AddedAttachment,
  AttachmentInput,
  AttachmentView,
  AvailableUpdate,
  BackupView,
  ChatEvent,
  ConversationSettings,
  ConversationSummary,
  ConversationView,
  DraftEstimate,
  DraftRequest,
  IpcError,
  KeyStatusView,
  LedgerRowView,
  McpServerInput,
  McpServerView,
  MessageView,
  ModelsView,
  PersonaView,
  PriceView,
  PricesView,
  SearchView,
  SendRequest,
  SettingsView,
  SpendView,
  SyncSetupInput,
  SyncView,
  ToolCallView,
  ToolDecision,
  ToolPermissionView,
  UsageReport,
} from "../../src/lib/ipc/bindings";
import { DEFAULT_CHAT_SETTINGS } from "../../src/features/chat/testing";
import catalogJson from "./catalog.json";

const catalog = catalogJson as { prices: PricesView; models: ModelsView };

const DAY = 86_400_000;
const NOW = Date.now();

type Reply = { chunks: string[]; intervalMs: number };

/** What tests set: `reply` is streamed by the next request (then the default again). */
export type FakeControl = {
  reply: Reply | null;
  defaultReply: Reply;
  onboarded: boolean;
  keySaved: boolean;
  /** Commands called so far, for tests that check what the UI asked. */
  calls: string[];
  /** Adds a conversation of `count` messages; returns its id. */
  seed: (title: string, count: number, ageMs?: number) => number;
  /** The next chat request is refused with this, as the engine refuses it. */
  fail: IpcError | null;
  /** How many old messages the next request leaves out (to fit the model's window). */
  dropped: number;
  /** The pieces of the last file sent for import. */
  imported: string[];
  /** The base64 pieces of a .zip imported. */
  importedArchive: string[];
  /** Addresses the UI asked to open in the system browser. */
  opened: string[];
  /** What the engine holds now, for tests to check what the UI saved. */
  saved: () => { settings: SettingsView; budget: SpendView["budget"] };
  /** The next reply first calls this tool (asking the user), then writes its text. */
  toolCall: { server: string; tool: string; arguments: string; result: string } | null;
  /** What the update server offers (null: nothing newer), and how an install ends. */
  update: AvailableUpdate | null;
  updateInstallFails: IpcError | null;
  /** Updates installed (Tally would restart after each). */
  updatesInstalled: string[];
  /** The names of the files attached so far. */
  attached: string[];
  /** What the shell's quiet daily check sends when it finds a newer version. */
  announceUpdate: (offer: AvailableUpdate) => Promise<unknown>;
  /** Sync is on from the start, with another computer that spent this month. */
  syncOn: boolean;
  /** Another computer's conversation arrives through sync, as a background sync tells it. */
  /** Another computer's conversation arrives; with `lostTitle`, as the title that won
   * over this one's. */
  syncArrives: (title: string, lostTitle?: string) => Promise<unknown>;
};

const chatDefaults: ConversationSettings = structuredClone(DEFAULT_CHAT_SETTINGS);

// What the real engine answers for the shipped catalog (written by a tally-core test).
const prices: PriceView[] = catalog.prices.models;
const models: ModelsView = catalog.models;

const DEMO_REPLY = [
  "Here is a **short** answer with a few parts.\n\n",
  "> Measure twice, cut once.\n\n",
  "| Plan | Monthly |\n|---|---:|\n| Small | $5 |\n| Large | $20 |\n\n",
  "```python\ndef total(xs):\n    return sum(xs)\n```\n\n",
  "Euler's identity: $e^{i\\pi} + 1 = 0$, and a list:\n\n",
  "1. first\n2. second\n\nSee [the docs](https://example.com/docs).",
];

class Engine {
  settings: SettingsView = {
    defaultModel: "gpt-4o-mini",
    apiBase: "https://api.openai.com/v1",
    apiBaseFromEnv: false,
    onboarded: true,
    chatDefaults,
    autoTitles: true,
    updateChecks: false,
  };
  key: KeyStatusView = { source: "keychain", lastFour: "wxyz", keychainProblem: null };
  conversations = new Map<number, ConversationSummary>();
  messages = new Map<number, MessageView[]>();
  /** Titles that lost to another computer's rename, by conversation. */
  titleHistory = new Map<number, string[]>();
  conversationSettings = new Map<number, ConversationSettings>();
  /** Settings' MCP servers: one ready with its tools, one that failed, one off. */
  mcpServers: McpServerView[] = [
    {
      id: 901,
      name: "Files",
      transport: {
        kind: "stdio",
        command: "npx",
        args: ["-y", "server-filesystem"],
        env: {},
        cwd: null,
      },
      enabled: false,
      hasToken: false,
      state: { id: 901, status: "off", tools: [], error: null, stderr: [] },
    },
    {
      id: 902,
      name: "Notes",
      transport: { kind: "http", url: "https://notes.example.com/mcp" },
      enabled: true,
      hasToken: true,
      state: {
        id: 902,
        status: "failed",
        tools: [],
        error: "The server refused Tally: it needs a token, or the token given is wrong.",
        stderr: [],
      },
    },
    {
      id: 903,
      name: "Time",
      transport: {
        kind: "stdio",
        command: "uvx",
        args: ["mcp-server-time", "--local-timezone=Europe/Lisbon"],
        env: {},
        cwd: null,
      },
      enabled: true,
      hasToken: false,
      state: {
        id: 903,
        status: "ready",
        tools: [
          {
            name: "get_current_time",
            title: null,
            description: "Get the current time in a time zone.",
            readOnly: true,
            destructive: false,
          },
          {
            name: "convert_time",
            title: null,
            description: "Convert a time between time zones.",
            readOnly: true,
            destructive: false,
          },
        ],
        error: null,
        stderr: [],
      },
    },
  ];
  personas: PersonaView[] = [
    { id: 1, name: "Plain English", prompt: "Answer in plain, friendly English." },
    { id: 2, name: "Editor", prompt: "Improve the text I give you; explain each change." },
  ];
  budget: SpendView["budget"] = {
    monthlyNanos: 10_000_000_000,
    resetDay: 1,
    thresholds: [50, 80, 100],
    hardStop: false,
  };
  spentNanos = 3_420_000_000;
  sync: SyncView = {
    status: "off",
    location: null,
    lastSyncAt: null,
    lastResult: null,
    problem: null,
    devices: [],
    overshoot: null,
    received: 0,
  };
  nextId = 1;
  streams = new Map<number, { stop: () => void }>();
  /** Tool calls waiting for the user's word, by `conversation:call`. */
  decisions = new Map<string, (decision: ToolDecision) => void>();
  permissions: ToolPermissionView[] = [];

  constructor(readonly control: FakeControl) {}

  id() {
    return this.nextId++;
  }

  seed(title: string, count: number, ageMs = 0): number {
    const id = this.id();
    const updatedAt = NOW - ageMs;
    this.conversations.set(id, {
      id,
      title,
      model: "gpt-4o-mini",
      updatedAt,
      pinned: false,
      deletedAt: null,
    });
    const list: MessageView[] = [];
    for (let i = 0; i < count; i++) {
      const user = i % 2 === 0;
      list.push(
        this.message(
          user ? "user" : "assistant",
          user
            ? `Question ${i / 2 + 1}: how would I plan a budget for item ${i}?`
            : `Answer ${i}: keep a **list**, then a table.\n\n| item | cost |\n|---|---:|\n| rent | $${i} |\n\n\`\`\`js\nconst total = ${i} + 1;\n\`\`\``,
          list.at(-1)?.id ?? null,
          updatedAt - (count - i) * 60_000,
        ),
      );
    }
    this.messages.set(id, list);
    return id;
  }

  message(
    role: MessageView["role"],
    content: string,
    parentId: number | null,
    createdAt = Date.now(),
  ): MessageView {
    return {
      id: this.id(),
      parentId,
      role,
      content,
      status: "complete",
      finishReason: role === "assistant" ? "stop" : null,
      model: role === "assistant" ? "gpt-4o-mini" : null,
      errorCode: null,
      errorMessage: null,
      createdAt,
      costNanos: role === "assistant" ? 42_000 : null,
      priceUnknown: false,
      siblingIds: [],
      endpoint: role === "assistant" ? "chat" : null,
      thinking: null,
      citations: [],
      usage: null,
      toolCalls: [],
      jsonCheck: null,
      attachments: [],
    };
  }

  /** Attachments kept for drafts and messages, by id, with their content (base64). */
  attachments = new Map<number, { view: AttachmentView; data: string }>();
  /** The attachments of the message being sent. */
  sending: AttachmentView[] = [];

  /** Keeps a file as the engine would: a picture (its size read by the browser, fit in
   * 2048×2048) or a text file; anything else is refused in words. */
  async attach(input: AttachmentInput, model: string): Promise<AddedAttachment> {
    const bytes = Uint8Array.from(atob(input.dataBase64), (c) => c.charCodeAt(0));
    const head = Array.from(bytes.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    const picture = ["89504e47", "ffd8ffe0", "ffd8ffe1", "ffd8ffdb", "47494638", "52494646"].some(
      (magic) => head.startsWith(magic.slice(0, 6)),
    );
    let view: AttachmentView;
    let tokens: number;
    if (picture) {
      if (["o3-mini", "gpt-3.5-turbo"].includes(model)) {
        throw {
          code: "model_without_vision",
          message: `${model} cannot see pictures. Choose a model that can, such as gpt-4o-mini, or remove the picture.`,
        };
      }
      const bitmap = await createImageBitmap(new Blob([bytes]));
      const scale = Math.min(1, 2048 / Math.max(bitmap.width, bitmap.height));
      const [width, height] = [bitmap.width, bitmap.height].map((s) =>
        Math.max(1, Math.floor(s * scale)),
      );
      view = {
        id: this.id(),
        kind: "image",
        name: input.name,
        mime: "image/png",
        sizeBytes: bytes.length,
        width,
        height,
        pages: null,
      };
      tokens =
        85 + 170 * Math.ceil(Math.min(width, 768) / 512) * Math.ceil(Math.min(height, 768) / 512);
    } else {
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        text = "\0";
      }
      // The fake's scans are PDFs of nothing but their header.
      if (text.startsWith("%PDF") && text.trim().length <= 9) {
        throw {
          code: "pdf_without_text",
          message:
            "This PDF has no text in it (2 pages of pictures: a scan, probably). Its pages can be sent as pictures instead.",
        };
      }
      if (text.includes("\0")) {
        throw {
          code: "attachment_refused",
          message:
            "Tally can attach pictures (PNG, JPEG, WebP, GIF) and text files (notes, code, CSV, JSON); this file is neither.",
        };
      }
      view = {
        id: this.id(),
        kind: "file",
        name: input.name,
        mime: "text/plain; charset=utf-8",
        sizeBytes: bytes.length,
        width: null,
        height: null,
        pages: null,
      };
      tokens = Math.ceil(text.length / 4) + 12;
    }
    this.attachments.set(view.id, { view, data: input.dataBase64 });
    this.control.attached.push(input.name);
    return { attachment: view, tokens, costNanos: tokens * 150 };
  }

  /** A scan's two pages, kept as pictures (a tiny one each, for the chips' thumbnails). */
  scanPages(input: AttachmentInput): AddedAttachment[] {
    const stem = input.name.replace(/\.pdf$/i, "");
    return [1, 2].map((page) => {
      const view: AttachmentView = {
        id: this.id(),
        kind: "image",
        name: `${stem}, page ${page} of 2.jpg`,
        mime: "image/png",
        sizeBytes: 68,
        width: 1447,
        height: 2048,
        pages: null,
      };
      this.attachments.set(view.id, { view, data: ONE_PIXEL_PNG });
      this.control.attached.push(view.name);
      return { attachment: view, tokens: 1105, costNanos: 1105 * 150 };
    });
  }

  /** The conversation with the last `tail` messages of its branch, or all of them. */
  view(id: number, tail: number | null = null): ConversationView {
    const conversation = this.conversations.get(id);
    if (!conversation) throw { code: "not_found", message: "This conversation no longer exists." };
    const messages = this.messages.get(id) ?? [];
    const earlierCount = tail === null ? 0 : Math.max(0, messages.length - tail);
    return {
      conversation,
      settings: this.conversationSettings.get(id) ?? this.settings.chatDefaults,
      messages: messages.slice(earlierCount),
      earlierCount,
      costNanos: messages.reduce((sum, m) => sum + (m.costNanos ?? 0), 0),
    };
  }

  spend(): SpendView {
    const start = new Date();
    start.setUTCDate(1);
    start.setUTCHours(0, 0, 0, 0);
    const end = new Date(start);
    end.setUTCMonth(end.getUTCMonth() + 1);
    const level = !this.budget
      ? "none"
      : this.spentNanos >= this.budget.monthlyNanos
        ? "over"
        : this.spentNanos * 10 >= this.budget.monthlyNanos * 8
          ? "warning"
          : "calm";
    return {
      periodStart: start.getTime(),
      periodEnd: end.getTime(),
      lastDay: new Date(end.getTime() - DAY).toISOString().slice(0, 10),
      spentNanos: this.spentNanos,
      estimatedNanos: 0,
      unpricedRequests: 0,
      requests: 57,
      projectedNanos: this.spentNanos * 2,
      budget: this.budget,
      level,
      alerts: [],
      pricesCheckedOn: "2026-11-01",
    };
  }

  usage(): UsageReport {
    const days = Array.from({ length: 30 }, (_, i) => {
      const start = NOW - (29 - i) * DAY;
      return {
        label: new Date(start).toISOString().slice(0, 10),
        start,
        costNanos: ((i * 7919) % 23) * 9_000_000,
        requests: (i * 3) % 7,
        unpriced: 0,
      };
    });
    return {
      spend: this.spend(),
      days,
      months: [
        {
          label: days[0].label.slice(0, 8) + "01",
          start: NOW - 30 * DAY,
          costNanos: this.spentNanos,
          requests: 57,
          unpriced: 0,
        },
      ],
      byModel: [
        {
          model: "gpt-4o-mini",
          requests: 50,
          promptTokens: 120_000,
          cachedTokens: 4_000,
          completionTokens: 80_000,
          reasoningTokens: 0,
          costNanos: 2_000_000_000,
          unpriced: 0,
          webSearchCalls: 0,
        },
        {
          model: "gpt-4o",
          requests: 7,
          promptTokens: 20_000,
          cachedTokens: 0,
          completionTokens: 9_000,
          reasoningTokens: 0,
          costNanos: 1_420_000_000,
          unpriced: 0,
          webSearchCalls: 0,
        },
      ],
      topConversations: [...this.conversations.values()].slice(0, 3).map((c, i) => ({
        conversationId: c.id,
        title: c.title,
        requests: 10 - i,
        costNanos: (3 - i) * 300_000_000,
      })),
      webSearchCalls: 0,
      webSearchFeesNanos: 0,
      // With sync on, this computer's spending and the laptop's.
      byComputer:
        this.syncView().status !== "off"
          ? this.syncOnView(null).devices
          : [
              {
                name: "This computer",
                thisComputer: true,
                lastSeen: null,
                spentNanos: this.spentNanos,
                requests: 57,
              },
            ],
    };
  }

  ledger(): LedgerRowView[] {
    return Array.from({ length: 12 }, (_, i) => ({
      id: 100 - i,
      createdAt: NOW - i * 3_600_000,
      conversationId: 1,
      conversationTitle: "Trip to Lisbon",
      purpose: i % 4 === 3 ? "title" : "chat",
      model: "gpt-4o-mini",
      promptTokens: 900 + i * 10,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      completionTokens: 300 + i,
      reasoningTokens: 0,
      webSearchCalls: 0,
      costNanos: 315_000 + i * 1_000,
      estimated: false,
      status: "complete",
      requestId: `req_${i}`,
      firstTokenMs: 420,
      durationMs: 2_100,
    }));
  }

  backups(): BackupView[] {
    return [
      {
        name: "tally-daily.db",
        createdAt: NOW - DAY,
        kind: "daily",
        upgradeTo: null,
        sizeBytes: 4_200_000,
      },
      {
        name: "tally-upgrade.db",
        createdAt: NOW - 8 * DAY,
        kind: "before_upgrade",
        upgradeTo: 4,
        sizeBytes: 4_000_000,
      },
    ];
  }

  summaries() {
    return [...this.conversations.values()].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  search(query: string): SearchView {
    const needle = query.toLowerCase();
    const hits = [];
    for (const [conversationId, messages] of this.messages) {
      const conversation = this.conversations.get(conversationId);
      if (!conversation || conversation.deletedAt) continue;
      for (const message of messages) {
        const at = message.content.toLowerCase().indexOf(needle);
        if (at < 0) continue;
        const before = message.content.slice(Math.max(0, at - 30), at);
        const match = message.content.slice(at, at + query.length);
        const after = message.content.slice(at + query.length, at + query.length + 40);
        hits.push({
          conversationId,
          conversationTitle: conversation.title,
          messageId: message.id,
          snippet: `${before}\u{E000}${match}\u{E001}${after}`,
          createdAt: message.createdAt,
        });
        if (hits.length >= 20) return { hits, byRelevance: true };
      }
    }
    return { hits, byRelevance: true };
  }

  estimate(text: string, conversationId: number | null): DraftEstimate {
    const earlier = conversationId === null ? [] : (this.messages.get(conversationId) ?? []);
    const chars = earlier.reduce((n, m) => n + m.content.length, 0) + text.length;
    const inputTokens = Math.ceil(chars / 4) + 7;
    return {
      model: "gpt-4o-mini",
      inputTokens,
      toolsTokens: 0,
      contextWindow: 128_000,
      maxOutputTokens: 16_384,
      minCostNanos: inputTokens * 150,
      maxCostNanos: inputTokens * 150 + 16_384 * 600,
      unusual: false,
      longPrompt: null,
      webSearch: null,
      attachmentTokens: [],
      attachmentProblem: null,
    };
  }

  /** Streams the next reply to `channel`; resolves when it has ended. */
  async stream(
    conversationId: number,
    text: string | null,
    kind: "send" | "retry" | "continue" | "summary",
    channel: Channel<ChatEvent>,
  ): Promise<void> {
    let index = 0;
    const post = (message: ChatEvent) =>
      window.__TAURI_INTERNALS__.runCallback(channel.id, { index: index++, message });
    const list = this.messages.get(conversationId)!;
    const conversation = this.conversations.get(conversationId)!;
    let parent = list.at(-1)?.id ?? null;
    if (kind === "retry") {
      while (list.length && list.at(-1)!.role === "assistant") list.pop();
      parent = list.at(-1)?.id ?? null;
    }
    let userMessageId = parent ?? 0;
    if (text !== null) {
      const user = { ...this.message("user", text, parent), attachments: this.sending };
      this.sending = [];
      list.push(user);
      userMessageId = user.id;
    }
    const reply = { ...this.message("assistant", "", userMessageId), status: "streaming" as const };
    list.push(reply);
    conversation.updatedAt = Date.now();
    post({
      type: "started",
      userText: kind === "summary" ? text : null,
      conversationId,
      userMessageId,
      assistantMessageId: reply.id,
      title: conversation.title,
      kind,
      droppedMessages: this.control.dropped,
      thinksForMinutes: false,
    });
    this.control.dropped = 0;
    const script = this.control.reply ?? this.control.defaultReply;
    this.control.reply = null;
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    this.streams.set(conversationId, { stop });
    let status: MessageView["status"] = "complete";
    const planned = this.control.toolCall;
    this.control.toolCall = null;
    if (planned && (await this.callTool(conversationId, reply, planned, post, stopped))) {
      status = "stopped";
    }
    // On a schedule, as a network delivers: whatever is due when the page gets to it is
    // posted together, so the rate holds however busy the page is.
    const startedAt = performance.now();
    let next = 0;
    while (status !== "stopped" && next < script.chunks.length) {
      const due = startedAt + next * script.intervalMs;
      const wait = new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, due - performance.now())),
      );
      if ((await Promise.race([wait, stopped.then(() => "stop")])) === "stop") {
        status = "stopped";
        break;
      }
      const now = performance.now();
      while (next < script.chunks.length && startedAt + next * script.intervalMs <= now) {
        reply.content += script.chunks[next];
        post({ type: "delta", text: script.chunks[next] });
        next++;
      }
    }
    this.streams.delete(conversationId);
    Object.assign(reply, { status, costNanos: 42_000 });
    this.spentNanos += 42_000;
    post({
      type: "usage",
      promptTokens: 120,
      cachedTokens: 0,
      completionTokens: 60,
      reasoningTokens: 0,
    });
    post({
      type: "done",
      status,
      finishReason: "stop",
      cost: 42_000,
      estimated: false,
      endpoint: "chat",
      usage: {
        promptTokens: 120,
        cachedTokens: 0,
        completionTokens: 60,
        reasoningTokens: 0,
        webSearches: 0,
        estimated: false,
      },
      askPriceOf: null,
    });
    window.__TAURI_INTERNALS__.runCallback(channel.id, { index: index++, end: true });
    void emit("spend_updated", this.spend());
  }

  /** A tool call as the engine makes one: asked about, then run or denied. Returns
   * whether the reply was stopped meanwhile. */
  async callTool(
    conversationId: number,
    reply: MessageView,
    planned: NonNullable<FakeControl["toolCall"]>,
    post: (event: ChatEvent) => void,
    stopped: Promise<void>,
  ): Promise<boolean> {
    const call: ToolCallView = {
      id: `call_fake${this.id()}`,
      round: 0,
      textOffset: 0,
      server: planned.server,
      tool: planned.tool,
      function: planned.tool,
      arguments: planned.arguments,
      status: "pending",
      result: null,
      durationMs: null,
      readOnly: true,
      destructive: false,
    };
    reply.toolCalls = [call];
    post({ type: "toolCall", call: { ...call } });
    const allowed = this.permissions.some(
      (p) =>
        p.tool === call.tool && (p.conversationId === null || p.conversationId === conversationId),
    );
    let decision: ToolDecision | "stop" = "once";
    if (!allowed) {
      post({ type: "toolApproval", callId: call.id, atMost: 1_250_000 });
      const key = `${conversationId}:${call.id}`;
      decision = await Promise.race([
        new Promise<ToolDecision>((resolve) => this.decisions.set(key, resolve)),
        stopped.then(() => "stop" as const),
      ]);
      this.decisions.delete(key);
    }
    if (decision === "stop") {
      Object.assign(call, {
        status: "error",
        result: "This call did not run: the reply was stopped first.",
      });
    } else if (decision === "deny") {
      Object.assign(call, { status: "denied", result: "The user did not allow this call." });
    } else {
      if (decision !== "once") {
        this.permissions.push({
          id: this.id(),
          server: call.server,
          tool: call.tool,
          conversationId: decision === "always_here" ? conversationId : null,
          conversationTitle:
            decision === "always_here" ? this.conversations.get(conversationId)!.title : null,
        });
      }
      post({ type: "toolCall", call: { ...call, status: "running" } });
      Object.assign(call, { status: "done", result: planned.result, durationMs: 380 });
    }
    post({ type: "toolCall", call: { ...call } });
    return decision === "stop";
  }

  handle(command: string, args: Record<string, unknown>): unknown {
    switch (command) {
      case "settings_get":
        return { ...this.settings, onboarded: this.control.onboarded };
      case "settings_set": {
        const update = args.update as Partial<SettingsView>;
        Object.assign(this.settings, update);
        if (update.onboarded !== undefined) this.control.onboarded = update.onboarded;
        if (update.chatDefaults) this.settings.defaultModel = update.chatDefaults.model;
        return { ...this.settings, onboarded: this.control.onboarded };
      }
      case "key_status":
        return this.control.keySaved
          ? this.key
          : { source: "none", lastFour: null, keychainProblem: null };
      case "key_set": {
        const key = String(args.key ?? "");
        if (!key.startsWith("sk-"))
          throw {
            code: "invalid_api_key",
            message: "That does not look like an OpenAI API key. Keys start with “sk-”.",
          };
        this.control.keySaved = true;
        return { ...this.key, lastFour: key.slice(-4) };
      }
      case "key_delete":
        this.control.keySaved = false;
        return { source: "none", lastFour: null, keychainProblem: null };
      case "key_test":
        return { models: models.models.map((m) => m.id) };
      case "models_list":
        return models;
      case "conversation_list":
        return {
          pinned: this.summaries().filter((c) => c.pinned && !c.deletedAt),
          recent: this.summaries().filter((c) => !c.pinned && !c.deletedAt),
          next: null,
        };
      case "conversation_get":
        return this.view(Number(args.id), (args.tail as number | null | undefined) ?? null);
      case "conversation_switch":
        return this.view(Number(args.conversationId));
      case "message_delete": {
        for (const [id, list] of this.messages) {
          const at = list.findIndex((m) => m.id === args.messageId);
          if (at >= 0) {
            list.splice(at, 1);
            return this.view(id);
          }
        }
        throw { code: "not_found", message: "This message no longer exists." };
      }
      case "conversation_settings_check":
        return args.settings;
      case "conversation_settings_set":
        this.conversationSettings.set(Number(args.id), args.settings as ConversationSettings);
        return this.view(Number(args.id));
      case "conversation_search":
        return this.search(String(args.query));
      case "conversation_title_history":
        return this.titleHistory.get(Number(args.id)) ?? [];
      case "conversation_rename":
      case "conversation_pin":
      case "conversation_trash":
      case "conversation_restore": {
        const conversation = this.conversations.get(Number(args.id))!;
        if (command === "conversation_rename") conversation.title = String(args.title);
        if (command === "conversation_pin") conversation.pinned = Boolean(args.pinned);
        if (command === "conversation_trash") conversation.deletedAt = Date.now();
        if (command === "conversation_restore") conversation.deletedAt = null;
        return conversation;
      }
      case "trash_list":
        return this.summaries().filter((c) => c.deletedAt);
      case "trash_delete":
        this.conversations.delete(Number(args.id));
        return this.summaries().filter((c) => c.deletedAt);
      case "trash_empty": {
        const trashed = this.summaries().filter((c) => c.deletedAt);
        trashed.forEach((c) => this.conversations.delete(c.id));
        return trashed.length;
      }
      case "persona_list":
        return this.personas;
      case "persona_save": {
        const input = args.persona as { id?: number; name: string; prompt: string };
        const existing = this.personas.find((p) => p.id === input.id);
        if (existing) Object.assign(existing, input);
        else this.personas.push({ id: this.id(), name: input.name, prompt: input.prompt });
        return this.personas;
      }
      case "persona_delete":
        this.personas = this.personas.filter((p) => p.id !== args.id);
        return this.personas;
      case "mcp_server_list":
        return this.mcpServers;
      case "tool_call_decide": {
        const key = `${args.conversationId}:${args.callId}`;
        const decide = this.decisions.get(key);
        if (!decide) throw { code: "not_found", message: "This tool call no longer waits." };
        decide(args.decision as ToolDecision);
        return null;
      }
      case "tool_permission_list":
        return this.permissions;
      case "tool_permission_revoke":
        this.permissions = this.permissions.filter((p) => p.id !== args.id);
        return this.permissions;
      case "mcp_server_save": {
        const input = args.server as McpServerInput;
        const id = input.id ?? this.id();
        const saved: McpServerView = {
          id,
          name: input.name,
          transport: input.transport,
          enabled: input.enabled,
          hasToken: input.transport.kind === "http" && Boolean(input.token),
          state: { id, status: "ready", tools: [], error: null, stderr: [] },
        };
        this.mcpServers = [...this.mcpServers.filter((s) => s.id !== id), saved].sort((a, b) =>
          a.name.localeCompare(b.name),
        );
        return saved;
      }
      case "mcp_server_remove":
        this.mcpServers = this.mcpServers.filter((s) => s.id !== args.id);
        return this.mcpServers;
      case "link_open":
        this.control.opened.push(String(args.url));
        return null;
      case "app_about":
        return {
          version: "0.1.0",
          pricesCheckedOn: catalog.prices.checkedOn,
          dataDir: "/home/ada/.local/share/app.tally.desktop",
        };
      case "data_folder_open":
        this.control.opened.push("the data folder");
        return null;
      case "spend_summary":
      case "budget_alerts_dismiss":
        return this.spend();
      case "budget_set": {
        const input = args.budget as {
          amount: string;
          resetDay: number;
          thresholds: number[];
          hardStop: boolean;
        };
        const dollars = Number(input.amount);
        if (!(dollars > 0))
          throw { code: "invalid_input", message: "Type the budget in dollars, like 20 or 7.50." };
        this.budget = {
          monthlyNanos: Math.round(dollars * 100) * 10_000_000,
          resetDay: input.resetDay,
          thresholds: input.thresholds,
          hardStop: input.hardStop,
        };
        return this.spend();
      }
      case "budget_clear":
        this.budget = null;
        return this.spend();
      case "prices_list":
      case "price_set":
      case "price_reset":
        return { checkedOn: catalog.prices.checkedOn, models: prices, unpricedModels: [] };
      case "cost_estimate": {
        const draft = args.draft as DraftRequest;
        const estimate = this.estimate(draft.text, draft.conversationId);
        // A picture costs more on gpt-4o than on the default model, as the real rules do.
        const model = draft.model ?? this.settings.defaultModel;
        const attachmentTokens = (draft.attachments ?? []).map((a) => {
          const kept = this.attachments.get(a.id)?.view;
          if (kept?.kind === "image") return model === "gpt-4o" ? 765 : 255;
          return Math.ceil((kept?.sizeBytes ?? 0) / 4) + 12;
        });
        const extra = attachmentTokens.reduce((sum, t) => sum + t, 0);
        return {
          ...estimate,
          inputTokens: estimate.inputTokens + extra,
          minCostNanos: (estimate.inputTokens + extra) * 150,
          attachmentTokens,
        };
      }
      case "attachment_content": {
        const kept = this.attachments.get(Number(args.id));
        if (!kept) throw { code: "not_found", message: "This attachment is no longer kept." };
        return { mime: kept.view.mime, dataBase64: kept.data };
      }
      case "usage_report":
        return this.usage();
      case "ledger_list":
        return this.ledger();
      case "ledger_export":
        return { path: "/home/you/Documents/tally-ledger.csv", rows: 12 };
      case "backup_list":
        return this.backups();
      case "backup_create":
      case "backup_restore":
        return this.backups()[0];
      case "sync_get":
        return this.syncView();
      case "sync_disable":
        this.sync = { ...this.syncView(), status: "off", lastSyncAt: null, lastResult: null };
        return this.sync;
      case "sync_now":
        this.sync = {
          ...this.syncView(),
          lastSyncAt: Date.now(),
          lastResult: "Sent 1 change; nothing new from the other computers.",
          received: 0,
        };
        return this.sync;
      case "recovery_get":
        return null;
      case "recovery_dismiss":
        return null;
      case "conversation_export":
        return {
          path: "/home/you/Downloads/Tally-conversations-2026-11-24.md",
          rows: (args.request as { conversationId?: number }).conversationId
            ? 1
            : this.conversations.size,
        };
      case "import_begin":
        this.control.imported = [];
        this.control.importedArchive = [];
        return 1;
      case "import_append":
        this.control.imported.push(String(args.piece));
        return null;
      case "import_append_archive":
        this.control.importedArchive.push(String(args.piece));
        return null;
      case "chat_stop": {
        const stream = this.streams.get(Number(args.conversationId));
        stream?.stop();
        return Boolean(stream);
      }
      default:
        throw { code: "server_error", message: `The fake engine has no command ${command}.` };
    }
  }

  /** Sync as the engine shows it; with `syncOn`, on since this morning with a laptop. */
  syncView(): SyncView {
    if (this.control.syncOn && this.sync.status === "off") {
      this.sync = this.syncOnView({ kind: "folder", path: "/home/you/Dropbox/Tally" });
    }
    return {
      ...this.sync,
      devices: this.sync.status === "off" ? [] : this.sync.devices,
    };
  }

  syncOnView(location: SyncView["location"]): SyncView {
    return {
      status: "idle",
      location,
      lastSyncAt: NOW - 4 * 60_000,
      lastResult: "Sent 12 changes; received 3 conversations, 18 messages, 9 billed requests.",
      problem: null,
      devices: [
        {
          name: "This computer",
          thisComputer: true,
          lastSeen: null,
          spentNanos: 2_170_000_000,
          requests: 41,
        },
        {
          name: "laptop",
          thisComputer: false,
          lastSeen: NOW - 4 * 60_000,
          spentNanos: 1_250_000_000,
          requests: 17,
        },
      ],
      overshoot:
        "Each computer holds to the budget as it last synced. If all 2 spend while offline, together they can pass the budget by up to $16.58 (each can spend the $16.58 that was left).",
      received: 30,
    };
  }

  async syncEnable(setup: SyncSetupInput): Promise<SyncView> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (setup.passphrase.trim().length < 8) {
      throw {
        code: "invalid_input",
        message:
          "Choose a passphrase of at least 8 characters: it is what keeps your conversations private on the storage.",
      } satisfies IpcError;
    }
    if (setup.passphrase === "not the passphrase") {
      throw {
        code: "sync_wrong_passphrase",
        message:
          "This passphrase does not open the sync storage. Type the passphrase you set when you turned sync on on your first computer.",
      } satisfies IpcError;
    }
    // As the engine keeps it: without the storage's password or secret key.
    const location = { ...setup.location } as Record<string, unknown>;
    delete location.password;
    delete location.secretAccessKey;
    this.sync = this.syncOnView(location as SyncView["location"]);
    return this.sync;
  }

  async handleAsync(command: string, args: Record<string, unknown>): Promise<unknown> {
    if (command.startsWith("chat_") && command !== "chat_stop" && this.control.fail) {
      const error = this.control.fail;
      this.control.fail = null;
      throw error;
    }
    if (command === "sync_enable") {
      return this.syncEnable(args.setup as SyncSetupInput);
    }
    if (command === "attachment_add") {
      return this.attach(args.input as AttachmentInput, String(args.model));
    }
    if (command === "attachment_add_pdf_pages") {
      return this.scanPages(args.input as AttachmentInput);
    }
    if (command === "chat_send") {
      const request = args.request as SendRequest;
      this.sending = (request.attachments ?? []).flatMap((a) => {
        const kept = this.attachments.get(a.id)?.view;
        return kept ? [{ ...kept, name: a.name }] : [];
      });
      let id = request.conversationId;
      if (id === null) {
        id = this.id();
        const title = (request.text || this.sending[0]?.name || "").slice(0, 40);
        this.conversations.set(id, {
          id,
          title,
          model: this.settings.defaultModel,
          updatedAt: Date.now(),
          pinned: false,
          deletedAt: null,
        });
        this.messages.set(id, []);
      }
      return this.stream(id, request.text, "send", args.onEvent as Channel<ChatEvent>);
    }
    if (command === "update_check") {
      return { current: "0.1.0", available: this.control.update };
    }
    if (command === "update_install") {
      const offer = this.control.update;
      if (!offer) throw { code: "not_found", message: "Check for updates first." };
      const channel = args.onProgress as Channel<unknown>;
      for (const [index, downloaded] of [2_500_000, 5_000_000, 10_000_000].entries()) {
        window.__TAURI_INTERNALS__.runCallback(channel.id, {
          index,
          message: { downloaded, total: 10_000_000 },
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (this.control.updateInstallFails) throw this.control.updateInstallFails;
      this.control.updatesInstalled.push(offer.version);
      return null;
    }
    if (command === "import_run") {
      // ChatGPT's file: an array of conversations with titles; as a .zip, conversations.json
      // is its only entry, stored (not compressed) for the test.
      const file = JSON.parse(
        this.control.importedArchive.length
          ? storedZipEntry(this.control.importedArchive)
          : this.control.imported.join(""),
      ) as { title?: string }[];
      const pictures = this.control.importedArchive.length ? file.length : 0;
      const channel = args.onProgress as Channel<unknown>;
      window.__TAURI_INTERNALS__.runCallback(channel.id, {
        index: 0,
        message: { done: 0, total: 0 },
      });
      for (const conversation of file) this.seed(conversation.title || "Imported from ChatGPT", 2);
      return {
        source: "chatgpt",
        imported: file.length,
        alreadyThere: 0,
        messages: file.length * 2,
        skippedParts: 0,
        pictures,
        unreadable: 0,
      };
    }
    if (command === "chat_summarize") {
      const old = this.conversations.get(Number(args.conversationId))!;
      const id = this.id();
      this.conversations.set(id, {
        ...old,
        id,
        title: `${old.title} (continued)`,
        updatedAt: Date.now(),
        pinned: false,
      });
      this.messages.set(id, []);
      this.control.reply = {
        chunks: ["In short: ", "a budget of ", "$900 for rent."],
        intervalMs: 30,
      };
      const asked = `Summarize our conversation “${old.title}” so that we can go on from it here.`;
      return this.stream(id, asked, "summary", args.onEvent as Channel<ChatEvent>);
    }
    if (command === "chat_retry" || command === "chat_continue") {
      const kind = command === "chat_retry" ? "retry" : "continue";
      return this.stream(
        Number(args.conversationId),
        null,
        kind,
        args.onEvent as Channel<ChatEvent>,
      );
    }
    return this.handle(command, args);
  }
}

/** A white pixel, as a PNG. */
const ONE_PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC";

/** The text of the first entry of a zip whose entries are stored, from its base64 pieces
 * (each stands alone): its local header says how long its name and data are. */
function storedZipEntry(pieces: string[]): string {
  const bytes = Uint8Array.from(pieces.map((p) => atob(p)).join(""), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const size = view.getUint32(18, true);
  const start = 30 + view.getUint16(26, true) + view.getUint16(28, true);
  return new TextDecoder().decode(bytes.subarray(start, start + size));
}

function emit(event: string, payload: unknown) {
  return window.__TAURI_INTERNALS__.invoke("plugin:event|emit", { event, payload });
}

declare global {
  interface Window {
    __tallyFake: FakeControl;
    // What `@tauri-apps/api/mocks` installs.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    __TAURI_INTERNALS__: any;
  }
}

const control: FakeControl = {
  reply: null,
  defaultReply: { chunks: DEMO_REPLY, intervalMs: 30 },
  onboarded: true,
  keySaved: true,
  calls: [],
  seed: (title, count, ageMs) => engine.seed(title, count, ageMs),
  fail: null,
  dropped: 0,
  imported: [],
  importedArchive: [],
  opened: [],
  update: null,
  updateInstallFails: null,
  updatesInstalled: [],
  attached: [],
  syncOn: false,
  syncArrives: async (title, lostTitle) => {
    engine.sync = { ...engine.syncView(), status: "syncing" };
    await emit("sync_changed", engine.sync);
    const id = engine.seed(title, 2, 0);
    if (lostTitle) engine.titleHistory.set(id, [lostTitle]);
    engine.sync = {
      ...engine.sync,
      status: "idle",
      lastSyncAt: Date.now(),
      lastResult: "Nothing to send; received 1 conversation, 2 messages.",
      received: 3,
    };
    return emit("sync_changed", engine.sync);
  },
  announceUpdate: (offer) => {
    // As the shell: the check that found it leaves it for Install.
    control.update = offer;
    return emit("update_available", offer);
  },
  toolCall: null,
  saved: () => ({
    settings: { ...engine.settings, onboarded: control.onboarded },
    budget: engine.budget,
  }),
};
const engine = new Engine(control);
engine.seed("Trip to Lisbon", 6, 2 * 3_600_000);
engine.seed("Weekly budget plan", 4, DAY + 3_600_000);
engine.seed("Cover letter draft", 2, 10 * DAY);
window.__tallyFake = control;

mockWindows("main");
mockIPC(
  async (command, args) => {
    control.calls.push(command);
    return engine.handleAsync(command, (args ?? {}) as Record<string, unknown>);
  },
  { shouldMockEvents: true },
);
