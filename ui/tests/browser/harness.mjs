// What the browser tests and the browser benchmark share: the built UI served on loopback
// under the app's own CSP, Debian's Chromium through playwright-core, and the fake engine
// (`fake-engine.ts`, bundled here) injected before the UI's scripts run.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { build } from "vite";

const UI = join(import.meta.dirname, "../..");
const DIST = join(UI, "dist");

/** The CSP of `tauri.conf.json`, as the header a browser reads. */
function appCsp() {
  const conf = JSON.parse(readFileSync(join(UI, "../src-tauri/tauri.conf.json"), "utf8"));
  return Object.entries(conf.app.security.csp)
    .map(([directive, sources]) => `${directive} ${sources}`)
    .join("; ");
}

const TYPES = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".ttf": "font/ttf",
  ".png": "image/png",
};

/** Serves `ui/dist` on a free loopback port; resolves to its base URL and a closer. */
export async function serveUi() {
  const csp = appCsp();
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, "http://x").pathname));
    const file = join(DIST, path === "/" ? "index.html" : path);
    try {
      if (!file.startsWith(DIST)) throw new Error("outside");
      const body = readFileSync(file);
      response.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "content-security-policy": csp,
      });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The fake engine as one script. */
export async function fakeEngineScript() {
  const output = await build({
    configFile: false,
    logLevel: "warn",
    build: {
      write: false,
      minify: false,
      target: "es2022",
      lib: {
        entry: join(import.meta.dirname, "fake-engine.ts"),
        formats: ["iife"],
        name: "tallyFakeEngine",
        fileName: "fake-engine",
      },
    },
  });
  return output[0].output[0].code;
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.TALLY_CHROMIUM ?? "/usr/bin/chromium",
    // Root in a container cannot use Chromium's sandbox; the page is our own UI.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
}

/**
 * A page of the UI with the fake engine; `setup` (a function run in the page before the
 * UI starts) can change the fake's state, e.g. `() => (window.__tallyFake.onboarded = false)`.
 */
export async function openUi(
  browser,
  { base, engine, theme = "light", viewport, setup, fixedTime } = {},
) {
  const context = await browser.newContext({
    colorScheme: theme,
    viewport: viewport ?? { width: 1280, height: 800 },
    reducedMotion: "reduce",
    // A fixed clock (timers still run) shows the same dates on every run.
    timezoneId: fixedTime ? "UTC" : undefined,
  });
  const page = await context.newPage();
  if (fixedTime) await page.clock.setFixedTime(fixedTime);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  await page.addInitScript({ content: engine });
  if (setup) await page.addInitScript(setup);
  await page.goto(base);
  return { page, context, problems };
}
