// Words for what an export or import did.
import type { ExportResult, ImportSummary } from "../../lib/ipc";

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "2 conversations saved to /home/you/Downloads/Tally-conversations-2026-11-24.md". */
export function exportText(result: ExportResult): string {
  return `${plural(result.rows, "conversation", "conversations")} saved to ${result.path}`;
}

/** What an import did, in a sentence or three. */
export function importText(summary: ImportSummary): string {
  const from = summary.source === "chatgpt" ? "ChatGPT" : "a Tally file";
  const parts = [
    summary.imported === 0
      ? `No new conversations from ${from}.`
      : `Imported ${plural(summary.imported, "conversation", "conversations")} (${plural(
          summary.messages,
          "message",
          "messages",
        )}) from ${from}${
          summary.pictures > 0 ? `, with ${plural(summary.pictures, "picture", "pictures")}` : ""
        }.`,
  ];
  if (summary.alreadyThere > 0) {
    const n = summary.alreadyThere;
    parts.push(
      n === 1
        ? "1 conversation was already here and was left as it was."
        : `${n} conversations were already here and were left as they were.`,
    );
  }
  if (summary.skippedParts > 0) {
    parts.push(
      `${plural(summary.skippedParts, "picture or file was", "pictures or files were")} not included (a note marks where).`,
    );
  }
  if (summary.unreadable > 0) {
    parts.push(
      `${plural(summary.unreadable, "conversation", "conversations")} in the file could not be read.`,
    );
  }
  return parts.join(" ");
}
