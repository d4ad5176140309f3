// Markdown for model replies. Replies are untrusted: markdown-it with raw HTML off, then
// DOMPurify on the result, on every render including the partial stream.
import DOMPurify from "dompurify";
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, breaks: false });

// markdown-it already refuses javascript:, vbscript:, file: and most data: links.
// Remote images would load from the network: show them as links instead.
md.renderer.rules.image = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  const src = String(token.attrGet("src") ?? "");
  const alt = self.renderInlineAsText(token.children ?? [], options, env) || src;
  return `<a href="${md.utils.escapeHtml(src)}">${md.utils.escapeHtml(alt)}</a>`;
};

const purify = DOMPurify();
const SAFE_LINK = /^https?:\/\//i;

purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") ?? "";
    if (!SAFE_LINK.test(href)) node.removeAttribute("href");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

export function renderMarkdown(text: string): string {
  return purify.sanitize(md.render(text), {
    FORBID_TAGS: ["style", "img", "svg", "math", "form", "input", "button", "iframe"],
    FORBID_ATTR: ["style", "srcset"],
  });
}

/** A web link the system browser may open, or null. */
export function webLink(href: string | null | undefined): string | null {
  return href && SAFE_LINK.test(href) ? href : null;
}
