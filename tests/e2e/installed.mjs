// The .deb installed for real, as a user installs it: `apt-get install ./Tally….deb`, the
// menu entry, /usr/bin/tally under Xvfb with the real keychain and the mock OpenAI server,
// an upgrade over it, an update from within the app (a release signed with a key made for
// the run, served on loopback; one whose signature does not match is refused first), and
// its removal, which must leave the user's history and key. Needs
// root (CI is root; elsewhere `sudo -n`, which fails rather than asks). `cargo xtask test`
// runs it after the package checks.
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { Driver, Processes, endLeftovers, exitIfHeld, processesOf, required as env, waitFor } from "./webdriver.mjs";

const DEB = env("TALLY_E2E_DEB");
const UPGRADE_DEB = env("TALLY_E2E_UPGRADE_DEB");
const UPDATE_DEB = env("TALLY_E2E_UPDATE_DEB");
const UPDATE_SIG = readFileSync(env("TALLY_E2E_UPDATE_SIG"), "utf8");
const WRONG_SIG = readFileSync(env("TALLY_E2E_UPDATE_WRONG_SIG"), "utf8");
const UPDATE_PUBKEY = readFileSync(env("TALLY_E2E_UPDATE_PUBKEY"), "utf8");
const MOCK = env("TALLY_E2E_MOCK");
const DRIVER = env("TALLY_E2E_DRIVER");
const HOME = env("TALLY_E2E_HOME");
const SHOTS = join(import.meta.dirname, "../../target/e2e-screenshots");
const INSTALLED = "/usr/bin/tally";
const ENTRY = "/usr/share/applications/Tally.desktop";
// Where an installed Tally keeps its data: the OS app-data folder (no TALLY_DATA_DIR here).
const DATA_DIR = join(HOME, ".local/share/app.tally.desktop");
const KEY = "sk-proj-InstalledTestKeyNotReal000000000wxyz";
const PORT = 4444 + ((process.pid + 500) % 1000);
const APT_MS = 300_000;

