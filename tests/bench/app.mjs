// The app-level figures of `cargo xtask bench`, measured on the real binaries under Xvfb:
// launch to an interactive composer, opening a long conversation, idle memory, and the
// latency the app adds between the mock server sending a reply's first token and the
// window showing it, each beside its baseline where it has one (an empty Tauri window, a
// raw HTTP client). Writes JSON to TALLY_BENCH_OUT.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Driver, Processes, endLeftovers, required, sleep, waitFor } from "../e2e/webdriver.mjs";

const env = (name) => required(name, "cargo xtask bench");
const APP = env("TALLY_BENCH_APP");
const EMPTY = env("TALLY_BENCH_EMPTY");
const MOCK = env("TALLY_BENCH_MOCK");
const DRIVER = env("TALLY_BENCH_DRIVER");
const EMPTY_DB = env("TALLY_BENCH_EMPTY_DB");
const RESPONSES_DB = env("TALLY_BENCH_RESPONSES_DB");
const BIG_DB = env("TALLY_BENCH_BIG_DB");
// Messages in the long conversation of BIG_DB (the newest one).
const LONG_MESSAGES = Number(env("TALLY_BENCH_LONG"));
// Messages in the second newest conversation, one in ten with a picture (the generator's
// `PICTURES_CONVERSATION_MESSAGES` at most).
const PICTURES_MESSAGES = Math.min(LONG_MESSAGES, 2_000);
const OUT = env("TALLY_BENCH_OUT");
const RUNS = Number(process.env.TALLY_BENCH_RUNS ?? 5);
const SENDS = Number(process.env.TALLY_BENCH_SENDS ?? 50);
const IDLE_MS = Number(process.env.TALLY_BENCH_IDLE_MS ?? 10_000);
// "idle": only the idle memory (CPU load does not change it, so a full run measures it
// beside the criterion benches); "timing": everything else; unset: both.
const PART = process.env.TALLY_BENCH_PART ?? "all";
const KEY = "sk-proj-BenchKeyNotReal0000000000000000bnch";
const PORT = 5444 + (process.pid % 1000);

const processes = new Processes();
const results = {};
// Apps found still running after their phase had ended (killed, and reported).
const leftovers = [];
const copies = [];

/** A copy of the data folder `dir` for one phase alone: no phase can meet another's app
 * on its folder (one Tally per data folder). */
function freshCopy(dir) {
  const copy = mkdtempSync(join(tmpdir(), "tally-bench-data-"));
  cpSync(dir, copy, { recursive: true });
  copies.push(copy);
  return copy;
}

/** After a phase: every app it started has ended, or is killed and reported. */
async function noneLeft(phase) {
  for (const binary of [APP, EMPTY]) {
    const pids = await endLeftovers(binary);
    if (pids.length) {
      leftovers.push({ phase, binary, pids });
      console.log(`WARNING: ${binary} was still running after "${phase}" (pids ${pids.join(", ")}); killed`);
    }
  }
}

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) =>
    sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
  return {
    samples: sorted,
    median: at(0.5),
    p99: at(0.99),
    min: sorted[0],
    max: sorted.at(-1),
  };
}

/** Runs `body` with tauri-driver started for apps that get `appEnv`. */
async function withDriver(appEnv, body) {
  const driverProcess = processes.start(
    DRIVER,
    // Its own port for WebKitWebDriver too (not the default 4445), so that suites can run
    // side by side.
    ["--port", String(PORT), "--native-port", String(PORT + 10_000), "--native-driver", "/usr/bin/WebKitWebDriver"],
    { env: { ...process.env, TALLY_LOG: "warn", ...appEnv } },
  );
  driverProcess.stdout.resume();
  const driver = new Driver(PORT);
  try {
    await driver.ready();
    return await body(driver);
  } finally {
    driverProcess.kill();
    await Promise.race([
      new Promise((resolve) => driverProcess.once("exit", resolve)),
      sleep(10_000).then(() => driverProcess.kill("SIGKILL")),
    ]);
    await noneLeft(appEnv.TALLY_DATA_DIR ?? "the empty window");
  }
}

