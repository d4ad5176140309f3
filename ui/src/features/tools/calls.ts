// Tool calls in words: their arguments as label and value, their state, how long they took.
import type { ToolCallView } from "../../lib/ipc";

/** The longest a value is shown in full in a call's arguments; longer ones are cut. */
const VALUE_MAX_CHARS = 2_000;

/**
 * A call's arguments as rows of name and value, for reading rather than as a JSON blob:
 * text as written, numbers and yes/no in words, anything nested as indented JSON. Arguments
 * that are not a JSON object (the model can get them wrong) are shown whole, as one row.
 */
export function readableArguments(text: string): Array<[string, string]> {
  let parsed: unknown;
  try {
    parsed = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    return [["Arguments", cut(text)]];
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return [["Arguments", cut(text)]];
  }
  return Object.entries(parsed as Record<string, unknown>).map(([name, value]) => [
    name,
    cut(valueText(value)),
  ]);
}

function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return String(value);
  if (value === null) return "(none)";
  return JSON.stringify(value, null, 2);
}

function cut(text: string): string {
  return text.length > VALUE_MAX_CHARS ? `${text.slice(0, VALUE_MAX_CHARS)}…` : text;
}

/** What a call is doing, in a word or two. */
export function statusText(call: ToolCallView): string {
  switch (call.status) {
    case "pending":
      return "Waiting";
    case "running":
      return "Running…";
    case "done":
      return "Done";
    case "error":
      return "Failed";
    case "denied":
      return "Not allowed";
  }
}

/** How long a call took: "0.4 s", "12 s", "1 min 5 s"; empty before it ended. */
export function durationText(call: ToolCallView): string {
  const ms = call.durationMs;
  if (ms === null) return "";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** The server's hints about a tool, in words (the server's word, not a promise). */
export function hintText(call: Pick<ToolCallView, "readOnly" | "destructive">): string {
  if (call.readOnly) return "Its server says it only reads.";
  if (call.destructive) return "Its server says it can change or delete things.";
  return "Its server says it can change things, but not delete them.";
}
