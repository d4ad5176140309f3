import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { IpcError, UsageReport } from "../../lib/ipc";
import { newChatState } from "../chat/testing";
import BudgetBanner from "./BudgetBanner.svelte";
import BudgetDialog from "./BudgetDialog.svelte";
import BudgetForm from "./BudgetForm.svelte";
import { spendView } from "./money.test";
import { SpendState } from "./spend.svelte";
import SpendMeter from "./SpendMeter.svelte";
import UsagePage from "./UsagePage.svelte";

const charts = vi.hoisted(() => [] as { data: { datasets: { data: number[] }[] } }[]);

vi.mock("chart.js", () => {
  class Chart {
    static register() {}
    constructor(_canvas: unknown, config: { data: { datasets: { data: number[] }[] } }) {
      charts.push(config);
    }
    destroy() {}
  }
  const part = {};
  return {
    Chart,
    BarController: part,
    BarElement: part,
    CategoryScale: part,
    LinearScale: part,
    Tooltip: part,
  };
});

const ipc = vi.hoisted(() => ({
  chatSend: vi.fn(),
  conversationList: vi.fn(async () => ({ pinned: [], recent: [], next: null })),
  conversationGet: vi.fn(),
  budgetSet: vi.fn(),
  budgetClear: vi.fn(),
  budgetAlertsDismiss: vi.fn(),
  spendSummary: vi.fn(),
  usageReport: vi.fn(),
  ledgerList: vi.fn(async () => []),
  ledgerExport: vi.fn(),
}));

vi.mock("../../lib/ipc", () => ({
  ipc,
  notices: { onSpendUpdated: vi.fn(async () => () => {}) },
  asIpcError: (e: unknown) => e as IpcError,
}));

beforeEach(() => {
  vi.clearAllMocks();
  charts.length = 0;
});

function spendWith(view = spendView()) {
  const spend = new SpendState();
  spend.view = view;
  return spend;
}

describe("the spend meter", () => {
  it("shows the month's spend against the budget, coloured by level", () => {
    render(SpendMeter, { spend: spendWith(spendView({ level: "warning" })), onOpen: () => {} });
    const meter = screen.getByTestId("spend-meter");
    expect(meter.textContent).toContain("$3.42 of $10.00 this month");
    expect(meter.textContent).toContain("At this pace: ~$8.10 by the 30th");
    expect(meter.dataset.level).toBe("warning");
    expect(meter.textContent).toContain("close to the budget. Open the usage page.");
  });

  it("never shows unpriced requests as free", () => {
    render(SpendMeter, {
      spend: spendWith(spendView({ unpricedRequests: 3, budget: null, level: "none" })),
      onOpen: () => {},
    });
    expect(screen.getByTestId("spend-meter").textContent).toContain("+ 3 at an unknown price");
  });
});

describe("the budget banner", () => {
  it("shows the highest alert until dismissed", async () => {
    const alerts = [
      { threshold: 50, firedAt: 1, message: "You have used 50% of your $10.00 monthly budget." },
      { threshold: 80, firedAt: 2, message: "You have used 80% of your $10.00 monthly budget." },
    ];
    const spend = spendWith(spendView({ alerts }));
    ipc.budgetAlertsDismiss.mockResolvedValue(spendView({ alerts: [] }));
    render(BudgetBanner, { spend, onOpenUsage: () => {} });
    expect(screen.getByTestId("budget-banner").textContent).toContain("80%");
    await fireEvent.click(screen.getByTestId("budget-banner-dismiss"));
    await waitFor(() => expect(screen.queryByTestId("budget-banner")).toBeNull());
    expect(ipc.budgetAlertsDismiss).toHaveBeenCalledOnce();
  });
});

