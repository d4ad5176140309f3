// Math (KaTeX, as MathML, `trust: false`) and code colouring (highlight.js) for the
// markdown renderer: loaded on first need by markdown.svelte.ts.
import hljs from "highlight.js/lib/common";
import katex from "katex";
import type MarkdownIt from "markdown-it";

type Markdown = InstanceType<typeof MarkdownIt>;
import texmath from "markdown-it-texmath";

export function addRich(md: Markdown) {
  md.set({
    highlight: (code, language) =>
      language && hljs.getLanguage(language)
        ? hljs.highlight(code, { language, ignoreIllegals: true }).value
        : "",
  });
  md.use(texmath, {
    engine: { renderToString },
    // $…$ and $$…$$, and the \(…\) and \[…\] that OpenAI's models often write.
    delimiters: ["dollars", "brackets"],
    katexOptions: {
      output: "mathml",
      trust: false,
      strict: "ignore",
      // A formula cannot grow past the reply or expand macros without end.
      maxSize: 20,
      maxExpand: 500,
    },
  });
}

/** KaTeX, with its error fallback drawn by us: KaTeX colours it with a style attribute,
 * which the CSP refuses (and DOMPurify drops). The source stays readable, as code. */
function renderToString(tex: string, options: katex.KatexOptions): string {
  try {
    return katex.renderToString(tex, { ...options, throwOnError: true });
  } catch (error) {
    const why =
      error instanceof katex.ParseError ? error.rawMessage : "This formula cannot be shown.";
    return `<code class="katex-error" title="${escapeHtml(why)}">${escapeHtml(tex)}</code>`;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
