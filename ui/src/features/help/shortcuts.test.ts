import { describe, expect, it } from "vitest";
import { keyLabel, shortcutFor, SHORTCUTS } from "./shortcuts";

const press = (
  key: string,
  mods: Partial<Record<"ctrl" | "meta" | "alt" | "shift", boolean>> = {},
) => ({
  key,
  ctrlKey: Boolean(mods.ctrl),
  metaKey: Boolean(mods.meta),
  altKey: Boolean(mods.alt),
  shiftKey: Boolean(mods.shift),
});

describe("shortcutFor", () => {
  it.each([
    [press("n", { ctrl: true }), false, "newChat"],
    [press("N", { ctrl: true }), false, "newChat"],
    [press("k", { ctrl: true }), false, "search"],
    [press("f", { ctrl: true }), false, "search"],
    [press(",", { ctrl: true }), false, "settings"],
    [press("/", { ctrl: true }), false, "help"],
    [press("/", { ctrl: true, shift: true }), false, "help"],
    [press("F1"), false, "help"],
    [press("Escape"), false, "stop"],
    [press("n", { meta: true }), true, "newChat"],
    [press(",", { meta: true }), true, "settings"],
  ] as const)("%o (Mac: %s) is %s", (event, mac, action) => {
    expect(shortcutFor(event, mac)).toBe(action);
  });

  it.each([
    [press("n"), false],
    [press("n", { meta: true }), false],
    [press("n", { ctrl: true }), true],
    [press("n", { ctrl: true, shift: true }), false],
    [press("n", { ctrl: true, alt: true }), false],
    [press("Escape", { shift: true }), false],
    [press("Enter", { ctrl: true }), false],
    [press("c", { ctrl: true }), false],
    [press("v", { ctrl: true }), false],
  ] as const)("leaves %o alone (Mac: %s)", (event, mac) => {
    expect(shortcutFor(event, mac)).toBeNull();
  });

  it("understands every key the help panel lists", () => {
    for (const shortcut of SHORTCUTS) {
      for (const keys of shortcut.keys) {
        const event =
          keys[0] === "Mod"
            ? press(keys[1], { ctrl: true })
            : press(keys[0] === "Esc" ? "Escape" : keys[0]);
        expect(shortcutFor(event, false)).toBe(shortcut.action);
      }
    }
  });

  it("names the shortcut key for the machine", () => {
    expect(keyLabel("Mod", false)).toBe("Ctrl");
    expect(keyLabel("Mod", true)).toBe("⌘");
    expect(keyLabel("K", true)).toBe("K");
  });
});
