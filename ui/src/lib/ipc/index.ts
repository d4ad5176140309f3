// The only module that talks to Tauri. Everything else imports these typed functions.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { base64Of } from "../base64";
import type {
  AboutView,
  AddedAttachment,
  AttachmentContent,
  AttachmentInput,
  AvailableUpdate,
  BackupView,
  BudgetAlertView,
  BudgetInput,
  ChatEvent,
  ConversationListQuery,
  ConversationPage,
  ConversationSettings,
  ConversationSummary,
  ConversationView,
  DraftEstimate,
  DraftRequest,
  ExportRequest,
  ExportResult,
  ImportProgress,
  ImportSummary,
  IpcError,
  KeyStatusView,
  KeyTestResult,
  LedgerQuery,
  LedgerRowView,
  McpImportView,
  McpServerInput,
  McpServerStateView,
  McpServerView,
  ModelsView,
  PriceInput,
  PersonaInput,
  PersonaView,
  PricesView,
  RecoveryNotice,
  SearchView,
  SendRequest,
  SettingsUpdate,
  SettingsView,
  SpendView,
  SyncSetupInput,
  SyncView,
  TitleView,
  ToolDecision,
  ToolPermissionView,
  UpdateProgress,
  UpdateView,
  UsageReport,
} from "./bindings";

export type * from "./bindings";

/** Every rejected command carries an `IpcError`; anything else becomes one. */
export function asIpcError(error: unknown): IpcError {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    return error as IpcError;
  }
  return {
    code: "server_error",
    message: "Something unexpected went wrong inside Tally. Try again.",
  };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw asIpcError(error);
  }
}

/** Whether `start` (a file's first bytes) begins a zip: a local file header, or the end
 * record of an empty one. */
function startsAZip(start: Uint8Array): boolean {
  const [p, k, a, b] = start;
  return p === 0x50 && k === 0x4b && ((a === 3 && b === 4) || (a === 5 && b === 6));
}

/** Ends import `upload`: the engine reads what it received, the second half of the bar. */
async function runImport(
  upload: number,
  onProgress: (share: number) => void,
): Promise<ImportSummary> {
  const progress = new Channel<ImportProgress>();
  progress.onmessage = ({ done, total }) => onProgress(0.5 + (total ? (done / total) * 0.5 : 0.5));
  const summary = await call<ImportSummary>("import_run", { upload, onProgress: progress });
  onProgress(1);
  return summary;
}

function channel(onEvent: (event: ChatEvent) => void): Channel<ChatEvent> {
  const channel = new Channel<ChatEvent>();
  channel.onmessage = onEvent;
  return channel;
}

