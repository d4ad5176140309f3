// Money and token figures for people. Amounts arrive as integer nano-USD and are only
// formatted here, never summed in floating point.
import type { DraftEstimate, MeterLevel, ReplyUsage, SpendView } from "../../lib/ipc";

const NANOS_PER_CENT = 10_000_000;

/** What a model priced by hand is assumed to read and write at most, until the person says
 * otherwise in Settings' price table. */
export const NEW_MODEL_LIMITS = { contextWindow: 128_000, maxOutput: 16_384 } as const;

/** The budget alerts a new budget gets: at half, 80 % and all of it. */
export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = [50, 80, 100];

/** `$3.42`; below a cent, enough digits that a tiny request does not read as free. */
export function formatUsd(nanos: number): string {
  const sign = nanos < 0 ? "-" : "";
  const abs = Math.abs(nanos);
  if (abs === 0 || abs >= NANOS_PER_CENT) {
    const cents = Math.floor((abs + NANOS_PER_CENT / 2) / NANOS_PER_CENT);
    const dollars = grouped(Math.floor(cents / 100));
    return `${sign}$${dollars}.${String(cents % 100).padStart(2, "0")}`;
  }
  // Would round to $0.00000: say it is tiny, never that it is free.
  if (abs < 5_000) return `<${sign}$0.00001`;
  const hundredThousandths = Math.floor((abs + 5_000) / 10_000);
  const digits = String(hundredThousandths).padStart(5, "0").replace(/0+$/, "");
  return `${sign}$0.${digits}`;
}

/** Dollars as a user would type them back into a form (`12.5`, `0.00005`). */
export function usdInput(nanos: number): string {
  const whole = Math.floor(nanos / 1e9);
  const fraction = String(nanos % 1e9)
    .padStart(9, "0")
    .replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : String(whole);
}

/**
 * `1,234,567`: digits in threes, as en-US writes them. Written out rather than through
 * `toLocaleString`, whose first call loads the locale data while the window opens.
 */
