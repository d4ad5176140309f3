// Search snippets come with matched words between two private-use characters; they are
// split here into plain pieces, so message text is never treated as markup.
const MARK_START = "\u{E000}";
const MARK_END = "\u{E001}";

export interface SnippetPart {
  text: string;
  mark: boolean;
}

export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let mark = false;
  let text = "";
  for (const char of snippet) {
    if (char === MARK_START || char === MARK_END) {
      if (text) parts.push({ text, mark });
      text = "";
      mark = char === MARK_START;
    } else {
      text += char;
    }
  }
  if (text) parts.push({ text, mark });
  return parts;
}
