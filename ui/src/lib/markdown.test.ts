import { beforeAll, describe, expect, it, vi } from "vitest";
import { loadRichMarkdown, markdownBlocks, renderMarkdown, webLink } from "./markdown.svelte";
import corpus from "./xss-corpus.json";

describe("the rich renderer", () => {
  it("loads math and colours on first need, and renders with them from then on", async () => {
    vi.resetModules();
    const fresh = await import("./markdown.svelte");
    const code = "```js\nlet x = 1;\n```";
    expect(fresh.renderMarkdown(code)).not.toContain("hljs-keyword");
    await fresh.loadRichMarkdown();
    expect(fresh.renderMarkdown(code)).toContain("hljs-keyword");
  });
});

describe("renderMarkdown", () => {
  beforeAll(loadRichMarkdown);

  it("renders GitHub-style markdown", () => {
    const html = renderMarkdown(
      "**bold** and `code`\n\n- one\n- two\n\n```rust\nfn main() {}\n```",
    );
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<code>code</code>");
    expect(html).toContain("<li>one</li>");
    expect(html).toContain('<code class="language-rust">');
  });

  it("aligns table columns with classes, not the style attributes the CSP refuses", () => {
    const html = renderMarkdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |");
    expect(html).not.toContain("style");
    expect(html).toContain('<th class="align-left">a</th>');
    expect(html).toContain('<td class="align-center">2</td>');
    expect(html).toContain('<td class="align-right">3</td>');
  });

  /** What rendered markup may never contain, whatever the reply. */
  function expectInert(html: string) {
    const host = document.createElement("div");
    host.innerHTML = html;
    const forbidden =
      "script, img, svg, iframe, object, embed, base, meta, style, form, input, template, noscript";
    expect(host.querySelector(forbidden)).toBeNull();
    for (const element of host.querySelectorAll("*")) {
      for (const attribute of element.getAttributeNames()) {
        expect(attribute).not.toMatch(/^on|^style$|^src|^srcdoc$|^formaction$|^xlink:href$/i);
      }
      const href = element.getAttribute("href");
      if (href !== null) {
        expect(element.tagName).toBe("A");
        expect(href).toMatch(/^https?:\/\//);
      }
    }
    for (const button of host.querySelectorAll("button")) {
      expect(button.hasAttribute("data-code-copy")).toBe(true);
    }
  }

  it.each(corpus.payloads)("neutralises %s, whole and at every point of its stream", (payload) => {
    // A reply is rendered again as each piece arrives: every prefix must be inert too.
    for (let end = 1; end <= payload.length; end++)
      expectInert(renderMarkdown(payload.slice(0, end)));
  });

  it("keeps the corpus big enough to mean something", () => {
    expect(corpus.payloads.length).toBeGreaterThanOrEqual(40);
  });

  it("renders math as MathML, and a bad formula as its source", () => {
    const host = document.createElement("div");
    host.innerHTML = renderMarkdown("Euler: $e^{i\\pi}+1=0$, then $\\frac{1$\n\n\\[x^2\\]");
    expect(host.querySelectorAll("math")).toHaveLength(2);
    expect(host.querySelector("math msup")).not.toBeNull();
    // The TeX source KaTeX adds for copying is dropped with its text.
    expect(host.querySelector("annotation")).toBeNull();
    expect(host.querySelector("math")?.textContent).not.toContain("\\pi");
    expect(host.querySelector(".katex-error")?.textContent).toBe("\\frac{1");
    // KaTeX's own fallback carries a style attribute, which the CSP refuses.
    expect(host.querySelector("[style]")).toBeNull();
  });

  it("leaves dollar amounts alone", () => {
    const html = renderMarkdown("It costs $5 or $10 a month.");
    expect(html).not.toContain("<math");
    expect(html).toContain("$5 or $10");
  });

  it("colours code and labels it, with a Copy button", () => {
    const host = document.createElement("div");
    host.innerHTML = renderMarkdown("```python\ndef f():\n    return 1\n```");
    expect(host.querySelector(".code-language")?.textContent).toBe("python");
    expect(host.querySelector("[data-code-copy]")?.getAttribute("aria-label")).toBe(
      "Copy the python code",
    );
    expect(host.querySelector("pre code .hljs-keyword")?.textContent).toBe("def");
    expect(host.querySelector("pre code")?.textContent).toBe("def f():\n    return 1\n");
  });

  it("shows remote images as links, never loads them", () => {
    const host = document.createElement("div");
    host.innerHTML = renderMarkdown("![a chart](https://example.com/chart.png)");
    expect(host.querySelector("img")).toBeNull();
    expect(host.querySelector("a")?.getAttribute("href")).toBe("https://example.com/chart.png");
  });

  it("renders a partial stream safely", () => {
    const partial = "Here is a [link](https://exa";
    expect(() => renderMarkdown(partial)).not.toThrow();
    expect(renderMarkdown("<scr")).not.toContain("<scr");
  });
});

describe("webLink", () => {
  it("only allows http(s)", () => {
    expect(webLink("https://openai.com")).toBe("https://openai.com");
    expect(webLink("http://x.test")).toBe("http://x.test");
    expect(webLink("javascript:alert(1)")).toBeNull();
    expect(webLink("file:///etc/passwd")).toBeNull();
    expect(webLink(null)).toBeNull();
  });
});

describe("markdownBlocks", () => {
  beforeAll(loadRichMarkdown);

  it.each([
    ["one paragraph", ["one paragraph"]],
    ["a\n\nb\n\n\nc", ["a\n\n", "b\n\n\n", "c"]],
    [
      "intro\n\n```js\nlet a;\n\nlet b;\n```\n\nafter",
      ["intro\n\n", "```js\nlet a;\n\nlet b;\n```\n\n", "after"],
    ],
    ["~~~~\n```\n\n~~~\n\nstill code\n~~~~\nend", ["~~~~\n```\n\n~~~\n\nstill code\n~~~~\nend"]],
    ["$$\nx\n\ny\n$$\n\nz", ["$$\nx\n\ny\n$$\n\n", "z"]],
    ["\\[\na\n\nb\n\\]\n\nz", ["\\[\na\n\nb\n\\]\n\n", "z"]],
    ["- item\n\n  more of the item\n\nnext", ["- item\n\n  more of the item\n\n", "next"]],
    ["[a link][x]\n\n[x]: https://example.com", ["[a link][x]\n\n[x]: https://example.com"]],
    ["\n\nlead", ["\n\nlead"]],
    ["", [""]],
  ])("cuts %j into %j", (text, blocks) => {
    expect(markdownBlocks(text)).toEqual(blocks);
  });

  it("renders what the whole reply renders, block by block, at every point of the stream", () => {
    const reply =
      "Intro with **bold**.\n\n> quote\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n```py\nx = 1\n\ny = 2\n```\n\n" +
      "1. one\n2. two\n\nMath: $x^2$ and\n\n$$\na\n\nb\n$$\n\nThe end.";
    const text = (html: string) => {
      const host = document.createElement("div");
      host.innerHTML = html;
      return host.textContent?.replace(/\s+/g, " ").trim();
    };
    for (let end = 1; end <= reply.length; end++) {
      const prefix = reply.slice(0, end);
      const blocks = markdownBlocks(prefix);
      expect(blocks.join("")).toBe(prefix);
      expect(text(blocks.map(renderMarkdown).join(""))).toBe(text(renderMarkdown(prefix)));
    }
  });
});
