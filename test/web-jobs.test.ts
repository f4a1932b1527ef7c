// The web example's jobs on their own (examples/web, as built), on the async adapter:
// FetchFeedJob against the example's slow feed server — progress as the bytes arrive, RSS
// and Atom parsed, a page that is not a feed discarded, an unreachable site or a cut body
// retried — and ReportJob's steps and its refusal of a bad month.
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { configure, isFinished, type JobStatus, type Runtime } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import config from "../examples/dist/web/errand.config.js";
import { startFeedServer, type FeedServer } from "../examples/dist/web/feed-server.js";
import { FetchFeedJob } from "../examples/dist/web/fetch-feed-job.js";
import { REPORT_STEPS, ReportJob, reportPacing } from "../examples/dist/web/report-job.js";

let runtime: Runtime;
let feeds: FeedServer;
/** Set by a test to cut the next feed after this many chunks. */
let cutAfter: number | undefined;
const progress = new Map<string, string[]>();
/**
 * "received" reports so far. The feed server sends chunk n only once there are n of them:
 * each chunk arrives in reads of its own (not all 8 in one, as a fast server's would) and
 * the job has taken it in before the next is sent or the feed is cut.
 */
let received = 0;
/** `received` when the feed being sent began (one feed at a time here). */
let receivedBefore = 0;

beforeAll(async () => {
  runtime = configure({ ...config, adapter: "async" });
  runtime.events.on("job:progress", ({ payload, message }) => {
    progress.set(payload.id, [...(progress.get(payload.id) ?? []), message ?? ""]);
    if (message?.startsWith("received")) received++;
  });
  await runtime.start();
  feeds = await startFeedServer({
    totalMs: 0,
    beforeChunk: async (index) => {
      if (index === 0) receivedBefore = received;
      else await waitFor(() => received - receivedBefore >= index, { message: `the job's report of chunk ${index - 1}` });
      if (cutAfter !== undefined && index === cutAfter) throw new Error("cut by the test");
    },
  });
  reportPacing.stepMs = 0;
});
afterAll(async () => {
  await feeds.close();
  await runtime.close();
});

/** The job's status once it is final, or retrying (its first failure). */
async function settled(jobId: string): Promise<JobStatus> {
  return waitFor(
    async () => {
      const status = await FetchFeedJob.status(jobId);
      return status && (isFinished(status.state) || status.state === "retrying") && status;
    },
    { timeoutMs: 10_000, message: `job ${jobId} settled` },
  );
}

describe("FetchFeedJob", () => {
  it("reports each KB as it arrives, then parsed, and returns the RSS feed's items", async () => {
    const { jobId } = await FetchFeedJob.performLater(feeds.rssUrl);
    const status = await settled(jobId);
    expect(status.state).toBe("succeeded");
    const result = status.result as { title: string; items: { title: string; link: string; published: string }[] };
    expect(result.title).toBe("The Slow Errand Times (RSS)");
    expect(result.items).toHaveLength(24);
    expect(result.items[0]).toEqual({ title: "Errand dispatch #24", link: `${feeds.url}/posts/24`, published: "2025-01-24T09:30:00.000Z" });
    const messages = progress.get(jobId)!;
    expect(messages.at(-1)).toBe("parsed");
    const kbs = messages.slice(0, -1).map((message) => Number(/^received (\d+) KB of (\d+) KB$/.exec(message)?.[1]));
    expect(kbs.length).toBeGreaterThanOrEqual(8); // one per chunk at least: 8 chunks of ~3.5 KB each
    for (let index = 1; index < kbs.length; index++) expect(kbs[index]).toBeGreaterThan(kbs[index - 1]!);
    expect(status.progress).toEqual({ fraction: 1, message: "parsed" });
  });

  it("parses Atom the same way", async () => {
    const { jobId } = await FetchFeedJob.performLater(feeds.atomUrl);
    const status = await settled(jobId);
    expect(status.state).toBe("succeeded");
    expect(status.result).toMatchObject({ title: "The Slow Errand Times (Atom)", items: expect.arrayContaining([{ title: "Errand dispatch #1", link: `${feeds.url}/posts/1`, published: "2025-01-01T09:30:00.000Z" }]) });
  });

  it("discards a page that is not a feed, and a 404, at the first attempt", async () => {
    for (const [path, message] of [
      ["/not-a-feed.html", "is not an RSS or Atom feed"],
      ["/missing.rss", "answered 404 Not Found"],
    ]) {
      const { jobId } = await FetchFeedJob.performLater(`${feeds.url}${path}`);
      const status = await settled(jobId);
      expect(status.state).toBe("failed");
      expect(status.executions).toBe(1);
      expect(status.error).toMatchObject({ name: "NotAFeedError", message: `${feeds.url}${path} ${message}` });
    }
  });

  it("retries a site it cannot reach", async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, "close");
    const url = `http://127.0.0.1:${port}/feed.rss`;
    const { jobId } = await FetchFeedJob.performLater(url);
    const status = await settled(jobId);
    expect(status.state).toBe("retrying");
    expect(status.error).toMatchObject({ name: "FeedFetchError", message: `could not fetch ${url}: connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it("retries a feed whose connection breaks mid-body", async () => {
    cutAfter = 3;
    try {
      const { jobId } = await FetchFeedJob.performLater(feeds.rssUrl);
      const status = await settled(jobId);
      expect(status.state).toBe("retrying");
      expect(status.error?.name).toBe("FeedFetchError");
      expect(status.error?.message).toMatch(new RegExp(`^the connection to ${feeds.url.slice("http://".length)} broke after \\d+ KB: `));
    } finally {
      cutAfter = undefined;
    }
  });
});

describe("ReportJob", () => {
  it("reports each step, then returns the table", async () => {
    const { jobId } = await ReportJob.performLater("2025-10");
    const status = await settled(jobId);
    expect(status.state).toBe("succeeded");
    expect(progress.get(jobId)).toEqual(REPORT_STEPS.map((step, index) => `${index + 1}/5 ${step}`));
    const report = status.result as { columns: string[]; rows: unknown[][] };
    expect(report.columns).toEqual(["region", "orders", "revenue (€)"]);
    expect(report.rows.at(-1)).toEqual(["total", 248, "5235.50"]);
  });

  it("discards a month that is not YYYY-MM", async () => {
    const { jobId } = await ReportJob.performLater("October");
    const status = await settled(jobId);
    expect(status.state).toBe("failed");
    expect(status.error).toMatchObject({ name: "BadMonthError", message: 'month must look like 2025-10, got "October"' });
  });
});
