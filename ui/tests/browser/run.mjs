// Browser tests: the built UI in Debian's Chromium (playwright-core), with the engine
// replaced by `fake-engine.ts` through `@tauri-apps/api/mocks`. Every screen in both
// themes, each saved as a screenshot and checked with axe-core; the XSS corpus streamed in
// chunks; the keyboard shortcuts; the smallest window. `cargo xtask test` runs this; the
// tests are node:test's (`node --test-reporter=spec tests/browser/run.mjs` in `ui/`).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test as nodeTest } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import { storedZip } from "../../../tests/e2e/zip.mjs";
import { fakeEngineScript, launchChromium, openUi, serveUi } from "./harness.mjs";

const SHOTS = join(import.meta.dirname, "../../../target/browser-screenshots");
// The user's guide (docs/guide.md) shows the light screenshots of the screens marked
// `guide`, copied beside it on every run so that they never show an older Tally.
const GUIDE = join(import.meta.dirname, "../../../docs/guide");
const guidePictures = new Set();
/** The screens' pictures are taken at this moment, so they change only when Tally does. */
const PICTURE_TIME = new Date("2026-11-30T10:00:00Z");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const CORPUS = JSON.parse(
  readFileSync(join(import.meta.dirname, "../../src/lib/xss-corpus.json"), "utf8"),
).payloads;

const results = [];
// `TALLY_BROWSER_ONLY=xss node tests/browser/run.mjs` runs the tests whose names hold "xss"
// (node's own `--test-name-pattern` works too); the others are reported as skipped.
const ONLY = process.env.TALLY_BROWSER_ONLY?.toLowerCase();
/** The most one test may take before it fails with node's own message. */
const TEST_MS = 180_000;
/** A node:test test, recorded in `results.json` beside the screenshots. */
function test(name, body) {
  const skip = Boolean(ONLY && !name.toLowerCase().includes(ONLY));
  return nodeTest(name, { skip, timeout: TEST_MS }, async (t) => {
    try {
      await body(t);
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false });
      throw error;
    }
  });
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const testid = (id) => `[data-testid="${id}"]`;

/** A `width`×`height` PNG in two colours, as a screenshot tool writes one. */
function png(width, height) {
  const chunk = (kind, data) => {
    const body = Buffer.concat([Buffer.from(kind), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < height; y++) {
    rows.push(0);
    for (let x = 0; x < width; x++) rows.push(...(x < width / 2 ? [47, 111, 94] : [240, 180, 60]));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.from(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Files as a person attaches them. */
const FILES = {
  picture: { name: "receipt.png", mimeType: "image/png", buffer: png(320, 240) },
  csv: {
    name: "budget.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("item,amount\nrent,900\nfood,350\n"),
  },
  binary: {
    name: "photos.zip",
    mimeType: "application/zip",
    buffer: Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]),
  },
};

/** axe-core's WCAG 2.1 A/AA rules on what is on screen; serious or critical ones fail. */
async function accessibility(page, screen) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: {
        type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
      },
      resultTypes: ["violations"],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
    }));
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const others = violations.filter((v) => !serious.includes(v));
  if (others.length) {
    console.log(`     ${screen}: minor or moderate: ${others.map((v) => v.id).join(", ")}`);
  }
  assert(
    serious.length === 0,
    `${screen}: ${serious.map((v) => `${v.impact} ${v.id} (${v.help})\n       ${v.nodes.join("\n       ")}`).join("\n     ")}`,
  );
}

