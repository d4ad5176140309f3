// A small WebDriver client for the real Tally window (tauri-driver + WebKitWebDriver), and
// the child processes around it. Shared by the end-to-end tests and the app benchmarks.
import { execFile, spawn } from "node:child_process";
import { readdirSync, readlinkSync, realpathSync } from "node:fs";
import { promisify } from "node:util";
import { createInterface } from "node:readline";
import { join } from "node:path";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** How `child` ended (its exit code, or the signal that ended it), or "still running" after
 * `timeoutMs`. Its timer is cleared once the child ends: a timer left pending would hold
 * the script open after its last test. */
export function exitOf(child, timeoutMs) {
  return new Promise((resolve) => {
    // Already ended: its "exit" has been emitted and will not be again.
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode);
    const timer = setTimeout(() => resolve("still running"), timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

/** Ends a script that its last test left held open (a timer, a socket, a child), naming
 * what held it, as a failure instead of a hang. */
export function exitIfHeld(suite, timeoutMs = 10_000) {
  setTimeout(() => {
    // Only what holds the process open is listed (this timer does not).
    const held = process.getActiveResourcesInfo();
    console.error(`the ${suite} ended but something still ran (${held.join(", ")}): exiting`);
    process.exit(process.exitCode || 1);
  }, timeoutMs).unref();
}

/** The environment variable `name`, which `command` (the xtask that runs the script) sets. */
export function required(name, command = "cargo xtask test") {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through ${command}`);
  return value;
}

/** Child processes, all killed at the end. */
export class Processes {
  children = [];
  start(command, args, options = {}) {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], ...options });
    this.children.push(child);
    return child;
  }
  /** Starts mock-openai and returns `{ process, base }` once it listens. */
  async mock(binary, args) {
    const process = this.start(binary, args);
    const line = await new Promise((resolve, reject) => {
      createInterface({ input: process.stdout }).once("line", resolve);
      process.once("exit", () => reject(new Error("mock-openai exited")));
    });
    return { process, base: line.trim().split(" ").pop() };
  }
  /** Ends every child still running: asked first (SIGTERM), killed after `timeoutMs`. */
  async killAll(timeoutMs = 5000) {
    const running = (child) => child.exitCode === null && child.signalCode === null;
    await Promise.all(
      this.children.filter(running).map(async (child) => {
        const ended = exitOf(child, timeoutMs);
        child.kill();
        if ((await ended) !== "still running") return;
        const killed = exitOf(child, timeoutMs);
        child.kill("SIGKILL");
        await killed;
      }),
    );
  }
}

/** Pids of running processes of the executable `binary` (by /proc/PID/exe). */
export function processesOf(binary) {
  const target = realpathSync(binary);
  const pids = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // A rebuilt binary shows as "path (deleted)".
      if (readlinkSync(`/proc/${name}/exe`).replace(/ \(deleted\)$/, "") === target) pids.push(Number(name));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

/** Waits up to `timeoutMs` for every process of `binary` to end; kills (SIGKILL) any left
 * and returns their pids, so that no phase can inherit a leftover of the last. */
export async function endLeftovers(binary, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let left = processesOf(binary);
  while (left.length && Date.now() < deadline) {
    await sleep(50);
    left = processesOf(binary);
  }
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Ended meanwhile.
    }
  }
  return left;
}

export async function waitFor(what, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(30);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

/** How long one WebDriver call may take (a launch waits for the window) before it fails
 * with a message, instead of node's five-minute header timeout. */
export const WEBDRIVER_CALL_MS = 60_000;

/** How long keeping a screenshot may take before it fails with a message. */
const SCREENSHOT_MS = 20_000;

/** Runs `command` to its end, failing with its message after `timeoutMs`. */
async function run(command, args, timeoutMs) {
  try {
    await promisify(execFile)(command, args, { timeout: timeoutMs, killSignal: "SIGKILL" });
  } catch (error) {
    throw new Error(`${command} ${args.join(" ")}: ${error.killed ? `no answer in ${timeoutMs} ms` : error.message}`);
  }
}

/** tauri-driver on `port`. */
export class Driver {
  constructor(port) {
    this.port = port;
  }
  async wd(method, path, body, timeoutMs = WEBDRIVER_CALL_MS) {
    let response;
    let json;
    try {
      response = await fetch(`http://127.0.0.1:${this.port}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      json = await response.json();
    } catch (error) {
      if (error.name === "TimeoutError" || error.name === "AbortError") {
        throw new Error(`WebDriver ${method} ${path} did not answer within ${timeoutMs / 1000} s`);
      }
      throw error;
    }
    if (json.value && json.value.error) {
      throw new Error(`${method} ${path}: ${json.value.error}: ${json.value.message}`);
    }
    return json.value;
  }
  ready() {
    return waitFor("tauri-driver", () => this.wd("GET", "/status").then(() => true));
  }
  /** Starts `application` in a new session; `started` is when the request left. */
  async launch(application) {
    const started = performance.now();
    const session = await this.wd("POST", "/session", {
      capabilities: {
        alwaysMatch: { browserName: "wry", "tauri:options": { application } },
      },
    });
    return new App(this, session.sessionId, started);
  }
}

/** One running app window. */
export class App {
  constructor(driver, id, started) {
    this.driver = driver;
    this.id = id;
    this.started = started;
  }
  wd(method, path, body) {
    return this.driver.wd(method, `/session/${this.id}${path}`, body);
  }
  run(script, ...args) {
    return this.wd("POST", "/execute/sync", { script, args });
  }
  async find(selector) {
    const element = await this.wd("POST", "/element", { using: "css selector", value: selector });
    return element[ELEMENT];
  }
  async waitFind(selector, timeoutMs) {
    return waitFor(selector, () => this.find(selector), timeoutMs);
  }
  async click(selector) {
    await this.waitFind(selector);
    await waitFor(`${selector} enabled`, () =>
      this.run(`return !document.querySelector(arguments[0])?.disabled`, selector),
    );
    // A control the list is still placing (rows measured, the view following) is clicked
    // once it can be: as a user would, after the moment it takes.
    const deadline = Date.now() + 5000;
    for (;;) {
      const id = await this.find(selector);
      try {
        return await this.wd("POST", `/element/${id}/click`, {});
      } catch (error) {
        if (!/not interactable|stale element/.test(String(error)) || Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
  }
  /** Replaces an input's value, as a user selecting all and typing would. */
  async fill(selector, text) {
    await this.waitFind(selector);
    await this.run(
      `const input = document.querySelector(arguments[0]);
       input.value = "";
       input.dispatchEvent(new Event("input", { bubbles: true }));`,
      selector,
    );
    await this.type(selector, text);
  }
  async type(selector, text) {
    const id = await this.waitFind(selector);
    await this.wd("POST", `/element/${id}/value`, { text });
  }
  text(selector) {
    return this.run(`return document.querySelector(arguments[0])?.textContent ?? null`, selector);
  }
  messages() {
    return this.run(`return [...document.querySelectorAll('[data-testid="message"]')].map((m) => ({
      role: m.dataset.role, status: m.dataset.status,
      text: m.querySelector('[data-testid="message-content"]').textContent.trim() }))`);
  }
  /** Keeps the display as `folder/name.png`, native dialogs included, once the page has
   * painted its newest state (two animation frames). The pixels come from the X display
   * (ImageMagick's `import`): WebKitWebDriver's own screenshot never answers when WebKit
   * paints without its GPU compositor, as Tally's window does. */
  async screenshot(folder, name) {
    await this.wd("POST", "/execute/async", {
      script: `const done = arguments[arguments.length - 1];
        requestAnimationFrame(() => requestAnimationFrame(() => done(true)));`,
      args: [],
    });
    await run("import", ["-silent", "-window", "root", join(folder, `${name}.png`)], SCREENSHOT_MS);
  }
  quit() {
    return this.driver.wd("DELETE", `/session/${this.id}`);
  }
}