function grouped(whole: number): string {
  return String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function formatTokens(tokens: number): string {
  return grouped(tokens);
}

/** "the 30th" for `2026-11-30`. */
export function dayOfMonth(isoDate: string): string {
  const day = Number(isoDate.slice(8, 10));
  const suffix =
    day % 10 === 1 && day !== 11
      ? "st"
      : day % 10 === 2 && day !== 12
        ? "nd"
        : day % 10 === 3 && day !== 13
          ? "rd"
          : "th";
  return `the ${day}${suffix}`;
}

/** The meter's main line: "$3.42 of $10.00 this month", or the spend alone. */
export function meterText(spend: SpendView): string {
  const spent = formatUsd(spend.spentNanos);
  return spend.budget
    ? `${spent} of ${formatUsd(spend.budget.monthlyNanos)} this month`
    : `${spent} this month`;
}

/** "At this pace: ~$8.10 by the 30th", once there is a pace to speak of. */
export function projectionText(spend: SpendView): string | null {
  if (spend.spentNanos <= 0) return null;
  return `At this pace: ~${formatUsd(spend.projectedNanos)} by ${dayOfMonth(spend.lastDay)}`;
}

/** What the meter adds in words: estimated parts and unpriced requests. */
export function meterDetails(spend: SpendView): string[] {
  const details: string[] = [];
  if (spend.estimatedNanos > 0) {
    details.push(
      `${formatUsd(spend.estimatedNanos)} of it is estimated (replies that were cut off)`,
    );
  }
  if (spend.unpricedRequests > 0) {
    const n = spend.unpricedRequests;
    details.push(
      `${n} ${n === 1 ? "request" : "requests"} of a model with an unknown price, not included: set its price in Settings`,
    );
  }
  return details;
}

export function levelLabel(level: MeterLevel): string {
  switch (level) {
    case "over":
      return "over budget";
    case "warning":
      return "close to the budget";
    case "notice":
      return "past a budget alert";
    case "calm":
      return "within budget";
    case "none":
      return "no budget set";
  }
}

/** The line under the composer: "About 1,234 tokens in · $0.0002 to $0.0100". */
export function estimateText(estimate: DraftEstimate): string {
  const tokens = `${formatTokens(estimate.inputTokens)} tokens to send`;
  if (estimate.minCostNanos === null || estimate.maxCostNanos === null) {
    return `${tokens} · price unknown for ${estimate.model}`;
  }
  return `${tokens} · ${formatUsd(estimate.minCostNanos)} to ${formatUsd(estimate.maxCostNanos)}`;
}

/**
 * The web searches a reply may run, counted in the estimate's upper end:
 * "Includes up to 3 web searches at $0.01 each." `null` without web search.
 */
export function webSearchText(estimate: DraftEstimate): string | null {
  const search = estimate.webSearch;
  if (!search) return null;
  const calls = search.maxCalls === 1 ? "1 web search" : `${search.maxCalls} web searches`;
  return `The upper end includes up to ${calls} at ${formatUsd(search.feeNanos)} each.`;
}

/** This month's web searches on the usage page; their fees are in the totals. */
export function searchFeesText(calls: number, feesNanos: number): string {
  const searches = calls === 1 ? "1 web search" : `${calls} web searches`;
  return `${searches} this month: ${formatUsd(feesNanos)} in search fees (included above; what the model read from the pages is billed as input tokens).`;
}

/**
 * A reply's cost and what it is made of: "Cost: $0.0123 · 1,234 tokens in (1,000 cached)
 * · 456 out, 320 of them thinking · 1 web search". Reasoning tokens are billed as output,
 * so they are shown inside it.
 */
export function replyCostText(
  costNanos: number | null,
  priceUnknown: boolean,
  usage: ReplyUsage | null,
): string | null {
  const cost = priceUnknown
    ? "Cost: price unknown (set it in Settings)"
    : costNanos !== null
      ? `Cost: ${formatUsd(costNanos)}${usage?.estimated ? " (estimated)" : ""}`
      : null;
  if (cost === null || !usage) return cost;
  const parts = [cost];
  const cached = usage.cachedTokens ? ` (${formatTokens(usage.cachedTokens)} cached)` : "";
  parts.push(`${formatTokens(usage.promptTokens)} tokens in${cached}`);
  const thinking = usage.reasoningTokens
    ? `, ${formatTokens(usage.reasoningTokens)} of them thinking`
    : "";
  parts.push(`${formatTokens(usage.completionTokens)} out${thinking}`);
  if (usage.webSearches) {
    parts.push(usage.webSearches === 1 ? "1 web search" : `${usage.webSearches} web searches`);
  }
  return parts.join(" · ");
}

/** How much nearer than the line a draft must be for the estimate to warn of it. */
const LONG_PROMPT_WARNING_SHARE = 0.9;

/**
 * The long-prompt jump in words, once the draft is near the line or past it: past it the
 * whole request, not only the part over the line, costs more. `null` when far from it.
 */
export function longPromptText(estimate: DraftEstimate): string | null {
  const tier = estimate.longPrompt;
  if (!tier) return null;
  const times = (percent: number) =>
    percent === 200 ? "twice as much" : `${(percent / 100).toLocaleString("en-US")} times as much`;
  const rates = `${times(tier.inputPercent)} for what is sent and ${times(tier.outputPercent)} for the reply`;
  const line = formatTokens(tier.overInputTokens);
  if (tier.crossed) {
    return `Over ${line} tokens, this message makes the whole request cost ${rates}.`;
  }
  if (estimate.inputTokens < tier.overInputTokens * LONG_PROMPT_WARNING_SHARE) return null;
  const left = formatTokens(tier.overInputTokens - estimate.inputTokens);
  return `${left} tokens more and the whole request costs ${rates}.`;
}

/** Whether the draft is longer than the model can read. */
export function tooLong(estimate: DraftEstimate): boolean {
  return estimate.contextWindow !== null && estimate.inputTokens > estimate.contextWindow;
}

/** About 500 words: what people picture as "a page". */
const PAGE_OF_REPLY_TOKENS = 700;

/** What a page of reply costs with a model, in words for someone new to tokens
 * ("less than a cent for a page of reply"); `outputNanos` is per million tokens. */
export function pagePriceInWords(outputNanos: number | null): string {
  if (outputNanos === null) return "Tally does not know this model's price yet";
  const nanos = Math.ceil((outputNanos * PAGE_OF_REPLY_TOKENS) / 1_000_000);
  if (nanos < NANOS_PER_CENT / 10) return "less than a tenth of a cent for a page of reply";
  if (nanos < NANOS_PER_CENT) return "less than a cent for a page of reply";
  return `about ${formatUsd(nanos)} for a page of reply`;
}

/** Token counts for a tight space: 950, 12.3k, 128k, 1.05M. */
export function compactTokens(tokens: number): string {
  if (tokens < 1_000) return String(tokens);
  if (tokens < 1_000_000) {
    const k = tokens / 1_000;
    return `${k < 100 ? Number(k.toFixed(1)) : Math.round(k)}k`;
  }
  return `${Number((tokens / 1_000_000).toFixed(2))}M`;
}
