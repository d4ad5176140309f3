// Shared by the UI's unit tests: the IPC's shapes filled in as the engine fills them.
import type { ChatEvent, ConversationSettings, MessageView, ReplyUsage } from "../../lib/ipc";
import { HistoryState } from "../history/history.svelte";
import { ChatState } from "./chat.svelte";

/** A chat wired as the app wires it, with the sidebar's list of conversations beside it. */
export function chatWithHistory(): { chat: ChatState; history: HistoryState } {
  const history = new HistoryState();
  return { chat: new ChatState(history), history };
}

/** A chat for tests that do not look at the list of conversations. */
export function newChatState(): ChatState {
  return chatWithHistory().chat;
}

/** The settings of a new chat when Settings has not changed them. */
export const DEFAULT_CHAT_SETTINGS: ConversationSettings = {
  model: "gpt-4o-mini",
  systemPrompt: null,
  options: {
    temperature: null,
    topP: null,
    maxOutputTokens: null,
    presencePenalty: null,
    frequencyPenalty: null,
    reasoningEffort: null,
    webSearch: false,
    tools: [],
    replyFormat: "text",
    jsonSchema: null,
  },
};

/** A request's usage when a test does not look at it. */
export const NO_USAGE: ReplyUsage = {
  promptTokens: 0,
  cachedTokens: 0,
  completionTokens: 0,
  reasoningTokens: 0,
  webSearches: 0,
  estimated: false,
};

/** Message `id`, the reply to message `id - 1` (the first has no parent), complete. */
export function message(
  id: number,
  role: "user" | "assistant",
  content: string,
  extra: Partial<MessageView> = {},
): MessageView {
  return {
    id,
    parentId: id - 1 || null,
    role,
    content,
    status: "complete",
    finishReason: role === "assistant" ? "stop" : null,
    model: null,
    errorCode: null,
    errorMessage: null,
    createdAt: 0,
    costNanos: null,
    priceUnknown: false,
    siblingIds: [],
    endpoint: role === "assistant" ? "chat" : null,
    thinking: null,
    citations: [],
    usage: null,
    toolCalls: [],
    jsonCheck: null,
    attachments: [],
    ...extra,
  };
}

/** The `started` event of a reply in conversation 7: message 2 answering message 1. */
export function startedEvent(
  extra: Partial<Extract<ChatEvent, { type: "started" }>> = {},
): ChatEvent {
  return {
    type: "started",
    userText: null,
    conversationId: 7,
    userMessageId: 1,
    assistantMessageId: 2,
    title: "Hello there",
    droppedMessages: 0,
    thinksForMinutes: false,
    kind: "send",
    ...extra,
  };
}
