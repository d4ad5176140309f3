import { describe, expect, it } from "vitest";
import { renderMarkdown, webLink } from "./markdown";

describe("renderMarkdown", () => {
  it("renders GitHub-style markdown", () => {
    const html = renderMarkdown(
      "**bold** and `code`\n\n- one\n- two\n\n```rust\nfn main() {}\n```",
    );
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<code>code</code>");
    expect(html).toContain("<li>one</li>");
    expect(html).toContain('<code class="language-rust">');
  });

  const payloads = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "[click](javascript:window.__pwned=1)",
    "[click](JAVASCRIPT:window.__pwned=1)",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    '<a href="javascript:alert(1)">x</a>',
    "![x](https://evil.example/track.png)",
    '<svg onload="window.__pwned=1"></svg>',
    '<iframe src="https://evil.example"></iframe>',
  ];

  it.each(payloads)("neutralises %s", (payload) => {
    const html = renderMarkdown(payload);
    const host = document.createElement("div");
    host.innerHTML = html;
    expect(host.querySelector("script, img, svg, iframe, [onerror], [onload]")).toBeNull();
    for (const a of host.querySelectorAll("a[href]")) {
      expect(a.getAttribute("href")).toMatch(/^https?:\/\//);
    }
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
