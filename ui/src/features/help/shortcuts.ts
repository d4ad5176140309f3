// The app's keyboard shortcuts: one list, read by the key handler and by the help panel,
// so what the panel says is what the keys do.

export type ShortcutAction = "newChat" | "search" | "settings" | "help" | "stop";

export type Shortcut = {
  action: ShortcutAction;
  /** What the key does, in the help panel. */
  does: string;
  /** The keys as the panel shows them, with "Mod" for Ctrl (⌘ on a Mac). */
  keys: string[][];
};

export const SHORTCUTS: readonly Shortcut[] = [
  { action: "newChat", does: "Start a new chat", keys: [["Mod", "N"]] },
  {
    action: "search",
    does: "Search your conversations",
    keys: [
      ["Mod", "K"],
      ["Mod", "F"],
    ],
  },
  { action: "settings", does: "Open Settings", keys: [["Mod", ","]] },
  { action: "stop", does: "Stop the reply being written", keys: [["Esc"]] },
  { action: "help", does: "Show this list", keys: [["Mod", "/"], ["F1"]] },
];

/** Keys that only the composer understands, shown in the panel too. */
export const COMPOSER_KEYS: readonly Omit<Shortcut, "action">[] = [
  { does: "Send the message", keys: [["Enter"]] },
  { does: "New line in the message", keys: [["Shift", "Enter"]] },
  { does: "Move between parts of the window", keys: [["Tab"], ["Shift", "Tab"]] },
];

type Keys = Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "shiftKey">;

/** Whether this machine's shortcut key is ⌘ rather than Ctrl. */
export const isMac = () =>
  typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);

/** The shortcut a key press means, or null. `mac`: the modifier is ⌘ rather than Ctrl. */
export function shortcutFor(event: Keys, mac = isMac()): ShortcutAction | null {
  const mod = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  if (event.altKey) return null;
  if (!mod) {
    if (event.shiftKey || event.ctrlKey || event.metaKey) return null;
    if (event.key === "Escape") return "stop";
    if (event.key === "F1") return "help";
    return null;
  }
  // Shift may be needed to type "/" or "," on some layouts; letters ignore it.
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  for (const shortcut of SHORTCUTS) {
    for (const keys of shortcut.keys) {
      if (keys[0] !== "Mod") continue;
      if (key === keys[1].toLowerCase() && (!event.shiftKey || !/[a-z]/.test(key)))
        return shortcut.action;
    }
  }
  return null;
}

/** "Ctrl" or "⌘" for "Mod"; other keys as they are. */
export function keyLabel(key: string, mac = isMac()): string {
  return key === "Mod" ? (mac ? "⌘" : "Ctrl") : key;
}
