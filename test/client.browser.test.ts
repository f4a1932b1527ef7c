// @errand/client in real Chromium against a server speaking the status protocol (the
// fixture in support/status-fixture.ts): Server-Sent Events first, polling when EventSource
// is missing, refused or buffered by a proxy; reconnects with Last-Event-ID; refusals and
// aborts; the polling schedule under Playwright's fake clock.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { waitFor } from "@errand/core/testing";

import { type TestBrowser, launchBrowser } from "./support/browser.js";
import { type StatusFixture, startStatusFixture } from "./support/status-fixture.js";
import { type HarnessRun, type WatchPage, openWatchPage } from "./support/watch-page.js";

let browser: TestBrowser;
let fixture: StatusFixture;
let watch: WatchPage | undefined;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  fixture = await startStatusFixture({ retryMs: 100 });
});
afterEach(async () => {
  await watch?.page.close();
  watch = undefined;
  await fixture.close();
  expect(browser.pageErrors).toEqual([]);
});

const versions = (run: HarnessRun) => run.updates.map((status) => status.version);
const requestsOf = (kind: "status" | "events") => fixture.requests.filter((request) => request.kind === kind);

/** Waits until the run has delivered `version`. */
async function delivered(run: number, version: string): Promise<HarnessRun> {
  return waitFor(async () => {
    const seen = await watch!.read(run);
    return seen.updates.some((status) => status.version === version) && seen;
  }, { message: `version ${version} delivered`, timeoutMs: 10_000 });
}

describe("watchJob over Server-Sent Events", () => {
  it("delivers every status once, in order, and resolves with the final one", async () => {
    watch = await openWatchPage(browser, fixture);
    const job = fixture.job();
    const run = await watch.start(job.statusUrl);
    await delivered(run, "1");
    job.set({ state: "running", executions: 1, startedAt: new Date().toISOString() });
    job.set({ progress: { fraction: 0.5, message: "halfway" } });
    job.set({ progress: { fraction: 1 } });
    const final = job.set({ state: "succeeded", result: { rows: 42 }, finishedAt: new Date().toISOString() });

    const seen = await watch.settled(run);
    expect(seen.error).toBeNull();
    expect(seen.result).toEqual(final);
    expect(versions(seen)).toEqual(["1", "2", "3", "4", "5"]);
    expect(seen.updates.map((status) => status.progress?.message ?? status.state)).toEqual(["queued", "running", "halfway", "running", "succeeded"]);
    expect(requestsOf("status")).toEqual([]);
    expect(requestsOf("events").map((request) => request.answer)).toEqual([200]);
    await waitFor(() => fixture.openStreams === 0, { message: "the stream closed after the final status" });
  });

  it("resolves at once with the result of a job that finished before the page watched it", async () => {
    watch = await openWatchPage(browser, fixture);
    const job = fixture.job();
    const final = job.set({ state: "failed", error: { name: "FeedError", message: "feed gone" } });
    const seen = await watch.settled(await watch.start(job.statusUrl));
    expect(seen.result).toEqual(final);
    expect(seen.updates).toEqual([final]);
  });

  it("after a cut mid-stream, reconnects with Last-Event-ID and misses no state", async () => {
    watch = await openWatchPage(browser, fixture);
    const job = fixture.job();
    const run = await watch.start(job.statusUrl);
    await delivered(run, "1");
    job.set({ state: "running", progress: { fraction: 0.2 } });
    await delivered(run, "2");

    fixture.network = "down";
    fixture.cutStreams();
    await waitFor(() => requestsOf("events").some((request) => request.answer === "destroyed"), {
      message: "a reconnect attempt while the network is down",
    });
    job.set({ progress: { fraction: 0.8, message: "while cut off" } });
    fixture.network = "up";
    await delivered(run, "3");
    job.set({ state: "succeeded", result: ["a", "b"] });

    const seen = await watch.settled(run);
    expect(versions(seen)).toEqual(["1", "2", "3", "4"]);
    expect(seen.updates[2]!.progress).toEqual({ fraction: 0.8, message: "while cut off" });
    expect(seen.result?.result).toEqual(["a", "b"]);
    const resumed = requestsOf("events").filter((request) => request.answer === 200);
    expect(resumed.map((request) => request.lastEventId)).toEqual([undefined, "2"]);
    expect(requestsOf("status")).toEqual([]);
  });

  it("does not deliver the status a reconnect sends again", async () => {
    watch = await openWatchPage(browser, fixture);
    const job = fixture.job();
    const run = await watch.start(job.statusUrl);
    await delivered(run, "1");
    fixture.cutStreams();
    await waitFor(() => requestsOf("events").some((request) => request.lastEventId === "1" && request.answer === 200), {
      message: "the reconnect that sends version 1 again",
    });
    job.set({ state: "dead", error: { name: "Error", message: "gave up" } });

    const seen = await watch.settled(run);
    expect(versions(seen)).toEqual(["1", "2"]);
    expect(seen.result?.state).toBe("dead");
  });

  it("falls back to polling when a proxy buffers the stream (no event within firstEventTimeout)", async () => {
    watch = await openWatchPage(browser, fixture);
    fixture.streams = "buffering";
    const job = fixture.job();
    const run = await watch.start(job.statusUrl, { firstEventTimeout: 300, pollInterval: 50, maxPollInterval: 100 });
    await delivered(run, "1");
    job.set({ state: "running", progress: { fraction: 0.5 } });
    await delivered(run, "2");
    job.set({ state: "succeeded", result: 7 });

    const seen = await watch.settled(run);
    expect(versions(seen)).toEqual(["1", "2", "3"]);
    expect(requestsOf("events").map((request) => request.answer)).toEqual(["held"]);
    expect(requestsOf("status").length).toBeGreaterThanOrEqual(3);
    await waitFor(() => fixture.openStreams === 0, { message: "the held stream closed by the client" });
  });

  it("rejects when aborted and closes its stream", async () => {
    watch = await openWatchPage(browser, fixture);
    const job = fixture.job();
    const run = await watch.start(job.statusUrl);
    await delivered(run, "1");
    expect(fixture.openStreams).toBe(1);
    await watch.abort(run);

    const seen = await watch.settled(run);
    expect(seen.error).toMatchObject({ name: "AbortError", isWatchError: false });
    expect(seen.result).toBeNull();
    await waitFor(() => fixture.openStreams === 0, { message: "the stream closed after the abort" });
  });
});

