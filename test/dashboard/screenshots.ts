// `npm run dashboard:screenshots`: the dashboard's main pages in headless Chromium, with jobs
// seeded in every state on the async adapter, saved as docs/images/dashboard-*.png for the
// README (1280 × 800, light scheme).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { AsyncAdapter } from "@errand/adapter-async";

import { DashboardHarness } from "./harness.js";
import { WelcomeJob, SIGNUP } from "./seed.js";

const out = fileURLToPath(new URL("../../docs/images/", import.meta.url));
mkdirSync(out, { recursive: true });
const app = await DashboardHarness.start({ name: "async", adapter: async () => new AsyncAdapter() });
try {
  // Some throughput for the charts.
  await Promise.all(Array.from({ length: 40 }, (_, index) => WelcomeJob.performLater(SIGNUP, `shot-${index}`)));
  const pages: [string, string][] = [
    ["overview", "/"],
    ["dead", "/jobs?state=dead"],
    ["job", `/jobs/${app.ids.retrying}`],
    ["recurring", "/recurring"],
    ["workers", "/workers"],
  ];
  for (const [name, path] of pages) {
    const page = await app.open(path);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: "light" });
    if (name === "overview") await page.waitForSelector("[data-live-status]:text('live')");
    await page.screenshot({ path: `${out}dashboard-${name}.png`, fullPage: false });
    await page.close();
    console.log(`docs/images/dashboard-${name}.png`);
  }
} finally {
  await app.close();
}
