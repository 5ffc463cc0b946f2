// Shared helpers of the browser tests and the screenshot script: start Debian's Chromium
// headless, keep every request on this machine, and serve a host page for the widget.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPOSITORY = path.resolve(HERE, "..", "..");

// Chromium from the Debian package; never a downloaded browser.
const CHROMIUM = process.env.MULTIFRESQUE_CHROMIUM || "/usr/bin/chromium";

// Starts headless Chromium (Playwright gives it a fresh profile), with background
// traffic turned off.
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
      "--disable-domain-reliability",
    ],
  });
}

// Opens a browser context in which only loopback can be reached: map tiles and anything
// else are refused, which also shows that the list works when tiles cannot load.
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ locale: "fr-FR", ...options });
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    const local = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    return local || url.protocol === "data:" ? route.continue() : route.abort("blockedbyclient");
  });
  return context;
}

// Serves `examples/widget.html` on its own loopback port (another origin than the
// server, as on a real host site), pointing its scripts and iframes at `base`, and with
// `extraHead` added to its `<head>`.
export async function serveWidgetExample(base, extraHead = "") {
  const source = await readFile(path.join(REPOSITORY, "examples", "widget.html"), "utf8");
  const page = source
    .replaceAll("http://localhost:8080", base)
    .replace("</head>", `${extraHead}\n</head>`);
  const server = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(page);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  // A failed check skips `close()`; unref keeps this server from holding node open.
  server.unref();
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

// Runs axe-core in the page and returns the serious and critical violations.
export async function seriousViolations(page) {
  const axe = await readFile(path.join(HERE, "node_modules", "axe-core", "axe.min.js"), "utf8");
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axe);
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    return await axe.run(document, { resultTypes: ["violations"] });
  });
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
}