/** The screens, each reached from a fresh start; `setup` runs in the page before the UI. */
const SCREENS = [
  {
    name: "onboarding-welcome",
    setup: () => Object.assign(window.__tallyFake, { onboarded: false, keySaved: false }),
    reach: (page) => page.waitForSelector(testid("onboarding-start")),
  },
  {
    name: "onboarding-key",
    guide: true,
    setup: () => Object.assign(window.__tallyFake, { onboarded: false, keySaved: false }),
    reach: async (page) => {
      await page.click(testid("onboarding-start"));
      await page.waitForSelector(testid("api-key-input"));
    },
  },
  {
    name: "onboarding-plan",
    guide: true,
    setup: () => Object.assign(window.__tallyFake, { onboarded: false, keySaved: false }),
    reach: async (page) => {
      await page.click(testid("onboarding-start"));
      await page.fill(testid("api-key-input"), "sk-proj-browserTest0000wxyz");
      await page.click(testid("api-key-save"));
      await page.click(testid("onboarding-next"));
      await page.waitForSelector(testid("onboarding-plan"));
    },
  },
  {
    name: "chat-new",
    reach: (page) => page.waitForSelector(testid("composer-input")),
  },
  {
    name: "chat-conversation",
    reach: async (page) => {
      await page.click(`${testid("conversation-item")} >> text=Trip to Lisbon`);
      await page.waitForSelector(testid("message-content"));
    },
  },
  {
    name: "chat-reply-rendered",
    guide: true,
    reach: async (page) => {
      await page.fill(testid("composer-input"), "Show me what you can format");
      await page.keyboard.press("Enter");
      await page.waitForSelector(
        `${testid("message")}[data-role="assistant"][data-status="complete"]`,
      );
      await page.waitForSelector(".katex");
      await page.waitForSelector(testid("context-meter"));
    },
  },
  {
    name: "chat-error",
    setup: () =>
      (window.__tallyFake.fail = {
        code: "invalid_api_key",
        message: "OpenAI did not accept your API key. Check it in Settings.",
      }),
    reach: async (page) => {
      await page.fill(testid("composer-input"), "Hello");
      await page.keyboard.press("Enter");
      await page.waitForSelector(testid("error-banner"));
    },
  },
  {
    name: "budget-dialog",
    guide: true,
    setup: () =>
      (window.__tallyFake.fail = {
        code: "budget_exceeded",
        message: "This month's budget of $10.00 is used up.",
      }),
    reach: async (page) => {
      await page.fill(testid("composer-input"), "Hello");
      await page.keyboard.press("Enter");
      await page.waitForSelector(testid("budget-dialog"));
    },
  },
  {
    name: "context-notice",
    setup: () => (window.__tallyFake.dropped = 6),
    reach: async (page) => {
      await page.click(`${testid("conversation-item")} >> text=Trip to Lisbon`);
      await page.fill(testid("composer-input"), "And the hotel?");
      await page.keyboard.press("Enter");
      await page.waitForSelector(testid("summarize-button"));
      await page.waitForSelector(testid("context-meter"));
    },
  },
  {
    name: "search",
    guide: true,
    reach: async (page) => {
      await page.fill(testid("search-input"), "budget");
      await page.waitForSelector(testid("search-result"));
    },
  },
  {
    name: "trash",
    guide: true,
    reach: async (page) => {
      await page.click(testid("trash-button"));
      await page.waitForSelector(testid("trash-view"));
    },
  },
  {
    name: "settings",
    reach: async (page) => {
      await page.click(testid("settings-button"));
      await page.waitForSelector("dialog[open]");
      await page.waitForSelector(testid("price-table"));
    },
  },
  {
    name: "settings-backups",
    guide: true,
    reach: async (page) => {
      await page.click(testid("settings-button"));
      await page.waitForSelector(testid("backup-item"));
      await page.locator(testid("backup-create")).scrollIntoViewIfNeeded();
    },
  },
  {
    name: "settings-sync",
    guide: true,
    setup: () => (window.__tallyFake.syncOn = true),
    reach: async (page) => {
      await page.click(testid("settings-button"));
      await page.waitForSelector(`${testid("sync-status")}[data-status="idle"]`);
      await page.waitForSelector(testid("sync-device"));
      await page.locator(testid("sync-settings")).scrollIntoViewIfNeeded();
    },
  },
  {
    name: "settings-sync-setup",
    reach: async (page) => {
      await page.click(testid("settings-button"));
      await page.waitForSelector(`${testid("sync-status")}[data-status="off"]`);
      await page.locator(testid("sync-enable")).scrollIntoViewIfNeeded();
    },
  },
  {
    name: "settings-import",
    guide: true,
    reach: async (page) => {
      await page.click(testid("settings-button"));
      await page.locator(testid("import-drop")).scrollIntoViewIfNeeded();
    },
  },
  {
    name: "update-offered",
    guide: true,
    setup: () =>
      (window.__tallyFake.update = {
        version: "0.2.0",
        notes: "Pictures in chats.\nFaster search.",
        date: "2026-12-01",
      }),
    reach: async (page) => {
      await page.click(testid("settings-button"));
      await page.click(testid("update-check-button"));
      await page.waitForSelector(testid("update-install-button"));
      await page.locator(testid("update-install-button")).scrollIntoViewIfNeeded();
    },
  },
  {
    name: "update-banner",
    reach: async (page) => {
      await page.waitForSelector(testid("composer-input"));
      await page.evaluate(() =>
        window.__tallyFake.announceUpdate({
          version: "0.2.0",
          notes: "Pictures in chats.",
          date: "2026-12-01",
        }),
      );
      await page.waitForSelector(testid("update-banner"));
    },
  },
  {
    name: "attachments",
    guide: true,
    reach: async (page) => {
      await page.setInputFiles(testid("attach-input"), [FILES.picture, FILES.csv]);
      await page.waitForSelector(`${testid("attachment-chip")}[data-kind="file"]`);
      await page.fill(testid("composer-input"), "What do these say?");
      await page.waitForSelector(`${testid("cost-estimate")}:has-text("tokens")`);
    },
  },
  {
    name: "message-with-picture",
    reach: async (page) => {
      await page.setInputFiles(testid("attach-input"), [FILES.picture]);
      await page.waitForSelector(testid("attachment-chip"));
      await page.fill(testid("composer-input"), "What does this receipt say?");
      await page.click(testid("send-button"));
      await page.waitForSelector(`${testid("message-attachment")} img`);
      await page.waitForSelector(`${testid("message")}[data-status="complete"]`);
      await page.locator(testid("message-attachment")).scrollIntoViewIfNeeded();
    },
  },
  {
    name: "chat-settings",
    reach: async (page) => {
      await page.click(`${testid("conversation-item")} >> text=Trip to Lisbon`);
      await page.click(testid("chat-settings-button"));
      await page.waitForSelector(`${testid("chat-settings-dialog")}[open]`);
    },
  },
  {
    name: "usage",
    guide: true,
    reach: async (page) => {
      await page.click(testid("usage-button"));
      await page.waitForSelector(`${testid("usage-page")} canvas`);
      await page.waitForSelector(testid("request-log-row"));
    },
  },
  {
    name: "help",
    reach: async (page) => {
      await page.click(testid("help-button"));
      await page.waitForSelector(`${testid("help-panel")}[open]`);
    },
  },
];

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  mkdirSync(GUIDE, { recursive: true });
  const server = await serveUi();
  const engine = await fakeEngineScript();
  const browser = await launchChromium();
  const open = (options = {}) => openUi(browser, { base: server.base, engine, ...options });

  for (const theme of ["light", "dark"]) {
    for (const screen of SCREENS) {
      await test(`${screen.name} (${theme}): reachable, screenshot, axe`, async () => {
        const { page, context, problems } = await open({
          theme,
          setup: screen.setup,
          fixedTime: PICTURE_TIME,
        });
        try {
          await screen.reach(page);
          // Fonts and the chart's first frame, before the picture.
          await page.evaluate(() => document.fonts.ready);
          await page.waitForTimeout(150);
          const scheme = await page.evaluate(() =>
            matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light",
          );
          assert(scheme === theme, `the page saw a ${scheme} system theme`);
          await page.screenshot({ path: join(SHOTS, `${screen.name}-${theme}.png`) });
          if (screen.guide && theme === "light") {
            copyFileSync(
              join(SHOTS, `${screen.name}-light.png`),
              join(GUIDE, `${screen.name}.png`),
            );
            guidePictures.add(`${screen.name}.png`);
          }
          await accessibility(page, `${screen.name} (${theme})`);
          assert(problems.length === 0, problems.join("\n"));
        } finally {
          await context.close();
        }
      });
    }
  }

  await test("guide: every picture docs/guide.md shows was taken by this run", (t) => {
    if (ONLY) return t.skip("only a whole run takes every picture");
    const guide = readFileSync(join(GUIDE, "../guide.md"), "utf8");
    const shown = [...guide.matchAll(/\]\(guide\/([^)]+)\)/g)].map((m) => m[1]);
    assert(shown.length >= 5, `the guide shows ${shown.length} pictures`);
    const stale = shown.filter((name) => !guidePictures.has(name));
    assert(stale.length === 0, `not taken by the tests: ${stale.join(", ")}`);
  });

  await test("the XSS corpus (xss), streamed in small chunks, runs nothing and goes nowhere", async () => {
    const { page, context, problems } = await open();
    const violations = [];
    await page.exposeFunction("__cspViolation", (text) => violations.push(text));
    await page.evaluate(() =>
      document.addEventListener("securitypolicyviolation", (e) =>
        window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`),
      ),
    );
    const requests = [];
    page.on("request", (request) => {
      if (!request.url().startsWith("http://127.0.0.1")) requests.push(request.url());
    });
    const frames = [];
    page.on("framenavigated", (frame) => frames.push(frame.url()));
    const start = page.url();
    let clicked = 0;
    try {
      for (const [index, payload] of CORPUS.entries()) {
        // Chunks of 3 characters, so that every payload is split mid-token.
        const chunks = payload.match(/[\s\S]{1,3}/g);
        await page.evaluate((chunks) => {
          window.__tallyFake.reply = { chunks, intervalMs: 0 };
        }, chunks);
        await page.fill(testid("composer-input"), payload);
        await page.keyboard.press("Enter");
        await page
          .waitForFunction(
            (count) =>
              document.querySelectorAll(
                '[data-testid="message"][data-role="assistant"][data-status="complete"]',
              ).length >= Math.min(count, 1) &&
              !document.querySelector('[data-testid="message"][data-status="streaming"]') &&
              !document.querySelector('[data-testid="stop-button"]') &&
              Number(document.querySelector('[data-testid="message-list"]')?.dataset.count) ===
                count * 2,
            index + 1,
            { timeout: 10_000 },
          )
          .catch(async (error) => {
            const shown = await page.evaluate(
              () => document.querySelector('[data-testid="message-list"]')?.dataset.count,
            );
            throw new Error(
              `payload ${index} (${JSON.stringify(payload)}): ${shown} messages shown: ${error.message}`,
            );
          });
        // Every link the reply holds, clicked: only http(s) may reach the system browser.
        const links = page
          .locator(`${testid("message")}[data-role="assistant"]`)
          .last()
          .locator("a");
        for (const link of await links.all())
          await link.click({ noWaitAfter: true, timeout: 5_000 });
        clicked += await links.count();
      }
      await page.waitForTimeout(300);
      const state = await page.evaluate(() => ({
        pwned: window.__pwned ?? null,
        opened: window.__tallyFake.opened,
        remoteImages: [...document.images].filter(
          (i) => !i.src.startsWith(location.origin) && !i.src.startsWith("data:"),
        ).length,
        iframes: document.querySelectorAll("iframe, object, embed").length,
      }));
      assert(state.pwned === null, `payload ${state.pwned} ran`);
      assert(page.url() === start, `the page went to ${page.url()}`);
      assert(
        frames.every((url) => url === start),
        `a frame went to ${frames.join(", ")}`,
      );
      assert(requests.length === 0, `remote requests: ${requests.join(", ")}`);
      assert(state.remoteImages === 0 && state.iframes === 0, JSON.stringify(state));
      assert(
        state.opened.every((url) => /^https?:\/\//i.test(url)),
        `opened: ${state.opened.join(", ")}`,
      );
      // Rendering never even asks for what the CSP refuses: the sanitizer's output is all
      // the page ever parses.
      assert(violations.length === 0, `CSP violations: ${violations.join(", ")}`);
      assert(problems.length === 0, problems.join("\n"));
      console.log(
        `     ${CORPUS.length} payloads, ${clicked} links clicked, ${state.opened.length} opened (http/https), no CSP violation`,
      );
    } finally {
      await context.close();
    }
  });

  await test("settings: Save keeps what was changed and closes", async () => {
    const { page, context, problems } = await open();
    try {
      await page.click(testid("settings-button"));
      await page.waitForSelector("dialog[open]");
      await page.uncheck(testid("auto-titles-toggle"));
      await page.click(testid("settings-save"));
      await page.waitForSelector("dialog[open]", { state: "detached" });
      const saved = await page.evaluate(() => window.__tallyFake.saved());
      assert(saved.settings.autoTitles === false, JSON.stringify(saved.settings));
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("settings: About names the version, the prices' date and the data folder, and opens it", async () => {
    const { page, context, problems } = await open();
    try {
      await page.click(testid("settings-button"));
      const about = page.locator(testid("app-version"));
      await about.waitFor();
      assert((await about.getAttribute("data-version")) === "0.1.0");
      const text = await about.textContent();
      const { checkedOn } = JSON.parse(
        readFileSync(join(import.meta.dirname, "catalog.json"), "utf8"),
      ).prices;
      assert(text.includes("Tally 0.1.0") && text.includes(checkedOn), text);
      const folder = await page.textContent(testid("data-folder"));
      assert(folder === "/home/ada/.local/share/app.tally.desktop", folder);
      await page.click(testid("data-folder-open"));
      await page.waitForFunction(() => window.__tallyFake.opened.includes("the data folder"));
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("settings: an update is offered with its notes, downloads with progress, and a refused one changes nothing", async () => {
    const { page, context, problems } = await open({
      setup: () =>
        (window.__tallyFake.update = {
          version: "0.2.0",
          notes: "Pictures in chats.\nFaster search.",
          date: "2026-12-01",
        }),
    });
    try {
      await page.click(testid("settings-button"));
      await page.click(testid("update-check-button"));
      await page.waitForSelector(`${testid("update-status")}[data-step="offered"]`);
      const offer = await page.textContent(testid("update-status"));
      assert(offer.includes("Tally 0.2.0 is available") && offer.includes("2026-12-01"), offer);
      assert((await page.textContent(testid("update-notes"))).includes("Faster search."));
      // A package whose signature is not the developers' is refused, and can be retried.
      await page.evaluate(
        () =>
          (window.__tallyFake.updateInstallFails = {
            code: "update_failed",
            message:
              "This update is not signed by Tally's developers, so it was not installed. Nothing was changed.",
          }),
      );
      await page.click(testid("update-install-button"));
      const refused = await page.textContent(`${testid("update-problem")}`);
      assert(refused.includes("not signed"), refused);
      assert((await page.evaluate(() => window.__tallyFake.updatesInstalled)).length === 0);
      await page.evaluate(() => (window.__tallyFake.updateInstallFails = null));
      await page.click(testid("update-install-button"));
      await page.waitForSelector(`${testid("update-status")}[data-step="restarting"]`);
      const installed = await page.evaluate(() => window.__tallyFake.updatesInstalled);
      assert(installed.join() === "0.2.0", installed.join());
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("updates: the daily check's find is a quiet banner that opens About at the offer, or goes on Not now", async () => {
    const { page, context, problems } = await open();
    const offer = { version: "0.2.0", notes: "Pictures in chats.", date: "2026-12-01" };
    try {
      await page.waitForSelector(testid("composer-input"));
      assert((await page.$(testid("update-banner"))) === null, "a banner before any find");
      await page.evaluate((o) => window.__tallyFake.announceUpdate(o), offer);
      const banner = await page.textContent(testid("update-banner"));
      assert(banner.includes("Tally 0.2.0 is available"), banner);
      // Not an alert: nothing is wrong.
      assert((await page.getAttribute(testid("update-banner"), "role")) === "status");
      await page.click(testid("update-banner-dismiss"));
      await page.waitForSelector(testid("update-banner"), { state: "detached" });
      await page.evaluate((o) => window.__tallyFake.announceUpdate(o), offer);
      await page.click(testid("update-banner-open"));
      await page.waitForSelector(`${testid("update-status")}[data-step="offered"]`);
      await page.waitForSelector(testid("update-banner"), { state: "detached" });
      const about = await page.locator(testid("about-section")).boundingBox();
      const viewport = page.viewportSize();
      assert(about.y >= 0 && about.y < viewport.height, `About is at ${about.y}, out of view`);
      assert((await page.textContent(testid("update-notes"))).includes("Pictures in chats."));
      await page.click(testid("update-install-button"));
      await page.waitForSelector(`${testid("update-status")}[data-step="restarting"]`);
      const installed = await page.evaluate(() => window.__tallyFake.updatesInstalled);
      assert(installed.join() === "0.2.0", installed.join());
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("settings: the daily update check is turned on and off there", async () => {
    const { page, context, problems } = await open();
    try {
      await page.click(testid("settings-button"));
      assert(
        !(await page.isChecked(testid("update-checks-toggle"))),
        "on before the person agreed",
      );
      await page.check(testid("update-checks-toggle"));
      await page.click(testid("settings-save"));
      await page.waitForSelector(testid("settings-save"), { state: "detached" });
      assert(
        await page.evaluate(() => window.__tallyFake.saved().settings.updateChecks),
        "not saved",
      );
      await page.click(testid("settings-button"));
      assert(await page.isChecked(testid("update-checks-toggle")), "not shown as on");
      await page.uncheck(testid("update-checks-toggle"));
      await page.click(testid("settings-save"));
      await page.waitForSelector(testid("settings-save"), { state: "detached" });
      assert(
        !(await page.evaluate(() => window.__tallyFake.saved().settings.updateChecks)),
        "still on",
      );
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("sync: turned on in Settings (a wrong passphrase refused in words), then another computer's conversation appears in the sidebar with the title it replaced kept", async () => {
    const { page, context, problems } = await open();
    try {
      await page.click(testid("settings-button"));
      await page.waitForSelector(`${testid("sync-status")}[data-status="off"]`);
      await page.fill(testid("sync-location-input"), "/home/you/Dropbox/Tally");
      await page.fill(testid("sync-passphrase-input"), "not the passphrase");
      await page.click(testid("sync-enable"));
      const refused = await page.textContent(`${testid("sync-settings")} [role="alert"]`);
      assert(refused.includes("does not open the sync storage"), refused);
      assert(
        (await page.inputValue(testid("sync-location-input"))) === "/home/you/Dropbox/Tally",
        "the place typed was lost",
      );
      await page.fill(testid("sync-passphrase-input"), "correct horse battery");
      await page.click(testid("sync-enable"));
      await page.waitForSelector(`${testid("sync-status")}[data-status="idle"]`);
      const status = await page.textContent(testid("sync-status"));
      assert(status.includes("Last synced") && status.includes("received"), status);
      await page.click(testid("sync-now"));
      await page.waitForFunction(() =>
        document
          .querySelector('[data-testid="sync-status"]')
          ?.textContent?.includes("Sent 1 change"),
      );
      await page.click(testid("settings-save"));
      await page.waitForSelector(testid("settings-save"), { state: "detached" });

      await page.evaluate(() =>
        window.__tallyFake.syncArrives("Written on the laptop", "Renamed here before syncing"),
      );
      await page.waitForSelector(`${testid("conversation-item")} >> text=Written on the laptop`);
      // The title that lost to the laptop's rename is kept, and can be taken back.
      const row = page.locator("li.row", {
        has: page.locator(`${testid("conversation-item")} >> text=Written on the laptop`),
      });
      await row.locator(testid("conversation-menu")).click();
      const earlier = row.locator(testid("conversation-earlier-title"));
      await earlier.waitFor();
      assert((await earlier.textContent()).includes("Renamed here before syncing"));
      await row.screenshot({ path: join(SHOTS, "sync-earlier-titles.png") });
      await earlier.click();
      await page.waitForSelector(
        `${testid("conversation-item")} >> text=Renamed here before syncing`,
      );
      // The usage page lists what each computer spent.
      await page.click(testid("usage-button"));
      const computers = await page.textContent(testid("usage-by-computer"));
      assert(computers.includes("laptop") && computers.includes("$1.25"), computers);
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("attachments: chosen files become chips with their tokens, go with the message, and open larger", async () => {
    const { page, context, problems } = await open();
    try {
      await page.fill(testid("composer-input"), "Please read these.");
      // A file Tally cannot send is refused in words; what was typed stays.
      await page.setInputFiles(testid("attach-input"), [FILES.binary]);
      const refused = await page.textContent(testid("attachment-problem"));
      assert(
        refused.includes("photos.zip") && refused.includes("Tally can attach pictures"),
        refused,
      );
      assert(
        (await page.inputValue(testid("composer-input"))) === "Please read these.",
        "the text went",
      );
      await page.setInputFiles(testid("attach-input"), [FILES.picture, FILES.csv]);
      const chips = page.locator(testid("attachment-chip"));
      await page.waitForSelector(`${testid("attachment-chip")}[data-kind="file"]`);
      assert((await chips.count()) === 2, `${await chips.count()} chips`);
      assert((await chips.nth(0).getAttribute("data-kind")) === "image");
      assert(
        Number(await chips.nth(0).getAttribute("data-tokens")) > 0,
        "no tokens on the picture",
      );
      assert((await chips.nth(1).textContent()).includes("budget.csv"));
      assert((await page.$(`${testid("attachment-chip")} img`)) !== null, "no thumbnail");
      // Another model for this chat: the picture is counted again, by its rule.
      await page.waitForSelector(
        `${testid("attachment-chip")}[data-kind="image"][data-tokens="255"]`,
      );
      await page.click(testid("chat-settings-button"));
      await page.selectOption(testid("chat-model"), "gpt-4o");
      await page.click(testid("chat-settings-save"));
      await page.waitForSelector(
        `${testid("attachment-chip")}[data-kind="image"][data-tokens="765"]`,
      );
      // The estimate counts them.
      await page.waitForFunction(() =>
        /\d+ tokens to send/.test(
          document.querySelector('[data-testid="cost-estimate"]')?.textContent ?? "",
        ),
      );
      // Removed before sending: it is not sent.
      await page.click(
        `${testid("attachment-chip")}:has-text("budget.csv") ${testid("attachment-remove")}`,
      );
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="attachment-chip"]').length === 1,
      );
      await page.click(testid("send-button"));
      await page.waitForSelector(
        `${testid("message")}[data-role="user"] ${testid("message-attachment")}[data-kind="image"] img`,
      );
      assert((await page.$(testid("attachment-chip"))) === null, "the chips stay after sending");
      const sent = await page.$$(
        `${testid("message")}[data-role="user"] ${testid("message-attachment")}`,
      );
      assert(sent.length === 1, `${sent.length} attachments sent`);
      await page.click(`${testid("message-attachment")}[data-kind="image"]`);
      await page.waitForSelector(`${testid("attachment-viewer")}[open] img`);
      await page.keyboard.press("Escape");
      await page.waitForSelector(testid("attachment-viewer"), { state: "detached" });
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("attachments: a scanned PDF is offered as pictures of its pages, which become chips", async () => {
    const { page, context, problems } = await open();
    try {
      await page.fill(testid("composer-input"), "What does this letter say?");
      await page.setInputFiles(testid("attach-input"), [
        { name: "letter.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.7\n") },
      ]);
      const said = await (await page.waitForSelector(testid("attachment-problem"))).textContent();
      assert(said.includes("letter.pdf: This PDF has no text in it"), said);
      await page.click(testid("attachment-pdf-pages"));
      await page.waitForFunction(
        () =>
          document.querySelectorAll('[data-testid="attachment-chip"][data-kind="image"]').length ===
          2,
      );
      const names = await page.$$eval(`${testid("attachment-chip")} .name`, (n) =>
        n.map((e) => e.textContent),
      );
      assert(
        names.join("|") === "letter, page 1 of 2.jpg|letter, page 2 of 2.jpg",
        names.join("|"),
      );
      assert((await page.$(testid("attachment-problem"))) === null, "the problem stays");
      assert((await page.$(testid("attachment-pdf-pages"))) === null, "the offer stays");
      assert((await page.inputValue(testid("composer-input"))) === "What does this letter say?");
      await page.screenshot({ path: join(SHOTS, "attachments-scan-pages.png") });
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("attachments: a file's text opens from the message, and a picture alone can be sent", async () => {
    const { page, context, problems } = await open();
    try {
      await page.setInputFiles(testid("attach-input"), [FILES.csv]);
      await page.waitForSelector(testid("attachment-chip"));
      assert(await page.isEnabled(testid("send-button")), "a file alone cannot be sent");
      await page.click(testid("send-button"));
      await page.click(`${testid("message-attachment")}[data-kind="file"]`);
      const text = await page.textContent(`${testid("attachment-viewer")} pre`);
      assert(text.includes("rent,900"), text);
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("settings: a check that finds nothing newer says so", async () => {
    const { page, context, problems } = await open();
    try {
      await page.click(testid("settings-button"));
      await page.click(testid("update-check-button"));
      await page.waitForSelector(`${testid("update-status")}[data-step="current"]`);
      const text = await page.textContent(testid("update-status"));
      assert(text.includes("Tally 0.1.0 is the newest version"), text);
      assert((await page.$(testid("update-install-button"))) === null);
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("settings: MCP servers show their state, and one added there is listed", async () => {
    const { page, context, problems } = await open();
    try {
      await page.click(testid("settings-button"));
      await page.waitForSelector("dialog[open]");
      const statuses = await page.$$eval(testid("mcp-server-item"), (items) =>
        items.map((i) => `${i.dataset.server}:${i.dataset.status}`),
      );
      assert(
        statuses.join(" ") === "Files:off Notes:failed Time:ready",
        `servers: ${statuses.join(" ")}`,
      );
      await page.click(testid("mcp-server-add"));
      await page.fill(testid("mcp-server-name-input"), "Fetch");
      await page.fill(testid("mcp-server-command-input"), "uvx");
      await page.fill(testid("mcp-server-args-input"), "mcp-server-fetch --ignore-robots-txt");
      await page.click(testid("mcp-server-save"));
      await page.waitForSelector(
        `${testid("mcp-server-item")}[data-server="Fetch"][data-status="ready"]`,
      );
      const section = await page.$(testid("mcp-settings"));
      await section.scrollIntoViewIfNeeded();
      await section.screenshot({ path: join(SHOTS, "settings-mcp-servers.png") });
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("tools: chosen for a chat, a call asks first, runs once allowed, and folds into the reply", async () => {
    const { page, context, problems } = await open({
      setup: () =>
        (window.__tallyFake.toolCall = {
          server: "Time",
          tool: "get_current_time",
          arguments: '{"timezone":"Europe/Lisbon"}',
          result: '{"timezone": "Europe/Lisbon", "datetime": "2026-11-30T14:05:00+00:00"}',
        }),
    });
    try {
      await page.click(testid("tools-button"));
      await page.click(`${testid("tool-toggle")}[data-tool="get_current_time"]`);
      await page.waitForSelector(`${testid("tools-button")}[data-count="1"]`);
      await page.click(testid("tools-panel-close"));
      await page.fill(testid("composer-input"), "What time is it in Lisbon?");
      await page.click(testid("send-button"));
      const approval = await page.waitForSelector(testid("tool-approval"));
      const words = await approval.textContent();
      assert(words.includes("Europe/Lisbon") && !words.includes("{"), `approval: ${words}`);
      assert(words.includes("at most $0.00"), `approval: ${words}`);
      await approval.screenshot({ path: join(SHOTS, "tool-approval.png") });
      await page.click(testid("tool-approve-once"));
      const call = await page.waitForSelector(`${testid("tool-call")}[data-status="done"]`);
      await page.waitForSelector(`${testid("message")}[data-status="complete"]`);
      assert(!(await page.$(testid("tool-approval"))), "the question stays after the answer");
      await call.click({ position: { x: 20, y: 10 } });
      await page.waitForSelector(`${testid("tool-call-result")}:visible`);
      const reply = await page.$(`${testid("message")}[data-role="assistant"]`);
      await reply.screenshot({ path: join(SHOTS, "tool-call-done.png") });
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("onboarding: key, a model with its price in words, a budget, then the first chat", async () => {
    const { page, context, problems } = await open({
      setup: () => Object.assign(window.__tallyFake, { onboarded: false, keySaved: false }),
    });
    try {
      // Off until the person agrees.
      assert(
        !(await page.isChecked(testid("onboarding-update-checks"))),
        "update checks on by default",
      );
      await page.check(testid("onboarding-update-checks"));
      await page.click(testid("onboarding-start"));
      assert(await page.isDisabled(testid("onboarding-next")), "Next works before a key is saved");
      await page.fill(testid("api-key-input"), "not a key");
      await page.click(testid("api-key-save"));
      await page.waitForSelector("text=does not look like an OpenAI API key");
      await page.fill(testid("api-key-input"), "sk-proj-browserTest0000wxyz");
      await page.click(testid("api-key-save"));
      await page.click(testid("onboarding-next"));
      await page.waitForSelector(testid("onboarding-plan"));
      // The step's heading has the focus, so a screen reader starts there.
      assert(
        await page.evaluate(() => document.activeElement?.tagName === "H1"),
        "the focus is not on the step's heading",
      );
      await page.selectOption(testid("model-picker"), "gpt-4o");
      const price = await page.textContent(testid("model-price"));
      assert(price.includes("gpt-4o: less than a cent for a page of reply"), price);
      await page.fill(testid("budget-amount-input"), "twelve");
      await page.click(testid("onboarding-finish"));
      await page.waitForSelector("text=Type the budget in dollars");
      await page.fill(testid("budget-amount-input"), "12.50");
      await page.check(testid("hard-stop-toggle"));
      await page.click(testid("onboarding-finish"));
      await page.waitForSelector(testid("composer-input"));
      const saved = await page.evaluate(() => window.__tallyFake.saved());
      assert(
        saved.settings.onboarded &&
          saved.settings.defaultModel === "gpt-4o" &&
          saved.settings.updateChecks,
        JSON.stringify(saved.settings),
      );
      assert(
        saved.budget.monthlyNanos === 12_500_000_000 && saved.budget.hardStop,
        JSON.stringify(saved.budget),
      );
      assert(
        (await page.textContent(testid("spend-meter"))).includes("of $12.50 this month"),
        "the meter",
      );
      // The guide again, from Settings.
      await page.click(testid("settings-button"));
      await page.click(testid("onboarding-again"));
      await page.waitForSelector(testid("onboarding-start"));
      assert(
        !(await page.evaluate(() => window.__tallyFake.saved().settings.onboarded)),
        "still onboarded",
      );
      await page.click(testid("onboarding-start"));
      await page.click(testid("onboarding-skip"));
      await page.waitForSelector(testid("composer-input"));
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("shortcuts: new chat, search, settings, help, and Esc stops a reply", async () => {
    const { page, context, problems } = await open();
    try {
      const focused = () => page.evaluate(() => document.activeElement?.id ?? "");
      await page.click(`${testid("conversation-item")} >> text=Trip to Lisbon`);
      await page.waitForSelector(testid("message-content"));
      await page.keyboard.press("Control+n");
      await page.waitForFunction(() => !document.querySelector('[data-testid="message"]'));
      assert((await focused()) === "composer-input", `focus on ${await focused()}`);
      await page.keyboard.press("Control+k");
      assert((await focused()) === "search-input", `focus on ${await focused()}`);
      // Esc in the search box clears it, and is no Stop.
      await page.keyboard.type("budget");
      await page.keyboard.press("Escape");
      assert((await page.inputValue(testid("search-input"))) === "", "Esc left the search");
      await page.keyboard.press("Control+,");
      await page.waitForSelector("dialog[open] #settings-title");
      // Shortcuts wait while a dialog is open; Esc closes it.
      await page.keyboard.press("Control+/");
      assert((await page.$(`${testid("help-panel")}[open]`)) === null, "help opened over Settings");
      await page.keyboard.press("Escape");
      await page.waitForSelector("dialog[open]", { state: "detached" });
      await page.keyboard.press("F1");
      await page.waitForSelector(`${testid("help-panel")}[open]`);
      const listed = await page.textContent(testid("help-panel"));
      for (const words of [
        "Start a new chat",
        "Ctrl+N",
        "Ctrl+K",
        "Ctrl+,",
        "Esc",
        "Shift+Enter",
      ]) {
        assert(
          listed.replace(/\s+/g, "").includes(words.replace(/\s+/g, "")),
          `the help panel lacks ${words}`,
        );
      }
      await page.keyboard.press("Escape");
      await page.waitForSelector("dialog[open]", { state: "detached" });
      // A slow reply, stopped with Esc from the composer.
      await page.evaluate(() => {
        window.__tallyFake.reply = {
          chunks: Array.from({ length: 200 }, (_, i) => `word${i} `),
          intervalMs: 50,
        };
      });
      await page.fill(testid("composer-input"), "Write something long");
      await page.keyboard.press("Enter");
      await page.waitForSelector(`${testid("message")}[data-status="streaming"]`);
      await page.waitForFunction(() =>
        document
          .querySelector('[data-testid="message"][data-status="streaming"]')
          ?.textContent.includes("word3"),
      );
      await page.focus(testid("composer-input"));
      await page.keyboard.press("Escape");
      await page.waitForSelector(
        `${testid("message")}[data-role="assistant"][data-status="stopped"]`,
      );
      const kept = await page.textContent(
        `${testid("message")}[data-role="assistant"] ${testid("message-content")}`,
      );
      assert(kept.includes("word3") && !kept.includes("word199"), `kept: ${kept.slice(0, 80)}`);
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("a long conversation is summarized into a new chat, which opens", async () => {
    const { page, context, problems } = await open({
      setup: () => (window.__tallyFake.dropped = 4),
    });
    try {
      await page.click(`${testid("conversation-item")} >> text=Trip to Lisbon`);
      await page.fill(testid("composer-input"), "And the hotel?");
      await page.keyboard.press("Enter");
      const notice = await (await page.waitForSelector(testid("context-notice"))).textContent();
      assert(notice.includes("4 earlier messages were not sent"), notice);
      await page.waitForFunction(() => !document.querySelector('[data-testid="stop-button"]'));
      await page.click(testid("summarize-button"));
      await page.waitForSelector(
        `${testid("message")}[data-role="assistant"][data-status="complete"]`,
      );
      await page.waitForFunction(() => !document.querySelector('[data-testid="stop-button"]'));
      const shown = await page.$$eval(`${testid("message")}`, (all) =>
        all.map((m) => m.textContent.trim()),
      );
      assert(shown.length === 2, `${shown.length} messages: ${shown.join(" | ")}`);
      assert(shown[0].includes("Summarize our conversation “Trip to Lisbon”"), shown[0]);
      assert(shown[1].includes("a budget of $900 for rent."), shown[1]);
      assert((await page.textContent("h1")).includes("Trip to Lisbon (continued)"), "the title");
      assert(
        (await page.$(testid("context-notice"))) === null,
        "the notice stays after the summary",
      );
      const items = await page.$$eval(testid("conversation-item"), (all) =>
        all.map((i) => i.textContent),
      );
      assert(
        items.some((t) => t.includes("(continued)")),
        items.join(", "),
      );
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("import: a large file goes in pieces, whole, with progress and a summary; export says where", async () => {
    const { page, context, problems } = await open();
    try {
      // 3 MB of conversations whose text is full of characters of several bytes, so the
      // pieces are cut in the middle of some.
      const conversations = Array.from({ length: 300 }, (_, i) => ({
        title: `Imported chat ${i} — 😀 ünïcödé`,
        mapping: {
          root: { message: null, children: [], text: "日本語のテキスト 🍣 ".repeat(700) },
        },
      }));
      const file = JSON.stringify(conversations);
      await page.click(testid("settings-button"));
      await page.setInputFiles(testid("import-file"), {
        name: "conversations.json",
        mimeType: "application/json",
        buffer: Buffer.from(file),
      });
      const result = await (await page.waitForSelector(testid("transfer-result"))).textContent();
      assert(result.includes("Imported 300 conversations (600 messages) from ChatGPT."), result);
      const pieces = await page.evaluate(() => window.__tallyFake.imported);
      assert(pieces.length >= 3, `${pieces.length} pieces`);
      assert(pieces.join("") === file, "the file arrived changed");
      assert((await page.$(testid("import-progress"))) === null, "the progress bar stays");

      // ChatGPT's whole export, as the .zip it sends: it goes in base64 pieces, byte for byte.
      const zip = storedZip([
        ["conversations.json", Buffer.from(JSON.stringify(conversations.slice(0, 2)))],
      ]);
      await page.setInputFiles(testid("import-file"), {
        name: "chatgpt-export.zip",
        mimeType: "application/zip",
        buffer: zip,
      });
      const zipped = await (
        await page.waitForSelector(`${testid("transfer-result")} >> text=with 2 pictures`)
      ).textContent();
      assert(
        zipped.includes("Imported 2 conversations (4 messages) from ChatGPT, with 2 pictures."),
        zipped,
      );
      const sent = await page.evaluate(() => window.__tallyFake.importedArchive);
      assert(
        Buffer.concat(sent.map((piece) => Buffer.from(piece, "base64"))).equals(zip),
        "the zip arrived changed",
      );
      await page.click(testid("export-markdown"));
      const saved = await (
        await page.waitForSelector(`${testid("transfer-result")} >> text=saved to`)
      ).textContent();
      assert(saved.includes("conversations saved to /home/you/Downloads/"), saved);
      await page.keyboard.press("Escape");
      await page.waitForSelector(`${testid("conversation-item")} >> text=Imported chat 299`);
      // One conversation, from its menu.
      await page.click(`${testid("conversation-item")} >> text=Trip to Lisbon`);
      await page.click(`[aria-label="Actions for “Trip to Lisbon”"]`);
      await page.click(testid("conversation-export-json"));
      const one = await (
        await page.waitForSelector(testid("conversation-export-result"))
      ).textContent();
      assert(one.startsWith("1 conversation saved to"), one);
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("every control is reachable with Tab and shows where the focus is", async () => {
    const { page, context, problems } = await open();
    try {
      await page.click(`${testid("conversation-item")} >> text=Trip to Lisbon`);
      await page.waitForSelector(testid("message-content"));
      await page.evaluate(() => document.activeElement?.blur());
      const reached = new Set();
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press("Tab");
        const info = await page.evaluate(() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          const style = getComputedStyle(el);
          return {
            id: el.dataset.testid ?? el.id ?? el.tagName,
            outlined: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
          };
        });
        if (!info) continue;
        assert(info.outlined, `${info.id} has the focus but no visible outline`);
        reached.add(info.id);
      }
      for (const id of [
        "new-chat-button",
        "search-input",
        "conversation-item",
        "composer-input",
        "chat-settings-button",
        "spend-meter",
        "settings-button",
        "help-button",
      ]) {
        assert(reached.has(id), `Tab never reaches ${id} (reached: ${[...reached].join(", ")})`);
      }
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("the view follows a reply at the end, stays put when the reader scrolls up, and Jump to latest returns", async () => {
    const { page, context, problems } = await open();
    // A slow machine: the list measures its rows late, as on a busy 2-core laptop.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 6 });
    const view = () =>
      page.evaluate(() => {
        const list = document.querySelector('[data-testid="message-list"]');
        const drawn = [...list.querySelectorAll('[data-testid="message"]')];
        const last = drawn.at(-1);
        return {
          count: Number(list.dataset.count),
          gap: Math.round(list.scrollHeight - list.scrollTop - list.clientHeight),
          lastText: last?.textContent ?? "",
          lastVisible: last ? last.getBoundingClientRect().bottom <= innerHeight : false,
          jump: !!document.querySelector('[data-testid="jump-to-latest"]'),
        };
      });
    // Replies of every height: one line, a table, code, a long list.
    const bodies = [
      "Short.",
      "| a | b |\n|---|---|\n" + "| 1 | 2 |\n".repeat(12),
      "```rust\n" + "fn main() {}\n".repeat(20) + "```",
      Array.from({ length: 25 }, (_, i) => `- point ${i + 1}`).join("\n"),
    ];
    try {
      await page.click(`${testid("conversation-item")} >> text=Trip to Lisbon`);
      await page.waitForSelector(testid("message-content"));
      for (let i = 0; i < 12; i++) {
        const body = `${bodies[i % bodies.length]}\n\nreply ${i + 1} ends here`;
        await page.evaluate(
          (chunks) => {
            window.__tallyFake.reply = { chunks, intervalMs: 0 };
          },
          body.match(/[\s\S]{1,7}/g),
        );
        await page.fill(testid("composer-input"), `question ${i + 1}`);
        await page.keyboard.press("Enter");
        await page.waitForFunction(
          (count) =>
            Number(document.querySelector('[data-testid="message-list"]').dataset.count) ===
              count && !document.querySelector('[data-testid="stop-button"]'),
          6 + 2 * (i + 1),
        );
        // Row heights settle a frame or two after the stream ends.
        const settled = await page
          .waitForFunction(
            (end) => {
              const list = document.querySelector('[data-testid="message-list"]');
              const last = [...list.querySelectorAll('[data-testid="message"]')].at(-1);
              return (
                last?.textContent.includes(end) &&
                list.scrollHeight - list.scrollTop - list.clientHeight < 48
              );
            },
            `reply ${i + 1} ends here`,
            { timeout: 3_000 },
          )
          .then(() => true)
          .catch(() => false);
        assert(
          settled,
          `after reply ${i + 1} the view is not at its end: ${JSON.stringify(await view())}`,
        );
        assert(!(await view()).jump, `after reply ${i + 1} "Jump to latest" is shown`);
      }

      // The reader scrolls up while the next reply streams: the view stays where they are.
      await page.evaluate(() => {
        window.__tallyFake.reply = {
          chunks: Array.from({ length: 60 }, (_, i) => `line ${i + 1}\n\n`),
          intervalMs: 20,
        };
      });
      await page.fill(testid("composer-input"), "one more");
      await page.keyboard.press("Enter");
      await page.waitForSelector(testid("stop-button"));
      await page.mouse.move(500, 300);
      await page.mouse.wheel(0, -1500);
      await page.waitForSelector(testid("jump-to-latest"));
      const before = await page.evaluate(
        () => document.querySelector('[data-testid="message-list"]').scrollTop,
      );
      await page.waitForSelector(testid("stop-button"), { state: "detached" });
      const after = await page.evaluate(
        () => document.querySelector('[data-testid="message-list"]').scrollTop,
      );
      assert(Math.abs(after - before) < 2, `the view moved from ${before} to ${after} px`);
      assert((await view()).gap > 200, "the view went back to the end");

      await page.click(testid("jump-to-latest"));
      await page.waitForFunction(() => {
        const list = document.querySelector('[data-testid="message-list"]');
        return list.scrollHeight - list.scrollTop - list.clientHeight < 48;
      });
      await page.waitForSelector(testid("jump-to-latest"), { state: "detached" });
      assert((await view()).lastText.includes("line 60"), "the last line is not shown");

      // A short conversation opened after this long one, scrolled to its end, is drawn.
      await page.click(`${testid("conversation-item")} >> text=Weekly budget plan`);
      await page
        .waitForFunction(
          () => document.querySelectorAll('[data-testid="message"]').length === 4,
          null,
          { timeout: 3_000 },
        )
        .catch(async () => {
          throw new Error(`the short conversation shows ${JSON.stringify(await view())}`);
        });
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("a long conversation opens at its end, then the rest is put in front without moving the view", async () => {
    const { page, context, problems } = await open({
      setup: () => window.__tallyFake.seed("A very long chat", 600, -60_000),
    });
    const fetched = () =>
      page.evaluate(() => window.__tallyFake.calls.filter((c) => c === "conversation_get").length);
    try {
      await page.click(`${testid("conversation-item")} >> text=A very long chat`);
      // Its last messages first, drawn at the end of the list.
      await page.waitForFunction(() => {
        const list = document.querySelector('[data-testid="message-list"]');
        const last = [...list.querySelectorAll('[data-testid="message"]')].at(-1);
        return (
          last?.textContent.includes("Answer 599") &&
          list.scrollHeight - list.scrollTop - list.clientHeight < 48
        );
      });
      // Then the whole branch, in front, while the view stays at the end.
      await page.waitForFunction(
        () => document.querySelector('[data-testid="message-list"]').dataset.count === "600",
      );
      assert((await fetched()) === 2, `conversation_get called ${await fetched()} times`);
      await page.waitForTimeout(100);
      const after = await page.evaluate(() => {
        const list = document.querySelector('[data-testid="message-list"]');
        return {
          gap: list.scrollHeight - list.scrollTop - list.clientHeight,
          last: [...list.querySelectorAll('[data-testid="message"]')].at(-1)?.textContent ?? "",
        };
      });
      assert(after.gap < 48 && after.last.includes("Answer 599"), JSON.stringify(after));
      // The start of the conversation is there to scroll to.
      await page.mouse.move(500, 300);
      for (let i = 0; i < 40; i++) {
        await page.mouse.wheel(0, -100_000);
        const top = await page.evaluate(
          () => document.querySelector('[data-testid="message-list"]').scrollTop,
        );
        if (top === 0) break;
      }
      await page.waitForFunction(() =>
        document.querySelector('[data-testid="message"]')?.textContent.includes("Question 1:"),
      );
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await test("at 800×600 nothing is cut off and nothing scrolls sideways", async () => {
    const { page, context, problems } = await open({ viewport: { width: 800, height: 600 } });
    try {
      await page.click(`${testid("conversation-item")} >> text=Trip to Lisbon`);
      await page.waitForSelector(testid("message-content"));
      const overflow = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth - innerWidth,
        composer:
          document.querySelector('[data-testid="composer-input"]').getBoundingClientRect().bottom -
          innerHeight,
        meter:
          document.querySelector('[data-testid="spend-meter"]').getBoundingClientRect().right -
          innerWidth,
      }));
      await page.screenshot({ path: join(SHOTS, "chat-800x600.png") });
      assert(overflow.page <= 0, `the page scrolls ${overflow.page} px sideways`);
      assert(overflow.composer <= 0 && overflow.meter <= 0, JSON.stringify(overflow));
      assert(problems.length === 0, problems.join("\n"));
    } finally {
      await context.close();
    }
  });

  await browser.close();
  await server.close();
  writeFileSync(join(SHOTS, "results.json"), JSON.stringify(results, null, 2));
  console.log("(screenshots in target/browser-screenshots)");
}

await main();
// node:test sets the exit code. Should anything still hold the process open (a page that
// did not close), it ends anyway instead of hanging the suite.
setTimeout(() => {
  // Only what holds the process open is listed (this timer does not).
  const held = process.getActiveResourcesInfo();
  console.error(`the browser tests ended but something still ran (${held.join(", ")}): exiting`);
  process.exit(process.exitCode || 1);
}, 10_000).unref();