describe("refusals", () => {
  it.each([
    ["a forged token", (id: string) => `/jobs/${id}?token=forged`, 403, "forbidden"],
    ["no token", (id: string) => `/jobs/${id}`, 403, "forbidden"],
    ["an unknown job", () => `/jobs/no-such-job?token=x`, 404, "not_found"],
  ] as const)("%s: the refused stream is diagnosed with one request and rejects with a WatchError", async (_, urlOf, status, code) => {
    watch = await openWatchPage(browser, fixture);
    const job = fixture.job();
    const seen = await watch.settled(await watch.start(urlOf(job.id)));
    expect(seen.error).toMatchObject({ name: "WatchError", isWatchError: true, status, code });
    expect(seen.updates).toEqual([]);
    expect(requestsOf("events").map((request) => request.answer)).toEqual([status]);
    expect(requestsOf("status").map((request) => request.answer)).toEqual([status]);
  });

  it("when polling, a forged token rejects with a WatchError", async () => {
    watch = await openWatchPage(browser, fixture, { withoutEventSource: true });
    const job = fixture.job();
    const seen = await watch.settled(await watch.start(`/jobs/${job.id}?token=forged`));
    expect(seen.error).toMatchObject({ name: "WatchError", status: 403, code: "forbidden", message: "missing, forged or expired token" });
  });
});

describe("watchJob by polling", () => {
  it("without EventSource, polls and delivers the same statuses", async () => {
    watch = await openWatchPage(browser, fixture, { withoutEventSource: true });
    const job = fixture.job();
    const run = await watch.start(job.statusUrl, { pollInterval: 50, maxPollInterval: 200 });
    await delivered(run, "1");
    job.set({ state: "running", executions: 1 });
    await delivered(run, "2");
    job.set({ progress: { fraction: 0.5, message: "halfway" } });
    await delivered(run, "3");
    const final = job.set({ state: "succeeded", result: { rows: 42 } });

    const seen = await watch.settled(run);
    expect(versions(seen)).toEqual(["1", "2", "3", "4"]);
    expect(seen.result).toEqual(final);
    expect(requestsOf("events")).toEqual([]);
  });

  it("waits ×1.5 longer while nothing changes, resets on a change, backs off on a network error, honours Retry-After", async () => {
    watch = await openWatchPage(browser, fixture, { withoutEventSource: true, fakeClock: true });
    await watch.traceTimers();
    const job = fixture.job();
    const run = await watch.start(job.statusUrl, { pollInterval: 1000, maxPollInterval: 3000 });
    // The first poll finds version 1 and waits pollInterval. Before each wait ends, the
    // server is set up for the poll it fires; that poll's answer decides the next wait.
    const waits = [1000, 1500, 2250, 3000, 1000, 1500, 5000];
    const nextPollFinds: (() => void)[] = [
      () => {}, // unchanged: ×1.5
      () => {}, // unchanged: ×1.5
      () => {}, // unchanged: 3375 capped at maxPollInterval
      () => job.set({ state: "running" }), // a change: back to pollInterval
      () => (fixture.network = "down"), // a network error: ×1.5
      () => ((fixture.network = "up"), fixture.failStatusRequests(1, 503, 5)), // 503: 2250, but Retry-After says 5 s
      () => job.set({ state: "succeeded", result: "done" }), // final: no more waits
    ];
    for (const [index, wait] of waits.entries()) {
      expect(await watch.timerDelays(index + 1), `after poll ${index + 1}`).toEqual(waits.slice(0, index + 1));
      nextPollFinds[index]!();
      await watch.page.clock.runFor(wait);
    }
    const seen = await watch.settled(run);
    expect(seen.result?.result).toBe("done");
    expect(versions(seen)).toEqual(["1", "2", "3"]);
    expect(await watch.timerDelays(waits.length)).toEqual(waits);
    expect(requestsOf("status").map((request) => request.answer)).toContain("destroyed");
    expect(requestsOf("status").map((request) => request.answer)).toContain(503);
  });
});
