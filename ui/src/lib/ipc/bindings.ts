// Generated from crates/tally-core/src/api.rs by `cargo xtask bindings`. Do not edit.

export type ChatEvent = { "type": "started", conversationId: number, userMessageId: number, assistantMessageId: number, title: string, kind: StartKind, 
/**
 * The user message's text when the engine wrote it (a summary's request); the
 * UI has the text of a message the user wrote.
 */
userText: string | null, 
/**
 * The oldest messages left out so the request fits the model's context window.
 */
droppedMessages: number, 
/**
 * The model may think for many minutes before it answers (a pro model).
 */
thinksForMinutes: boolean, } | { "type": "delta", text: string, } | { "type": "thinking", text: string, } | { "type": "searching", query: string | null, } | { "type": "citation", url: string, title: string, } | { "type": "retrying", attempt: number, inMs: number, reason: string, } | { "type": "trimmed", 
/**
 * All the messages now left out (those of `Started` included).
 */
droppedMessages: number, } | { "type": "usage", promptTokens: number, cachedTokens: number, completionTokens: number, reasoningTokens: number, } | { "type": "toolCall", call: ToolCallView, } | { "type": "toolApproval", callId: string, atMost: number | null, } | { "type": "done", status: MessageStatus, finishReason: string | null, 
/**
 * nano-USD; `null` when the model's price is unknown.
 */
cost: number | null, estimated: boolean, 
/**
 * The API that wrote the reply: `chat` or `responses`.
 */
endpoint: string, 
/**
 * What this request used, as its ledger row has it.
 */
usage: ReplyUsage, 
/**
 * The model Tally has no price for, whose price it asks under this reply (once
 * per model).
 */
askPriceOf: string | null, } | { "type": "failed", status: MessageStatus, code: ErrorCode, message: string, };

export type StartKind = "send" | "retry" | "continue" | "edit" | "summary";

export type ErrorCode = "missing_api_key" | "invalid_api_key" | "keychain_unavailable" | "key_not_sent" | "rate_limited" | "quota_exhausted" | "budget_exceeded" | "context_too_long" | "model_not_found" | "network" | "timeout" | "server_error" | "invalid_input" | "not_found" | "file_failed" | "storage" | "disk_full" | "busy" | "internal" | "tool_rounds" | "open_failed" | "update_failed" | "attachment_refused" | "model_without_vision" | "pdf_without_text" | "sync_unreachable" | "sync_too_slow" | "sync_refused" | "sync_full" | "sync_wrong_passphrase" | "sync_newer_version";

export type IpcError = { code: ErrorCode, message: string, };

export type MessageStatus = "streaming" | "complete" | "stopped" | "interrupted" | "error";

export type Role = "system" | "user" | "assistant";

export type ConversationSummary = { id: number, title: string, model: string, updatedAt: number, pinned: boolean, 
/**
 * When it went to the Trash (it is removed for good 30 days later).
 */
deletedAt: number | null, };

export type ConversationCursor = { updatedAt: number, id: number, };

export type ConversationListQuery = { 
/**
 * The `next` of the previous page; absent for the first page.
 */
after?: ConversationCursor, 
/**
 * At most this many recent conversations (default 100, at most 500).
 */
limit?: number, };

export type ConversationPage = { 
/**
 * Pinned conversations, on the first page only.
 */
pinned: Array<ConversationSummary>, 
/**
 * The rest, most recently active first.
 */
recent: Array<ConversationSummary>, 
/**
 * Where the next page starts; `None` when this was the last.
 */
next: ConversationCursor | null, };

export type MessageView = { id: number, parentId: number | null, role: Role, content: string, status: MessageStatus, finishReason: string | null, model: string | null, errorCode: string | null, errorMessage: string | null, createdAt: number, 
/**
 * What the requests for this reply cost, in nano-USD (`None` before any finished).
 */
costNanos: number | null, 
/**
 * Whether a request for this reply was of a model with no known price.
 */
priceUnknown: boolean, 
/**
 * This message and its siblings (regenerated replies, edited versions), oldest
 * first, for the `‹ 2/3 ›` switcher; empty when it has none.
 */
siblingIds: Array<number>, 
/**
 * A reply's API: `chat` or `responses` (none for older replies).
 */
endpoint: string | null, 
/**
 * The model's summary of its reasoning, when it gave one.
 */
thinking: string | null, 
/**
 * The web pages the reply cites.
 */
citations: Array<CitationView>, 
/**
 * What the requests for this reply used (`None` before any finished).
 */
usage: ReplyUsage | null, 
/**
 * The tools the reply called, in order, with their results.
 */
toolCalls: Array<ToolCallView>, 
/**
 * A reply asked for in JSON, checked when it ended (`null` for text replies).
 */
jsonCheck: JsonCheckView | null, 
/**
 * What a user message carries, in the order attached.
 */
attachments: Array<AttachmentView>, };

