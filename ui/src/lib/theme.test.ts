import { beforeEach, describe, expect, it } from "vitest";
import { applyTheme, theme } from "./theme.svelte";

describe("theme", () => {
  beforeEach(() => {
    localStorage.clear();
    delete document.documentElement.dataset.theme;
  });

  it("follows the OS until the reader chooses", () => {
    applyTheme("system");
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it("applies and remembers a choice, and can go back to the OS", () => {
    theme.set("dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("tally.theme")).toBe("dark");
    theme.set("light");
    expect(document.documentElement.dataset.theme).toBe("light");
    theme.set("system");
    expect(document.documentElement.dataset.theme).toBeUndefined();
    expect(localStorage.getItem("tally.theme")).toBe("system");
  });
});
