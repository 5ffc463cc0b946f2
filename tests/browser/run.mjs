// Browser tests of the search page, the event page and the widget, in headless Chromium
// against a real multifresque server. `tests/browser.rs` starts the server over a local
// feed and runs this file as:
//
//   node tests/browser/run.mjs BASE_URL EXPECTATIONS_JSON
//
// EXPECTATIONS_JSON names the sessions the feed holds: `lyon` (titles within 25 km of
// Lyon), `paris` (a title far from Lyon), `hostile` (the title that must stay text) and
// `hostile_id`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launch, newContext, serveWidgetExample, seriousViolations } from "./lib.mjs";

const [base, expectationsJson] = process.argv.slice(2);
if (!base || !expectationsJson) {
  console.error("usage: node run.mjs BASE_URL EXPECTATIONS_JSON");
  process.exit(2);
}
const expected = JSON.parse(expectationsJson);
const LYON_SEARCH = "/?near=Lyon&radius_km=25";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
// A failing check should fail within seconds, not hang the run.
const STEP_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 90_000;

// CSS a hostile host page might carry: none of it may reach inside the widget.
const HOSTILE_CSS = `<style>
  * { color: rgb(255, 0, 0) !important; background: rgb(255, 255, 0) !important;
      font-size: 40px !important; font-family: serif !important; }
  li, p, a, ul, section { display: none !important; visibility: hidden !important; }
  :root { --c-accent: rgb(255, 0, 0); --mf-accent: rgb(255, 0, 0); }
</style>`;

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

// A page that fails the test on any dialog (an injected `alert`) or script error.
async function openPage(options = {}) {
  const context = await newContext(browser, options);
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  page.problems = [];
  page.on("dialog", (dialog) => {
    page.problems.push(`dialog: ${dialog.message()}`);
    dialog.dismiss();
  });
  page.on("pageerror", (error) => page.problems.push(`script error: ${error.message}`));
  return page;
}

async function resultTitles(page) {
  return page.locator("#results .result .title").allTextContents();
}

