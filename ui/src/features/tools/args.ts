// A program's arguments and environment as one line and as lines of NAME=value: how the
// MCP server form shows them and reads them back, without losing a space or a quote.

/** Splits a command line's arguments: spaces separate, "double" or 'single' quotes keep
 *  spaces, a backslash keeps the next character. */
export function splitArgs(text: string): { args: string[] } | { error: string } {
  const args: string[] = [];
  let current = "";
  let started = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) args.push(current);
      current = "";
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (quote) return { error: `A ${quote === '"' ? "double" : "single"} quote is not closed.` };
  if (started) args.push(current);
  return { args };
}

/** The arguments as one line that `splitArgs` reads back to the same list. */
export function joinArgs(args: string[]): string {
  return args
    .map((arg) =>
      arg !== "" && /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'"'"'`)}'`,
    )
    .join(" ");
}

/** Lines of NAME=value (blank lines and # comments skipped). */
export function parseEnv(text: string): { env: Record<string, string> } | { error: string } {
  const env: Record<string, string> = {};
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const equals = line.indexOf("=");
    const name = equals > 0 ? line.slice(0, equals).trim() : "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      return { error: `Line ${index + 1} should read NAME=value.` };
    }
    env[name] = line.slice(equals + 1).trim();
  }
  return { env };
}

export function formatEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `${name}=${value}`)
    .join("\n");
}
