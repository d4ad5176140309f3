// Markdown for model replies. Replies are untrusted: markdown-it with raw HTML off, math by
// KaTeX with `trust: false` as MathML only (no inline styles to let through), code coloured
// by highlight.js, then DOMPurify on the result, on every render including the partial
// stream. Math and colours load the first time a reply needs them (they triple the size
// of the code read at launch); a reply rendered before they arrive is rendered again.
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

/** A web link the system browser may open, or null. */
export function webLink(href: string | null | undefined): string | null {
  return href && SAFE_LINK.test(href) ? href : null;
}