test("search near Lyon shows the expected sessions", { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await openPage({ viewport: PHONE });
  await page.goto(base + "/");

  await page.getByLabel("Ville ou code postal").fill("Lyon");
  await page.getByLabel("Rayon").selectOption("25");
  await page.getByRole("button", { name: "Rechercher" }).click();
  await page.waitForURL(/near=Lyon/);
  await page.locator("#results-heading").waitFor();

  const titles = await resultTitles(page);
  for (const title of expected.lyon) {
    assert.ok(titles.includes(title), `missing ${title} in ${JSON.stringify(titles)}`);
  }
  assert.ok(!titles.includes(expected.paris), "a Paris session is listed near Lyon");
  await assert.doesNotReject(page.getByText(/à \d+(,\d)? km/).first().waitFor());
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("shared URL restores the same search", { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await openPage({ viewport: PHONE });
  await page.goto(base + "/");
  await page.getByLabel("Ville ou code postal").fill("Lyon");
  await page.getByLabel("Rayon").selectOption("25");
  await page.getByText("Plus de filtres").click();
  await page.getByLabel("Format").selectOption("in_person");
  await page.waitForURL(/attendance=in_person/);
  await page.locator("#results-heading").waitFor();
  const sharedUrl = page.url();
  const titles = await resultTitles(page);
  const heading = await page.locator("#results-heading").textContent();

  const other = await openPage({ viewport: DESKTOP });
  await other.goto(sharedUrl);
  assert.deepEqual(await resultTitles(other), titles);
  assert.equal(await other.locator("#results-heading").textContent(), heading);
  assert.equal(await other.getByLabel("Ville ou code postal").inputValue(), "Lyon");
  assert.equal(await other.getByLabel("Rayon").inputValue(), "25");
  assert.equal(await other.getByLabel("Format").inputValue(), "in_person");
  assert.deepEqual(page.problems, []);
  assert.deepEqual(other.problems, []);
  await page.context().close();
  await other.context().close();
});

test("page works without JavaScript", { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await openPage({ viewport: PHONE, javaScriptEnabled: false });
  await page.goto(base + "/?hl=en");
  await page.getByLabel("City or postal code").fill("Lyon");
  await page.getByLabel("Radius").selectOption("25");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/near=Lyon/);

  const titles = await resultTitles(page);
  assert.ok(titles.includes(expected.lyon[0]), JSON.stringify(titles));
  assert.equal(await page.locator("html").getAttribute("lang"), "en");
  await page.context().close();
});

test("interface language follows Accept-Language", { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await openPage({ locale: "de-DE" });
  await page.goto(base + LYON_SEARCH);

  assert.equal(await page.locator("html").getAttribute("lang"), "de");
  await page.getByLabel("Ort oder Postleitzahl").waitFor();
  await page.getByRole("link", { name: "Español" }).click();
  await page.getByLabel("Ciudad o código postal").waitFor();
  assert.match(page.url(), /near=Lyon/);
  await page.context().close();
});

test("keyboard alone runs a search", { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await openPage({ viewport: PHONE });
  await page.goto(base + "/");
  const focused = () => page.evaluate(() => document.activeElement.id || document.activeElement.className);

  await page.keyboard.press("Tab");
  assert.equal(await focused(), "skip-link");
  await page.keyboard.press("Enter");
  await page.waitForURL(/#main$/);
  assert.equal(await focused(), "main");
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "near");
  await page.keyboard.type("Lyon");
  await page.keyboard.press("Enter");
  await page.waitForURL(/near=Lyon/);

  const titles = await resultTitles(page);
  assert.ok(titles.includes(expected.lyon[0]), JSON.stringify(titles));
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("place box suggests places", { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await openPage();
  await page.goto(base + "/");
  const response = page.waitForResponse((r) => r.url().includes("/api/v1/places"));
  await page.getByLabel("Ville ou code postal").pressSequentially("Lyo", { delay: 30 });
  await response;
  await page.waitForFunction(() => document.querySelectorAll("#place-suggestions option").length > 0);

  const values = await page.locator("#place-suggestions option").evaluateAll((options) => options.map((o) => o.value));
  assert.ok(values.some((v) => v.startsWith("Lyon")), JSON.stringify(values));
  await page.context().close();
});

test("map shows the results and the list survives without tiles", { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await openPage({ viewport: DESKTOP });
  await page.goto(base + LYON_SEARCH);

  await page.locator("#map .leaflet-interactive").first().waitFor();
  const markers = await page.locator("#map .leaflet-interactive").count();
  const located = JSON.parse(await page.locator("#map-data").textContent()).length;
  assert.equal(markers, located);
  assert.ok((await resultTitles(page)).length >= expected.lyon.length);

  await page.getByRole("button", { name: "Masquer la carte" }).click();
  assert.equal(await page.locator("#map").isHidden(), true);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("event page has JSON-LD and a calendar file", { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await openPage();
  await page.goto(base + LYON_SEARCH);
  const title = expected.lyon[0];
  await page.getByRole("link", { name: title, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: title }).waitFor();

  const jsonLd = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent());
  assert.equal(jsonLd["@type"], "Event");
  assert.equal(jsonLd.name, title);
  assert.ok(jsonLd.startDate);

  const href = await page.getByRole("link", { name: /agenda/ }).getAttribute("href");
  const calendar = await page.request.get(new URL(href, page.url()).href);
  assert.match(calendar.headers()["content-type"], /text\/calendar/);
  assert.match(await calendar.text(), new RegExp(`SUMMARY:${title.replaceAll(",", "\\\\,")}`));
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("widget renders inside a page with hostile CSS", { timeout: TEST_TIMEOUT_MS }, async () => {
  const host = await serveWidgetExample(base, HOSTILE_CSS);
  const page = await openPage({ viewport: DESKTOP });
  await page.goto(host.url);

  const widget = page.locator("#example-basic multifresque-widget");
  await widget.locator("li").first().waitFor();
  const titles = await widget.locator(".title").allTextContents();
  assert.ok(titles.includes(expected.lyon[0]), JSON.stringify(titles));
  const style = await widget.locator(".title a").first().evaluate((link) => {
    const computed = getComputedStyle(link);
    return { color: computed.color, display: computed.display, fontSize: computed.fontSize };
  });
  assert.notEqual(style.color, "rgb(255, 0, 0)");
  assert.notEqual(style.display, "none");
  assert.notEqual(style.fontSize, "40px");
  const accent = await page.locator("#example-options multifresque-widget .book").first()
    .evaluate((link) => getComputedStyle(link).backgroundColor);
  assert.equal(accent, "rgb(123, 44, 191)", "the accent option (#7b2cbf) is not applied");

  const scriptWidget = page.locator("#example-script multifresque-widget");
  await scriptWidget.locator("li").first().waitFor();
  assert.equal(await scriptWidget.locator("h2").textContent(), "Next fresque workshops");
  assert.ok((await scriptWidget.locator("li").count()) <= 4);

  const frame = page.frameLocator("#example-iframe iframe");
  await frame.locator(".mf-item").first().waitFor();
  assert.ok((await frame.locator(".mf-item").count()) <= 4);
  assert.deepEqual(page.problems, []);
  await page.context().close();
  host.close();
});

test("hostile title shows as text everywhere", { timeout: TEST_TIMEOUT_MS }, async () => {
  const host = await serveWidgetExample(base);
  const places = [
    ["search page", base + LYON_SEARCH],
    ["event page", base + "/evenements/" + encodeURIComponent(expected.hostile_id)],
    ["widget iframe", base + "/widget?near=Lyon&radius_km=25&limit=20"],
    ["widget host page", host.url],
  ];
  for (const [name, url] of places) {
    const page = await openPage({ viewport: DESKTOP });
    await page.goto(url);
    await page.waitForLoadState("networkidle");
    const shown = page.getByText(expected.hostile, { exact: true }).first();
    if (name === "widget host page") {
      await page.locator("#example-basic multifresque-widget li").first().waitFor();
    }
    await shown.waitFor({ state: "attached" });
    const injected = await page.evaluate(() => {
      const roots = [document, ...[...document.querySelectorAll("multifresque-widget")].map((w) => w.shadowRoot)];
      return roots.filter(Boolean).flatMap((root) => [...root.querySelectorAll('img[src="x"], img[onerror]')]).length;
    });
    assert.equal(injected, 0, `${name}: the title became an element`);
    await page.waitForTimeout(200);
    assert.deepEqual(page.problems, [], name);
    if (name === "event page") {
      const jsonLd = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent());
      assert.equal(jsonLd.name, expected.hostile);
    }
    await page.context().close();
  }
  host.close();
});

test("axe finds no serious or critical violation", { timeout: TEST_TIMEOUT_MS }, async () => {
  const host = await serveWidgetExample(base);
  const pages = [
    ["search page (phone)", base + LYON_SEARCH, PHONE],
    ["search page (desktop)", base + LYON_SEARCH + "&attendance=in_person", DESKTOP],
    ["search page with an error", base + "/?near=Nowhereville", PHONE],
    ["event page", base + "/evenements/" + encodeURIComponent(expected.hostile_id), PHONE],
    ["widget iframe page", base + "/widget?near=Lyon&accent=%237b2cbf", PHONE],
    ["widget example page", host.url, DESKTOP],
  ];
  const found = {};
  for (const [name, url, viewport] of pages) {
    const page = await openPage({ viewport });
    await page.goto(url);
    await page.waitForLoadState("networkidle");
    if (name === "widget example page") {
      await page.locator("#example-basic multifresque-widget li").first().waitFor();
    }
    const violations = await seriousViolations(page);
    if (violations.length > 0) {
      found[name] = violations;
    }
    await page.context().close();
  }
  host.close();
  assert.deepEqual(found, {}, JSON.stringify(found, null, 2));
});
