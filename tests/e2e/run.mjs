// End-to-end: the real Tally binary under Xvfb, driven over WebDriver (tauri-driver +
// WebKitWebDriver), with a real Secret Service and the mock OpenAI server on loopback.
// `cargo xtask test` runs this inside a private D-Bus session with a fresh HOME; the tests
// are node:test's.
import { execFileSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { test as nodeTest } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import {
  App,
  Driver,
  Processes,
  endLeftovers,
  exitIfHeld,
  exitOf,
  processesOf,
  required as env,
  sleep,
  waitFor,
} from "./webdriver.mjs";
import { storedZip } from "./zip.mjs";

const APP = env("TALLY_E2E_APP");
const MOCK = env("TALLY_E2E_MOCK");
const DRIVER = env("TALLY_E2E_DRIVER");
const HOME = env("TALLY_E2E_HOME");
const DATA_DIR = join(HOME, "tally-data");
const KEY = "sk-proj-E2eTestKeyNotReal00000000000000wxyz";
// Screenshots of each screen, kept as test artifacts.
const SHOTS = join(import.meta.dirname, "../../target/e2e-screenshots");
const PORT = 4444 + (process.pid % 1000);

const processes = new Processes();
const driver = new Driver(PORT);

let mock;
let mockBase;
async function startMock() {
  const started = await processes.mock(MOCK, ["--chunk-chars", "6", "--delay-ms", "40"]);
  mock = started.process;
  return started.base;
}

/** The app under test, with screenshots kept as artifacts. */
class TallyApp extends App {
  static async launch() {
    const app = Object.setPrototypeOf(await driver.launch(APP), TallyApp.prototype);
    for (const pid of processesOf(APP)) if (!launchedBy.has(pid)) launchedBy.set(pid, running);
    // Every CSP violation from here on is kept for the hardening test to check.
    await app.run(`window.__cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e) =>
        window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || e.sample) +
          (e.sourceFile ? " at " + e.sourceFile + ":" + e.lineNumber : "") +
          " on " + (e.target?.nodeName ?? "?") + " " + (e.target?.outerHTML ?? "").slice(0, 120)));`);
    return app;
  }
  screenshot(name) {
    return super.screenshot(SHOTS, name);
  }
  /** Messages in the open conversation (the list shows only those in view). */
  count() {
    return this.run(`return Number(document.querySelector('[data-testid="message-list"]')?.dataset.count ?? 0)`);
  }
  /** As the reader does with the wheel: the view stops following the end. */
  scrollToTop() {
    return this.run(`const l = document.querySelector('[data-testid="message-list"]');
      l.dispatchEvent(new WheelEvent("wheel", { deltaY: -2000, bubbles: true }));
      l.scrollTop = 0;`);
  }
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** X windows whose title matches `pattern` (a regular expression): the app's native
 * dialogs, which WebDriver cannot see. */
function nativeWindows(pattern) {
  try {
    return execFileSync("xdotool", ["search", "--name", pattern], { encoding: "utf8", timeout: 10_000 })
      .split("\n")
      .filter(Boolean);
  } catch {
    return []; // xdotool exits with 1 when no window matches.
  }
}

/** Answers a native dialog from the keyboard, as a person would (`keys` as xdotool names them). */
function answerNativeDialog(window, keys) {
  execFileSync("xdotool", ["windowfocus", window, "key", "--clearmodifiers", keys], { timeout: 10_000 });
}

// TALLY_E2E_ONLY (a regular expression): for a developer, only the tests whose names match,
// after the first (onboarding, which stores the key every later test uses); the others are
// reported as skipped.
/** A `width`×`height` PNG in two colours, as a screenshot tool writes one. */
function png(width, height) {
  const chunk = (kind, data) => {
    const body = Buffer.concat([Buffer.from(kind), data]);
    const framing = Buffer.alloc(8);
    framing.writeUInt32BE(data.length, 0);
    framing.writeUInt32BE(crc32(body), 4);
    return Buffer.concat([framing.subarray(0, 4), body, framing.subarray(4)]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = [0];
  for (let x = 0; x < width; x++) row.push(...(x < width / 2 ? [47, 111, 94] : [240, 180, 60]));
  const rows = Buffer.concat(Array.from({ length: height }, () => Buffer.from(row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A one-page PDF whose page says `text` (Helvetica), written by hand: header, objects,
 * the cross-reference table with each object's offset, the trailer. */
function pdf(text) {
  const content = `BT /F1 12 Tf 72 770 Td (${text}) Tj ET`;
  return pdfOf([
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ]);
}

/** A scan of `pages` pages of A4, each one picture (its top half dark, a shade of its own
 * for each page) and no text. */
function scannedPdf(pages) {
  const [width, height] = [60, 84];
  const draw = "q 595 0 0 842 0 0 cm /Im0 Do Q";
  // Objects 1 and 2, then for each page its picture, its drawing and itself.
  const page = (i) => 3 + i * 3;
  const kids = Array.from({ length: pages }, (_, i) => `${page(i) + 2} 0 R`).join(" ");
  return pdfOf([
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`,
    ...Array.from({ length: pages }, (_, i) => {
      const pixels = Buffer.alloc(width * height * 3, 255);
      for (let p = 0; p < (width * height) / 2; p++) pixels.set([20 + 40 * i, 30, 120], p * 3);
      const image = deflateSync(pixels);
      return [
        Buffer.concat([
          Buffer.from(
            `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB ` +
              `/BitsPerComponent 8 /Filter /FlateDecode /Length ${image.length} >>\nstream\n`,
          ),
          image,
          Buffer.from("\nendstream"),
        ]),
        `<< /Length ${draw.length} >>\nstream\n${draw}\nendstream`,
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents ${page(i) + 1} 0 R ` +
          `/Resources << /XObject << /Im0 ${page(i)} 0 R >> >> >>`,
      ];
    }).flat(),
  ]);
}

/** A PDF file of `objects` (text, or a Buffer for one with binary data), numbered from 1. */
function pdfOf(objects) {
  const parts = [Buffer.from("%PDF-1.4\n")];
  let length = parts[0].length;
  const offsets = objects.map((object, i) => {
    const at = length;
    const bytes = Buffer.concat([
      Buffer.from(`${i + 1} 0 obj\n`),
      Buffer.isBuffer(object) ? object : Buffer.from(object, "latin1"),
      Buffer.from("\nendobj\n"),
    ]);
    parts.push(bytes);
    length += bytes.length;
    return at;
  });
  let tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const at of offsets) tail += `${String(at).padStart(10, "0")} 00000 n \n`;
  tail += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`;
  return Buffer.concat([...parts, Buffer.from(tail, "latin1")]);
}

const ONLY = process.env.TALLY_E2E_ONLY ? new RegExp(process.env.TALLY_E2E_ONLY) : null;
/** The most one test may take (the 20 kills take about 70 s) before it fails. */
const TEST_MS = 300_000;
let registered = 0;
/** The test running now, and which test launched each Tally process seen: a leftover at
 * the end is named by the test that started it. */
let running = "(setup)";
const launchedBy = new Map();
/**
 * What a failed test leaves behind is cleared by this (set once the app runs), so that one
 * failure is reported once, not again by every test after it.
 */
let afterFailure = async () => {};
/** A node:test test. They run one after another and share the app they drive. */
function test(name, body) {
  const skip = Boolean(ONLY && registered > 0 && !ONLY.test(name));
  registered += 1;
  return nodeTest(name, { skip, timeout: TEST_MS }, async (context) => {
    running = name;
    try {
      await body(context);
    } catch (failure) {
      await afterFailure().catch((e) => console.error(`    could not clear up after the failure: ${e.message}`));
      throw failure;
    }
  });
}

async function main() {
  mkdirSync(DATA_DIR, { recursive: true });
  mkdirSync(SHOTS, { recursive: true });
  const apiBase = await startMock();
  mockBase = apiBase;
  const tauriDriver = processes.start(
    DRIVER,
    // Its own port for WebKitWebDriver too (not the default 4445), so that suites can run
    // side by side.
    ["--port", String(PORT), "--native-port", String(PORT + 10_000), "--native-driver", "/usr/bin/WebKitWebDriver"],
    { env: { ...process.env, TALLY_DATA_DIR: DATA_DIR, TALLY_API_BASE: apiBase, TALLY_LOG: "warn" } },
  );
  tauriDriver.stdout.resume();
  await driver.ready();

  let app;
  // A dialog left open (Settings, a confirmation) would cover what the next test clicks.
  afterFailure = async () => {
    await app?.run(`for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close()`);
  };
  const question = "Please say hello in three languages.";
  await test("onboarding stores the key in the system keychain, never on disk", async () => {
    app = await TallyApp.launch();
    await app.waitFind('[data-testid="onboarding-start"]');
    await app.screenshot("1-welcome");
    await app.click('[data-testid="onboarding-start"]');
    await app.type('[data-testid="api-key-input"]', `  ${KEY}\n`);
    await app.click('[data-testid="api-key-save"]');
    const status = await waitFor("key accepted", async () => {
      const text = await app.text('[data-testid="api-key-status"]');
      return text?.includes("OpenAI accepted it") && text;
    });
    if (!status.includes("…wxyz")) throw new Error(`status: ${status}`);
    await app.screenshot("2-key-saved");
    const stored = execFileSync("secret-tool", ["lookup", "service", "Tally", "username", "openai-api-key"], {
      encoding: "utf8",
    });
    if (stored !== KEY) throw new Error(`secret-tool found ${JSON.stringify(stored)}`);
    for (const file of filesUnder(DATA_DIR)) {
      if (readFileSync(file).includes(KEY)) throw new Error(`the key is in ${file}`);
    }
    await app.click('[data-testid="onboarding-skip"]');
    await app.waitFind('[data-testid="composer-input"]');
  });

  let partials = new Set();
  await test("a reply streams in token by token and completes", async () => {
    const send = await app.run(`return document.querySelector('[data-testid="send-button"]').disabled`);
    if (!send) throw new Error("send is enabled with an empty composer");
    await app.type('[data-testid="composer-input"]', question);
    await app.click('[data-testid="send-button"]');
    const final = await waitFor("complete reply", async () => {
      const messages = await app.messages();
      const reply = messages.find((m) => m.role === "assistant");
      if (reply?.status === "streaming" && reply.text) partials.add(reply.text);
      return reply?.status === "complete" && reply;
    });
    await app.screenshot("3-reply");
    if (partials.size < 3) throw new Error(`only ${partials.size} partial texts seen`);
    if (!final.text.includes("mock")) throw new Error(`reply: ${final.text}`);
    const bold = await app.run(`return document.querySelector('[data-testid="message-content"] strong')?.textContent`);
    if (bold !== "mock") throw new Error(`markdown not rendered: ${bold}`);
    const draft = await app.run(`return document.querySelector('[data-testid="composer-input"]').value`);
    if (draft !== "") throw new Error(`composer not cleared: ${draft}`);
  });

  await test("Stop ends a streaming reply and keeps its text", async () => {
    await app.type('[data-testid="composer-input"]', "Another one, please.");
    await app.click('[data-testid="send-button"]');
    await waitFor("second reply streaming", async () => {
      const replies = (await app.messages()).filter((m) => m.role === "assistant");
      return replies.length === 2 && replies[1].text.length > 10;
    });
    await app.click('[data-testid="stop-button"]');
    const stopped = await waitFor("stopped reply", async () => {
      const replies = (await app.messages()).filter((m) => m.role === "assistant");
      return replies[1].status === "stopped" && replies[1];
    });
    if (!stopped.text) throw new Error("the stopped reply lost its text");
    await app.waitFind('[data-testid="send-button"]');
  });

  await test("the conversation is still there after quitting and relaunching", async () => {
    await app.quit();
    app = await TallyApp.launch();
    await app.click('[data-testid="conversation-item"]');
    await waitFor("four messages, the stopped reply last", async () =>
      (await app.count()) === 4 && (await app.messages()).at(-1)?.status === "stopped",
    );
    await app.scrollToTop();
    const messages = await waitFor("the start of the conversation", async () => {
      const m = await app.messages();
      return m[0]?.text === question && m;
    });
    if (messages[1].status !== "complete" || !messages[1].text.includes("mock")) {
      throw new Error(`reply after relaunch: ${JSON.stringify(messages[1])}`);
    }
    // Titled by the model after the first reply (the mock answers with the message's
    // first words, without the closing period the first-words title kept).
    const title = (await app.text('[data-testid="conversation-item"]')).trim();
    if (title !== "Please say hello in three languages") throw new Error(`title: ${title}`);
  });

  await test("Continue finishes a stopped reply", async () => {
    // Back down from the start of the conversation, as the reader would, to its last reply
    // (the button floats over the end of the list, where Continue is).
    await app.run(`document.querySelector('[data-testid="jump-to-latest"]')?.click()`);
    await waitFor("the end of the conversation", async () =>
      app.run(`return !document.querySelector('[data-testid="jump-to-latest"]')`),
    );
    await app.waitFind('[data-testid="continue-button"]');
    const before = (await app.messages()).at(-1);
    await app.screenshot("3b-stopped-reply-actions");
    await app.click('[data-testid="continue-button"]');
    const after = await waitFor("continued reply", async () => {
      const reply = (await app.messages()).at(-1);
      // Thrown rather than false, so a timeout says where the reply stood.
      if (reply.status !== "complete") {
        const banner = await app.run(`return document.querySelector('[data-testid="error-banner"]')?.textContent`);
        throw new Error(`${reply.status}, ${reply.text.length} characters (${before.text.length} before); ${banner}`);
      }
      return reply;
    });
    if (!after.text.startsWith(before.text) || after.text.length <= before.text.length) {
      throw new Error(`before: ${before.text}\nafter: ${after.text}`);
    }
    if ((await app.count()) !== 4) throw new Error("Continue added a message");
  });

  await test("search finds a message and opens its conversation there", async () => {
    await app.click('[data-testid="new-chat-button"]');
    await app.type('[data-testid="search-input"]', "three langu");
    const hits = await waitFor("search results", async () => {
      const found = await app.run(
        `return [...document.querySelectorAll('[data-testid="search-result"]')].map((r) => r.textContent)`,
      );
      return found.length >= 2 && found;
    });
    if (!hits.every((h) => h.includes("languages"))) throw new Error(`results: ${hits}`);
    const marked = await app.run(`return document.querySelector('[data-testid="search-result"] mark')?.textContent`);
    if (marked !== "three") throw new Error(`highlighted: ${marked}`);
    await app.screenshot("3c-search");
    // The second result is the message itself (the first is the title).
    await app.run(`document.querySelectorAll('[data-testid="search-result"]')[1].click()`);
    await waitFor("conversation opened", async () => (await app.count()) === 4);
    await waitFor("the found message in view", () =>
      app.run(`const m = document.querySelector('[data-testid="message"][data-role="user"]');
        const box = m?.getBoundingClientRect(); return Boolean(box) && box.bottom > 0 && box.top < innerHeight`),
    );
    await app.fill('[data-testid="search-input"]', " ");
    await waitFor("conversations again", async () =>
      (await app.run(`return document.querySelectorAll('[data-testid="search-result"]').length`)) === 0,
    );
  });

  await test("regenerate, switch versions, edit into a branch, and delete", async () => {
    // The message tools show on hover; a script click is what a pointer would do.
    const press = (testid, index = -1) =>
      app.run(`[...document.querySelectorAll('[data-testid="${testid}"]')].at(${index}).click()`);
    const done = (count) =>
      waitFor(`${count} messages, all complete`, async () => {
        const m = await app.messages();
        return m.length === count && m.every((x) => x.status === "complete") && m;
      });
    const positions = () =>
      app.run(`return [...document.querySelectorAll('[data-testid="sibling-position"]')].map((p) => p.textContent)`);

    await app.click('[data-testid="new-chat-button"]');
    await app.type('[data-testid="composer-input"]', "[mock:slow:5] Tree test question");
    await app.click('[data-testid="send-button"]');
    await done(2);

    await press("message-regenerate");
    await waitFor("second version", async () => (await positions()).join() === "2/2");
    await press("sibling-prev");
    await waitFor("first version", async () => (await positions()).join() === "1/2");

    await press("message-edit", 0);
    await app.fill('[data-testid="message-edit-input"]', "[mock:slow:5] Tree test, edited\uE007");
    await waitFor("the edited branch", async () => {
      const m = await app.messages();
      return m[0]?.text === "[mock:slow:5] Tree test, edited" && m[1]?.status === "complete";
    });
    await waitFor("edit is a version", async () => (await positions()).join() === "2/2");
    await app.screenshot("3d-message-versions");

    await press("message-delete", 0);
    await press("message-delete-confirm", 0);
    await waitFor("back to the original question", async () => {
      const m = await app.messages();
      return m.length === 2 && m[0].text === "[mock:slow:5] Tree test question";
    });
    // The original question's two replies are still there.
    await waitFor("replies kept", async () => (await positions()).join() === "2/2");
  });

  await test("too long for the model: trimmed when OpenAI says so, then summarized into a new chat", async () => {
    // The list shows only the messages in view: count them all, check those shown.
    const done = (count) =>
      waitFor(`${count} messages, the last complete`, async () => {
        const m = await app.messages();
        return (await app.count()) === count && m.at(-1)?.status === "complete" && m;
      });
    await app.click('[data-testid="new-chat-button"]');
    for (const [i, text] of ["Budget talk, part one", "Part two"].entries()) {
      await app.type('[data-testid="composer-input"]', text);
      await app.click('[data-testid="send-button"]');
      await done(2 * (i + 1));
    }
    const oldTitle = await app.run(`return document.querySelector("main h1").textContent`);
    await app.waitFind('[data-testid="context-meter"]');
    // The server refuses the next request as too long once: the oldest turn goes, and the
    // request is made again.
    await app.type('[data-testid="composer-input"]', "[mock:error-400-context-length*1] Part three");
    await app.click('[data-testid="send-button"]');
    await done(6);
    await app.waitFind('[data-testid="context-notice"]');
    const notice = await app.run(`return document.querySelector('[data-testid="context-notice"]').textContent`);
    if (!notice.includes("2 earlier messages were not sent")) throw new Error(notice);
    if (await app.run(`return Boolean(document.querySelector('[data-testid="error-banner"]'))`)) {
      throw new Error("an error was shown");
    }
    await app.screenshot("3f-context-notice");
    await app.click('[data-testid="summarize-button"]');
    await done(2);
    await app.scrollToTop();
    await waitFor("the request for the summary", async () =>
      (await app.messages())[0]?.text.includes(`Summarize our conversation “${oldTitle}”`),
    );
    const title = await app.run(`return document.querySelector("main h1").textContent`);
    if (title !== `${oldTitle} (continued)`) throw new Error(title);
    // Going on in the new chat.
    await app.type('[data-testid="composer-input"]', "And part four?");
    await app.click('[data-testid="send-button"]');
    await done(4);
    await app.screenshot("3g-summary-chat");
  });

  await test("a new chat starts with a persona and options chosen in its settings", async () => {
    await app.click('[data-testid="new-chat-button"]');
    await app.click('[data-testid="chat-settings-button"]');
    await waitFor("personas", () =>
      app.run(`return document.querySelector('[data-testid="chat-persona"]').options.length > 2`),
    );
    await app.run(`const s = document.querySelector('[data-testid="chat-persona"]');
      s.value = [...s.options].find((o) => o.textContent === "Concise").value;
      s.dispatchEvent(new Event("change", { bubbles: true }));`);
    await app.run(`document.querySelector('[data-testid="chat-settings-dialog"] [data-testid="chat-advanced"]').open = true`);
    await app.fill('[data-testid="chat-temperature"]', "0.3");
    await app.screenshot("3e-chat-settings");
    await app.click('[data-testid="chat-settings-save"]');
    await app.type('[data-testid="composer-input"]', "[mock:slow:5] Persona test");
    await app.click('[data-testid="send-button"]');
    await waitFor("reply", async () => (await app.messages()).at(-1)?.status === "complete");
    const [row] = JSON.parse(
      execFileSync(
        "sqlite3",
        ["-json", join(DATA_DIR, "tally.sqlite3"), "SELECT system_prompt, temperature FROM conversations ORDER BY id DESC LIMIT 1"],
        { encoding: "utf8" },
      ),
    );
    if (!row.system_prompt?.startsWith("Answer briefly") || row.temperature !== 0.3) {
      throw new Error(`saved settings: ${JSON.stringify(row)}`);
    }
    const label = await app.text('[data-testid="chat-settings-button"]');
    // New users start on the catalog's current small model.
    if (!label.includes("gpt-5.4-mini")) throw new Error(`model shown: ${label}`);
  });

  await test("a chat that searches the web shows the model's thinking, its sources and the search's cost", async () => {
    await app.click('[data-testid="new-chat-button"]');
    await app.click('[data-testid="chat-settings-button"]');
    await app.click('[data-testid="web-search-toggle"]');
    await app.click('[data-testid="chat-settings-save"]');
    await app.type('[data-testid="composer-input"]', "Where does tram 28 go in Lisbon?");
    await app.click('[data-testid="send-button"]');
    await waitFor("reply", async () => (await app.messages()).at(-1)?.status === "complete");
    const reply = await app.run(`const m = [...document.querySelectorAll('[data-testid="message"]')].at(-1);
      const thinking = m.querySelector('[data-testid="message-thinking"]');
      return {
        endpoint: m.dataset.endpoint,
        thinking: thinking?.textContent ?? null,
        sources: [...m.querySelectorAll('[data-testid="message-citation"]')].map((a) => [a.getAttribute("href"), a.textContent]),
        cost: m.querySelector('[data-testid="message-cost"]')?.textContent ?? "",
      };`);
    // The default model reasons: asked on Responses with a summary of its thinking.
    if (reply.endpoint !== "responses") throw new Error(`endpoint: ${reply.endpoint}`);
    if (!reply.thinking?.includes("Weighing the question")) throw new Error(`thinking: ${reply.thinking}`);
    const sources = JSON.stringify(reply.sources);
    if (sources !== JSON.stringify([["https://example.org/mock-source", "Mock source — example.org"]])) {
      throw new Error(`sources: ${sources}`);
    }
    if (!/1 web search/.test(reply.cost) || !/of them thinking/.test(reply.cost)) {
      throw new Error(`cost breakdown: ${reply.cost}`);
    }
    // Unfolded as a person would, for the screenshot.
    await app.click('[data-testid="message-thinking"] summary');
    await waitFor("thinking unfolded", () =>
      app.run(`return document.querySelector('[data-testid="message-thinking"]').open`),
    );
    await app.screenshot("3h-thinking-and-sources");
    const [row] = JSON.parse(
      execFileSync(
        "sqlite3",
        ["-json", join(DATA_DIR, "tally.sqlite3"), "SELECT web_search_calls, cost_nanos FROM usage_ledger WHERE purpose = 'chat' ORDER BY id DESC LIMIT 1"],
        { encoding: "utf8" },
      ),
    );
    // One search at $0.01, and the tokens on top.
    if (row.web_search_calls !== 1 || !(row.cost_nanos > 10_000_000)) {
      throw new Error(`ledger row: ${JSON.stringify(row)}`);
    }
  });

  await test("an MCP server added in Settings is ready, starts again at launch, and no process outlives Tally", async () => {
    // mcp-server-time from PyPI (installed by the test command), with an argument no other
    // process has, to find its processes by.
    const TIME = join(import.meta.dirname, "../../.tools/mcp/bin/mcp-server-time");
    const MARK = "--local-timezone=Pacific/Chatham";
    const serverProcesses = () =>
      readdirSync("/proc")
        .filter((name) => /^\d+$/.test(name))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(MARK);
          } catch {
            return false; // Gone meanwhile.
          }
        });
    const ready = '[data-testid="mcp-server-item"][data-server="Time"][data-status="ready"]';
    const waitReady = async (when) => {
      try {
        await app.waitFind(ready, 60_000);
      } catch (e) {
        const shown = await app
          .run(`const item = document.querySelector('[data-testid="mcp-server-item"]');
                return item ? item.dataset.status + ": " + item.textContent : "no server listed"`)
          .catch((why) => `(unreadable: ${why.message})`);
        throw new Error(`the server was not ready ${when}; the list shows ${shown} (${e.message})`);
      }
    };

    await app.click('[data-testid="settings-button"]');
    await app.click('[data-testid="mcp-server-add"]');
    await app.fill('[data-testid="mcp-server-name-input"]', "Time");
    await app.fill('[data-testid="mcp-server-command-input"]', TIME);
    await app.fill('[data-testid="mcp-server-args-input"]', MARK);
    await app.click('[data-testid="mcp-server-save"]');
    await waitReady("once added");
    const tools = await app.text(ready);
    if (!tools.includes("Ready · 2 tools")) throw new Error(`the server says: ${tools}`);
    await app.run(`document.querySelector('[data-testid="mcp-settings"]').scrollIntoView()`);
    await app.screenshot("3i-mcp-server-ready");
    if (serverProcesses().length === 0) throw new Error("no mcp-server-time process runs");

    // Tally killed (as WebDriver ends it): the server, its input closed, ends too.
    await app.quit();
    await waitFor("no server process after Tally was killed", () => serverProcesses().length === 0);

    // Turned on, so it starts again when Tally opens.
    app = await TallyApp.launch();
    await app.click('[data-testid="settings-button"]');
    await waitReady("at the next launch");

    // Quitting as a logout does (SIGTERM): Tally stops the server before it exits.
    for (const pid of processesOf(APP)) process.kill(pid, "SIGTERM");
    await waitFor("Tally exited", () => processesOf(APP).length === 0, 30_000);
    if (serverProcesses().length !== 0) {
      throw new Error(`mcp-server-time outlived Tally: ${serverProcesses().join(", ")}`);
    }
    await app.quit().catch(() => {});

    // Removed, so the tests after this one start no server.
    app = await TallyApp.launch();
    await app.click('[data-testid="settings-button"]');
    await waitReady("at the launch after a SIGTERM");
    await app.click('[data-testid="mcp-server-remove"]');
    await waitFor("removed", async () => !(await app.run(`return Boolean(document.querySelector('[data-testid="mcp-server-item"]'))`)));
    await waitFor("its process ended", () => serverProcesses().length === 0);
    await app.run(`document.querySelector("dialog").close()`);
  });

  await test("a tool call in the real window: approved and used, denied, and its server killed mid-call", async () => {
    // A stdio server built with the official Python SDK (installed by the test command),
    // whose `sleep` tool waits as long as it is asked to.
    const PYTHON = join(import.meta.dirname, "../../.tools/mcp/bin/python");
    const SERVER = join(import.meta.dirname, "../../crates/tally-tools/tests/servers/stdio_server.py");
    const serverProcesses = () =>
      readdirSync("/proc")
        .filter((name) => /^\d+$/.test(name))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(SERVER);
          } catch {
            return false;
          }
        });
    const ready = '[data-testid="mcp-server-item"][data-server="Naps"][data-status="ready"]';
    const lastCall = () =>
      app.run(`const calls = document.querySelectorAll('[data-testid="tool-call"]');
        const call = calls[calls.length - 1];
        return call ? { status: call.dataset.status, text: call.textContent } : null`);
    const lastReply = async () => (await app.messages()).filter((m) => m.role === "assistant").at(-1);
    const ask = async (text) => {
      await app.type('[data-testid="composer-input"]', text);
      await app.click('[data-testid="send-button"]');
    };

    await app.click('[data-testid="settings-button"]');
    await app.click('[data-testid="mcp-server-add"]');
    await app.fill('[data-testid="mcp-server-name-input"]', "Naps");
    await app.fill('[data-testid="mcp-server-command-input"]', PYTHON);
    await app.fill('[data-testid="mcp-server-args-input"]', SERVER);
    await app.click('[data-testid="mcp-server-save"]');
    await app.waitFind(ready, 60_000);
    await app.run(`document.querySelector("dialog").close()`);

    // The chat offers the tool: chosen from the composer's Tools button.
    await app.click('[data-testid="new-chat-button"]');
    await app.click('[data-testid="tools-button"]');
    await app.click('[data-testid="tool-toggle"][data-tool="sleep"]');
    await app.click('[data-testid="tools-panel-close"]');

    // Asked first; run once allowed; its result used in the reply.
    await ask('Take a short nap [mock:call:sleep {"seconds":0.2}]');
    await app.waitFind('[data-testid="tool-approval"][data-tool="sleep"]', 30_000);
    const question = await app.text('[data-testid="tool-approval"]');
    if (!question.includes("seconds") || !/at most \$/.test(question)) {
      throw new Error(`the question: ${question}`);
    }
    await app.screenshot("3j-tool-approval");
    await app.click('[data-testid="tool-approve-once"]');
    await waitFor("the reply after the call", async () => (await lastReply())?.status === "complete", 30_000);
    if ((await lastCall()).status !== "done") throw new Error(`the call: ${JSON.stringify(await lastCall())}`);
    const used = (await lastReply()).text;
    if (!used.includes("The tool answered:") || !used.includes("slept 0.2 s")) {
      throw new Error(`the reply: ${used}`);
    }
    await app.run(`const calls = document.querySelectorAll('[data-testid="tool-call"]');
      calls[calls.length - 1].open = true;`);
    await app.screenshot("3k-tool-call-done");

    // Denied: nothing runs, and the model is told.
    await ask('Another nap [mock:call:sleep {"seconds":0.2}]');
    await app.click('[data-testid="tool-deny"]');
    await waitFor("the reply after the denial", async () => (await lastReply())?.status === "complete", 30_000);
    if ((await lastCall()).status !== "denied") throw new Error(`the call: ${JSON.stringify(await lastCall())}`);
    if (!(await lastReply()).text.includes("did not allow")) throw new Error(`the reply: ${(await lastReply()).text}`);

    // The server killed while the call runs: the call fails in words, the reply goes on.
    await ask('A long nap [mock:call:sleep {"seconds":120}]');
    await app.click('[data-testid="tool-approve-once"]');
    await waitFor("the call running", async () => (await lastCall())?.status === "running", 30_000);
    for (const pid of serverProcesses()) process.kill(Number(pid), "SIGKILL");
    await waitFor("the reply after the kill", async () => (await lastReply())?.status === "complete", 30_000);
    const failed = await lastCall();
    if (failed.status !== "error") throw new Error(`the call: ${JSON.stringify(failed)}`);
    if (!(await lastReply()).text.includes("The tool answered:")) {
      throw new Error(`the reply: ${(await lastReply()).text}`);
    }

    // Removed, so the tests after this one start no server.
    await app.click('[data-testid="settings-button"]');
    await app.click('[data-testid="mcp-server-remove"]');
    await waitFor("removed", async () => !(await app.run(`return Boolean(document.querySelector('[data-testid="mcp-server-item"]'))`)));
    await waitFor("its process ended", () => serverProcesses().length === 0);
    await app.run(`document.querySelector("dialog").close()`);
  });

  await test("a JSON reply: a schema pasted in the chat's settings, checked first, the reply folded and checked", async () => {
    const chooseSchema = async (schema) => {
      await app.click('[data-testid="chat-settings-button"]');
      await app.run(`const s = document.querySelector('[data-testid="response-format"]');
        s.value = "json_schema";
        s.dispatchEvent(new Event("change", { bubbles: true }));`);
      await app.fill('[data-testid="json-schema-input"]', schema);
      await app.click('[data-testid="chat-settings-save"]');
    };
    await app.click('[data-testid="new-chat-button"]');
    // A schema that is not one is refused in words, and the dialog stays open.
    await chooseSchema('{"type": "object", "properties": 5}');
    const problem = await waitFor("the schema's problem", () =>
      app.text('[data-testid="chat-settings-dialog"] [role="alert"]'),
    );
    if (!problem.includes("not a valid JSON Schema")) throw new Error(`the problem: ${problem}`);
    await app.run(`document.querySelector('[data-testid="chat-settings-dialog"]').close()`);

    await chooseSchema(
      '{"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": false}',
    );
    await app.type('[data-testid="composer-input"]', "The weather, please.");
    await app.click('[data-testid="send-button"]');
    await waitFor("the reply checked", () => app.text('[data-testid="json-check"]'), 30_000);
    const verdict = await app.run(`const c = document.querySelector('[data-testid="json-check"]');
      return { valid: c.dataset.valid, text: c.textContent }`);
    if (verdict.valid !== "true") throw new Error(`the check: ${JSON.stringify(verdict)}`);
    const shown = await app.text('[data-testid="json-reply"]');
    if (!shown.includes("answer")) throw new Error(`the reply: ${shown}`);
    await app.screenshot("3l-json-reply");
  });

  await test("a picture, a text file and a PDF attached in the real window are counted, sent and kept with the message", async () => {
    const folder = join(HOME, "to-attach");
    mkdirSync(folder, { recursive: true });
    const picture = join(folder, "receipt.png");
    const notes = join(folder, "notes.txt");
    const statement = join(folder, "statement.pdf");
    writeFileSync(picture, png(1600, 1200));
    writeFileSync(notes, "Rent 900\nFood 350\n");
    writeFileSync(statement, pdf("Closing balance 300.00"));
    await app.click('[data-testid="new-chat-button"]');
    // Chosen in the file dialog: WebDriver hands the input both paths.
    const input = await app.find('[data-testid="attach-input"]');
    await app.wd("POST", `/element/${input}/value`, { text: `${picture}\n${notes}\n${statement}` });
    const chips = await waitFor(
      "three chips",
      async () => {
        const found = await app.run(`return [...document.querySelectorAll('[data-testid="attachment-chip"]')]
          .map((c) => ({ kind: c.dataset.kind, tokens: Number(c.dataset.tokens), text: c.textContent }))`);
        return found.length === 3 && found;
      },
      30_000,
    );
    if (chips[0].kind !== "image" || !(chips[0].tokens > 0)) throw new Error(`chips: ${JSON.stringify(chips)}`);
    if (chips[1].kind !== "file" || !chips[1].text.includes("notes.txt")) throw new Error(`chips: ${JSON.stringify(chips)}`);
    // The PDF's text was read by Tally run apart (`--read-pdf`): its page count is known.
    if (chips[2].kind !== "file" || !chips[2].text.includes("1 page")) throw new Error(`chips: ${JSON.stringify(chips)}`);
    await app.type('[data-testid="composer-input"]', "What do these say?");
    await waitFor("the estimate with them", async () =>
      (await app.text('[data-testid="cost-estimate"]'))?.includes("tokens to send"),
    );
    await app.screenshot("3m-attachments");
    await app.click('[data-testid="send-button"]');
    await waitFor("the reply", async () => (await app.messages()).at(-1)?.status === "complete", 30_000);
    const shown = await waitFor("the message's picture", () =>
      app.run(`const m = document.querySelector('[data-testid="message"][data-role="user"]');
        const img = m?.querySelector('[data-testid="message-attachment"][data-kind="image"] img');
        return img?.complete && img.naturalWidth > 0 && { width: img.naturalWidth, height: img.naturalHeight,
          files: m.querySelectorAll('[data-testid="message-attachment"][data-kind="file"]').length }`),
    );
    // Kept as the model reads it: fit in 2048×2048 (this one needed no scaling), upright.
    if (shown.width !== 1600 || shown.height !== 1200 || shown.files !== 2) {
      throw new Error(`shown: ${JSON.stringify(shown)}`);
    }
    if ((await app.run(`return document.querySelectorAll('[data-testid="attachment-chip"]').length`)) !== 0) {
      throw new Error("the chips stayed after sending");
    }
    await app.screenshot("3n-message-with-picture");
    // Opened again from the sidebar, the conversation still shows them; the file's text opens.
    await app.click('[data-testid="new-chat-button"]');
    await app.click('[data-testid="conversation-item"]');
    await app.click('[data-testid="message-attachment"][data-kind="file"]');
    const text = await waitFor("the file's text", () => app.text('[data-testid="attachment-viewer"] pre'));
    if (!text.includes("Food 350")) throw new Error(`the file: ${text}`);
    await app.run(`document.querySelector('[data-testid="attachment-viewer"]').close()`);
    await app.run(`document.querySelectorAll('[data-testid="message-attachment"][data-kind="file"]')[1].click()`);
    const read = await waitFor("the PDF's text", () => app.text('[data-testid="attachment-viewer"] pre'));
    if (!read.includes("Closing balance 300.00")) throw new Error(`the PDF: ${read}`);
    await app.run(`document.querySelector('[data-testid="attachment-viewer"]').close()`);

    // Dropped on the message box from the file manager (the page's own drop: Tauri's is off
    // for this window), as WebKit hands the page a dropped file; and dropped beside it, the
    // window does not open it as a page.
    await app.click('[data-testid="new-chat-button"]');
    const dropped = await app.run(
      `const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
       const drop = (target) => {
         const data = new DataTransfer();
         data.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
         const event = new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true });
         target.dispatchEvent(event);
         return event.defaultPrevented;
       };
       return [drop(document.querySelector('[data-testid="composer-input"]')),
               drop(document.querySelector('[data-testid="message-list"]') ?? document.body)];`,
      png(300, 200).toString("base64"),
    );
    if (!dropped.every(Boolean)) throw new Error(`a drop went to the window: ${dropped}`);
    const chip = await waitFor("the dropped picture's chip", () =>
      app.run(`const c = document.querySelector('[data-testid="attachment-chip"]');
        return c && c.textContent.includes("dropped.png") && c.dataset.kind`),
    );
    if (chip !== "image") throw new Error(`the chip: ${chip}`);
    if (!(await app.run(`return location.href`)).startsWith("tauri://")) throw new Error("the window navigated");
    await app.click('[data-testid="attachment-remove"]');

    // A scan has no text: it is offered as pictures of its pages, drawn by Tally run apart.
    const letter = join(folder, "letter.pdf");
    writeFileSync(letter, scannedPdf(2));
    await app.click('[data-testid="new-chat-button"]');
    await app.type('[data-testid="composer-input"]', "What does this letter say?");
    await app.wd("POST", `/element/${await app.find('[data-testid="attach-input"]')}/value`, { text: letter });
    const said = await waitFor("the offer", () => app.text('[data-testid="attachment-problem"]'), 30_000);
    if (!said.includes("This PDF has no text in it (2 pages")) throw new Error(`said: ${said}`);
    await app.click('[data-testid="attachment-pdf-pages"]');
    const pages = await waitFor(
      "two pages as pictures",
      async () => {
        const found = await app.run(`return [...document.querySelectorAll('[data-testid="attachment-chip"]')]
          .map((c) => ({ kind: c.dataset.kind, tokens: Number(c.dataset.tokens), text: c.textContent }))`);
        if (found.length === 2) return found;
        // Why not, should it never come.
        throw new Error(`${found.length} chips; ${await app.text('[data-testid="attachment-problem"]')}`);
      },
      60_000,
    );
    if (!pages.every((p) => p.kind === "image" && p.tokens > 0) || !pages[1].text.includes("letter, page 2 of 2")) {
      throw new Error(`chips: ${JSON.stringify(pages)}`);
    }
    await waitFor("the estimate with the pages", async () => {
      const estimate = await app.text('[data-testid="cost-estimate"]');
      return Number(estimate?.match(/^([\d,]+) tokens/)?.[1].replaceAll(",", "")) > 2 * pages[0].tokens;
    });
    await app.screenshot("3o-scan-as-pictures");
    await app.click('[data-testid="send-button"]');
    await waitFor("the reply", async () => (await app.messages()).at(-1)?.status === "complete", 30_000);
    const drawn = await waitFor("the pages in the message", () =>
      app.run(`const imgs = [...document.querySelectorAll('[data-testid="message"][data-role="user"] [data-testid="message-attachment"][data-kind="image"] img')];
        return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0) &&
          imgs.map((i) => [i.naturalWidth, i.naturalHeight])`),
    );
    // A4 at 200 dpi (1654×2339), fit in 2048×2048.
    if (JSON.stringify(drawn) !== "[[1447,2048],[1447,2048]]") throw new Error(`pages: ${JSON.stringify(drawn)}`);
  });

  await test("a rate limit is retried with a visible countdown", async () => {
    await app.click('[data-testid="new-chat-button"]');
    await app.type('[data-testid="composer-input"]', "[mock:error-429-rate-limit*1] Retry me");
    await app.click('[data-testid="send-button"]');
    const notice = await waitFor("retry notice", () => app.text('[data-testid="retry-notice"]'));
    if (!/slow down\. Retrying in [12] s…/.test(notice)) throw new Error(`notice: ${notice}`);
    await app.screenshot("4-retrying");
    await waitFor("reply after the retry", async () => {
      const reply = (await app.messages()).find((m) => m.role === "assistant");
      return reply?.status === "complete";
    });
    if (await app.text('[data-testid="retry-notice"]')) throw new Error("notice still shown");
  });

  await test("a conversation is renamed, pinned, moved to the Trash, undone and restored", async () => {
    const items = () =>
      app.run(`return [...document.querySelectorAll('[data-testid="conversation-item"]')]
        .map((b) => ({ title: b.textContent.trim(), pinned: b.dataset.pinned === "true" }))`);
    const openMenu = (title) =>
      app.run(
        `[...document.querySelectorAll('[data-testid="conversation-item"]')]
          .find((b) => b.textContent.includes(arguments[0]))
          .parentElement.querySelector('[data-testid="conversation-menu"]').click()`,
        title,
      );
    await openMenu("Please say hello");
    await app.click('[data-testid="conversation-rename"]');
    await app.fill('[data-testid="conversation-title-input"]', "Greetings\uE007");
    await waitFor("renamed", async () => (await items()).some((i) => i.title === "Greetings"));

    await openMenu("Greetings");
    await app.click('[data-testid="conversation-pin"]');
    await waitFor("pinned first", async () => {
      const [first] = await items();
      return first.title.includes("Greetings") && first.pinned;
    });
    await app.screenshot("5-sidebar-pinned");

    await openMenu("Greetings");
    await app.click('[data-testid="conversation-delete"]');
    const toast = await waitFor("undo toast", () => app.text('[data-testid="undo-toast"]'));
    if (!toast.includes("“Greetings” moved to Trash.")) throw new Error(`toast: ${toast}`);
    if ((await items()).some((i) => i.title.includes("Greetings"))) throw new Error("still listed");
    await app.click('[data-testid="undo-button"]');
    await waitFor("back after Undo", async () => (await items())[0]?.title.includes("Greetings"));

    await openMenu("Greetings");
    await app.click('[data-testid="conversation-delete"]');
    await app.waitFind('[data-testid="undo-toast"]');
    await app.click('[data-testid="trash-button"]');
    await waitFor("in the Trash", async () => (await app.text('[data-testid="trash-item"]'))?.includes("Greetings"));
    await app.screenshot("5b-trash");
    await app.click('[data-testid="trash-restore"]');
    await app.click('[data-testid="trash-close"]');
    await waitFor("restored, still pinned", async () => {
      const [first] = await items();
      return first?.title.includes("Greetings") && first.pinned;
    });
  });

  await test("20 kills while a reply streams lose at most its last half second", async () => {
    const db = join(DATA_DIR, "tally.sqlite3");
    const sql = (query) => JSON.parse(execFileSync("sqlite3", ["-json", db, query], { encoding: "utf8" }) || "[]");
    const composer = '[data-testid="composer-input"]';
    const rawLengths = () =>
      app.run(`return [...document.querySelectorAll('[data-testid="message"]')]
        .map((m) => ({ role: m.dataset.role, status: m.dataset.status, chars: Number(m.dataset.chars) }))`);

    // A reply that completes gives the full text every interrupted reply must begin.
    await app.click('[data-testid="new-chat-button"]');
    await app.type(composer, "[mock:slow:5] Crash test: warm-up");
    await app.click('[data-testid="send-button"]');
    await waitFor("warm-up reply", async () => (await app.messages())[1]?.status === "complete");
    const [{ id: firstReply, conversation_id: conversation, content: full }] = sql(
      "SELECT id, conversation_id, content FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1",
    );
    const sent = ["[mock:slow:5] Crash test: warm-up"];
    /** Characters on screen at the kill that were not saved yet, per round. */
    const unsaved = [];

    for (let round = 1; round <= 20; round++) {
      const text = `[mock:slow:60] Crash test message ${round}`;
      await app.type(composer, text);
      await app.click('[data-testid="send-button"]');
      sent.push(text);
      // Killed at a different point of the stream each time: 100 ms to 1.5 s into it.
      const killAfter = 100 + ((round * 397) % 1400);
      const samples = [];
      await waitFor("streaming", async () => {
        // This round's reply: the last round's, interrupted, is the last until the send starts.
        const reply = (await rawLengths()).at(-1);
        if (reply?.role === "assistant" && reply.status === "streaming" && reply.chars > 0) {
          samples.push({ at: performance.now(), chars: reply.chars });
        }
        return samples.length > 0 && performance.now() - samples[0].at >= killAfter;
      });
      const pid = Number(execFileSync("pgrep", ["-f", `^${APP}`], { encoding: "utf8" }).trim().split("\n")[0]);
      process.kill(pid, "SIGKILL");
      const killedAt = performance.now();
      await app.quit().catch(() => {});

      const integrity = sql("PRAGMA integrity_check")[0].integrity_check;
      if (integrity !== "ok") throw new Error(`round ${round}: integrity_check: ${integrity}`);
      const [saved] = sql(
        `SELECT content, status FROM messages WHERE role = 'assistant' AND conversation_id = ${conversation}
         ORDER BY id DESC LIMIT 1`,
      );
      if (!full.startsWith(saved.content)) throw new Error(`round ${round}: saved text is not the reply's start`);
      // Everything on screen 600 ms before the kill had been streamed 500 ms before it.
      const settled = samples.filter((s) => s.at <= killedAt - 600).at(-1)?.chars ?? 0;
      if (saved.content.length < settled) {
        throw new Error(`round ${round}: ${saved.content.length} characters saved, ${settled} were shown 600 ms before the kill`);
      }
      unsaved.push(Math.max(0, samples.at(-1).chars - saved.content.length));

      app = await TallyApp.launch();
      await app.waitFind('[data-testid="conversation-item"]');
      await app.run(`[...document.querySelectorAll('[data-testid="conversation-item"]')]
        .find((b) => b.textContent.includes("Crash test")).click()`);
      // The window shows the end of the conversation: the reply cut off by the kill.
      await waitFor("reopened at the interrupted reply", async () => {
        const last = (await app.messages()).at(-1);
        return last?.role === "assistant" && last.status === "interrupted";
      });
      // The list shows only what is in view: the database holds the whole conversation.
      const users = sql(
        `SELECT content FROM messages WHERE conversation_id = ${conversation} AND role = 'user' ORDER BY id`,
      ).map((m) => m.content);
      if (JSON.stringify(users) !== JSON.stringify(sent)) throw new Error(`round ${round}: user messages ${users}`);
      const statuses = sql(
        `SELECT DISTINCT status FROM messages WHERE conversation_id = ${conversation} AND role = 'assistant' AND id > ${firstReply}`,
      ).map((m) => m.status);
      if (statuses.join() !== "interrupted") throw new Error(`round ${round}: reply statuses ${statuses}`);
    }
    await app.screenshot("5c-after-20-kills");
    // Scrolled up, the view stays put and offers the way back down.
    await app.scrollToTop();
    await app.click('[data-testid="jump-to-latest"]');
    await waitFor("back at the latest", () =>
      app.run(`const l = document.querySelector('[data-testid="message-list"]');
        return l.scrollHeight - l.scrollTop - l.clientHeight < 48`),
    );
    const [{ n }] = sql(`SELECT count(*) AS n FROM messages WHERE status = 'interrupted'`);
    if (n !== 20) throw new Error(`${n} interrupted replies in the database`);
    // At 60 ms per 6-character chunk, half a second is about 50 characters.
    console.log(`     20 kills, integrity ok each time; characters shown but not yet saved at the kill: max ${Math.max(...unsaved)}, median ${unsaved.sort((a, b) => a - b)[10]}`);
  });

  await test("a backup made in Settings brings back a conversation deleted for good", async () => {
    await app.click('[data-testid="settings-button"]');
    await app.click('[data-testid="backup-create"]');
    await waitFor("backup listed", async () => (await app.text('[data-testid="backup-item"]'))?.includes("Made by you"));
    await app.screenshot("5d-backups");
    await app.run(`document.querySelector("dialog").close()`);

    const crashChat = `[...document.querySelectorAll('[data-testid="conversation-item"]')]
      .find((b) => b.textContent.includes("Crash test"))`;
    await app.run(`${crashChat}.parentElement.querySelector('[data-testid="conversation-menu"]').click()`);
    await app.click('[data-testid="conversation-delete"]');
    await app.click('[data-testid="trash-button"]');
    await app.click('[data-testid="trash-empty"]');
    await app.click('[data-testid="trash-empty-confirm"]');
    await app.click('[data-testid="trash-close"]');
    await waitFor("gone", async () => !(await app.run(`return Boolean(${crashChat})`)));

    await app.click('[data-testid="settings-button"]');
    await app.click('[data-testid="backup-restore"]');
    await app.click('[data-testid="backup-restore-confirm"]');
    // The window reloads on the restored data.
    await waitFor("restored", async () => app.run(`return Boolean(${crashChat})`));
  });

  await test("a damaged database is replaced by the newest backup, and the user is told", async () => {
    await app.quit();
    // Garbage over the file's header, and over the write-ahead log's (which would
    // otherwise still hold a good copy of the first page).
    for (const name of ["tally.sqlite3", "tally.sqlite3-wal"]) {
      const path = join(DATA_DIR, name);
      if (!existsSync(path)) continue;
      const file = openSync(path, "r+");
      writeSync(file, Buffer.alloc(100, 0x5a), 0, 100, 0);
      closeSync(file);
    }
    app = await TallyApp.launch();
    const notice = await waitFor("recovery notice", () => app.text('[data-testid="recovery-notice"]'));
    if (!notice.includes("restored its backup from") || !notice.includes("may be missing")) {
      throw new Error(`notice: ${notice}`);
    }
    await app.screenshot("5e-recovered");
    // The newest backup is the one made before the restore above: the crash-test
    // conversation had been deleted for good by then, the pinned one had not.
    const titles = await app.run(`return [...document.querySelectorAll('[data-testid="conversation-item"]')]
      .map((b) => b.textContent.trim())`);
    if (!titles.some((t) => t.includes("Greetings")) || titles.some((t) => t.includes("Crash test"))) {
      throw new Error(`conversations after the recovery: ${titles}`);
    }
    await app.click('[data-testid="recovery-dismiss"]');
    await waitFor("notice dismissed", async () => (await app.text('[data-testid="recovery-notice"]')) === null);
  });

  await test("a wrong key is explained, with a way to Settings", async () => {
    await app.click('[data-testid="settings-button"]');
    await app.type('[data-testid="api-key-input"]', "sk-proj-invalid-key-00000000000000000");
    await app.click('[data-testid="api-key-save"]');
    await waitFor("refusal", async () =>
      (await app.text("dialog [role=alert]"))?.includes("OpenAI did not accept this key"),
    );
    await app.run(`document.querySelector("dialog").close()`);
    await app.type('[data-testid="composer-input"]', "Does this work?");
    await app.click('[data-testid="send-button"]');
    const banner = await waitFor("error banner", () => app.text('[data-testid="error-banner"]'));
    if (!banner.includes("OpenAI did not accept this key") || !banner.includes("Open Settings")) {
      throw new Error(`banner: ${banner}`);
    }
    await app.click('[data-testid="error-banner"] button');
    await app.type('[data-testid="api-key-input"]', KEY);
    await app.click('[data-testid="api-key-save"]');
    await waitFor("key accepted again", async () =>
      (await app.text('[data-testid="api-key-status"]'))?.includes("OpenAI accepted it"),
    );
    await app.run(`document.querySelector("dialog").close()`);
    // The failed reply offers to try again, which now works.
    await app.click('[data-testid="retry-button"]');
    await waitFor("reply after Try again", async () => {
      const last = (await app.messages()).at(-1);
      return last.role === "assistant" && last.status === "complete" && last.text.includes("mock");
    });
  });

  await test("the key goes to another server only after a yes in a native dialog, asked once per server", async () => {
    // A second tauri-driver, whose Tally points at a server that is neither OpenAI nor this
    // computer (`.invalid` never resolves, so a request that gets out fails at once).
    const dataDir = join(HOME, "tally-elsewhere");
    mkdirSync(dataDir, { recursive: true });
    const port = PORT + 1;
    const otherDriver = processes.start(
      DRIVER,
      ["--port", String(port), "--native-port", String(port + 10_000), "--native-driver", "/usr/bin/WebKitWebDriver"],
      { env: { ...process.env, TALLY_DATA_DIR: dataDir, TALLY_API_BASE: "https://Gateway.invalid/v1", TALLY_LOG: "warn" } },
    );
    otherDriver.stdout.resume();
    const elsewhere = new Driver(port);
    await elsewhere.ready();
    const other = Object.setPrototypeOf(await elsewhere.launch(APP), TallyApp.prototype);
    try {
      await other.click('[data-testid="onboarding-start"]');
      await other.click('[data-testid="onboarding-skip"]');
      const question = "^Send your API key to gateway\\.invalid\\?$";
      const send = async (text) => {
        await other.fill('[data-testid="composer-input"]', text);
        await other.click('[data-testid="send-button"]');
      };
      const banner = (what, words) =>
        waitFor(what, async () => {
          const text = await other.text('[data-testid="error-banner"]');
          return text?.includes(words) && text;
        }, 60_000);

      await send("Hello over there");
      answerNativeDialog(await waitFor("the question", () => nativeWindows(question)[0]), "Escape");
      const refused = await banner("the refusal", "was not sent to gateway.invalid");
      if (!refused.includes("Check the API address")) throw new Error(`banner: ${refused}`);
      if ((await other.messages()).length) throw new Error("a message whose key was kept back was written");
      await other.screenshot("6-key-kept-back");

      await send("Hello again");
      answerNativeDialog(await waitFor("the question again", () => nativeWindows(question)[0]), "alt+s");
      await banner("the request, sent and failing to reach the server", "could not reach");

      // Cleared once: the next message goes without a question.
      const before = (await other.messages()).length;
      await send("And once more");
      await waitFor("the third message, failed without a question", async () => {
        if (nativeWindows(question).length) throw new Error("asked a second time");
        const messages = await other.messages();
        return messages.length > before && messages.at(-1).status === "error";
      }, 60_000);
    } finally {
      await other.quit().catch(() => {});
      otherDriver.kill();
    }
  });

  await test("sync through a shared folder: a conversation written on one computer appears on the other, and back", async () => {
    // The folder Dropbox or Syncthing would carry between the two computers.
    const shared = join(HOME, "sync-folder");
    mkdirSync(shared, { recursive: true });
    const passphrase = "correct horse battery";
    const status = (tally) =>
      tally.run(`return document.querySelector('[data-testid="sync-status"]')?.dataset.status ?? null`);
    const titles = (tally) =>
      tally.run(`return [...document.querySelectorAll('[data-testid="conversation-item"]')].map((i) => i.textContent.trim())`);
    const turnOn = async (tally, words) => {
      await tally.fill('[data-testid="sync-location-input"]', shared);
      await tally.fill('[data-testid="sync-passphrase-input"]', words);
      await tally.click('[data-testid="sync-enable"]');
    };
    const syncNow = async (tally) => {
      await tally.click('[data-testid="settings-button"]');
      await tally.click('[data-testid="sync-now"]');
      await waitFor("the sync's end", async () => (await status(tally)) === "idle" && !(await tally.run(
        `return document.querySelector('[data-testid="sync-now"]').disabled`)), 60_000);
      await tally.run(`document.querySelector("dialog").close()`);
    };

    // The first computer writes, then turns sync on: everything it has goes to the folder.
    await app.click('[data-testid="new-chat-button"]');
    await app.fill('[data-testid="composer-input"]', "Written on the first computer");
    await app.click('[data-testid="send-button"]');
    await waitFor("the first computer's reply", async () => {
      const last = (await app.messages()).at(-1);
      return last?.role === "assistant" && last.status === "complete";
    }, 60_000);
    await app.click('[data-testid="settings-button"]');
    await waitFor("sync off at first", async () => (await status(app)) === "off");
    await turnOn(app, passphrase);
    await waitFor("sync on", async () => (await status(app)) === "idle", 60_000);
    await app.screenshot("7a-sync-on");
    await app.run(`document.querySelector("dialog").close()`);
    const onFirst = await titles(app);

    // A second computer: its own data folder, the same storage.
    const dataDir = join(HOME, "tally-second-computer");
    mkdirSync(dataDir, { recursive: true });
    const port = PORT + 2;
    const otherDriver = processes.start(
      DRIVER,
      ["--port", String(port), "--native-port", String(port + 10_000), "--native-driver", "/usr/bin/WebKitWebDriver"],
      { env: { ...process.env, TALLY_DATA_DIR: dataDir, TALLY_API_BASE: mockBase, TALLY_LOG: "warn" } },
    );
    otherDriver.stdout.resume();
    const second = new Driver(port);
    await second.ready();
    const other = Object.setPrototypeOf(await second.launch(APP), TallyApp.prototype);
    try {
      await other.click('[data-testid="onboarding-start"]');
      await other.click('[data-testid="onboarding-skip"]');
      await other.click('[data-testid="settings-button"]');
      await waitFor("sync off on the second computer", async () => (await status(other)) === "off");
      // A wrong passphrase is refused in words, and nothing is synced.
      await turnOn(other, "not the passphrase");
      await waitFor("the refusal", async () =>
        (await other.text('[data-testid="sync-settings"] [role="alert"]'))?.includes("does not open the sync storage"), 60_000);
      if ((await titles(other)).length) throw new Error("a wrong passphrase synced something");
      await turnOn(other, passphrase);
      await waitFor("sync on, on the second computer", async () => (await status(other)) === "idle", 60_000);
      await other.screenshot("7b-sync-second-computer");
      await other.run(`document.querySelector("dialog").close()`);
      await waitFor("the first computer's conversations on the second", async () => {
        const found = await titles(other);
        return onFirst.every((title) => found.includes(title)) && found;
      }, 30_000);

      // Written on the second computer, it reaches the first.
      await other.fill('[data-testid="composer-input"]', "Written on the second computer");
      await other.click('[data-testid="send-button"]');
      await waitFor("the second computer's reply", async () => {
        const last = (await other.messages()).at(-1);
        return last?.role === "assistant" && last.status === "complete";
      }, 60_000);
      await syncNow(other);
      await syncNow(app);
      await waitFor("the second computer's conversation on the first", async () =>
        (await titles(app)).length === onFirst.length + 1, 30_000);
    } finally {
      await other.quit().catch(() => {});
      otherDriver.kill();
    }
    await app.screenshot("7c-synced-back");
    // Off again, so no background sync meets the tests after this one.
    await app.click('[data-testid="settings-button"]');
    await app.click('[data-testid="sync-disable"]');
    await waitFor("sync off", async () => (await status(app)) === "off", 30_000);
    await app.run(`document.querySelector("dialog").close()`);
  });

  await test("the meter counts every reply; the budget alerts, and its hard stop asks first", async () => {
    const before = await waitFor("spend meter", () => app.text('[data-testid="spend-meter"]'));
    if (!/\$\d+\.\d+ this month/.test(before)) throw new Error(`meter: ${before}`);
    // A budget far below what the replies so far cost, with the hard stop on.
    await app.click('[data-testid="settings-button"]');
    await app.fill('[data-testid="budget-amount-input"]', "0.00001");
    await app.click('[data-testid="hard-stop-toggle"]');
    await app.click('[data-testid="budget-save"]');
    await waitFor("budget saved", async () => (await app.text("dialog [role=status]"))?.includes("a month"));
    await app.screenshot("6-budget-settings");
    await app.run(`document.querySelector("dialog").close()`);
    const level = await waitFor("meter over budget", () =>
      app.run(`return document.querySelector('[data-testid="spend-meter"]')?.dataset.level === "over"`),
    );
    if (!level) throw new Error("meter not over budget");
    const meter = await app.text('[data-testid="spend-meter"]');
    if (!meter.includes("of <$0.00001") && !meter.includes("of $0.00001")) throw new Error(`meter: ${meter}`);
    const banner = await waitFor("budget banner", () => app.text('[data-testid="budget-banner"]'));
    if (!banner.includes("100%")) throw new Error(`banner: ${banner}`);

    // The estimate follows the composer; the hard stop asks before anything is sent.
    await app.click('[data-testid="new-chat-button"]');
    // The reply reports 100,000 output tokens: at any current price the meter moves
    // visibly (a few hundred tokens may stay within a rounded cent).
    await app.type('[data-testid="composer-input"]', "[mock:usage:1000/0/100000/0] What does this cost?");
    const estimate = await waitFor("estimate", () => app.text('[data-testid="cost-estimate"]'));
    if (!/tokens to send · .*\$.* to \$/.test(estimate)) throw new Error(`estimate: ${estimate}`);
    const sentBefore = (await app.messages()).length;
    await app.click('[data-testid="send-button"]');
    await waitFor("budget dialog", () =>
      app.run(`return document.querySelector('[data-testid="budget-dialog"]')?.open === true`),
    );
    await app.screenshot("7-hard-stop");
    if ((await app.messages()).length !== sentBefore) throw new Error("a refused message was sent");
    const meterBefore = await app.text('[data-testid="spend-meter"]');
    await app.click('[data-testid="budget-send-anyway"]');
    await waitFor("reply sent anyway", async () => {
      const last = (await app.messages()).at(-1);
      return last?.role === "assistant" && last.status === "complete";
    });
    // The engine's spend_updated event moves the meter; nothing else refreshes it.
    await waitFor("meter updated by the event", async () =>
      (await app.text('[data-testid="spend-meter"]')) !== meterBefore,
    );
    const cost = await waitFor("conversation cost", () => app.text('[data-testid="conversation-cost"]'));
    if (!cost.includes("$")) throw new Error(`conversation cost: ${cost}`);

    // Raising the budget from the dialog sends normally.
    await app.type('[data-testid="composer-input"]', "And another?");
    await app.click('[data-testid="send-button"]');
    await app.fill("#budget-raise-input", "100");
    await app.click('[data-testid="budget-raise-button"]');
    await waitFor("reply after raising", async () => {
      const replies = (await app.messages()).filter((m) => m.role === "assistant");
      return replies.length === 2 && replies[1].status === "complete";
    });
    await waitFor("meter at the new budget", async () =>
      (await app.text('[data-testid="spend-meter"]'))?.includes("of $100.00 this month"),
    );
    await app.click('[data-testid="budget-banner-dismiss"]');
    await waitFor("banner dismissed", async () => (await app.text('[data-testid="budget-banner"]')) === null);

    // The usage page lists every billed request and agrees with the meter.
    await app.click('[data-testid="spend-meter"]');
    await app.waitFind('[data-testid="usage-page"]');
    const rows = await waitFor("request log", () =>
      app.run(`return document.querySelectorAll('[data-testid="request-log-row"]').length`),
    );
    if (rows < 7) throw new Error(`only ${rows} requests in the log`);
    const summary = await app.text('[data-testid="usage-summary"]');
    const meterNow = await app.text('[data-testid="spend-meter"]');
    if (meterNow !== null) throw new Error("the chat header is still shown over the usage page");
    if (!summary.includes("of $100.00 this month")) throw new Error(`summary: ${summary}`);
    await app.screenshot("8-usage");
    await app.click('[data-testid="usage-close"]');
    await app.waitFind('[data-testid="composer-input"]');
  });

  await test("no reply in the XSS corpus runs code or navigates, streamed in pieces", async () => {
    const { payloads } = JSON.parse(readFileSync(join(import.meta.dirname, "../../ui/src/lib/xss-corpus.json"), "utf8"));
    await app.click('[data-testid="new-chat-button"]');
    const home = await app.run("return location.href");
    for (const [i, payload] of payloads.entries()) {
      // Set rather than typed: WebDriver would press Enter (send) at each newline.
      await app.run(
        `const input = document.querySelector('[data-testid="composer-input"]');
         input.value = arguments[0];
         input.dispatchEvent(new Event("input", { bubbles: true }));`,
        `[mock:echo] ${payload}`,
      );
      await app.click('[data-testid="send-button"]');
      // The list is virtualized (the newest may not be drawn yet): count them all, and
      // wait for the stream to end (no Stop button).
      await waitFor(`reply ${i + 1}`, async () =>
        (await app.count()) === 2 * (i + 1) &&
        (await app.run(`return !document.querySelector('[data-testid="stop-button"]')`)),
      );
      const state = await app.run("return { pwned: window.__pwned ?? null, top: window.top.__pwned ?? null, href: location.href }");
      if (state.pwned !== null || state.top !== null || state.href !== home) {
        throw new Error(`payload ${i + 1} ${JSON.stringify(payload)}: ${JSON.stringify(state)}`);
      }
    }
    const last = (await app.messages()).at(-1);
    if (last?.role !== "assistant" || last.status !== "complete" || !last.text.includes("window.__pwned=54")) {
      throw new Error(`the last reply is ${JSON.stringify(last)}`);
    }
    await app.screenshot("3f-xss-corpus");
  });

  await test("ChatGPT's conversations.json imports once, and a conversation exports and comes back as it was", async () => {
    const fixture = readFileSync(
      join(import.meta.dirname, "../../crates/tally-core/tests/core/fixtures/chatgpt-conversations.json"),
      "utf8",
    );
    // Dropped on the import area, as from the file manager.
    const drop = (text, name) =>
      app.run(
        `const data = new DataTransfer();
         data.items.add(new File([arguments[0]], arguments[1], { type: "application/json" }));
         document.querySelector('[data-testid="import-drop"]').dispatchEvent(
           new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));`,
        text,
        name,
      );
    const result = (contains) =>
      waitFor(`the result “${contains}”`, async () => {
        const text = await app.run(`return document.querySelector('[data-testid="transfer-result"]')?.textContent ?? ""`);
        return text.includes(contains) && text;
      });
    await app.click('[data-testid="settings-button"]');
    await drop(fixture, "conversations.json");
    const summary = await result("from ChatGPT");
    const expected =
      "Imported 4 conversations (15 messages) from ChatGPT. 1 conversation was already here and was left as it was. " +
      "1 picture or file was not included (a note marks where). 1 conversation in the file could not be read.";
    if (summary !== expected) throw new Error(summary);
    await app.run(`document.querySelector('[data-testid="transfer-result"]').scrollIntoView({ block: "center" })`);
    await app.screenshot("6b-import-summary");
    await app.run(`document.querySelector("dialog[open]").close()`);
    const titles = () =>
      app.run(`return [...document.querySelectorAll('[data-testid="conversation-item"]')].map((i) => i.textContent.trim())`);
    if (!(await titles()).includes("Rain poem")) throw new Error(`the sidebar: ${await titles()}`);
    // The branch last seen in ChatGPT, with its other versions.
    await app.run(`[...document.querySelectorAll('[data-testid="conversation-item"]')].find((i) => i.textContent.includes("Rain poem")).click()`);
    await waitFor("the poem", async () => (await app.count()) === 4);
    const shown = await app.messages();
    if (!shown.at(-1).text.startsWith("Graue Fäden")) throw new Error(JSON.stringify(shown));
    const versions = await app.run(`return [...document.querySelectorAll('[data-testid="sibling-position"]')].map((p) => p.textContent)`);
    if (versions.length !== 2) throw new Error(`versions: ${versions}`);

    // Exported from its menu as a Tally file, which says where it went.
    await app.run(`document.querySelector('[aria-label="Actions for “Rain poem”"]').click()`);
    await app.click('[data-testid="conversation-export-json"]');
    const saved = await waitFor("the export", () =>
      app.run(`return document.querySelector('[data-testid="conversation-export-result"]')?.textContent`),
    );
    const path = saved.replace(/^1 conversation saved to /, "");
    const file = JSON.parse(readFileSync(path, "utf8"));
    if (file.format !== "tally-conversations" || file.conversations[0].messages.length !== 7) {
      throw new Error(`${path}: ${JSON.stringify(file).slice(0, 300)}`);
    }
    // Brought back: it is already here.
    await app.click('[data-testid="settings-button"]');
    await drop(readFileSync(path, "utf8"), "Rain-poem.json");
    await result("No new conversations from a Tally file. 1 conversation was already here");

    // ChatGPT's whole export, the .zip it sends, chosen in the file dialog: the picture a
    // message points to comes in with it.
    const chart = JSON.parse(fixture).find((c) => c.title === "Chart and a product");
    Object.assign(chart, { id: "from-the-zip", conversation_id: "from-the-zip", title: "Chart from the zip" });
    const folder = join(HOME, "chatgpt-export");
    mkdirSync(folder, { recursive: true });
    const exported = join(folder, "chatgpt-export.zip");
    writeFileSync(
      exported,
      storedZip([
        ["conversations.json", Buffer.from(JSON.stringify([chart]))],
        ["file-AbC123-chart.png", png(640, 480)],
        ["chat.html", Buffer.from("<html></html>")],
      ]),
    );
    const input = await app.find('[data-testid="import-file"]');
    await app.wd("POST", `/element/${input}/value`, { text: exported });
    await result("Imported 1 conversation (2 messages) from ChatGPT, with 1 picture.");
    await app.run(`document.querySelector("dialog[open]").close()`);
    await app.run(`[...document.querySelectorAll('[data-testid="conversation-item"]')].find((i) => i.textContent.includes("Chart from the zip")).click()`);
    const picture = await waitFor("the picture in the message", () =>
      app.run(`const img = document.querySelector('[data-testid="message-attachment"][data-kind="image"] img');
        return img?.complete && img.naturalWidth > 0 && { width: img.naturalWidth, height: img.naturalHeight }`),
    );
    if (picture.width !== 640 || picture.height !== 480) throw new Error(`the picture: ${JSON.stringify(picture)}`);
    await app.screenshot("6c-imported-picture");
  });

  await test("the window runs isolated, frozen, under its CSP, and may call only Tally's commands", async () => {
    // Screens with styles set from code (the chart, the meter, the long list) before the check.
    await app.click('[data-testid="usage-button"]');
    await app.waitFind('[data-testid="usage-page"] canvas');
    await app.click('[data-testid="usage-close"]');
    await app.click('[data-testid="settings-button"]');
    await app.click('[data-testid="theme-dark"]');
    await app.screenshot("6-settings-dark");
    await app.click('[data-testid="theme-system"]');
    await app.run(`document.querySelector("dialog[open]").close()`);
    const page = await app.run(`
      const internals = window.__TAURI_INTERNALS__;
      let evalRan = false;
      try { eval("1"); evalRan = true; } catch {}
      const emitted = internals.invoke("plugin:event|emit", { event: "spend_updated", payload: null }).then(() => "fulfilled", (e) => String(e));
      const closed = internals.invoke("plugin:window|close", { label: "main" }).then(() => "fulfilled", (e) => String(e));
      const pending = new Promise((r) => setTimeout(() => r("pending"), 1500));
      return Promise.all([
        internals.__TAURI_PATTERN__?.pattern ?? null,
        window.__cspViolations,
        Object.isFrozen(Object.prototype),
        evalRan,
        Promise.race([emitted, pending]),
        Promise.race([closed, pending]),
      ]);`);
    const [pattern, violations, frozen, evalRan, emit, close] = page;
    // Tauri's isolation frame is there, and hidden.
    const frame = await app.run(
      `const f = document.getElementById("__tauri_isolation__"); return f && getComputedStyle(f).display`,
    );
    if (frame !== "none") throw new Error(`the isolation frame: ${frame}`);
    // Only the eval probe above may have been refused since launch.
    const unexpected = violations.filter((v) => !v.startsWith("script-src"));
    console.log(`     CSP violations since launch: ${JSON.stringify(violations)}`);
    if (unexpected.length) throw new Error(`CSP violations: ${unexpected.join("; ")}`);
    if (pattern !== "isolation") throw new Error(`IPC pattern: ${pattern}`);
    if (!frozen) throw new Error("Object.prototype is not frozen");
    if (evalRan) throw new Error("eval ran: the CSP allows unsafe-eval");
    for (const [command, outcome] of [["emit", emit], ["window close", close]]) {
      if (outcome === "fulfilled") throw new Error(`the page could call ${command}`);
    }
    await app.waitFind('[data-testid="composer-input"]');
  });

  await test("no page from elsewhere loads: not in a new window, not in this one", async () => {
    const home = await app.run(`return location.href`);
    // Each way a page asks for a window of its own: a script (refused by WebKit unless
    // the user clicked), a script on a click, a target=_blank link clicked and
    // middle-clicked; then a plain navigation in this window's place.
    const unasked = await app.run(`return window.open("https://example.com/", "_blank") === null`);
    if (!unasked) throw new Error("window.open gave the page a window");
    await app.run(`window.__opened = [];
      const a = document.createElement("a");
      a.href = "https://example.com/"; a.target = "_blank"; a.id = "elsewhere"; a.textContent = "elsewhere";
      a.style = "position:fixed;top:0;left:0;z-index:99999";
      const b = document.createElement("button");
      b.id = "opener"; b.textContent = "open"; b.style = "position:fixed;top:40px;left:0;z-index:99999";
      b.onclick = () => window.__opened.push(window.open("https://example.com/", "_blank") !== null);
      document.body.append(a, b);`);
    await app.click("#opener");
    await app.click("#elsewhere");
    const link = await app.find("#elsewhere");
    await app.wd("POST", "/actions", {
      actions: [{
        type: "pointer", id: "mouse", parameters: { pointerType: "mouse" },
        actions: [
          { type: "pointerMove", origin: { "element-6066-11e4-a52e-4f735466cecf": link }, x: 0, y: 0 },
          { type: "pointerDown", button: 1 },
          { type: "pointerUp", button: 1 },
        ],
      }],
    });
    const opened = await app.run(`document.getElementById("elsewhere").remove();
      document.getElementById("opener").remove(); return window.__opened`);
    if (opened.length !== 1 || opened[0]) throw new Error(`window.open on a click: ${JSON.stringify(opened)}`);
    await app.run(`location.href = "https://example.com/"`);
    // A window would have opened by now: WebKit asks for one before it loads anything.
    await sleep(1000);
    const handles = await app.wd("GET", "/window/handles");
    if (handles.length !== 1) throw new Error(`${handles.length} windows`);
    const now = await app.run(`return location.href`);
    if (now !== home) throw new Error(`the window went to ${now}`);
    await app.waitFind('[data-testid="composer-input"]');
  });

  await test("one Tally per data folder: a second launch brings the first forward and exits", async () => {
    const second = processes.start(APP, [], {
      env: { ...process.env, TALLY_DATA_DIR: DATA_DIR, TALLY_API_BASE: mockBase, TALLY_LOG: "warn" },
    });
    second.stdout.resume();
    const code = await exitOf(second, 15_000);
    if (code !== 0) {
      second.kill();
      throw new Error(`the second launch: ${code}`);
    }
    await app.waitFind('[data-testid="composer-input"]');
  });

  await test("a launch while the last Tally is still quitting waits for it and opens; one that does not answer is named", async () => {
    const appEnv = { ...process.env, TALLY_DATA_DIR: DATA_DIR, TALLY_API_BASE: mockBase, TALLY_LOG: "warn" };
    await app.quit();
    app = null;
    const left = await endLeftovers(APP, 10_000);
    if (left.length) throw new Error(`Tally ${left} outlived its quit`);
    // A Tally that holds the data folder, then stops answering (as one busy quitting does).
    const holder = processes.start(APP, [], { env: appEnv });
    holder.stdout.resume();
    await waitFor("the holder's window", () => nativeWindows("^Tally$").length > 0, 30_000);
    process.kill(holder.pid, "SIGSTOP");
    try {
      // A launch now finds the folder taken and asks the holder to come forward; the holder
      // goes while it waits (within the 5 s it gives an answer). It opens.
      const launched = TallyApp.launch();
      await sleep(2000);
      process.kill(holder.pid, "SIGKILL");
      app = await launched;
      await app.waitFind('[data-testid="composer-input"]');
    } finally {
      holder.kill("SIGKILL"); // Already gone unless the launch failed.
    }
    // A launch while that Tally does not answer at all: it says so, in words, and exits.
    const pid = processesOf(APP)[0];
    process.kill(pid, "SIGSTOP");
    try {
      const third = processes.start(APP, [], { env: appEnv });
      third.stdout.resume();
      const said = await waitFor("the message", () => nativeWindows("^Tally is already open$")[0], 30_000);
      answerNativeDialog(said, "Return");
      const code = await exitOf(third, 15_000);
      if (code !== 1) throw new Error(`the launch beside an unanswering Tally: ${code}`);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await app.waitFind('[data-testid="composer-input"]');
  });

  await test("the window's size is remembered after quitting", async () => {
    await app.wd("POST", "/window/rect", { width: 900, height: 640 });
    const set = await waitFor("the new size", async () => {
      const rect = await app.wd("GET", "/window/rect");
      return rect.width === 900 && rect.height === 640 && rect;
    });
    // Saved once the window has been still for half a second; the app may be killed later.
    await sleep(1200);
    await app.quit();
    app = await TallyApp.launch();
    await app.waitFind('[data-testid="composer-input"]');
    const rect = await app.wd("GET", "/window/rect");
    if (rect.width !== set.width || rect.height !== set.height) {
      throw new Error(`relaunched at ${rect.width}×${rect.height}, left at ${set.width}×${set.height}`);
    }
  });

  await test("when OpenAI cannot be reached, the message waits in the chat with Try again, not also in the composer", async () => {
    mock.kill();
    await new Promise((resolve) => mock.once("exit", resolve));
    await app.run(`document.querySelector('[data-testid="composer-input"]').value = ""`);
    await app.type('[data-testid="composer-input"]', "Are you there?");
    await app.click('[data-testid="send-button"]');
    // Try again is offered once the send's call has returned (a moment after the failure).
    await waitFor("error banner with Try again", async () => {
      const text = await app.text('[data-testid="error-banner"]');
      return text?.includes("could not reach") && text.includes("Try again");
    });
    const messages = await app.messages();
    const mine = messages.filter((m) => m.role === "user").at(-1);
    if (mine?.text !== "Are you there?") throw new Error(`last message: ${JSON.stringify(messages.at(-2))}`);
    // One place only: Send cannot send it a second time.
    const draft = await app.run(`return document.querySelector('[data-testid="composer-input"]').value`);
    if (draft !== "") throw new Error(`composer still holds ${JSON.stringify(draft)}`);
    await app.screenshot("5-offline");
  });

  await test("launch to an interactive composer", async () => {
    await app.quit();
    const times = [];
    for (let i = 0; i < 3; i++) {
      app = await TallyApp.launch();
      await app.waitFind('[data-testid="composer-input"]');
      times.push(performance.now() - app.started);
      await app.quit();
    }
    app = null;
    times.sort((a, b) => a - b);
    console.log(`     launch → composer: ${times.map((t) => Math.round(t)).join(", ")} ms (median ${Math.round(times[1])} ms)`);
  });

  if (app) await app.quit().catch(() => {});
}

try {
  await main();
} catch (error) {
  await nodeTest("setup", () => {
    throw error;
  });
} finally {
  await processes.killAll();
  // Nothing of this run may outlive it (a leftover holds its data folder).
  const left = await endLeftovers(APP, 10_000);
  await nodeTest("no Tally left running", () => {
    if (left.length) {
      const named = left.map((pid) => `${pid}, launched in "${launchedBy.get(pid) ?? "an unknown test"}"`);
      throw new Error(`killed ${named.join("; ")}`);
    }
  });
}
// node:test sets the exit code. Should anything still hold the process open, it ends
// anyway, as a failure, instead of hanging the suite.
exitIfHeld("end-to-end tests");