const asRoot = process.getuid() === 0 ? [] : ["sudo", "-n"];
function apt(...args) {
  const [command, ...rest] = [...asRoot, "apt-get", "-y", "-q", ...args];
  return execFileSync(command, rest, {
    encoding: "utf8",
    timeout: APT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}
function installedVersion() {
  try {
    const out = execFileSync("dpkg-query", ["-W", "-f=${Status} ${Version}", "tally"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out.startsWith("install ok installed") ? out.split(" ").pop() : null;
  } catch {
    return null; // Not known to dpkg.
  }
}
function debVersion(deb) {
  return execFileSync("dpkg-deb", ["-f", deb, "Version"], { encoding: "utf8" }).trim();
}
function keychainHolds(key) {
  const stored = execFileSync("secret-tool", ["lookup", "service", "Tally", "username", "openai-api-key"], {
    encoding: "utf8",
  });
  return stored === key;
}

const processes = new Processes();
const driver = new Driver(PORT);
let installedHere = false;
let updateServer;

/** Tally's update server, on loopback: the manifest names the next release and the
 * signature it is served with (the right one, or one of another package). */
const release = { version: null, signature: WRONG_SIG };
async function startUpdateServer() {
  const server = createServer((request, response) => {
    const base = `http://127.0.0.1:${server.address().port}`;
    if (request.url === "/latest.json") {
      response.setHeader("content-type", "application/json");
      response.end(
        JSON.stringify({
          version: release.version,
          notes: "Faster search.\nPictures in chats.",
          pub_date: "2026-12-01T09:00:00Z",
          platforms: { "linux-x86_64-deb": { url: `${base}/next.deb`, signature: release.signature } },
        }),
      );
    } else if (request.url === "/next.deb") {
      response.setHeader("content-length", statSync(UPDATE_DEB).size);
      createReadStream(UPDATE_DEB).pipe(response);
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/** In Settings: checks for updates, sees `version` offered, and asks to install it. */
async function checkAndInstall(app, version) {
  await app.click('[data-testid="settings-button"]');
  await app.click('[data-testid="update-check-button"]');
  await waitFor("the update offered", async () =>
    (await app.text('[data-testid="update-status"]'))?.includes(`Tally ${version} is available`),
  );
  await app.run(`document.querySelector('[data-testid="update-status"]').scrollIntoView()`);
  await app.click('[data-testid="update-install-button"]');
}

async function launch() {
  const app = await driver.launch(INSTALLED);
  app.shot = (name) => app.screenshot(SHOTS, `installed-${name}`);
  return app;
}

/** Messages in the open conversation, whether in view or not. */
function messageCount(app) {
  return app.run(`return Number(document.querySelector('[data-testid="message-list"]')?.dataset.count ?? 0)`);
}

/** Sends `text` and waits for the reply to stream (partial texts seen) and complete. */
async function sendAndSeeItStream(app, text, replies) {
  await app.type('[data-testid="composer-input"]', text);
  await app.click('[data-testid="send-button"]');
  const partials = new Set();
  const reply = await waitFor("the reply", async () => {
    const all = (await app.messages()).filter((m) => m.role === "assistant");
    const last = all[replies];
    if (last?.status === "streaming" && last.text) partials.add(last.text);
    return last?.status === "complete" && last;
  });
  if (partials.size < 2) throw new Error(`the reply came in ${partials.size} piece(s), not streamed`);
  if (!reply.text.includes("mock")) throw new Error(`reply: ${reply.text}`);
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const already = installedVersion();
  if (already) {
    throw new Error(`a tally package (${already}) is installed here: remove it first (apt-get remove tally)`);
  }
  const { base } = await processes.mock(MOCK, ["--chunk-chars", "6", "--delay-ms", "30"]);
  release.version = debVersion(UPDATE_DEB);
  updateServer = await startUpdateServer();
  const updates = `http://127.0.0.1:${updateServer.address().port}/latest.json`;
  const tauriDriver = processes.start(
    DRIVER,
    ["--port", String(PORT), "--native-port", String(PORT + 10_000), "--native-driver", "/usr/bin/WebKitWebDriver"],
    {
      env: {
        ...process.env,
        TALLY_API_BASE: base,
        TALLY_LOG: "warn",
        TALLY_UPDATE_URL: updates,
        TALLY_UPDATE_PUBKEY: UPDATE_PUBKEY.trim(),
      },
    },
  );
  tauriDriver.stdout.resume();
  await driver.ready();

  await test("the .deb installs with apt-get and its menu entry starts /usr/bin/tally", () => {
    installedHere = true;
    apt("install", "--no-install-recommends", DEB);
    if (installedVersion() !== debVersion(DEB)) throw new Error(`installed: ${installedVersion()}`);
    const entry = readFileSync(ENTRY, "utf8");
    const exec = entry.match(/^Exec=(\S+)/m)?.[1];
    const found = execFileSync("sh", ["-c", `command -v ${exec}`], { encoding: "utf8" }).trim();
    if (found !== INSTALLED) throw new Error(`the menu entry runs ${exec}, found at ${found}`);
    const icon = entry.match(/^Icon=(\S+)/m)?.[1];
    if (!existsSync(`/usr/share/icons/hicolor/128x128/apps/${icon}.png`)) throw new Error(`no icon ${icon}`);
  });

  await test("the installed Tally keeps a key in the keychain and streams a reply", async () => {
    const app = await launch();
    // The person agrees to the daily check for updates: the first is made at once.
    await app.click('[data-testid="onboarding-update-checks"]');
    await app.click('[data-testid="onboarding-start"]');
    await app.type('[data-testid="api-key-input"]', KEY);
    await app.click('[data-testid="api-key-save"]');
    await waitFor("key accepted", async () =>
      (await app.text('[data-testid="api-key-status"]'))?.includes("OpenAI accepted it"),
    );
    await app.click('[data-testid="onboarding-skip"]');
    await sendAndSeeItStream(app, "Hello from the installed app.", 0);
    await app.shot("1-reply");
    // The daily check found the next version: a quiet line, which opens About at the offer.
    const banner = await waitFor("the update banner", () => app.text('[data-testid="update-banner"]'), 30_000);
    if (!banner.includes(`Tally ${release.version} is available`)) throw new Error(`the banner says: ${banner}`);
    await app.shot("2-update-banner");
    await app.click('[data-testid="update-banner-open"]');
    await waitFor("the offer in About", async () =>
      (await app.text('[data-testid="update-status"]'))?.includes(`Tally ${release.version} is available`),
    );
    // Settings' About names the package's version and where the data is.
    await app.waitFind('[data-testid="app-version"]');
    const version = await app.run(`return document.querySelector('[data-testid="app-version"]').dataset.version`);
    if (version !== debVersion(DEB)) throw new Error(`About says ${version}, the package ${debVersion(DEB)}`);
    const folder = await app.text('[data-testid="data-folder"]');
    if (folder !== DATA_DIR) throw new Error(`About says the data is in ${folder}`);
    await app.run(`document.querySelector('[data-testid="about-section"]').scrollIntoView()`);
    await app.shot("3-about");
    await app.quit();
    if (!keychainHolds(KEY)) throw new Error("the key is not in the keychain");
    if (!statSync(join(DATA_DIR, "tally.sqlite3")).size) throw new Error("no history in the data folder");
  });

  await test("an upgrade installed over it keeps the history and the key", async () => {
    await endLeftovers(INSTALLED, 10_000);
    apt("install", "--no-install-recommends", UPGRADE_DEB);
    if (installedVersion() !== debVersion(UPGRADE_DEB)) throw new Error(`installed: ${installedVersion()}`);
    const app = await launch();
    // No onboarding: the key is still there, and so is the conversation.
    await app.click('[data-testid="conversation-item"]');
    await waitFor("the earlier conversation", async () => (await messageCount(app)) === 2);
    await sendAndSeeItStream(app, "And after the upgrade?", 1);
    await app.shot("4-after-upgrade");
    await app.quit();
  });

  await test("an update whose signature does not match is refused in plain words, and nothing changes", async () => {
    await endLeftovers(INSTALLED, 10_000);
    const before = installedVersion();
    const app = await launch();
    await checkAndInstall(app, release.version);
    const problem = await waitFor("the refusal", () => app.text('[data-testid="update-problem"]'), 60_000);
    if (!problem.includes("not signed by Tally's developers")) throw new Error(`said: ${problem}`);
    await app.shot("5-update-refused");
    if (installedVersion() !== before) throw new Error(`installed: ${installedVersion()}`);
    await app.quit();
  });

  await test("an update installs from Settings, and Tally restarts at the new version with history and key", async () => {
    await endLeftovers(INSTALLED, 10_000);
    release.signature = UPDATE_SIG;
    const app = await launch();
    await checkAndInstall(app, release.version);
    await app.shot("6-update-installing");
    const old = processesOf(INSTALLED);
    await waitFor("the new version installed", () => installedVersion() === release.version, 120_000);
    // The window closes and Tally starts again, outside this WebDriver session.
    const restarted = await waitFor(
      "Tally restarted",
      () => {
        const now = processesOf(INSTALLED);
        return now.length > 0 && now.every((pid) => !old.includes(pid)) && now;
      },
      60_000,
    );
    await app.quit().catch(() => {});
    for (const pid of restarted) process.kill(pid, "SIGTERM");
    const left = await endLeftovers(INSTALLED, 15_000);
    if (left.length) throw new Error(`the restarted Tally did not quit on SIGTERM: ${left}`);
    const after = await launch();
    await after.click('[data-testid="settings-button"]');
    await after.waitFind('[data-testid="app-version"]');
    const version = await after.run(`return document.querySelector('[data-testid="app-version"]').dataset.version`);
    if (version !== release.version) throw new Error(`After the update About says ${version}`);
    await after.run(`document.querySelector('[data-testid="app-version"]').scrollIntoView()`);
    await after.shot("7-after-update");
    await after.click('[data-testid="settings-save"]');
    await after.click('[data-testid="conversation-item"]');
    // Counted by the list (it shows only the messages in view, and opens at the end).
    await waitFor("the conversation kept", async () => (await messageCount(after)) === 4);
    if (!keychainHolds(KEY)) throw new Error("the key is gone");
    await after.quit();
  });

  await test("removing the package leaves the user's history and key", async () => {
    await endLeftovers(INSTALLED, 10_000);
    apt("remove", "tally");
    installedHere = false;
    if (installedVersion()) throw new Error(`still installed: ${installedVersion()}`);
    if (existsSync(INSTALLED) || existsSync(ENTRY)) throw new Error("the app or its menu entry is still there");
    if (!statSync(join(DATA_DIR, "tally.sqlite3")).size) throw new Error("the history is gone");
    if (!keychainHolds(KEY)) throw new Error("the key is gone");
  });
}

try {
  await main();
} catch (error) {
  await test("setup", () => {
    throw error;
  });
} finally {
  await processes.killAll();
  updateServer?.close();
  const left = existsSync(INSTALLED) ? await endLeftovers(INSTALLED, 10_000) : [];
  // A failed run leaves no package behind.
  if (installedHere && installedVersion()) {
    try {
      apt("remove", "tally");
    } catch (error) {
      console.error(`could not remove the test's package: ${error.message}`);
    }
  }
  await test("no Tally left running", () => {
    if (left.length) throw new Error(`killed ${left.join(", ")}`);
  });
}
exitIfHeld("install tests");
