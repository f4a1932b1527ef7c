/**
 * The web example's browser tests (issue 12, Tests): one scenario module, run against each
 * backend by a thin file (test/web-app.<backend>.browser.test.ts). Every check reads the
 * page's DOM (`#job[data-state]`, the progress message, the items) and waits for it with a
 * deadline; the feed, the report and reconnecting streams are held by the harness where a
 * scenario needs them to stand still, never timed.
 */
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { statusToken } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { FetchFeedJob } from "../../examples/dist/web/fetch-feed-job.js";
import { SECRET, WebAppHarness, type WebAppWiring } from "./harness.js";

/** Items the test feed server puts in each feed. */
const ITEMS = 24;
/** The feed server sends a feed in 8 chunks; a scenario holding it at 4 has the job half way. */
const MID_FEED = 4;
/** Jobs on backends with a worker poll and hop; generous, since a failure here is a hang. */
const JOB_DEADLINE_MS = 20_000;

/** Runs every web-app scenario against one backend. */
export function runWebAppScenarios(wiring: WebAppWiring): void {
  describe(`the web example on ${wiring.name}, in Chromium`, () => {
    let app: WebAppHarness;
    beforeAll(async () => {
      app = await WebAppHarness.start(wiring);
    }, 60_000);
    afterEach(() => app.releaseHolds());
    afterAll(async () => {
      await app?.close();
      await wiring.cleanup?.();
    });

    const state = (page: Page, value: string) => page.waitForSelector(`#job[data-state="${value}"]`, { timeout: JOB_DEADLINE_MS });
    const text = async (page: Page, selector: string) => (await page.textContent(selector))?.trim();

    async function open(path: string, init?: string): Promise<Page> {
      const page = await app.browser.newPage();
      if (init) await page.addInitScript(init);
      await page.goto(`${app.base}${path}`);
      await page.waitForSelector("body[data-ready]");
      // Gone if the page reloads: every change below must reach this same document.
      await page.evaluate("window.sameDocument = true");
      return page;
    }

    /** Submits the page's form; resolves to the job id it started. */
    async function submit(page: Page): Promise<string> {
      await page.click("form button");
      await page.waitForSelector("#answered:not([hidden])");
      const status = new URL(page.url()).searchParams.get("status");
      expect(status, "the status URL is in the address bar").toMatch(/^\/jobs\/[0-9a-f-]{36}\?token=v1\./);
      return status!.split("?")[0]!.split("/")[2]!;
    }

    async function expectFeedShown(page: Page, title = "The Slow Errand Times (RSS)"): Promise<void> {
      await state(page, "succeeded");
      expect(await text(page, "#job [data-role=result] h2")).toBe(title);
      expect(await page.locator("#job ul.items li").count()).toBe(ITEMS);
      expect(await text(page, "#job ul.items li:first-child a")).toBe(`Errand dispatch #${ITEMS}`);
      expect(await text(page, "#job [data-role=message]")).toBe("parsed");
      expect(await page.evaluate("window.sameDocument")).toBe(true);
    }

    /** Waits until the page shows the job mid-download, and returns the progress bar's value. */
    async function expectMidFeed(page: Page): Promise<number> {
      await state(page, "running");
      await page.locator("#job [data-role=message]", { hasText: /^received \d+ KB of \d+ KB$/ }).waitFor();
      return (await page.evaluate("document.querySelector('#job progress').value")) as number;
    }

    async function enqueueFeed(url: string): Promise<{ jobId: string; statusUrl: string }> {
      const response = await fetch(`${app.base}/feeds`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url }) });
      expect(response.status).toBe(202);
      return (await response.json()) as { jobId: string; statusUrl: string };
    }

    it("shows the feed's progress, then its items, pushed over Server-Sent Events with no reload", async () => {
      const feed = app.holdFeed(MID_FEED);
      const page = await open("/");
      const jobId = await submit(page);
      await feed.reached;
      const fraction = await expectMidFeed(page);
      expect(fraction).toBeGreaterThan(0);
      expect(fraction).toBeLessThan(0.9);
      feed.release();
      await expectFeedShown(page);
      const { streams, polls } = app.statusRequests(jobId);
      expect(streams.length, "one event stream").toBe(1);
      expect(polls, `pushed, not polled; the stream: ${JSON.stringify(streams[0])}`).toEqual([]);
      await page.close();
    });

    it("shows the same by polling when the page has no EventSource", async () => {
      const feed = app.holdFeed(MID_FEED);
      const page = await open("/", "delete window.EventSource");
      const jobId = await submit(page);
      await feed.reached;
      await expectMidFeed(page);
      feed.release();
      await expectFeedShown(page);
      const { streams, polls } = app.statusRequests(jobId);
      expect(streams).toEqual([]);
      expect(polls.length).toBeGreaterThanOrEqual(2);
      await page.close();
    });

    it("misses nothing when the connection is cut mid-job and the stream resumes with Last-Event-ID", async () => {
      const feed = app.holdFeed(MID_FEED);
      const page = await open("/");
      const jobId = await submit(page);
      await feed.reached;
      await expectMidFeed(page);
      const version = await page.getAttribute("#job", "data-version");
      const reconnect = app.holdReconnects();
      app.cutConnections();
      const request = await reconnect.reached;
      expect(request.lastEventId, "the browser resumes from the last status it had").toBe(version);
      // While the page is away, the job finishes: all it missed must arrive on the new stream.
      feed.release();
      await waitFor(async () => (await FetchFeedJob.status(jobId))?.state === "succeeded", { timeoutMs: JOB_DEADLINE_MS, message: "the job done" });
      reconnect.release();
      await expectFeedShown(page);
      const { streams, polls } = app.statusRequests(jobId);
      expect(streams.length).toBe(2);
      expect(polls).toEqual([]);
      await page.close();
    });

    it("shows at once the result of a job that finished before the page opened", async () => {
      const { jobId, statusUrl } = await enqueueFeed(app.feeds.atomUrl);
      await waitFor(async () => (await FetchFeedJob.status(jobId))?.state === "succeeded", { timeoutMs: JOB_DEADLINE_MS, message: "the job done" });
      const page = await open(`/?status=${encodeURIComponent(statusUrl)}`);
      await expectFeedShown(page, "The Slow Errand Times (Atom)");
      expect(await page.getAttribute("#job", "data-updates"), "one update: the final status").toBe("1");
      await page.close();
    });

    it("refuses a forged or an expired token, and the page says so", async () => {
      const { jobId } = await enqueueFeed(app.feeds.rssUrl);
      const forged = statusToken(jobId, { secret: "someone-else's-secret-long-enough-0123" });
      const expired = statusToken(jobId, { secret: SECRET, expiresIn: 1 });
      await waitFor(() => Number.parseInt(expired.split(".")[1]!, 36) < Date.now(), { message: "the 1 ms token expired" });
      for (const [token, reason] of [
        [forged, "forged"],
        [expired, "expired"],
      ] as const) {
        const page = await open(`/?status=${encodeURIComponent(`/jobs/${jobId}?token=${token}`)}`);
        await state(page, "error");
        expect(await text(page, "#job [data-role=error]")).toContain(`status token ${reason}`);
        expect(await page.locator("#job ul.items").count()).toBe(0);
        await page.close();
      }
    });

    it("says why when the URL is not a feed, or not an http(s) URL", async () => {
      const page = await open("/");
      await page.fill("#feed-url", `${app.feeds.url}/not-a-feed.html`);
      await submit(page);
      await state(page, "failed");
      expect(await text(page, "#job [data-role=error]")).toBe(`The job failed: NotAFeedError: ${app.feeds.url}/not-a-feed.html is not an RSS or Atom feed`);
      await page.fill("#feed-url", "ftp://example.com/feed.xml");
      await page.click("form button");
      await page.waitForSelector("#form-error:not([hidden])");
      expect(await text(page, "#form-error")).toBe('"ftp://example.com/feed.xml" is not an http(s) URL');
      await page.close();
    });

    it("shows the report's steps, then its table", async () => {
      const step = app.holdReport(2);
      const page = await open("/report");
      await submit(page);
      await step.reached;
      await page.locator("#job [data-role=message]", { hasText: "2/5 matching refunds" }).waitFor();
      step.release();
      await state(page, "succeeded");
      expect(await text(page, "#job [data-role=message]")).toBe("5/5 formatting");
      expect(await text(page, "#job caption")).toBe("Sales, 2025-10");
      expect(await page.locator("#job tbody tr").count()).toBe(5);
      expect(await text(page, "#job tbody tr:last-child td:first-child")).toBe("total");
      expect(await page.evaluate("window.sameDocument")).toBe(true);
      await page.close();
    });

    it("left no page error behind", () => {
      expect(app.browser.pageErrors).toEqual([]);
    });
  });
}
