// Markdown for model replies. Replies are untrusted: markdown-it with raw HTML off, math by
// KaTeX with `trust: false` as MathML only (no inline styles to let through), code coloured
// by highlight.js, then DOMPurify on the result, on every render including the partial
// stream. Math and colours load the first time a reply needs them, or once the user starts
// writing (they triple the size of the code read at launch, so a window that opens and
// idles never reads them); a reply rendered before they arrive is rendered again.
import DOMPurify from "dompurify";
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, breaks: false });

const rich = $state({ loaded: false });
let loading: Promise<void> | null = null;

/** Loads math and code colouring (at once if already loaded). */
export function loadRichMarkdown(): Promise<void> {
  loading ??= import("./markdownRich").then(({ addRich }) => {
    addRich(md);
    rich.loaded = true;
  });
  return loading;
}

/** What only the rich renderer shows: a code block, or what may be math. */
const NEEDS_RICH = /```|~~~|\$|\\\(|\\\[/;

// markdown-it already refuses javascript:, vbscript:, file: and most data: links.
// Remote images would load from the network: show them as links instead.
md.renderer.rules.image = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  const src = String(token.attrGet("src") ?? "");
  const alt = self.renderInlineAsText(token.children ?? [], options, env) || src;
  return `<a href="${md.utils.escapeHtml(src)}">${md.utils.escapeHtml(alt)}</a>`;
};

// Code blocks get a header with their language and a Copy button (Message.svelte copies
// the block's text when it is clicked).
const fence = md.renderer.rules.fence!;
md.renderer.rules.fence = (tokens, idx, options, env, self) => {
  const language = tokens[idx].info.trim().split(/\s+/)[0] ?? "";
  const label = md.utils.escapeHtml(language || "code");
  const what = language ? `${label} code` : "code";
  return (
    `<div class="code-block"><div class="code-header"><span class="code-language">${label}</span>` +
    `<button type="button" class="code-copy" data-code-copy aria-label="Copy the ${what}">Copy</button>` +
    `</div>${fence(tokens, idx, options, env, self)}</div>`
  );
};

// Column alignment as a class: markdown-it writes it as a style attribute, which the CSP
// (style-src without 'unsafe-inline') refuses even while DOMPurify parses it.
for (const cell of ["th_open", "td_open"] as const) {
  md.renderer.rules[cell] = (tokens, idx, options, _env, self) => {
    const token = tokens[idx];
    const align = /text-align:(left|center|right)/.exec(String(token.attrGet("style") ?? ""))?.[1];
    token.attrs = (token.attrs ?? []).filter(([name]) => name !== "style");
    if (align) token.attrJoin("class", `align-${align}`);
    return self.renderToken(tokens, idx, options);
  };
}

const purify = DOMPurify();
const SAFE_LINK = /^https?:\/\//i;

purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") ?? "";
    if (!SAFE_LINK.test(href)) node.removeAttribute("href");
    node.setAttribute("rel", "noopener noreferrer");
  } else {
    // Only links link (MathML and SVG elements may carry one too).
    node.removeAttribute("href");
    node.removeAttribute("xlink:href");
  }
  // The only buttons are the renderer's own Copy buttons.
  if (node.tagName === "BUTTON" && !node.hasAttribute("data-code-copy")) node.remove();
});

export function renderMarkdown(text: string): string {
  // Read even when loaded, so a reply rendered without them is rendered again with them.
  if (!rich.loaded && NEEDS_RICH.test(text)) void loadRichMarkdown();
  return purify.sanitize(md.render(text), {
    FORBID_TAGS: ["style", "img", "svg", "form", "input", "iframe", "select", "textarea"],
    FORBID_ATTR: ["style", "srcset", "formaction", "action"],
    // The TeX source KaTeX keeps beside the MathML: DOMPurify drops the element, and its
    // text must not be left behind in the formula.
    ADD_FORBID_CONTENTS: ["annotation"],
  });
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:/m;

/**
 * A reply cut at the blank lines between its top-level blocks (never inside a code fence
 * or a display formula, nor before an indented continuation), so that a streaming reply
 * renders again only its last block: the blocks before it are unchanged strings, and the
 * message list keeps their HTML. The pieces join back into the text. A reply with a
 * reference-style link definition stays whole, since the definition may be in any block.
 */
export function markdownBlocks(text: string): string[] {
  if (REFERENCE_DEFINITION.test(text)) return [text];
  const blocks: string[] = [];
  let start = 0;
  let fence: string | null = null;
  let math: "$$" | "\\]" | null = null;
  let afterBlank = false;
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\n", at);
    const lineEnd = end === -1 ? text.length : end + 1;
    const line = text.slice(at, end === -1 ? text.length : end);
    const trimmed = line.trim();
    if (fence) {
      const close = FENCE.exec(line)?.[1];
      if (
        close &&
        close[0] === fence[0] &&
        close.length >= fence.length &&
        !line.slice(line.indexOf(close) + close.length).trim()
      )
        fence = null;
    } else if (math) {
      if (trimmed.includes(math)) math = null;
    } else if (!trimmed) {
      afterBlank = true;
    } else {
      // A new block starts here, unless it continues the one before (indented).
      if (afterBlank && !/^[ \t]/.test(line) && text.slice(start, at).trim()) {
        blocks.push(text.slice(start, at));
        start = at;
      }
      afterBlank = false;
      const open = FENCE.exec(line)?.[1];
      if (open) fence = open;
      else if (trimmed === "$$" || (trimmed.startsWith("$$") && !trimmed.slice(2).includes("$$")))
        math = "$$";
      else if (trimmed.startsWith("\\[") && !trimmed.includes("\\]")) math = "\\]";
    }
    at = lineEnd;
  }
  if (start < text.length || blocks.length === 0) blocks.push(text.slice(start));
  return blocks;
}

/** A web link the system browser may open, or null. */
export function webLink(href: string | null | undefined): string | null {
  return href && SAFE_LINK.test(href) ? href : null;
}
