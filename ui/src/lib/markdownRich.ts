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
    engine: katex,
    // $…$ and $$…$$, and the \(…\) and \[…\] that OpenAI's models often write.
    delimiters: ["dollars", "brackets"],
    katexOptions: {
      output: "mathml",
      trust: false,
      throwOnError: false,
      strict: "ignore",
      // A formula cannot grow past the reply or expand macros without end.
      maxSize: 20,
      maxExpand: 500,
    },
  });
}
