// Runs a browser "plan" (JSON file: viewport + steps) in Debian's Chromium through playwright-core
// and prints one JSON line: {ok, results, console, errors} (or ok=false with the failing step).
// The Python tests write the plan, run this, and make their assertions on the results.
// playwright-core never downloads a browser: it drives the one at CHROMIUM (default /usr/bin/chromium).
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const profile = mkdtempSync(join(tmpdir(), "dashboard-chromium-"));
const results = {};
const consoleLines = [];
const errors = [];
let context;
let index = -1;

// A step's expression is the source of a function; built here, Playwright sends its source to
// the page through the DevTools protocol (so the page's Content-Security-Policy does not apply).
const fn = (source) => new Function(`return (${source});`)();

function frameOf(page, step) {
  if (!step.frame) return page;
  const frame = page.frames().find((f) => f !== page.mainFrame());
  if (!frame) throw new Error("no child frame in the page");
  return frame;
}

try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: plan.viewport || { width: 1280, height: 800 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => errors.push(String(error)));
  for (const step of plan.steps) {
    index += 1;
    const target = () => frameOf(page, step);
    const timeout = step.timeout ?? 20000;
    const arg = step.argFrom !== undefined ? results[step.argFrom] : step.arg ?? null;
    switch (step.action) {
      case "goto":
        await page.goto(step.url, { waitUntil: "load" });
        break;
      case "colorScheme":
        await page.emulateMedia({ colorScheme: step.value });
        break;
      case "viewport":
        await page.setViewportSize({ width: step.width, height: step.height });
        break;
      case "fill":
        await target().fill(step.selector, step.value, { timeout });
        break;
      case "click":
        await target().click(step.selector, { timeout });
        break;
      case "press":
        await page.keyboard.press(step.key);
        break;
      case "waitFor":
        await target().waitForSelector(step.selector, { state: step.state ?? "visible", timeout });
        break;
      case "waitForFunction":
        await target().waitForFunction(fn(step.expression), arg, { timeout, polling: 100 });
        break;
      case "eval":
        results[step.name] = await target().evaluate(fn(step.expression), arg);
        break;
      case "sleep":
        await page.waitForTimeout(step.ms);
        break;
      case "screenshot":
        await page.screenshot({ path: step.path, fullPage: step.fullPage ?? true });
        break;
      default:
        throw new Error(`unknown action ${step.action}`);
    }
  }
  console.log(JSON.stringify({ ok: true, results, console: consoleLines, errors }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, step: index, error: String(error && error.stack || error), results, console: consoleLines, errors }));
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
