// The only module that talks to Tauri. Everything else imports these typed functions.
import { Channel, invoke } from "@tauri-apps/api/core";
import type {
  ChatEvent,
  ConversationSummary,
  ConversationView,
  IpcError,
  KeyStatusView,
  KeyTestResult,
  SendRequest,
  SettingsUpdate,
  SettingsView,
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
  chatRetry(conversationId: number, onEvent: (event: ChatEvent) => void): Promise<void> {
    return call("chat_retry", { conversationId, onEvent: channel(onEvent) });
  },
  chatContinue(conversationId: number, onEvent: (event: ChatEvent) => void): Promise<void> {
    return call("chat_continue", { conversationId, onEvent: channel(onEvent) });
  },
  chatStop: (conversationId: number) => call<boolean>("chat_stop", { conversationId }),
  conversationList: () => call<ConversationSummary[]>("conversation_list"),
  conversationGet: (id: number) => call<ConversationView>("conversation_get", { id }),
  keyStatus: () => call<KeyStatusView>("key_status"),
  keySet: (key: string) => call<KeyStatusView>("key_set", { key }),
  keyDelete: () => call<KeyStatusView>("key_delete"),
  keyTest: () => call<KeyTestResult>("key_test"),
  settingsGet: () => call<SettingsView>("settings_get"),
  settingsSet: (update: SettingsUpdate) => call<SettingsView>("settings_set", { update }),
  linkOpen: (url: string) => call<void>("link_open", { url }),
};
