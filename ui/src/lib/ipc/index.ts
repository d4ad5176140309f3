// The only module that talks to Tauri. Everything else imports these typed functions.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
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
  ExportResult,
  IpcError,
  KeyStatusView,
  KeyTestResult,
  LedgerQuery,
  LedgerRowView,
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
  TitleView,
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

function channel(onEvent: (event: ChatEvent) => void): Channel<ChatEvent> {
  const channel = new Channel<ChatEvent>();
  channel.onmessage = onEvent;
  return channel;
}

export const ipc = {
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
  conversationPin: (id: number, pinned: boolean) =>
    call<ConversationSummary>("conversation_pin", { id, pinned }),
  conversationTrash: (id: number) => call<ConversationSummary>("conversation_trash", { id }),
  conversationRestore: (id: number) => call<ConversationSummary>("conversation_restore", { id }),
  trashList: () => call<ConversationSummary[]>("trash_list"),
  trashDelete: (id: number) => call<ConversationSummary[]>("trash_delete", { id }),
  trashEmpty: () => call<number>("trash_empty"),
  conversationGet: (id: number) => call<ConversationView>("conversation_get", { id }),
  conversationSwitch: (conversationId: number, messageId: number) =>
    call<ConversationView>("conversation_switch", { conversationId, messageId }),
  messageDelete: (messageId: number) => call<ConversationView>("message_delete", { messageId }),
  conversationSettingsSet: (id: number, settings: ConversationSettings) =>
    call<ConversationView>("conversation_settings_set", { id, settings }),
  personaList: () => call<PersonaView[]>("persona_list"),
  personaSave: (persona: PersonaInput) => call<PersonaView[]>("persona_save", { persona }),
  personaDelete: (id: number) => call<PersonaView[]>("persona_delete", { id }),
  conversationSearch: (query: string) => call<SearchView>("conversation_search", { query }),
  keyStatus: () => call<KeyStatusView>("key_status"),
  keySet: (key: string) => call<KeyStatusView>("key_set", { key }),
  keyDelete: () => call<KeyStatusView>("key_delete"),
  keyTest: () => call<KeyTestResult>("key_test"),
  settingsGet: () => call<SettingsView>("settings_get"),
  settingsSet: (update: SettingsUpdate) => call<SettingsView>("settings_set", { update }),
  linkOpen: (url: string) => call<void>("link_open", { url }),
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
};
