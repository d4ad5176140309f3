import { describe, expect, it } from "vitest";
import type { ImportSummary } from "../../lib/ipc";
import { exportText, importText } from "./transfer";

const summary = (overrides: Partial<ImportSummary>): ImportSummary => ({
  source: "chatgpt",
  imported: 0,
  alreadyThere: 0,
  messages: 0,
  skippedParts: 0,
  pictures: 0,
  unreadable: 0,
  ...overrides,
});

describe("export and import in words", () => {
  it("says where the export went", () => {
    expect(exportText({ path: "/home/me/Downloads/Trip.md", rows: 1 })).toBe(
      "1 conversation saved to /home/me/Downloads/Trip.md",
    );
    expect(exportText({ path: "/d/all.json", rows: 12 })).toBe(
      "12 conversations saved to /d/all.json",
    );
  });

  it.each([
    [summary({ imported: 1, messages: 2 }), "Imported 1 conversation (2 messages) from ChatGPT."],
    [
      summary({ imported: 4, messages: 15, alreadyThere: 1, skippedParts: 1, unreadable: 1 }),
      "Imported 4 conversations (15 messages) from ChatGPT. 1 conversation was already here and was left as it was. 1 picture or file was not included (a note marks where). 1 conversation in the file could not be read.",
    ],
    [
      summary({ source: "tally", alreadyThere: 3 }),
      "No new conversations from a Tally file. 3 conversations were already here and were left as they were.",
    ],
    [
      summary({ imported: 2, messages: 9, skippedParts: 3, unreadable: 2 }),
      "Imported 2 conversations (9 messages) from ChatGPT. 3 pictures or files were not included (a note marks where). 2 conversations in the file could not be read.",
    ],
    [
      summary({ imported: 3, messages: 8, pictures: 1 }),
      "Imported 3 conversations (8 messages) from ChatGPT, with 1 picture.",
    ],
    [
      summary({ imported: 3, messages: 8, pictures: 12, skippedParts: 2 }),
      "Imported 3 conversations (8 messages) from ChatGPT, with 12 pictures. 2 pictures or files were not included (a note marks where).",
    ],
  ])("%o", (what, words) => {
    expect(importText(what)).toBe(words);
  });
});