export type AttachmentKind = "image" | "file";

export type AttachmentView = { id: number, kind: AttachmentKind, 
/**
 * The file's name as chosen.
 */
name: string, mime: string, 
/**
 * What is kept and sent (a picture after scaling), in bytes.
 */
sizeBytes: number, 
/**
 * A picture's size as sent, in pixels.
 */
width: number | null, height: number | null, 
/**
 * A PDF's pages (its text is what is sent).
 */
pages: number | null, };

export type AttachmentInput = { name: string, dataBase64: string, };

export type AddedAttachment = { attachment: AttachmentView, 
/**
 * Its input tokens for the model asked about.
 */
tokens: number, 
/**
 * Those tokens at the model's input rate (`None`: its price is unknown).
 */
costNanos: number | null, };

export type AttachmentContent = { mime: string, dataBase64: string, };

export type AttachmentRef = { id: number, name: string, };

export type CitationView = { url: string, title: string, };

export type ReplyUsage = { promptTokens: number, cachedTokens: number, 
/**
 * Output tokens, the model's reasoning included.
 */
completionTokens: number, 
/**
 * The part of `completion_tokens` the model spent thinking.
 */
reasoningTokens: number, 
/**
 * Billed web search calls.
 */
webSearches: number, 
/**
 * Some of the figures were estimated (the API reported no usage).
 */
estimated: boolean, };

export type ConversationView = { conversation: ConversationSummary, 
/**
 * Its model, system prompt and request settings.
 */
settings: ConversationSettings, 
/**
 * The branch on screen, oldest first: all of it, or its last messages when only
 * those were asked for.
 */
messages: Array<MessageView>, 
/**
 * How many messages of the branch come before `messages` (0: the whole branch).
 */
earlierCount: number, 
/**
 * Everything this conversation cost, in nano-USD (known prices only).
 */
costNanos: number, };

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
apiBaseFromEnv: boolean, onboarded: boolean, 
/**
 * What a new chat starts with (its model is `default_model`).
 */
chatDefaults: ConversationSettings, 
/**
 * New conversations get a short title from a model after the first reply.
 */
autoTitles: boolean, 
/**
 * Tally asks its update server once a day whether a new version is out.
 */
updateChecks: boolean, };

export type AboutView = { 
/**
 * The app's version, as its packages and updates number it.
 */
version: string, 
/**
 * The day the shipped prices were checked (`YYYY-MM-DD`).
 */
pricesCheckedOn: string, 
/**
 * The folder of the database and its backups.
 */
dataDir: string, };

export type UpdateView = { 
/**
 * The version running now.
 */
current: string, 
/**
 * A newer version, if there is one.
 */
available: AvailableUpdate | null, };

export type AvailableUpdate = { version: string, 
/**
 * What is new, in words (plain text, bounded).
 */
notes: string | null, 
/**
 * The day it was published (`YYYY-MM-DD`).
 */
date: string | null, };

export type UpdateProgress = { downloaded: number, 
/**
 * The package's size, when the server says it.
 */
total: number | null, };

export type SettingsUpdate = { defaultModel?: string, apiBase?: string, onboarded?: boolean, 
/**
 * New defaults for new chats; their model becomes the default model.
 */
chatDefaults?: ConversationSettings, autoTitles?: boolean, updateChecks?: boolean, };

export type ChatOptions = { 
/**
 * 0 (focused) to 2 (most varied).
 */
temperature: number | null, 
/**
 * 0 to 1.
 */
topP: number | null, 
/**
 * At most this many tokens per reply (also what the budget holds for a request).
 */
maxOutputTokens: number | null, 
/**
 * −2 to 2.
 */
presencePenalty: number | null, 
/**
 * −2 to 2.
 */
frequencyPenalty: number | null, 
/**
 * How long a reasoning model may think; `null`: the model's default.
 */
reasoningEffort: ReasoningEffort | null, 
/**
 * Let the model search the web (Responses): up to `MAX_WEB_SEARCHES` billed calls
 * per reply.
 */
webSearch: boolean, 
/**
 * The MCP tools the model may call (none: no tools).
 */
tools: Array<ToolRef>, 
/**
 * How the model writes its reply: text, or JSON (matching `json_schema`).
 */
replyFormat: ReplyFormat, 
/**
 * The JSON Schema replies must match (as the user pasted it), with `json_schema`.
 */
jsonSchema: string | null, };

