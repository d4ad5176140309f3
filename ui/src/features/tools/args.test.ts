import { describe, expect, it } from "vitest";
import { formatEnv, joinArgs, parseEnv, splitArgs } from "./args";

describe("a server's arguments", () => {
  it.each([
    ["mcp-server-time --local-timezone=UTC", ["mcp-server-time", "--local-timezone=UTC"]],
    [
      "  -y   @modelcontextprotocol/server-filesystem  ",
      ["-y", "@modelcontextprotocol/server-filesystem"],
    ],
    [`"/home/ann/My Notes" 'it''s'`, ["/home/ann/My Notes", "its"]],
    [String.raw`a\ b "say \"hi\""`, ["a b", 'say "hi"']],
    [`"" x`, ["", "x"]],
    ["", []],
  ])("%j splits into %j", (text, args) => {
    expect(splitArgs(text)).toEqual({ args });
  });

  it("says when a quote is not closed", () => {
    expect(splitArgs(`"open`)).toEqual({ error: "A double quote is not closed." });
    expect(splitArgs(`'open`)).toEqual({ error: "A single quote is not closed." });
  });

  it.each([
    [["mcp-server-time", "--local-timezone=UTC"]],
    [["/home/ann/My Notes", "it's", "", "$HOME", 'a "b"']],
  ])("%j survives being shown and read back", (args) => {
    expect(splitArgs(joinArgs(args))).toEqual({ args });
  });
});

describe("a server's environment", () => {
  it("reads NAME=value lines, skipping blanks and comments, keeping = in values", () => {
    expect(parseEnv("API_TOKEN=abc=\n\n# a note\n DEBUG = 1 ")).toEqual({
      env: { API_TOKEN: "abc=", DEBUG: "1" },
    });
    expect(formatEnv({ A: "1", B: "x=y" })).toBe("A=1\nB=x=y");
  });

  it("names the line that is not NAME=value", () => {
    expect(parseEnv("A=1\nnot a variable")).toEqual({ error: "Line 2 should read NAME=value." });
    expect(parseEnv("1A=x")).toEqual({ error: "Line 1 should read NAME=value." });
  });
});
