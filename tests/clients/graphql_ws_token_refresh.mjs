// A client of the stock graphql-ws package (on ws) that refreshes its token, as an app does: its
// connectionParams hand out `tokens` in turn, one per connection. It subscribes to `query`; once the server has
// closed the first connection (its token expired) and the client is connected again with the subscription
// counted by the server, `trigger` is posted over HTTP, and the first event it pushes is awaited.
//
// Usage: node graphql_ws_token_refresh.mjs PLAN_JSON
//   PLAN: {url, healthz, graphql, tokens: [bearer, ...], query, trigger: {token, query, variables}}
// Prints {tokensGiven, connected, closes: [{code, reason}], triggered, events: [...], timeouts: [...]}.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const DEADLINE_MS = 30_000;

const plan = JSON.parse(process.argv[2]);
const report = { tokensGiven: 0, connected: 0, closes: [], triggered: null, events: [], timeouts: [] };

async function until(what, test) {
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  report.timeouts.push(what);
  return false;
}

const client = createClient({
  url: plan.url,
  webSocketImpl: WebSocket,
  connectionParams: () => {
    const token = plan.tokens[Math.min(report.tokensGiven, plan.tokens.length - 1)];
    report.tokensGiven += 1;
    return { Authorization: `Bearer ${token}` };
  },
  lazy: true,
  retryAttempts: 2,
  retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
  on: {
    connected: () => {
      report.connected += 1;
    },
    closed: (event) => {
      report.closes.push({ code: event.code, reason: event.reason });
    },
  },
});

try {
  client.subscribe(
    { query: plan.query },
    {
      next: (payload) => report.events.push({ type: "next", payload }),
      error: (error) => report.events.push({ type: "failed", message: String(error?.reason ?? error) }),
      complete: () => report.events.push({ type: "complete" }),
    },
  );
  const subscribed = async () => (await (await fetch(plan.healthz)).json()).subscriptions >= 1;
  if ((await until("reconnected", () => report.connected >= 2)) && (await until("counted", subscribed))) {
    const response = await fetch(plan.graphql, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${plan.trigger.token}` },
      body: JSON.stringify({ query: plan.trigger.query, variables: plan.trigger.variables }),
    });
    report.triggered = await response.json();
    await until("pushed", () => report.events.length > 0);
  }
} finally {
  await client.dispose();
}
process.stdout.write(JSON.stringify(report));
