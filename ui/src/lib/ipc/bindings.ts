// Generated from crates/tally-core/src/api.rs by `cargo xtask bindings`. Do not edit.

export type ChatEvent = { "type": "started", conversationId: number, userMessageId: number, assistantMessageId: number, title: string, kind: StartKind, } | { "type": "delta", text: string, } | { "type": "retrying", attempt: number, inMs: number, reason: string, } | { "type": "usage", promptTokens: number, cachedTokens: number, completionTokens: number, reasoningTokens: number, } | { "type": "done", status: MessageStatus, finishReason: string | null, 
/**
 * nano-USD; `null` when the model's price is unknown.
 */
cost: number | null, estimated: boolean, } | { "type": "failed", status: MessageStatus, code: ErrorCode, message: string, };

export type StartKind = "send" | "retry" | "continue";

export type ErrorCode = "missing_api_key" | "invalid_api_key" | "keychain_unavailable" | "rate_limited" | "quota_exhausted" | "budget_exceeded" | "context_too_long" | "model_not_found" | "network" | "timeout" | "server_error" | "invalid_input" | "storage";

export type IpcError = { code: ErrorCode, message: string, };

export type MessageStatus = "streaming" | "complete" | "stopped" | "interrupted" | "error";

export type Role = "system" | "user" | "assistant";

export type ConversationSummary = { id: number, title: string, model: string, updatedAt: number, };

export type MessageView = { id: number, parentId: number | null, role: Role, content: string, status: MessageStatus, finishReason: string | null, model: string | null, errorCode: string | null, errorMessage: string | null, createdAt: number, };

export type ConversationView = { conversation: ConversationSummary, 
/**
 * The branch on screen, oldest first.
 */
messages: Array<MessageView>, };

export type KeySource = "keychain" | "environment" | "none";

export type KeyStatusView = { source: KeySource, lastFour: string | null, 
/**
 * Why the keychain cannot be used, in plain words, when it cannot.
 */
keychainProblem: string | null, };

export type KeyTestResult = { 
/**
 * Chat models the key can use, for the model picker.
 */
models: Array<string>, };

export type SettingsView = { defaultModel: string, apiBase: string, 
/**
 * `TALLY_API_BASE` is set and overrides `api_base` for this run.
 */
apiBaseFromEnv: boolean, onboarded: boolean, };

export type SettingsUpdate = { defaultModel?: string, apiBase?: string, onboarded?: boolean, };

export type SendRequest = { 
/**
 * `null` starts a new conversation.
 */
conversationId: number | null, text: string, 
/**
 * Model for a new conversation; the default model when absent.
 */
model?: string, };