/** Milliseconds from the new-session request until `selector` exists, over RUNS launches. */
async function launchTimes(driver, application, selector) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const app = await driver.launch(application);
    await app.waitFind(selector, 30_000);
    times.push(performance.now() - app.started);
    await app.quit();
  }
  return summary(times);
}

/** PSS in kB of `pid` and every process below it. */
function treePss(pid) {
  const parents = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(name), ppid);
    } catch {
      // The process ended meanwhile.
    }
  }
  const tree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of parents) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  let total = 0;
  const parts = [];
  for (const member of tree) {
    try {
      const rollup = readFileSync(`/proc/${member}/smaps_rollup`, "utf8");
      const kb = Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      const name = readFileSync(`/proc/${member}/comm`, "utf8").trim();
      total += kb;
      parts.push({ name, kb });
    } catch {
      // Gone, or not ours to read.
    }
  }
  return { total, parts };
}

/** PSS of `binary`'s process tree IDLE_MS after it starts, over RUNS starts. */
async function idleMemory(binary, appEnv) {
  const totals = [];
  let parts;
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    const child = processes.start(binary, [], {
      env: { ...process.env, TALLY_LOG: "warn", ...appEnv },
      stdio: ["ignore", "ignore", "ignore"],
    });
    await sleep(IDLE_MS);
    const measured = treePss(child.pid);
    totals.push(measured.total / 1024);
    parts = measured.parts;
    child.kill();
    await Promise.race([
      new Promise((resolve) => child.once("exit", resolve)),
      sleep(10_000).then(() => child.kill("SIGKILL")),
    ]);
    await noneLeft(`idle memory of ${binary}`);
  }
  return { ...summary(totals), parts };
}

/** The mock's record of when each reply's first content chunk left (epoch ms). */
async function firstContentSent(base) {
  const origin = new URL(base).origin;
  const micros = await (
    await fetch(`${origin}/_mock/first-content-sent`)
  ).json();
  return micros.map((us) => us / 1000);
}

/** A raw HTTP client's delay between the mock sending the first token and reading it. */
async function rawClientLatency(base) {
  const delays = [];
  for (let i = 0; i < SENDS; i++) {
    const response = await fetch(`${base}/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${KEY}`,
      },
      body: JSON.stringify({
        model: "gpt-4o-mini",
        stream: true,
        messages: [{ role: "user", content: `raw ${i}` }],
      }),
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    let arrived = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
      if (arrived === null && /"content":"[^"]/.test(seen)) {
        arrived = performance.timeOrigin + performance.now();
      }
    }
    const sent = (await firstContentSent(base)).at(-1);
    delays.push(arrived - sent);
  }
  return summary(delays);
}

/** Tally's delay between the mock sending the first token and the window showing it, and
 * its first part: until the text reached the page (the mark the chat sets, "channel");
 * the page's own work is the rest. `inPage`: the message is typed and sent by a script in
 * the page, and one asynchronous WebDriver call waits for the text, so that no WebDriver
 * command runs in the page while it is measured (a click, and polling for the result every
 * 30 ms, each keep the web process busy for some ms a person's click does not). Without it,
 * the method the peer figures were measured by. */