describe("the hard stop", () => {
  const refused: IpcError = {
    code: "budget_exceeded",
    message: "You have reached your monthly budget: $10.02 of $10.00 spent.",
  };

  async function blockedSend() {
    const chat = newChatState();
    const spend = spendWith(spendView({ level: "over" }));
    chat.draft = "Plan my trip";
    ipc.chatSend.mockRejectedValueOnce(refused);
    render(BudgetDialog, { chat, spend });
    await chat.send();
    return { chat, spend };
  }

  it("keeps the message and offers: raise, send anyway, cancel", async () => {
    const { chat } = await blockedSend();
    const dialog = screen.getByTestId("budget-dialog") as HTMLDialogElement;
    await waitFor(() => expect(dialog.open).toBe(true));
    expect(dialog.textContent).toContain("$10.02 of $10.00");
    expect(chat.draft).toBe("Plan my trip");
    expect(chat.error).toBeNull();
    expect((screen.getByLabelText("New monthly budget ($)") as HTMLInputElement).value).toBe("20");

    ipc.chatSend.mockResolvedValueOnce(undefined);
    await fireEvent.click(screen.getByTestId("budget-send-anyway"));
    await waitFor(() => expect(ipc.chatSend).toHaveBeenCalledTimes(2));
    expect(ipc.chatSend.mock.calls[1][0]).toEqual({
      conversationId: null,
      text: "Plan my trip",
      allowOverBudget: true,
    });
  });

  it("raising the budget saves it and sends normally", async () => {
    const { chat } = await blockedSend();
    ipc.budgetSet.mockResolvedValueOnce(spendView());
    ipc.chatSend.mockResolvedValueOnce(undefined);
    const input = screen.getByLabelText("New monthly budget ($)");
    await fireEvent.input(input, { target: { value: "25" } });
    await fireEvent.click(screen.getByTestId("budget-raise-button"));
    await waitFor(() => expect(ipc.chatSend).toHaveBeenCalledTimes(2));
    expect(ipc.budgetSet).toHaveBeenCalledWith({
      amount: "25",
      resetDay: 1,
      thresholds: [50, 80, 100],
      hardStop: false,
    });
    expect(ipc.chatSend.mock.calls[1][0].allowOverBudget).toBeUndefined();
    expect(chat.blocked).toBeNull();
  });

  it("cancel sends nothing and keeps the text", async () => {
    const { chat } = await blockedSend();
    await fireEvent.click(screen.getByTestId("budget-cancel"));
    expect(chat.blocked).toBeNull();
    expect(chat.draft).toBe("Plan my trip");
    expect(ipc.chatSend).toHaveBeenCalledOnce();
  });
});

describe("the budget form", () => {
  it("saves what the user typed and shows the engine's refusal in its words", async () => {
    const spend = spendWith(spendView({ budget: null, level: "none" }));
    render(BudgetForm, { spend });
    await fireEvent.input(screen.getByTestId("budget-amount-input"), {
      target: { value: "ten" },
    });
    ipc.budgetSet.mockRejectedValueOnce({
      code: "invalid_input",
      message: "“ten” is not an amount in dollars, like 10 or 12.50",
    });
    await fireEvent.click(screen.getByTestId("budget-save"));
    expect((await screen.findByRole("alert")).textContent).toContain("not an amount in dollars");

    await fireEvent.input(screen.getByTestId("budget-amount-input"), {
      target: { value: "12.50" },
    });
    await fireEvent.input(screen.getByTestId("budget-thresholds"), {
      target: { value: "90%, 25" },
    });
    await fireEvent.click(screen.getByTestId("hard-stop-toggle"));
    ipc.budgetSet.mockResolvedValueOnce(spendView());
    await fireEvent.click(screen.getByTestId("budget-save"));
    expect(ipc.budgetSet).toHaveBeenLastCalledWith({
      amount: "12.50",
      resetDay: 1,
      thresholds: [90, 25],
      hardStop: true,
    });
  });
});

