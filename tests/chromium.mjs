// Headless Chromium for the suite's Node scripts: one set of flags, a throwaway profile, one page.
// Each script passes its own puppeteer-core (installed in its folder from that folder's package-lock.json).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// Runs `use(page)` on a new page of a fresh browser (CHROMIUM names its executable), then closes the browser.
export async function withPage(puppeteer, timeoutMs, use) {
  const userDataDir = await mkdtemp(path.join(tmpdir(), "customer360-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    userDataDir,
    args: FLAGS,
    timeout: timeoutMs,
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(timeoutMs);
    return await use(page);
  } finally {
    await browser.close();
    await rm(userDataDir, { recursive: true, force: true });
  }
}

// An address for a report: inline fonts arrive as data: URLs of tens of kilobytes; their start says enough.
export const brief = (address) => (address.length > 120 ? `${address.slice(0, 120)}…` : address);

// Collects what went wrong on `page`: failed requests and HTTP errors (into `failures`), page errors and the
// console's error lines (into `errors`).
export function recordTrouble(page, { failures, errors }) {
  page.on("requestfailed", (request) =>
    failures.push({ url: brief(request.url()), error: request.failure()?.errorText ?? "failed" }),
  );
  page.on("response", (response) => {
    if (response.status() >= 400) failures.push({ url: brief(response.url()), error: `HTTP ${response.status()}` });
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
}
