// Takes the screenshots shown in the READMEs, from a running multifresque:
//
//   node tests/browser/screenshots.mjs BASE_URL OUTPUT_DIR
//
// scripts/screenshots.sh starts a server over the bundled example feeds and runs this.
// Map tiles are not fetched (only loopback is reachable), so the map shows its markers on
// a plain background.
import path from "node:path";

import { launch, newContext, serveWidgetExample } from "./lib.mjs";

const [base, output] = process.argv.slice(2);
if (!base || !output) {
  console.error("usage: node screenshots.mjs BASE_URL OUTPUT_DIR");
  process.exit(2);
}
const search = base + "/?near=Lyon&radius_km=25";
const browser = await launch();

async function shoot(name, url, viewport, { height = null, element = null, scale = 1 } = {}) {
  const context = await newContext(browser, { viewport, deviceScaleFactor: scale });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForLoadState("networkidle");
  const file = path.join(output, name);
  if (element) {
    await page.locator(element).locator("li").first().waitFor();
    await page.locator(element).screenshot({ path: file });
  } else {
    const clip = height ? { x: 0, y: 0, width: viewport.width, height } : undefined;
    await page.screenshot({ path: file, fullPage: Boolean(height), clip });
  }
  console.log(`wrote ${file}`);
  await context.close();
}

// The phone shot runs past the first screen to show the form and the first results.
await shoot("search-phone.png", search, { width: 390, height: 844 }, { height: 1500 });
await shoot("search-desktop.png", search, { width: 1280, height: 900 });
const host = await serveWidgetExample(base);
await shoot("widget.png", host.url, { width: 480, height: 900 }, { element: "#example-options" });
host.close();
await browser.close();