async function appLatency(app, base, inPage, endpoint) {
  const shown = [];
  const channel = [];
  await app.waitFind('[data-testid="composer-input"]', 30_000);
  for (let i = 0; i < SENDS; i++) {
    if (i % 10 === 0) await app.click('[data-testid="new-chat-button"]');
    // Notes when the new reply first shows text. The app changes the DOM inside an
    // animation frame, so this is the frame that paints it.
    // The list is virtualized (older messages leave the page): the new reply is the one
    // with a higher id than any before it.
    await app.run(`
      window.__firstDelta = null;
      performance.clearMarks("tally:reply-first-text");
      window.__firstShown = new Promise((resolve) => (window.__resolveFirstShown = resolve));
      const ids = () => [...document.querySelectorAll('[data-testid="message"]')].map((m) => Number(m.dataset.messageId));
      const before = Math.max(0, ...ids());
      const observer = new MutationObserver(() => {
        const reply = [...document.querySelectorAll('[data-testid="message"][data-role="assistant"]')]
          .find((m) => Number(m.dataset.messageId) > before);
        if (!reply || reply.dataset.status !== "streaming") return;
        const text = reply.querySelector('[data-testid="message-content"]').textContent;
        if (!text.replace("…", "").trim()) return;
        observer.disconnect();
        window.__firstDelta = performance.timeOrigin + performance.now();
        window.__resolveFirstShown(window.__firstDelta);
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });`);
    const text = `Message ${i}`;
    let at;
    if (inPage) {
      at = await app.wd("POST", "/execute/async", {
        script: `const done = arguments[arguments.length - 1];
          const input = document.querySelector('[data-testid="composer-input"]');
          input.value = ${JSON.stringify(text)};
          input.dispatchEvent(new Event("input", { bubbles: true }));
          // The send button is enabled once the draft is in the chat's state.
          requestAnimationFrame(() => {
            document.querySelector('[data-testid="send-button"]').click();
            window.__firstShown.then(done);
          });`,
        args: [],
      });
    } else {
      await app.type('[data-testid="composer-input"]', text);
      await app.click('[data-testid="send-button"]');
      at = await waitFor("first delta", () => app.run("return window.__firstDelta"));
    }
    const reached = await app.run(
      `const mark = performance.getEntriesByName("tally:reply-first-text")[0];
       return mark ? performance.timeOrigin + mark.startTime : null;`,
    );
    await waitFor("reply complete", () =>
      app.run(`return !document.querySelector('[data-testid="stop-button"]')`),
    );
    // The reply came over the API this run measures.
    const came = await app.run(
      `return [...document.querySelectorAll('[data-testid="message"][data-role="assistant"]')].at(-1)?.dataset.endpoint`,
    );
    if (came !== endpoint) throw new Error(`a reply came over ${came}, not ${endpoint}`);
    const sent = (await firstContentSent(base)).at(-1);
    shown.push(at - sent);
    if (reached !== null) channel.push(reached - sent);
  }
  return { shown: summary(shown), channel: summary(channel) };
}

/** Milliseconds from clicking conversation `nth` in the sidebar (0: the newest, the long
 * one; 1: the one with pictures, of `messages` messages) until its end is on screen (its
 * last message drawn, the view at the bottom, every picture in view shown) and a frame has
 * been painted; and until the whole branch is in the list (scrollable to its start). Over
 * RUNS openings. */
async function openLongConversation(app, nth, messages) {
  await app.waitFind('[data-testid="conversation-item"]', 30_000);
  const painted = [];
  const whole = [];
  for (let i = 0; i < RUNS; i++) {
    await app.click('[data-testid="new-chat-button"]');
    await waitFor(
      "empty chat",
      async () => (await app.messages()).length === 0,
    );
    const ms = await app.wd("POST", "/execute/async", {
      script: `const done = arguments[arguments.length - 1];
        const start = performance.now();
        let paintedMs = null;
        document.querySelectorAll('[data-testid="conversation-item"]')[${nth}].click();
        const atEnd = () => {
          const list = document.querySelector('[data-testid="message-list"]');
          const last = [...(list?.querySelectorAll('[data-testid="message"]') ?? [])].at(-1);
          const view = list?.getBoundingClientRect();
          const pictureInView = (e) => {
            const box = e.getBoundingClientRect();
            return box.bottom > view.top && box.top < view.bottom;
          };
          return (
            last &&
            list.scrollHeight - list.scrollTop - list.clientHeight < 48 &&
            last.getBoundingClientRect().bottom <= view.bottom + 1 &&
            // A picture in view is drawn, not its placeholder.
            ![...list.querySelectorAll('[data-testid="message-attachment"] .placeholder')].some(pictureInView) &&
            [...list.querySelectorAll('[data-testid="message-attachment"] img')]
              .filter(pictureInView)
              .every((img) => img.complete && img.naturalWidth > 0)
          );
        };
        const check = () => {
          if (paintedMs === null && atEnd()) {
            // The frame after the one that drew them: they have been painted.
            requestAnimationFrame(() =>
              requestAnimationFrame(() => (paintedMs = performance.now() - start)),
            );
            paintedMs = -1;
          }
          const count = Number(document.querySelector('[data-testid="message-list"]')?.dataset.count ?? 0);
          if (paintedMs > 0 && count >= ${messages}) done([paintedMs, performance.now() - start]);
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);`,
      args: [],
    });
    painted.push(ms[0]);
    whole.push(ms[1]);
  }
  return { painted: summary(painted), whole: summary(whole) };
}

