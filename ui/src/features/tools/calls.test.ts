import { describe, expect, it } from "vitest";
import { durationText, hintText, readableArguments, statusText } from "./calls";
import { toolCall } from "./testing";

const call = toolCall;

describe("a tool call in words", () => {
  it.each([
    ['{"timezone":"UTC"}', [["timezone", "UTC"]]],
    [
      '{"n":3,"exact":true,"tag":null}',
      [
        ["n", "3"],
        ["exact", "yes"],
        ["tag", "(none)"],
      ],
    ],
    ['{"where":{"city":"Oslo"}}', [["where", '{\n  "city": "Oslo"\n}']]],
    ["", []],
    ["not json", [["Arguments", "not json"]]],
    ["[1,2]", [["Arguments", "[1,2]"]]],
  ])("arguments %s read as rows", (text, rows) => {
    expect(readableArguments(text)).toEqual(rows);
  });

  it("cuts a very long value", () => {
    const [[, value]] = readableArguments(JSON.stringify({ text: "x".repeat(5000) }));
    expect(value.length).toBe(2001);
    expect(value.endsWith("…")).toBe(true);
  });

  it.each([
    [null, ""],
    [420, "0.4 s"],
    [12_300, "12 s"],
    [65_000, "1 min 5 s"],
  ])("a call of %s ms took %s", (durationMs, text) => {
    expect(durationText(call({ durationMs }))).toBe(text);
  });

  it("names every state and hint", () => {
    const states = ["pending", "running", "done", "error", "denied"] as const;
    expect(states.map((status) => statusText(call({ status })))).toEqual([
      "Waiting",
      "Running…",
      "Done",
      "Failed",
      "Not allowed",
    ]);
    expect(hintText({ readOnly: true, destructive: false })).toContain("only reads");
    expect(hintText({ readOnly: false, destructive: true })).toContain("delete");
  });
});