export type ReasoningEffort = "none" | "minimal" | "low" | "medium" | "high" | "xhigh";

export type ConversationSettings = { model: string, systemPrompt: string | null, options: ChatOptions, };

export type PersonaView = { id: number, name: string, prompt: string, };

export type PersonaInput = { id?: number, name: string, prompt: string, };

export type SendRequest = { 
/**
 * `null` starts a new conversation.
 */
conversationId: number | null, text: string, 
/**
 * Model for a new conversation; the default model when absent.
 */
model?: string, 
/**
 * "Send this one anyway": let this request past the budget's hard stop.
 */
allowOverBudget?: boolean, 
/**
 * The user message this text replaces (an edit): sent as a new branch beside it.
 */
editOf?: number, 
/**
 * Settings of a new conversation (the defaults when absent); they take precedence
 * over `model`.
 */
settings?: ConversationSettings, 
/**
 * What the message carries (kept by `attachment_add`), in order.
 */
attachments?: Array<AttachmentRef>, };

export type SearchHitView = { conversationId: number, conversationTitle: string, 
/**
 * `null` when the title matched.
 */
messageId: number | null, 
/**
 * The matching part; matched words are between U+E000 and U+E001.
 */
snippet: string, createdAt: number, };

export type SearchView = { hits: Array<SearchHitView>, 
/**
 * Message hits by relevance; `false` for a very common word (newest first).
 */
byRelevance: boolean, };

export type MeterLevel = "none" | "calm" | "notice" | "warning" | "over";

export type BudgetView = { monthlyNanos: number, resetDay: number, thresholds: Array<number>, hardStop: boolean, };

export type BudgetInput = { amount: string, resetDay: number, thresholds: Array<number>, hardStop: boolean, };

export type BudgetAlertView = { threshold: number, firedAt: number, 
/**
 * What the banner and the OS notification say.
 */
message: string, };

export type SpendView = { 
/**
 * The budget month (the calendar month with no budget), UTC epoch ms, `[start, end)`.
 */
periodStart: number, periodEnd: number, 
/**
 * The period's last day, `YYYY-MM-DD` in the user's time zone.
 */
lastDay: string, spentNanos: number, 
/**
 * The part of `spent_nanos` estimated with the tokenizer.
 */
estimatedNanos: number, 
/**
 * Requests of models with no known price this period (metered in tokens only).
 */
unpricedRequests: number, requests: number, 
/**
 * At this pace, what the period will have cost by its end.
 */
projectedNanos: number, budget: BudgetView | null, level: MeterLevel, 
/**
 * Alerts of this period not yet dismissed, lowest threshold first.
 */
alerts: Array<BudgetAlertView>, 
/**
 * The day the shipped prices were checked.
 */
pricesCheckedOn: string, };

export type PriceView = { model: string, inputNanos: number, cachedInputNanos: number | null, outputNanos: number, contextWindow: number, maxOutput: number, userSet: boolean, };

export type PricesView = { checkedOn: string, models: Array<PriceView>, 
/**
 * Models used that have no price (the UI prompts the user to set one).
 */
unpricedModels: Array<string>, };

export type ModelView = { 
/**
 * The id the API takes (the option's value).
 */
id: string, 
/**
 * In the catalog or priced by the user; `false`: price unknown, metered in tokens.
 */
known: boolean, 
/**
 * Its price in words, e.g. "$0.75 in, $4.50 out per million tokens".
 */
priceWords: string | null, 
/**
 * Thinks before it answers.
 */
reasoning: boolean, 
/**
 * The reasoning efforts it accepts, least first (`none` … `xhigh`).
 */
efforts: Array<string>, 
/**
 * Served only by the Responses API.
 */
responsesOnly: boolean, contextWindow: number | null, };

export type ModelsView = { 
/**
 * Known models first (newest first), then the ones the catalog does not know.
 */
models: Array<ModelView>, 
/**
 * The list is the one `GET /models` gave for the key.
 */
fromKey: boolean, 
/**
 * The day the catalog was checked.
 */
checkedOn: string, 
/**
 * What a reply's web searches may cost: at most this many calls, each this fee.
 */
webSearch: WebSearchView, };

export type PriceInput = { model: string, input: string, 
/**
 * Empty: no cached rate (cached tokens billed at the input rate).
 */
cachedInput: string, output: string, contextWindow: number, maxOutput: number, };