export const ipc = {
  /** Keeps a file for the draft (a picture scaled and stripped) and counts it for `model`. */
  attachmentAdd: (input: AttachmentInput, model: string) =>
    call<AddedAttachment>("attachment_add", { input, model }),
  /** Keeps the pages of a scanned PDF (one without text) as pictures, counted for `model`. */
  attachmentAddPdfPages: (input: AttachmentInput, model: string) =>
    call<AddedAttachment[]>("attachment_add_pdf_pages", { input, model }),
  /** A kept attachment's content (a picture to show larger, a file's text). */
  attachmentContent: (id: number) => call<AttachmentContent>("attachment_content", { id }),
  chatSend(request: SendRequest, onEvent: (event: ChatEvent) => void): Promise<void> {
    return call("chat_send", { request, onEvent: channel(onEvent) });
  },
  /** A new reply to the user message of `messageId` (the last reply when `null`). */
  chatRetry(
    conversationId: number,
    messageId: number | null,
    allowOverBudget: boolean,
    onEvent: (event: ChatEvent) => void,
  ): Promise<void> {
    return call("chat_retry", {
      conversationId,
      messageId,
      allowOverBudget,
      onEvent: channel(onEvent),
    });
  },
  chatContinue(
    conversationId: number,
    allowOverBudget: boolean,
    onEvent: (event: ChatEvent) => void,
  ): Promise<void> {
    return call("chat_continue", { conversationId, allowOverBudget, onEvent: channel(onEvent) });
  },
  /** Streams a summary of the conversation into a new one ("started" names it). */
  chatSummarize(
    conversationId: number,
    allowOverBudget: boolean,
    onEvent: (event: ChatEvent) => void,
  ): Promise<void> {
    return call("chat_summarize", {
      conversationId,
      allowOverBudget,
      onEvent: channel(onEvent),
    });
  },
  chatStop: (conversationId: number) => call<boolean>("chat_stop", { conversationId }),
  conversationList: (query: ConversationListQuery = {}) =>
    call<ConversationPage>("conversation_list", { query }),
  conversationRename: (id: number, title: string) =>
    call<ConversationSummary>("conversation_rename", { id, title }),
  conversationTitleHistory: (id: number) => call<string[]>("conversation_title_history", { id }),
  conversationPin: (id: number, pinned: boolean) =>
    call<ConversationSummary>("conversation_pin", { id, pinned }),
  conversationTrash: (id: number) => call<ConversationSummary>("conversation_trash", { id }),
  conversationRestore: (id: number) => call<ConversationSummary>("conversation_restore", { id }),
  trashList: () => call<ConversationSummary[]>("trash_list"),
  trashDelete: (id: number) => call<ConversationSummary[]>("trash_delete", { id }),
  trashEmpty: () => call<number>("trash_empty"),
  /** The last `tail` messages of the branch on screen, or all of them when `null`. */
  conversationGet: (id: number, tail: number | null) =>
    call<ConversationView>("conversation_get", { id, tail }),
  conversationSwitch: (conversationId: number, messageId: number) =>
    call<ConversationView>("conversation_switch", { conversationId, messageId }),
  messageDelete: (messageId: number) => call<ConversationView>("message_delete", { messageId }),
  conversationSettingsSet: (id: number, settings: ConversationSettings) =>
    call<ConversationView>("conversation_settings_set", { id, settings }),
  /** Checks what a new chat would start with; nothing is saved. */
  conversationSettingsCheck: (settings: ConversationSettings) =>
    call<ConversationSettings>("conversation_settings_check", { settings }),
  personaList: () => call<PersonaView[]>("persona_list"),
  personaSave: (persona: PersonaInput) => call<PersonaView[]>("persona_save", { persona }),
  personaDelete: (id: number) => call<PersonaView[]>("persona_delete", { id }),
  mcpServerList: () => call<McpServerView[]>("mcp_server_list"),
  /** Adds or changes an MCP server (its token goes to the keychain); starts it when enabled. */
  mcpServerSave: (server: McpServerInput) => call<McpServerView>("mcp_server_save", { server }),
  mcpServerRemove: (id: number) => call<McpServerView[]>("mcp_server_remove", { id }),
  mcpServerSetEnabled: (id: number, enabled: boolean) =>
    call<McpServerView>("mcp_server_set_enabled", { id, enabled }),
  mcpServerRestart: (id: number) => call<McpServerView>("mcp_server_restart", { id }),
  /** Adds the servers of a pasted `mcpServers` list. */
  mcpImportJson: (text: string) => call<McpImportView>("mcp_import_json", { text }),
  /** The user's word on a tool call the reply in `conversationId` waits on. */
  toolCallDecide: (conversationId: number, callId: string, decision: ToolDecision) =>
    call<void>("tool_call_decide", { conversationId, callId, decision }),
  toolPermissionList: () => call<ToolPermissionView[]>("tool_permission_list"),
  toolPermissionRevoke: (id: number) =>
    call<ToolPermissionView[]>("tool_permission_revoke", { id }),
  conversationSearch: (query: string) => call<SearchView>("conversation_search", { query }),
  /** Writes one conversation or all into the Downloads folder; returns the file. */
  conversationExport: (request: ExportRequest) =>
    call<ExportResult>("conversation_export", { request }),
  /**
   * Imports a Tally export, ChatGPT's conversations.json, or ChatGPT's whole export as its
   * .zip: the file goes to the engine in pieces of about 1 MB (ChatGPT's conversations.json
   * is imported as it arrives; a zip, in base64, is read once whole), then is finished
   * there. `onProgress` gets the share done, from 0 to 1.
   */
  async importFile(file: Blob, onProgress: (share: number) => void): Promise<ImportSummary> {
    const upload = await call<number>("import_begin");
    const isZip =
      (file instanceof File && /\.zip$/i.test(file.name)) ||
      startsAZip(new Uint8Array(await file.slice(0, 4).arrayBuffer()));
    if (isZip) {
      // A multiple of 3 bytes, so each piece's base64 stands alone.
      const PIECE = 3 << 20;
      for (let at = 0; at < file.size; at += PIECE) {
        const piece = await base64Of(file.slice(at, at + PIECE));
        await call("import_append_archive", { upload, piece });
        onProgress((Math.min(at + PIECE, file.size) / file.size) * 0.5);
      }
      return runImport(upload, onProgress);
    }
    const reader = file.stream().getReader();
    const decoder = new TextDecoder("utf-8");
    let piece = "";
    let read = 0;
    const size = Math.max(1, file.size);
    // Reading and sending are most of the time for a ChatGPT file; a Tally export is read
    // in the engine after (the second half of the bar).
    const PIECE = 1 << 20;
    for (;;) {
      const { done, value } = await reader.read();
      piece += decoder.decode(value, { stream: !done });
      if (value) read += value.byteLength;
      // A browser may hand over the whole file at once: it still goes in pieces.
      while (piece.length >= PIECE || (done && piece)) {
        let cut = Math.min(piece.length, PIECE);
        // Never between the two halves of a character outside the BMP (an emoji).
        const last = piece.charCodeAt(cut - 1);
        if (cut < piece.length && last >= 0xd800 && last <= 0xdbff) cut -= 1;
        await call("import_append", { upload, piece: piece.slice(0, cut) });
        piece = piece.slice(cut);
        onProgress((Math.min(read, size) / size) * 0.5);
      }
      if (done) break;
    }
    return runImport(upload, onProgress);
  },
  keyStatus: () => call<KeyStatusView>("key_status"),
  keySet: (key: string) => call<KeyStatusView>("key_set", { key }),
  keyDelete: () => call<KeyStatusView>("key_delete"),
  keyTest: () => call<KeyTestResult>("key_test"),
  modelsList: () => call<ModelsView>("models_list"),
  settingsGet: () => call<SettingsView>("settings_get"),
  settingsSet: (update: SettingsUpdate) => call<SettingsView>("settings_set", { update }),
  linkOpen: (url: string) => call<void>("link_open", { url }),
  appAbout: () => call<AboutView>("app_about"),
  dataFolderOpen: () => call<void>("data_folder_open"),
  updateCheck: () => call<UpdateView>("update_check"),
  /** Downloads, verifies and installs the update the last check found; Tally then restarts. */
  updateInstall: (onProgress: (progress: UpdateProgress) => void) => {
    const progress = new Channel<UpdateProgress>();
    progress.onmessage = onProgress;
    return call<void>("update_install", { onProgress: progress });
  },
  spendSummary: () => call<SpendView>("spend_summary"),
  budgetSet: (budget: BudgetInput) => call<SpendView>("budget_set", { budget }),
  budgetClear: () => call<SpendView>("budget_clear"),
  budgetAlertsDismiss: () => call<SpendView>("budget_alerts_dismiss"),
  pricesList: () => call<PricesView>("prices_list"),
  priceSet: (price: PriceInput) => call<PricesView>("price_set", { price }),
  priceReset: (model: string) => call<PricesView>("price_reset", { model }),
  costEstimate: (draft: DraftRequest) => call<DraftEstimate>("cost_estimate", { draft }),
  usageReport: () => call<UsageReport>("usage_report"),
  ledgerList: (query: LedgerQuery) => call<LedgerRowView[]>("ledger_list", { query }),
  ledgerExport: (query: LedgerQuery) => call<ExportResult>("ledger_export", { query }),
  backupList: () => call<BackupView[]>("backup_list"),
  backupCreate: () => call<BackupView>("backup_create"),
  backupRestore: (name: string) => call<BackupView>("backup_restore", { name }),
  recoveryGet: () => call<RecoveryNotice | null>("recovery_get"),
  recoveryDismiss: () => call<void>("recovery_dismiss"),
  syncGet: () => call<SyncView>("sync_get"),
  /** Turns sync on (checking the passphrase against the storage) and syncs. */
  syncEnable: (setup: SyncSetupInput) => call<SyncView>("sync_enable", { setup }),
  syncDisable: () => call<SyncView>("sync_disable"),
  syncNow: () => call<SyncView>("sync_now"),
};

