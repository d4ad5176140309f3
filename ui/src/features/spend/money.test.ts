import { describe, expect, it } from "vitest";
import usdCases from "./usd-cases.json";
import type { DraftEstimate, SpendView } from "../../lib/ipc";
import {
  compactTokens,
  pagePriceInWords,
  dayOfMonth,
  estimateText,
  formatTokens,
  formatUsd,
  meterDetails,
  meterText,
  projectionText,
  replyCostText,
  tooLong,
  usdInput,
  webSearchText,
} from "./money";

export function spendView(overrides: Partial<SpendView> = {}): SpendView {
  return {
    periodStart: 0,
    periodEnd: 1,
    lastDay: "2026-11-30",
    spentNanos: 3_420_000_000,
    estimatedNanos: 0,
    unpricedRequests: 0,
    requests: 12,
    projectedNanos: 8_100_000_000,
    budget: {
      monthlyNanos: 10_000_000_000,
      resetDay: 1,
      thresholds: [50, 80, 100],
      hardStop: false,
    },
    level: "calm",
    alerts: [],
    pricesCheckedOn: "2026-11-01",
    ...overrides,
  };
}

describe("money for people", () => {
  it("formats nano-USD exactly as the engine does", () => {
    // tally-spend's FORMAT_CASES, written out by its test: one table for both sides.
    expect(usdCases.length).toBeGreaterThan(10);
    for (const [nanos, text] of usdCases as [number, string][]) {
      expect(formatUsd(nanos), String(nanos)).toBe(text);
    }
  });

  it("gives amounts back as a user would type them", () => {
    expect(usdInput(20_000_000_000)).toBe("20");
    expect(usdInput(12_500_000_000)).toBe("12.5");
    expect(usdInput(50_000)).toBe("0.00005");
  });

  it("says the day of the month in words", () => {
    const days: [string, string][] = [
      ["2026-11-01", "the 1st"],
      ["2026-11-02", "the 2nd"],
      ["2026-11-03", "the 3rd"],
      ["2026-11-11", "the 11th"],
      ["2026-11-12", "the 12th"],
      ["2026-11-22", "the 22nd"],
      ["2026-11-30", "the 30th"],
      ["2026-12-31", "the 31st"],
    ];
    for (const [date, words] of days) expect(dayOfMonth(date)).toBe(words);
  });

  it("writes the meter's lines", () => {
    const view = spendView();
    expect(meterText(view)).toBe("$3.42 of $10.00 this month");
    expect(projectionText(view)).toBe("At this pace: ~$8.10 by the 30th");
    expect(meterText(spendView({ budget: null }))).toBe("$3.42 this month");
    expect(projectionText(spendView({ spentNanos: 0 }))).toBeNull();
    expect(meterDetails(view)).toEqual([]);
    const details = meterDetails(spendView({ estimatedNanos: 20_000_000, unpricedRequests: 2 }));
    expect(details[0]).toContain("$0.02 of it is estimated");
    expect(details[1]).toContain("2 requests of a model with an unknown price");
  });

  it("writes the pre-send estimate", () => {
    const estimate: DraftEstimate = {
      model: "gpt-4o-mini",
      toolsTokens: 0,
      inputTokens: 1234,
      contextWindow: 128_000,
      maxOutputTokens: 16_384,
      minCostNanos: 185_100,
      maxCostNanos: 10_015_500,
      unusual: false,
      longPrompt: null,
      webSearch: null,
      attachmentTokens: [],
      attachmentProblem: null,
    };
    expect(estimateText(estimate)).toBe("1,234 tokens to send · $0.00019 to $0.01");
    expect(tooLong(estimate)).toBe(false);
    expect(tooLong({ ...estimate, inputTokens: 200_000 })).toBe(true);
    expect(
      estimateText({ ...estimate, minCostNanos: null, maxCostNanos: null, model: "llama3" }),
    ).toBe("1,234 tokens to send · price unknown for llama3");
  });
});

describe("a reply's cost and what it is made of", () => {
  const usage = {
    promptTokens: 1_234,
    cachedTokens: 0,
    completionTokens: 456,
    reasoningTokens: 0,
    webSearches: 0,
    estimated: false,
  };
  it.each([
    [null, false, null, null],
    [null, true, null, "Cost: price unknown (set it in Settings)"],
    [42_000, false, null, "Cost: $0.00004"],
    [42_000, false, usage, "Cost: $0.00004 · 1,234 tokens in · 456 out"],
    [
      42_000,
      false,
      { ...usage, cachedTokens: 1_000, reasoningTokens: 320, webSearches: 2, estimated: true },
      "Cost: $0.00004 (estimated) · 1,234 tokens in (1,000 cached) · 456 out, 320 of them thinking · 2 web searches",
    ],
  ] as const)("%s nano-USD, unknown price %s, usage %o: %s", (cost, unknown, used, text) => {
    expect(replyCostText(cost, unknown, used)).toBe(text);
  });

  it("the estimate says its upper end counts the searches a reply may run", () => {
    const estimate: DraftEstimate = {
      model: "gpt-5.4-mini",
      toolsTokens: 0,
      inputTokens: 10,
      contextWindow: 400_000,
      maxOutputTokens: 128_000,
      minCostNanos: 7_500,
      maxCostNanos: 600_000_000,
      unusual: false,
      longPrompt: null,
      webSearch: null,
      attachmentTokens: [],
      attachmentProblem: null,
    };
    expect(webSearchText(estimate)).toBeNull();
    expect(webSearchText({ ...estimate, webSearch: { maxCalls: 3, feeNanos: 10_000_000 } })).toBe(
      "The upper end includes up to 3 web searches at $0.01 each.",
    );
  });
});

describe("a page of reply, in words", () => {
  it.each([
    // Output prices per million tokens, in nano-USD.
    [600_000_000, "less than a tenth of a cent for a page of reply"], // gpt-4o-mini
    [1_428_570_000, "less than a tenth of a cent for a page of reply"], // just under 0.1 ¢
    [1_428_572_000, "less than a cent for a page of reply"], // just over
    [10_000_000_000, "less than a cent for a page of reply"], // gpt-4o
    [15_000_000_000, "about $0.01 for a page of reply"],
    [60_000_000_000, "about $0.04 for a page of reply"], // o1
    [600_000_000_000, "about $0.42 for a page of reply"], // o1-pro
    [null, "Tally does not know this model's price yet"],
  ])("%s nano-USD per million tokens: %s", (outputNanos, words) => {
    expect(pagePriceInWords(outputNanos)).toBe(words);
  });
});

describe("formatTokens", () => {
  it.each([
    [0, "0"],
    [999, "999"],
    [1_000, "1,000"],
    [12_345, "12,345"],
    [1_234_567, "1,234,567"],
    [1_000_000_000, "1,000,000,000"],
  ])("%s is %s", (tokens, shown) => {
    expect(formatTokens(tokens)).toBe(shown);
  });
});

describe("compactTokens", () => {
  it.each([
    [0, "0"],
    [950, "950"],
    [1_000, "1k"],
    [12_345, "12.3k"],
    [99_960, "100k"],
    [128_000, "128k"],
    [1_047_576, "1.05M"],
  ])("%s is %s", (tokens, shown) => {
    expect(compactTokens(tokens)).toBe(shown);
  });
});
