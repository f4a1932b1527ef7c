// The dashboard's live updates without a browser (issue 15): the queue counts stream is one
// shared poll whatever the number of open pages (a page that opens gets the last read, no
// new query), sends a change to every page, and stops polling when the last page closes;
// a job page's stream is core's status stream, mounted under the dashboard's base path and
// behind its `authorize`.
import { AsyncAdapter } from "@errand/adapter-async";
import type { Runtime } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { dashboard, type Dashboard } from "@errand/dashboard";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { hold, release, releaseAll, SIGNUP, startApp, WelcomeJob } from "./dashboard/seed.js";
import { ORIGIN } from "./support/dashboard.js";
import { readEvents, type SseEvent } from "./support/sse.js";

let runtime: Runtime;
let ui: Dashboard;
beforeAll(async () => {
  ({ runtime } = await startApp(new AsyncAdapter()));
  ui = dashboard({ basePath: "/ops", authorize: (request) => request.headers.get("x-ops") === "yes", liveInterval: 500 });
}, 30_000);
afterAll(async () => {
  releaseAll();
  ui.closeStreams();
  await runtime.close();
});

interface Stream {
  events: AsyncGenerator<SseEvent>;
  close(): void;
}

async function open(path: string): Promise<Stream> {
  const controller = new AbortController();
  const response = await ui(new Request(`${ORIGIN}${path}`, { headers: { "x-ops": "yes" }, signal: controller.signal }));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  return { events: readEvents(response.body!), close: () => controller.abort() };
}

/** The next event named `name` (skipping `retry:` and heartbeats). */
async function next(stream: Stream, name: string): Promise<unknown> {
  for (;;) {
    const { value, done } = await stream.events.next();
    if (done) throw new Error(`the stream ended before a ${name} event`);
    if (value.event === name) return JSON.parse(value.data!);
  }
}

interface QueuesData {
  rows: { name: string; raw: Record<string, number> }[];
  totals: Record<string, string>;
}

describe("dashboard live queue counts", () => {
  it("one poll for every open page, each change sent to all, and none once they all close", async () => {
    const first = await open("/ops/live/queues");
    const initial = (await next(first, "queues")) as QueuesData;
    expect(initial.rows.map((row) => row.name)).toContain("reports");
    const readsBefore = ui.liveReads;
    const others = [await open("/ops/live/queues"), await open("/ops/live/queues")];
    for (const stream of others) expect(await next(stream, "queues")).toEqual(initial); // the last read, at once
    expect(ui.liveReads).toBe(readsBefore); // no read of their own
    expect(ui.openStreams).toBe(3);

    const { jobId } = await WelcomeJob.set({ wait: "1h", queue: "live" }).performLater(SIGNUP, "live");
    for (const stream of [first, ...others]) {
      let data = (await next(stream, "queues")) as QueuesData;
      while (!data.rows.some((row) => row.name === "live")) data = (await next(stream, "queues")) as QueuesData;
      expect(data.rows.find((row) => row.name === "live")?.raw).toMatchObject({ scheduled: 1 });
    }
    expect(jobId).toBeTruthy();

    for (const stream of [first, ...others]) stream.close();
    await waitFor(() => ui.openStreams === 0, { message: "every stream closed on the server" });
    // Idle now: the poll stopped and its stale read was dropped, so a page opening later
    // waits for a fresh read rather than get the old one.
    await WelcomeJob.set({ wait: "1h", queue: "live" }).performLater(SIGNUP, "live again");
    const later = await open("/ops/live/queues");
    const fresh = (await next(later, "queues")) as QueuesData;
    expect(fresh.rows.find((row) => row.name === "live")?.raw).toMatchObject({ scheduled: 2 });
    later.close();
    await waitFor(() => ui.openStreams === 0, { message: "the later stream closed" });
  });

  it("is behind authorize, as every route", async () => {
    const response = await ui(new Request(`${ORIGIN}/ops/live/queues`));
    expect(response.status).toBe(403);
  });
});

describe("dashboard job status stream", () => {
  it("is core's status stream: the current status, each change, the end after a final state", async () => {
    hold("streamed");
    const { jobId } = await WelcomeJob.performLater(SIGNUP, "streamed");
    const stream = await open(`/ops/status/${jobId}/events`);
    let status = (await next(stream, "status")) as { state: string; progress: { message?: string } | null };
    while (status.state !== "running" || status.progress?.message !== "rendering") status = (await next(stream, "status")) as typeof status;
    release("streamed");
    while (status.state === "running") status = (await next(stream, "status")) as typeof status;
    expect(status.state).toBe("succeeded");
    expect((await stream.events.next()).done).toBe(true);
    await waitFor(() => ui.openStreams === 0, { message: "the job stream closed" });
    expect((await ui(new Request(`${ORIGIN}/ops/status/${jobId}`))).status).toBe(403); // without x-ops
  });
});