describe("the usage page", () => {
  const bar = (label: string, costNanos: number) => ({
    label,
    start: 0,
    costNanos,
    requests: 1,
    unpriced: 0,
  });
  const report: UsageReport = {
    spend: spendView(),
    days: [bar("2026-11-01", 1_000_000_000), bar("2026-11-02", 2_420_000_000)],
    months: [bar("2026-10-01", 0), bar("2026-11-01", 3_420_000_000)],
    byModel: [
      {
        model: "gpt-4o",
        requests: 10,
        promptTokens: 1000,
        cachedTokens: 0,
        completionTokens: 500,
        reasoningTokens: 0,
        costNanos: 3_000_000_000,
        unpriced: 0,
        webSearchCalls: 3,
      },
      {
        model: "llama3",
        requests: 2,
        promptTokens: 10,
        cachedTokens: 0,
        completionTokens: 5,
        reasoningTokens: 0,
        costNanos: 0,
        unpriced: 2,
        webSearchCalls: 0,
      },
    ],
    topConversations: [
      { conversationId: 9, title: "Trip plan", requests: 4, costNanos: 2_000_000_000 },
    ],
    webSearchCalls: 3,
    webSearchFeesNanos: 30_000_000,
    byComputer: [
      {
        name: "This computer",
        thisComputer: true,
        lastSeen: null,
        spentNanos: 2_000_000_000,
        requests: 4,
      },
    ],
  };

  it("lists each computer's spending once another one syncs", async () => {
    ipc.usageReport.mockResolvedValue({
      ...report,
      byComputer: [
        ...report.byComputer,
        { name: "laptop", thisComputer: false, lastSeen: 1, spentNanos: 750_000_000, requests: 2 },
      ],
    });
    ipc.ledgerList.mockResolvedValue([]);
    render(UsagePage, { spend: spendWith(), onClose: () => {}, onOpenConversation: () => {} });
    const table = await screen.findByTestId("usage-by-computer");
    expect(table.textContent).toContain("laptop");
    expect(table.textContent).toContain("$0.75");
  });

  it("shows no computers' table while this is the only one", async () => {
    ipc.usageReport.mockResolvedValue(report);
    ipc.ledgerList.mockResolvedValue([]);
    render(UsagePage, { spend: spendWith(), onClose: () => {}, onOpenConversation: () => {} });
    await screen.findByTestId("usage-by-model");
    expect(screen.queryByTestId("usage-by-computer")).toBeNull();
  });

  it("shows the meter's figures, charts, tables and the request log", async () => {
    ipc.usageReport.mockResolvedValue(report);
    ipc.ledgerList.mockResolvedValue([
      {
        id: 1,
        createdAt: 1_795_435_200_000,
        conversationId: 9,
        conversationTitle: "Trip plan",
        purpose: "chat",
        model: "gpt-4o",
        promptTokens: 100,
        cachedTokens: 0,
        completionTokens: 50,
        reasoningTokens: 0,
        webSearchCalls: 2,
        costNanos: 750_000,
        estimated: true,
        status: "stopped",
        requestId: "req_1",
        firstTokenMs: 200,
        durationMs: 1500,
      },
    ] as never);
    ipc.ledgerExport.mockResolvedValue({
      path: "/home/u/Downloads/tally-usage-2026-11-23.csv",
      rows: 1,
    });
    const opened: number[] = [];
    render(UsagePage, {
      spend: spendWith(),
      onClose: () => {},
      onOpenConversation: (id: number) => opened.push(id),
    });
    const summary = await screen.findByTestId("usage-summary");
    expect(summary.textContent).toContain("$3.42 of $10.00 this month");
    expect(charts.map((c) => c.data.datasets[0].data)).toEqual([
      [1, 2.42],
      [0, 3.42],
    ]);
    const byModel = screen.getByTestId("usage-by-model").textContent ?? "";
    expect(byModel).toContain("$3.00");
    expect(byModel).toContain("2 unpriced");
    expect(byModel).toContain("3 web searches");
    expect(screen.getByTestId("usage-web-search").textContent).toContain(
      "3 web searches this month: $0.03 in search fees",
    );
    await fireEvent.click(screen.getByRole("button", { name: "Trip plan" }));
    expect(opened).toEqual([9]);
    const row = await screen.findByTestId("request-log-row");
    expect(row.textContent).toContain("~$0.00075");
    expect(row.textContent).toContain("1.5 s");
    expect(row.textContent).toContain("req_1");
    expect(row.textContent).toContain("2 web searches");
    await fireEvent.click(screen.getByTestId("ledger-export"));
    expect((await screen.findByTestId("ledger-export-result")).textContent).toContain(
      "tally-usage-2026-11-23.csv",
    );
  });
});
