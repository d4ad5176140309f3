// Light or dark: following the OS, or the reader's own choice. The choice is a display
// preference of this window, kept in the webview's local storage so the first frame is
// already in the right colours (the database is only reachable after IPC).

export type ThemeChoice = "system" | "light" | "dark";

const KEY = "tally.theme";
const CHOICES: readonly ThemeChoice[] = ["system", "light", "dark"];

function stored(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return CHOICES.includes(value as ThemeChoice) ? (value as ThemeChoice) : "system";
  } catch {
    return "system";
  }
}

class Theme {
  choice = $state<ThemeChoice>(stored());

  /** Colours follow `choice` from now on, and at the next start. */
  set(choice: ThemeChoice) {
    this.choice = choice;
    try {
      localStorage.setItem(KEY, choice);
    } catch {
      // Storage refused (private mode): the choice lasts this session.
    }
    applyTheme(choice);
  }
}

/** app.css picks light or dark by `data-theme`, or by the OS without it. */
export function applyTheme(choice: ThemeChoice, root: HTMLElement = document.documentElement) {
  if (choice === "system") delete root.dataset.theme;
  else root.dataset.theme = choice;
}

export const theme = new Theme();

/** A colour token (`--text-muted`) as the colour it is now, for canvas drawing. */
export function tokenColor(element: Element, token: string, fallback: string): string {
  const probe = document.createElement("span");
  probe.style.color = `var(${token}, ${fallback})`;
  probe.style.display = "none";
  element.append(probe);
  const color = getComputedStyle(probe).color || fallback;
  probe.remove();
  return color;
}