/** App-wide notices from the engine. Each returns a function that stops listening. */
export const notices = {
  onSpendUpdated(handler: (spend: SpendView) => void): Promise<() => void> {
    return listen<SpendView>("spend_updated", (event) => handler(event.payload));
  },
  onBudgetAlert(handler: (alert: BudgetAlertView) => void): Promise<() => void> {
    return listen<BudgetAlertView>("budget_alert", (event) => handler(event.payload));
  },
  /** A model titled a new conversation after its first reply. */
  onConversationTitled(handler: (title: TitleView) => void): Promise<() => void> {
    return listen<TitleView>("conversation_titled", (event) => handler(event.payload));
  },
  /** Damage found in the stored data while the app runs (plain-language text). */
  onStorageProblem(handler: (message: string) => void): Promise<() => void> {
    return listen<string>("storage_problem", (event) => handler(event.payload));
  },
  /** An MCP server started, became ready, failed or stopped by itself. */
  onMcpServerChanged(handler: (state: McpServerStateView) => void): Promise<() => void> {
    return listen<McpServerStateView>("mcp_server_changed", (event) => handler(event.payload));
  },
  /** A sync started or ended, or sync was turned on or off. */
  onSyncChanged(handler: (view: SyncView) => void): Promise<() => void> {
    return listen<SyncView>("sync_changed", (event) => handler(event.payload));
  },
  /** The quiet daily check (if the person agreed to it) found a newer version. */
  onUpdateAvailable(handler: (offer: AvailableUpdate) => void): Promise<() => void> {
    return listen<AvailableUpdate>("update_available", (event) => handler(event.payload));
  },
};