export type DraftEstimate = { model: string, 
/**
 * Exact input tokens of the conversation's branch and the draft, before any oldest
 * turns are left out to fit the context window (the header shows it against it).
 */
inputTokens: number, 
/**
 * Of `input_tokens`, what the definitions of the tools offered add to every request
 * ("tools add 2,140 tokens to every message").
 */
toolsTokens: number, contextWindow: number | null, 
/**
 * The longest reply allowed: the conversation's limit, or the model's most.
 */
maxOutputTokens: number | null, 
/**
 * The cost with no output at all, and with every output token allowed; `None`
 * when the model's price is unknown.
 */
minCostNanos: number | null, maxCostNanos: number | null, 
/**
 * Costly enough that the user should confirm (a large paste, say).
 */
unusual: boolean, 
/**
 * The model's long-prompt tier, on the models that have one.
 */
longPrompt: LongPromptView | null, 
/**
 * With web search on: the searches a reply may run and the fee of each, counted in
 * `max_cost_nanos` (with what they may read).
 */
webSearch: WebSearchView | null, 
/**
 * Of `input_tokens`, each draft attachment's, in the order asked (its chip shows it).
 */
attachmentTokens: Array<number>, 
/**
 * Why the draft's attachments cannot be sent to this model (a picture for a model
 * that takes none; one no longer kept), in words; sending would be refused so.
 */
attachmentProblem: string | null, };

export type LongPromptView = { 
/**
 * Past this many input tokens the whole request bills at the higher tier.
 */
overInputTokens: number, 
/**
 * The higher tier's rates, in percent of the usual ones (200: twice as much).
 */
inputPercent: number, outputPercent: number, 
/**
 * This request is past the line: the costs above are at the higher tier.
 */
crossed: boolean, };

export type WebSearchView = { maxCalls: number, feeNanos: number, };

export type DraftRequest = { conversationId: number | null, 
/**
 * The model of a new conversation; the default model when absent.
 */
model?: string, text: string, 
/**
 * The tools chosen for a new conversation; its defaults' when absent.
 */
tools?: Array<ToolRef>, 
/**
 * The draft's attachments (kept ones), counted with it.
 */
attachments?: Array<AttachmentRef>, };

export type SpendBar = { 
/**
 * The first day of the bar, `YYYY-MM-DD` in the user's time zone.
 */
label: string, start: number, costNanos: number, requests: number, unpriced: number, };

export type ModelSpendView = { model: string, requests: number, promptTokens: number, cachedTokens: number, completionTokens: number, reasoningTokens: number, costNanos: number, unpriced: number, 
/**
 * Web search calls (their fees are part of `cost_nanos`).
 */
webSearchCalls: number, };

export type ConversationSpendView = { conversationId: number, title: string, requests: number, costNanos: number, };

export type UsageReport = { spend: SpendView, days: Array<SpendBar>, months: Array<SpendBar>, byModel: Array<ModelSpendView>, topConversations: Array<ConversationSpendView>, 
/**
 * This month's web searches and their fees, shown apart (they are in the totals).
 */
webSearchCalls: number, webSearchFeesNanos: number, 
/**
 * What each computer that syncs spent this month (one row when there is no other).
 */
byComputer: Array<SyncDeviceView>, };

export type LedgerQuery = { from?: number, to?: number, model?: string, purpose?: string, status?: string, limit?: number, offset?: number, };

export type LedgerRowView = { id: number, createdAt: number, conversationId: number | null, conversationTitle: string | null, purpose: string, model: string, promptTokens: number, cachedTokens: number, 
/**
 * Prompt tokens written to the cache.
 */
cacheWriteTokens: number, completionTokens: number, reasoningTokens: number, webSearchCalls: number, costNanos: number | null, estimated: boolean, status: string, requestId: string | null, firstTokenMs: number | null, durationMs: number | null, };

export type ExportResult = { path: string, rows: number, };

export type ExportFormat = "markdown" | "json";

export type ExportRequest = { 
/**
 * One conversation; all of them (not the Trash) when absent.
 */
conversationId?: number, format: ExportFormat, };

export type ImportProgress = { done: number, total: number, };

export type ImportSource = "tally" | "chatgpt";

export type ImportSummary = { source: ImportSource, 
/**
 * Conversations added.
 */
imported: number, 
/**
 * Conversations left alone because an earlier import (or this app) has them.
 */
alreadyThere: number, 
/**
 * Messages added, every branch counted.
 */
messages: number, 
/**
 * Pictures, files and other parts that are not text, left out with a note.
 */
skippedParts: number, 
/**
 * Pictures brought in with their messages (ChatGPT's come with its export's `.zip`).
 */
pictures: number, 
/**
 * Conversations the file holds that could not be read.
 */
unreadable: number, };

