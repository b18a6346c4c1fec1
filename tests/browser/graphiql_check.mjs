// Opens GraphiQL in headless Chromium, runs one query with a bearer token and prints a JSON report.
// Usage: node graphiql_check.mjs URL TOKEN [SCREENSHOT.png]
import puppeteer from "puppeteer-core";
import { brief, recordTrouble, withPage } from "../chromium.mjs";

const QUERY = "{ customers(first: 1) { edges { node { displayName } } } }";
const TIMEOUT_MS = 30_000;

const [url, token, screenshot] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: node graphiql_check.mjs URL TOKEN [SCREENSHOT.png]");
  process.exit(2);
}
const endpoint = new URL(url);
const requests = [];
const failures = [];
const errors = [];

await withPage(puppeteer, TIMEOUT_MS, async (page) => {
  await page.setViewport({ width: 1280, height: 800 });
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    requests.push({ method: request.method(), url: brief(request.url()) });
    const target = new URL(request.url());
    // Stands in for a user pasting the token into GraphiQL's headers editor.
    if (request.method() === "POST" && target.origin === endpoint.origin && target.pathname === endpoint.pathname) {
      request.continue({ headers: { ...request.headers(), authorization: `Bearer ${token}` } });
    } else {
      request.continue();
    }
  });
  recordTrouble(page, { failures, errors });

  await page.goto(url, { waitUntil: "load" });
  const editor = ".graphiql-query-editor .CodeMirror";
  await page.waitForSelector(editor, { visible: true });
  const initialQuery = await page.$eval(editor, (node) => node.CodeMirror.getValue());
  await page.$eval(editor, (node, query) => node.CodeMirror.setValue(query), QUERY);
  await page.click(".graphiql-execute-button");
  const shown = await page.waitForFunction(() => {
    const text = document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue() ?? "";
    return text.trim() || false;
  });
  const result = await shown.jsonValue();
  if (screenshot) await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ initialQuery, result, requests, failures, errors }));
});
