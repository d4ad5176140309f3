import { describe, expect, it } from "vitest";
import type { ConversationSummary } from "../../lib/ipc";
import { groupByDay } from "./groups";

function at(title: string, time: Date): ConversationSummary {
  return {
    id: time.getTime(),
    title,
    model: "m",
    updatedAt: time.getTime(),
    pinned: false,
    deletedAt: null,
  };
}

describe("groupByDay", () => {
  it("groups by local calendar day, then by month", () => {
    const now = new Date(2026, 10, 23, 9, 30);
    const list = [
      at("this morning", new Date(2026, 10, 23, 0, 0)),
      at("late last night", new Date(2026, 10, 22, 23, 59)),
      at("yesterday morning", new Date(2026, 10, 22, 0, 0)),
      at("two days ago", new Date(2026, 10, 21, 12, 0)),
      at("a week ago", new Date(2026, 10, 16, 0, 0)),
      at("eight days ago", new Date(2026, 10, 15, 23, 0)),
      at("start of month", new Date(2026, 10, 1, 8, 0)),
      at("october", new Date(2026, 9, 31, 8, 0)),
      at("last year", new Date(2025, 10, 30, 8, 0)),
    ];
    const groups = groupByDay(list, now, "en-US");
    expect(groups.map((g) => [g.label, g.items.map((c) => c.title)])).toEqual([
      ["Today", ["this morning"]],
      ["Yesterday", ["late last night", "yesterday morning"]],
      ["Previous 7 days", ["two days ago", "a week ago"]],
      ["November 2026", ["eight days ago", "start of month"]],
      ["October 2026", ["october"]],
      ["November 2025", ["last year"]],
    ]);
  });

  it("has no groups without conversations", () => {
    expect(groupByDay([], new Date())).toEqual([]);
  });
});
