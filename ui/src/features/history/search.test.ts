import { describe, expect, it } from "vitest";
import { snippetParts } from "./search";

describe("search snippets", () => {
  it("splits marked words from plain text, and never reads markup", () => {
    expect(snippetParts("…then the \u{E000}Nishiki\u{E001} market…")).toEqual([
      { text: "…then the ", mark: false },
      { text: "Nishiki", mark: true },
      { text: " market…", mark: false },
    ]);
    expect(snippetParts("<img src=x onerror=alert(1)> \u{E000}hit\u{E001}")).toEqual([
      { text: "<img src=x onerror=alert(1)> ", mark: false },
      { text: "hit", mark: true },
    ]);
    expect(snippetParts("")).toEqual([]);
  });
});
