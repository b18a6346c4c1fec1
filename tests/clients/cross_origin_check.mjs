// Opens a page in headless Chromium and, from that page's origin, runs against the API: a query with fetch,
// then a subscription with the stock graphql-ws client (its UMD build, loaded by the page) and, once the
// server counts that subscription, a mutation with fetch that should make the server push an alert.
// Prints one JSON report: {query, subscription, mutation?, errors, console} (console: the browser's own
// error lines, which say why it refused a response or a handshake).
// Usage: node cross_origin_check.mjs PAGE_URL PLAN_JSON
//   PLAN: {api, ws, healthz, agent, customer, viewer, raised, submit, variables}
import puppeteer from "puppeteer-core";
import { withPage } from "../chromium.mjs";

const TIMEOUT_MS = 30_000;

const [pageUrl, planJson] = process.argv.slice(2);
const plan = JSON.parse(planJson);
const errors = [];
const consoleErrors = [];

await withPage(puppeteer, TIMEOUT_MS, async (page) => {
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  await page.goto(pageUrl, { waitUntil: "load" });
  await page.waitForFunction(() => typeof globalThis.graphqlWs?.createClient === "function");
  const report = await page.evaluate(async (plan, timeoutMs) => {
    const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const post = async (bearer, query, variables) => {
      try {
        const response = await fetch(plan.api, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
          body: JSON.stringify({ query, variables }),
        });
        return { status: response.status, body: await response.json() };
      } catch (error) {
        return { failed: String(error) };
      }
    };
    const out = { query: await post(plan.agent, plan.viewer, {}) };

    const client = globalThis.graphqlWs.createClient({
      url: plan.ws,
      connectionParams: { Authorization: `Bearer ${plan.agent}` },
      retryAttempts: 0,
    });
    let settle;
    const first = new Promise((resolve) => {
      settle = resolve;
    });
    const stop = client.subscribe(
      { query: plan.raised },
      {
        next: (value) => settle({ next: value }),
        // An error message, a close event with its code, or the socket's bare error event.
        error: (error) =>
          settle(
            Array.isArray(error)
              ? { error }
              : { closed: typeof error?.code === "number" ? error.code : (error?.type ?? String(error)) },
          ),
        complete: () => settle({ complete: true }),
      },
    );
    // Goes on once the server counts the subscription (or the subscription ended): then the alert the
    // mutation raises is pushed to it, not missed.
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    first.then(() => {
      ended = true;
    });
    let counted = false;
    while (!ended && !counted && Date.now() < deadline) {
      try {
        counted = (await (await fetch(plan.healthz)).json()).subscriptions >= 1;
      } catch {
        // refused like any cross-origin read from a page the server does not list
      }
      if (!counted) await pause(50);
    }
    if (counted) out.mutation = await post(plan.customer, plan.submit, plan.variables);
    out.subscription = await Promise.race([first, pause(timeoutMs).then(() => ({ timeout: true }))]);
    stop();
    await client.dispose();
    return out;
  }, plan, TIMEOUT_MS);
  console.log(JSON.stringify({ ...report, errors, console: consoleErrors }));
});
