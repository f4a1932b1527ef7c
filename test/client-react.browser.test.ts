// @errand/client/react in real Chromium: a small component over `useJob` (support/pages/
// react-job.tsx, bundled with React by esbuild, rendered in StrictMode) against the
// status-protocol fixture shows progress, then the result, without a reload; a new URL
// restarts the watch and unmounting ends it.
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { waitFor } from "@errand/core/testing";

import { type TestBrowser, launchBrowser } from "./support/browser.js";
import { bundlePage, htmlPage } from "./support/bundle.js";
import { type StatusFixture, startStatusFixture } from "./support/status-fixture.js";

let browser: TestBrowser;
let fixture: StatusFixture;
let page: Page | undefined;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  fixture = await startStatusFixture();
  fixture.serve("/react-job.js", "text/javascript", await bundlePage("react-job.tsx"));
  fixture.serve("/job.html", "text/html", htmlPage({ title: "job page", body: '<div id="root"></div>', script: "/react-job.js" }));
});
afterEach(async () => {
  await page?.close();
  page = undefined;
  await fixture.close();
  expect(browser.pageErrors).toEqual([]);
});

async function openJobPage(statusUrl: string | null): Promise<Page> {
  const opened = await browser.newPage();
  await opened.goto(`${fixture.origin}/job.html${statusUrl ? `?watch=${encodeURIComponent(statusUrl)}` : ""}`);
  await waitFor(async () => (await opened.title()) === "job page ready", { message: "the job page to load" });
  return opened;
}

/** Waits until `selector`'s text is `text`. */
async function shows(selector: string, text: string): Promise<void> {
  await waitFor(async () => (await page!.textContent(selector).catch(() => null)) === text, {
    message: `${selector} to show "${text}"`,
    timeoutMs: 10_000,
  });
}

const pageCall = (call: "setUrl" | "unmount", argument: string | null = null) =>
  page!.evaluate(([name, value]) => (globalThis as unknown as { jobPage: Record<string, (url: string | null) => void> }).jobPage[name]!(value), [call, argument] as const);

describe("useJob", () => {
  it("shows progress, then the result, pushed over the stream", async () => {
    const job = fixture.job();
    page = await openJobPage(job.statusUrl);
    await shows("#message", "queued");
    job.set({ state: "running", progress: { fraction: 0.4, message: "fetching the feed" } });
    await shows("#message", "fetching the feed");
    expect(await page.getAttribute("#progress", "value")).toBe("0.4");
    job.set({ state: "succeeded", progress: { fraction: 1 }, result: ["First post", "Second post"] });
    await shows("#result", "First postSecond post");
    expect(await page.$$eval("#result li", (items) => items.map((item) => item.textContent))).toEqual(["First post", "Second post"]);
    expect(fixture.requests.filter((request) => request.kind === "status")).toEqual([]);
  });

  it("shows the job's error when it failed, and a refusal as the hook's error", async () => {
    const failed = fixture.job();
    failed.set({ state: "failed", error: { name: "FeedError", message: "the feed answered 500" } });
    page = await openJobPage(failed.statusUrl);
    await shows("#failed", "the feed answered 500");
    await pageCall("setUrl", `/jobs/${failed.id}?token=forged`);
    await shows("#error", "WatchError: missing, forged or expired token");
  });

  it("a new URL restarts the watch, no URL stops it, and unmounting aborts it", async () => {
    const first = fixture.job();
    const second = fixture.job({ progress: { fraction: 0.1, message: "second job" } });
    page = await openJobPage(first.statusUrl);
    await shows("#message", "queued");

    await pageCall("setUrl", second.statusUrl);
    await shows("#message", "second job");
    await waitFor(() => fixture.openStreams === 1, { message: "only the second job's stream open" });
    first.set({ state: "succeeded", result: ["stale"] });
    second.set({ progress: { fraction: 0.6, message: "still the second job" } });
    await shows("#message", "still the second job");

    await pageCall("setUrl", null);
    await shows("#idle", "no job");
    await waitFor(() => fixture.openStreams === 0, { message: "no stream open without a URL" });

    await pageCall("setUrl", second.statusUrl);
    await shows("#message", "still the second job");
    await waitFor(() => fixture.openStreams === 1, { message: "the second job's stream open again" });
    await pageCall("unmount");
    await waitFor(() => fixture.openStreams === 0, { message: "the stream closed on unmount" });
  });
});
