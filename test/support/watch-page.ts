// Drives the watch harness page (pages/watch.ts) from a test: opens it from a fixture
// server's origin, starts `watchJob` calls in it and reads what they saw.
import type { Page } from "playwright-core";

import { waitFor } from "@errand/core/testing";

import type { TestBrowser } from "./browser.js";
import { bundlePage, htmlPage } from "./bundle.js";
import type { Harness, HarnessOptions, HarnessRun } from "./pages/harness-types.js";

export type { HarnessOptions, HarnessRun } from "./pages/harness-types.js";

/** A page with the watch harness loaded. */
export interface WatchPage {
  page: Page;
  /** Starts `watchJob(url, options)` in the page; returns the run's number. */
  start(url: string, options?: HarnessOptions): Promise<number>;
  /** What the run saw so far. */
  read(run: number): Promise<HarnessRun>;
  /** Waits (deadline `timeoutMs`, default 10 s) until the run settled; returns what it saw. */
  settled(run: number, timeoutMs?: number): Promise<HarnessRun>;
  /** Aborts the run's signal. */
  abort(run: number): Promise<void>;
  /** Records the delay of every `setTimeout` the page sets from now on. */
  traceTimers(): Promise<void>;
  /** Waits until `count` timer delays were recorded; returns them. */
  timerDelays(count: number): Promise<number[]>;
}

/** Anything that can serve GET routes from the origin the page is opened at. */
export interface PageHost {
  origin: string;
  serve(path: string, contentType: string, body: string): void;
}

type Global = { errandHarness: Harness };

/**
 * Opens the harness page at `host.origin`/watch.html. `withoutEventSource` deletes
 * `window.EventSource` before any page script runs, as in a browser without it;
 * `fakeClock` installs Playwright's clock, so the page's timers fire only on
 * `page.clock.runFor()`.
 */
export async function openWatchPage(
  browser: TestBrowser,
  host: PageHost,
  options: { withoutEventSource?: boolean; fakeClock?: boolean } = {},
): Promise<WatchPage> {
  host.serve("/watch.js", "text/javascript", await bundlePage("watch.ts"));
  host.serve("/watch.html", "text/html", htmlPage({ title: "watch harness", script: "/watch.js" }));
  const page = await browser.newPage();
  if (options.withoutEventSource) await page.addInitScript("delete window.EventSource");
  if (options.fakeClock) await page.clock.install({ time: 0 });
  await page.goto(`${host.origin}/watch.html`);
  await waitFor(async () => (await page.title()) === "watch harness ready", { message: "the watch harness to load", timeoutMs: 10_000 });

  const read = (run: number) => page.evaluate((n) => (globalThis as unknown as Global).errandHarness.read(n), run);
  return {
    page,
    start: (url, watchOptions = {}) =>
      page.evaluate(([u, o]) => (globalThis as unknown as Global).errandHarness.start(u, o), [url, watchOptions] as const),
    read,
    async settled(run, timeoutMs = 10_000) {
      return waitFor(async () => {
        const seen = await read(run);
        return seen.settled && seen;
      }, { message: `watch run ${run} to settle`, timeoutMs });
    },
    abort: (run) => page.evaluate((n) => (globalThis as unknown as Global).errandHarness.abort(n), run),
    traceTimers: () => page.evaluate(() => (globalThis as unknown as Global).errandHarness.traceTimers()),
    timerDelays: (count) =>
      waitFor(async () => {
        const delays = await page.evaluate(() => (globalThis as unknown as Global).errandHarness.timerDelays());
        return delays.length >= count && delays;
      }, { message: `${count} timers set in the page` }),
  };
}