async function timing() {
  const { base } = await processes.mock(MOCK, [
    "--chunk-chars",
    "8",
    "--delay-ms",
    "20",
  ]);
  results.launch_empty_window = await withDriver({}, (driver) =>
    launchTimes(driver, EMPTY, "#ready"),
  );
  results.launch_tally_empty_db = await withDriver(
    { TALLY_DATA_DIR: freshCopy(EMPTY_DB) },
    (driver) => launchTimes(driver, APP, '[data-testid="composer-input"]'),
  );
  results.launch_tally_big_db = await withDriver(
    { TALLY_DATA_DIR: BIG_DB },
    (driver) => launchTimes(driver, APP, '[data-testid="composer-input"]'),
  );
  const open = await withDriver({ TALLY_DATA_DIR: BIG_DB }, async (driver) => {
    const app = await driver.launch(APP);
    try {
      return {
        long: await openLongConversation(app, 0, LONG_MESSAGES),
        pictures: await openLongConversation(app, 1, PICTURES_MESSAGES),
      };
    } finally {
      await app.quit();
    }
  });
  results.open_long_conversation = open.long.painted;
  results.open_long_conversation_whole = open.long.whole;
  results.open_pictures_conversation = open.pictures.painted;
  results.open_pictures_conversation_whole = open.pictures.whole;
  results.raw_client_first_token = await rawClientLatency(base);
  for (const [name, inPage, db, endpoint] of [
    ["tally_first_token", false, EMPTY_DB, "chat"],
    ["tally_first_token_in_page", true, EMPTY_DB, "chat"],
    // New chats there start with a model served only on Responses: the same measure over
    // that API's named events.
    ["tally_first_token_responses", true, RESPONSES_DB, "responses"],
  ]) {
    const latency = await withDriver(
      { TALLY_DATA_DIR: freshCopy(db), TALLY_API_BASE: base, OPENAI_API_KEY: KEY },
      async (driver) => {
        const app = await driver.launch(APP);
        try {
          return await appLatency(app, base, inPage, endpoint);
        } finally {
          await app.quit();
        }
      },
    );
    results[name] = latency.shown;
    results[`${name}_channel`] = latency.channel;
  }
}

async function main() {
  if (PART !== "idle") await timing();
  if (PART !== "timing") {
    results.idle_memory_empty_window = await idleMemory(EMPTY, {});
    results.idle_memory_tally = await idleMemory(APP, {
      TALLY_DATA_DIR: freshCopy(EMPTY_DB),
    });
  }
  if (leftovers.length) results.leftover_apps = { median: leftovers.length, p99: leftovers.length, leftovers };
  writeFileSync(OUT, JSON.stringify(results, null, 2));
  for (const [name, value] of Object.entries(results)) {
    console.log(
      `${name}: median ${value.median.toFixed(1)}, p99 ${value.p99.toFixed(1)}`,
    );
  }
}

try {
  await main();
} finally {
  processes.killAll();
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
}
