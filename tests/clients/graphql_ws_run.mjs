// Runs GraphQL operations over graphql-transport-ws with the stock graphql-ws client (on ws) and prints
// everything each operation received as one JSON object on stdout.
//
// Usage: node graphql_ws_run.mjs PLAN_JSON
//   PLAN: {
//     url: "ws://127.0.0.1:PORT/graphql",
//     healthz: "http://127.0.0.1:PORT/healthz",        // polled for the server's count of subscriptions
//     tokens: {name: bearer, ...},                      // one client (connection) per token
//     operations: [{name, token, query, variables?, background?: n}, ...]
//   }
// Operations run one after the other. A background operation is a subscription that is left running once the
// server counts it, and whose first n `next` messages are awaited after the other operations have finished,
// in the order listed (n = 0: none; it reports what it received by the time those before it were done).
// Each operation reports its events in order: {type: "next", payload}, {type: "error", payload} (the
// protocol's error message), {type: "complete"}, {type: "closed", code, reason} or {type: "failed", message}.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const DEADLINE_MS = 30_000;

const plan = JSON.parse(process.argv[2]);
const clients = {};
const closed = {};
for (const [name, token] of Object.entries(plan.tokens)) {
  clients[name] = createClient({
    url: plan.url,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    on: {
      closed: (event) => {
        closed[name] = { code: event.code, reason: event.reason };
      },
    },
  });
}

function start(operation) {
  const events = [];
  let wake = () => {};
  let done = false;
  const changed = () => wake();
  const sink = {
    next: (payload) => {
      events.push({ type: "next", payload });
      changed();
    },
    error: (error) => {
      if (Array.isArray(error)) events.push({ type: "error", payload: error });
      else if (error && typeof error.code === "number") {
        events.push({ type: "closed", code: error.code, reason: error.reason });
      } else events.push({ type: "failed", message: String(error) });
      done = true;
      changed();
    },
    complete: () => {
      events.push({ type: "complete" });
      done = true;
      changed();
    },
  };
  const payload = { query: operation.query, variables: operation.variables ?? {} };
  const unsubscribe = clients[operation.token].subscribe(payload, sink);
  // Resolves once `test` holds or the operation ended; reports a timeout past the deadline.
  const until = (test) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        events.push({ type: "timeout" });
        resolve();
      }, DEADLINE_MS);
      wake = () => {
        if (done || test()) {
          clearTimeout(timer);
          resolve();
        }
      };
      wake();
    });
  return { events, unsubscribe, until, finished: () => until(() => done) };
}

async function subscriptionsCounted(count) {
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() < deadline) {
    const health = await (await fetch(plan.healthz)).json();
    if (health.subscriptions >= count) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

const report = { operations: {}, closed };
const background = [];
try {
  for (const operation of plan.operations) {
    const running = start(operation);
    report.operations[operation.name] = running.events;
    if (operation.background !== undefined) {
      background.push([operation, running]);
      // The server counts a subscription once it listens: from then on, nothing it should see is missed.
      if (!(await subscriptionsCounted(background.length))) running.events.push({ type: "not counted" });
    } else {
      await running.finished();
    }
  }
  for (const [operation, running] of background) {
    await running.until(() => running.events.filter((e) => e.type === "next").length >= operation.background);
    running.unsubscribe();
  }
} finally {
  await Promise.all(Object.values(clients).map((client) => client.dispose()));
}
process.stdout.write(JSON.stringify(report));
