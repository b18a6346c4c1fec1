// Opens GraphiQL in headless Chromium as a newcomer would, touching nothing: waits for the Docs pane to list
// the schema's root types, runs the query the editor opened with, then switches role with the picker (when
// asked) and does the same. Prints a JSON report.
// Usage: node first_load.mjs URL [ROLE_TO_SWITCH_TO|-] [SCREENSHOT.png]
import puppeteer from "puppeteer-core";
import { brief, recordTrouble, withPage } from "../chromium.mjs";

const TIMEOUT_MS = 60_000;
const EDITOR = ".graphiql-query-editor .CodeMirror";
const RESULT = ".result-window .CodeMirror";

const [url, switchTo, screenshot] = process.argv.slice(2);
if (!url) {
  console.error("usage: node first_load.mjs URL [ROLE|-] [SCREENSHOT.png]");
  process.exit(2);
}
const requests = [];
const failures = [];
const errors = [];

// What the page shows once GraphiQL has loaded the schema by itself: the Docs pane's text, the editor's query
// and the role picker; then the answer to running that query.
async function look(page) {
  await page.waitForSelector(EDITOR, { visible: true });
  await page.waitForFunction(() => /query:\s*Query/.test(document.querySelector(".graphiql-doc-explorer")?.innerText ?? ""));
  const docs = await page.$eval(".graphiql-doc-explorer", (node) => node.innerText);
  const query = await page.$eval(EDITOR, (node) => node.CodeMirror.getValue());
  const picker = await page.$$eval("#customer360-role option", (options) => options.map((o) => o.value));
  const role = await page.$eval("#customer360-role", (select) => select.value).catch(() => null);
  await page.click(".graphiql-execute-button");
  const shown = await page.waitForFunction(
    (selector) => document.querySelector(selector)?.CodeMirror.getValue().trim() || false,
    {},
    RESULT,
  );
  return { docs, query, picker, role, result: await shown.jsonValue() };
}

await withPage(puppeteer, TIMEOUT_MS, async (page) => {
  await page.setViewport({ width: 1280, height: 800 });
  page.on("request", (request) => requests.push({ method: request.method(), url: brief(request.url()) }));
  recordTrouble(page, { failures, errors });

  await page.goto(url, { waitUntil: "load" });
  const first = await look(page);
  if (screenshot) await page.screenshot({ path: screenshot });
  let switched = null;
  if (switchTo && switchTo !== "-") {
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.select("#customer360-role", switchTo)]);
    switched = await look(page);
  }
  console.log(JSON.stringify({ first, switched, requests, failures, errors }));
});