export type TitleView = { conversationId: number, title: string, };

export type BackupKind = "daily" | "manual" | "before_upgrade" | "before_restore";

export type BackupView = { 
/**
 * What `backup_restore` takes.
 */
name: string, createdAt: number, kind: BackupKind, 
/**
 * For a backup made before an upgrade: the schema version upgraded to.
 */
upgradeTo: number | null, sizeBytes: number, };

export type RecoveryNotice = { 
/**
 * What happened and what may be missing, in plain words.
 */
message: string, 
/**
 * Where the damaged file was kept.
 */
damagedCopy: string, };

export type McpTransport = { "kind": "stdio", command: string, args: Array<string>, 
/**
 * The server's own environment variables (shown to the user, kept in the database).
 */
env: { [key in string]: string }, cwd: string | null, } | { "kind": "http", url: string, };

export type McpStatus = "off" | "starting" | "ready" | "failed";

export type McpToolView = { name: string, title: string | null, description: string, readOnly: boolean, destructive: boolean, };

export type McpServerStateView = { id: number, status: McpStatus, tools: Array<McpToolView>, 
/**
 * Why it failed, in words.
 */
error: string | null, 
/**
 * The last lines its program wrote to stderr.
 */
stderr: Array<string>, };

export type McpServerView = { id: number, name: string, transport: McpTransport, enabled: boolean, hasToken: boolean, state: McpServerStateView, };

export type McpServerInput = { id?: number, name: string, transport: McpTransport, enabled: boolean, 
/**
 * A remote server's bearer token, for the keychain: absent keeps the stored one, an
 * empty text removes it.
 */
token?: string, };

export type McpSkippedView = { name: string, reason: string, };

export type McpImportView = { added: Array<string>, skipped: Array<McpSkippedView>, servers: Array<McpServerView>, };

export type ToolRef = { server: string, tool: string, };

export type ReplyFormat = "text" | "json" | "json_schema";

export type JsonCheckView = { isJson: boolean, matchesSchema: boolean | null, 
/**
 * What does not match, in the validator's words with where (at most 8).
 */
problems: Array<string>, };

export type ToolCallView = { 
/**
 * The API's id for the call.
 */
id: string, 
/**
 * Which request of the reply asked for it (0: the first).
 */
round: number, 
/**
 * Where in the reply's text the model asked (bytes of text written before).
 */
textOffset: number, server: string, tool: string, 
/**
 * The name the model called it by.
 */
function: string, 
/**
 * The arguments as the model wrote them (JSON, though the model may get it wrong).
 */
arguments: string, status: ToolCallStatus, 
/**
 * What the tool returned, or why it did not run (also what the model was told).
 */
result: string | null, 
/**
 * How long the tool took.
 */
durationMs: number | null, 
/**
 * The server's hints about the tool.
 */
readOnly: boolean, destructive: boolean, };

export type ToolCallStatus = "pending" | "running" | "done" | "error" | "denied";

export type ToolDecision = "once" | "always_here" | "always" | "deny";

export type ToolPermissionView = { id: number, server: string, tool: string, 
/**
 * The conversation it holds in; `null`: every conversation.
 */
conversationId: number | null, conversationTitle: string | null, };

export type SyncLocationInput = { "kind": "folder", path: string, } | { "kind": "webDav", url: string, username: string, password?: string, } | { "kind": "s3", endpoint: string, region: string, bucket: string, accessKeyId: string, secretAccessKey?: string, };

export type SyncSetupInput = { location: SyncLocationInput, passphrase: string, };

export type SyncStatus = "off" | "idle" | "syncing" | "error";

export type SyncDeviceView = { name: string, thisComputer: boolean, 
/**
 * When its files were last read here (none for this computer).
 */
lastSeen: number | null, spentNanos: number, requests: number, };

export type SyncView = { status: SyncStatus, 
/**
 * Where, without its secrets (kept after sync is turned off, to turn it on again).
 */
location: SyncLocationInput | null, lastSyncAt: number | null, 
/**
 * What the last sync did, in words ("Sent 4 changes; received 2 messages.").
 */
lastResult: string | null, 
/**
 * Why the last sync failed, or files that could not be read, in words.
 */
problem: string | null, devices: Array<SyncDeviceView>, 
/**
 * With a budget and more than one computer: how far their spending together can pass
 * it while all are offline, in words.
 */
overshoot: string | null, 
/**
 * Conversations, messages or spending that arrived in the last sync (the window
 * reloads its lists when this is above 0).
 */
received: number, };
