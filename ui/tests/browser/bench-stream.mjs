// Benchmark: a long conversation in Chromium with the built UI and the fake engine.
// Opens a conversation of 2,000 messages (time to its first paint), then streams a reply
// at 200 tokens a second for 30 seconds into it, and reports long tasks (> 50 ms) and
// frame times. `cargo xtask bench` runs it; `--smoke` runs it briefly on 200 messages.
// Prints one JSON object on its last line.
import { fakeEngineScript, launchChromium, openUi, serveUi } from "./harness.mjs";

const smoke = process.argv.includes("--smoke");
const MESSAGES = smoke ? 200 : 2_000;
const SECONDS = smoke ? 3 : 30;
const TOKENS_PER_SECOND = 200;
const OPENINGS = smoke ? 2 : 7;

/** A reply of markdown as models write it: paragraphs, lists, code, a table now and then. */
function replyTokens(count) {
  const words = "the budget for this month covers rent food travel and a little saving".split(" ");
  const tokens = [];
  for (let i = 0; tokens.length < count; i++) {
    if (i % 400 === 399)
      tokens.push(
        "\n\n```js\n",
        "const ",
        "total ",
        "= ",
        "items",
        ".reduce",
        "(sum);\n",
        "```\n\n",
      );
    else if (i % 150 === 149)
      tokens.push("\n\n| item | cost |\n|---|---:|\n| ", "rent", " | ", "$900", " |\n\n");
    else if (i % 60 === 59) tokens.push("\n\n- ");
    else if (i % 25 === 24) tokens.push(".\n\n");
    else
      tokens.push(
        `${i % 9 === 0 ? " **" : " "}${words[i % words.length]}${i % 9 === 0 ? "**" : ""}`,
      );
  }
  return tokens.slice(0, count);
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const server = await serveUi();
  const engine = await fakeEngineScript();
  const browser = await launchChromium();
  const { page, context, problems } = await openUi(browser, {
    base: server.base,
    engine,
    setup: `window.__tallyFake.seed("Long conversation", ${MESSAGES}, 60000);`,
  });
  await page.waitForSelector('[data-testid="conversation-item"]');

  // From the click to the frame after its end is drawn (the last message, the view at the
  // bottom), and until the whole conversation is in the list.
  const firstPaints = [];
  const wholes = [];
  for (let i = 0; i < OPENINGS; i++) {
    await page.click('[data-testid="conversation-item"] >> text=Trip to Lisbon');
    await page.waitForSelector('[data-testid="message-content"]');
    await page.waitForTimeout(200);
    const [painted, whole] = await page.evaluate(
      (messages) =>
        new Promise((resolve) => {
          const item = [...document.querySelectorAll('[data-testid="conversation-item"]')].find(
            (e) => e.textContent.includes("Long conversation"),
          );
          const started = performance.now();
          let painted = null;
          (item.querySelector("button") ?? item).click();
          const wait = () => {
            const list = document.querySelector('[data-testid="message-list"]');
            const last = [...(list?.querySelectorAll('[data-testid="message"]') ?? [])].at(-1);
            if (
              painted === null &&
              last?.textContent.includes(`Answer ${messages - 1}:`) &&
              list.scrollHeight - list.scrollTop - list.clientHeight < 48
            ) {
              painted = -1;
              // The frame that shows them has been painted when the next one starts.
              requestAnimationFrame(() =>
                requestAnimationFrame(() => (painted = performance.now() - started)),
              );
            }
            if (painted > 0 && Number(list?.dataset.count) === messages) {
              resolve([painted, performance.now() - started]);
            } else requestAnimationFrame(wait);
          };
          requestAnimationFrame(wait);
        }),
      MESSAGES,
    );
    firstPaints.push(painted);
    wholes.push(whole);
  }
  const count = await page.evaluate(() =>
    Number(document.querySelector('[data-testid="message-list"]').dataset.count),
  );
  if (count !== MESSAGES)
    throw new Error(`the conversation shows ${count} messages, not ${MESSAGES}`);

  // The stream: a long reply at 200 tokens a second, while frames and long tasks are counted.
  const tokens = replyTokens(TOKENS_PER_SECOND * SECONDS);
  await page.evaluate(
    ({ tokens, interval }) => {
      window.__tallyFake.reply = { chunks: tokens, intervalMs: interval };
      const record = (window.__bench = { frames: [], longTasks: [], running: true });
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) record.longTasks.push(entry.duration);
      }).observe({ type: "longtask" });
      let last = performance.now();
      const frame = (now) => {
        record.frames.push(now - last);
        last = now;
        if (record.running) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    },
    { tokens, interval: 1000 / TOKENS_PER_SECOND },
  );
  const started = Date.now();
  await page.fill('[data-testid="composer-input"]', "Write me a long plan for this month");
  await page.keyboard.press("Enter");
  await page.waitForSelector(
    '[data-testid="message"][data-role="assistant"][data-status="complete"]:last-of-type',
    {
      timeout: (SECONDS + 60) * 1000,
    },
  );
  await page.waitForFunction(() => !document.querySelector('[data-testid="stop-button"]'), null, {
    timeout: (SECONDS + 60) * 1000,
  });
  const streamSeconds = (Date.now() - started) / 1000;
  const record = await page.evaluate(() => {
    window.__bench.running = false;
    return window.__bench;
  });
  const shown = await page.evaluate(
    () =>
      [...document.querySelectorAll('[data-testid="message"][data-role="assistant"]')].at(-1)
        .textContent.length,
  );
  await context.close();
  await browser.close();
  await server.close();
  if (problems.length) throw new Error(problems.join("\n"));

  // The first frames include the send itself; frame times are those of the stream.
  const frames = record.frames.slice(2).sort((a, b) => a - b);
  const result = {
    messages: MESSAGES,
    stream_seconds: Number(streamSeconds.toFixed(1)),
    tokens: tokens.length,
    tokens_per_second: Number((tokens.length / streamSeconds).toFixed(1)),
    reply_chars_shown: shown,
    first_paint_ms_median: Number(median(firstPaints).toFixed(1)),
    first_paint_ms_all: firstPaints.map((t) => Number(t.toFixed(1))),
    whole_ms_median: Number(median(wholes).toFixed(1)),
    frames: frames.length,
    frame_ms_p50: Number(percentile(frames, 50).toFixed(2)),
    frame_ms_p99: Number(percentile(frames, 99).toFixed(2)),
    frame_ms_max: Number(frames.at(-1).toFixed(2)),
    // Frame intervals come in steps of the display's refresh (16.7 ms at 60 Hz): one past
    // 1.5 of them is a frame the page was too busy to draw.
    frames_dropped: frames.filter((t) => t > 1.5 * percentile(frames, 50)).length,
    long_tasks: record.longTasks.length,
    long_task_ms_max: Number(Math.max(0, ...record.longTasks).toFixed(1)),
  };
  console.log(
    `${MESSAGES} messages: end painted median ${result.first_paint_ms_median} ms, all in the list ${result.whole_ms_median} ms; ` +
      `${result.tokens} tokens in ${result.stream_seconds} s: p99 frame ${result.frame_ms_p99} ms ` +
      `(max ${result.frame_ms_max}), ${result.frames_dropped} dropped, ${result.long_tasks} long tasks (max ${result.long_task_ms_max} ms)`,
  );
  console.log(JSON.stringify(result));
}

await main();
