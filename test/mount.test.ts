// The mounting examples (issue 12, item 3): examples/mount/{node-http,express,fastify,hono}
// each mount Errand's status routes in their framework. Each is started here, as built,
// and read with fetch: JSON with a valid token, 403 for a forged one, 404 for an unknown
// job, an event stream through to the final status that then closes, and a client that
// hangs up letting go of its watcher on the server.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { configure, Job, statusToken, statusWatchers, type Runtime } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import * as express from "../examples/dist/mount/express.js";
import * as fastify from "../examples/dist/mount/fastify.js";
import * as hono from "../examples/dist/mount/hono.js";
import * as nodeHttp from "../examples/dist/mount/node-http.js";
import type { MountedApp, StartOptions } from "../examples/dist/mount/shared.js";
import { statusEvents } from "./support/sse.js";

const SECRET = "mount-test-secret-long-enough-0123456789";
const gates = new Map<string, () => void>();
// Between tests every gate is open, so a job a test left behind finishes instead of holding
// runtime.close() for its shutdown grace.
let gatesOpen = false;
const gate = (name: string) => (gatesOpen ? Promise.resolve() : new Promise<void>((resolve) => gates.set(name, resolve)));
const open = (name: string) => waitFor(() => gates.get(name), { message: `gate ${name} reached` }).then((release) => release());

/** Three steps, each held until the test opens it: the stream's events come one at a time. */
class SteppedJob extends Job<[label: string], string> {
  static override jobName = "SteppedJob";
  async perform(label: string) {
    for (let step = 1; step <= 3; step++) {
      await gate(`${this.jobId}:${step}`);
      this.progress(step / 3, `step ${step}/3`);
    }
    return `done: ${label}`;
  }
}

let runtime: Runtime;
beforeAll(async () => {
  runtime = configure({ adapter: "async", jobs: [SteppedJob] });
  await runtime.start();
});
beforeEach(() => {
  gatesOpen = false;
});
afterEach(() => {
  gatesOpen = true;
  for (const release of gates.values()) release();
  gates.clear();
});
afterAll(() => runtime.close());

const frameworks: [string, { start(options: StartOptions): Promise<MountedApp> }][] = [
  ["node:http", nodeHttp],
  ["Express 5", express],
  ["Fastify 5", fastify],
  ["Hono 4", hono],
];

const token = (jobId: string) => statusToken(jobId, { secret: SECRET });

describe.each(frameworks)("examples/mount: %s", (_name, example) => {
  let app: MountedApp;
  beforeAll(async () => {
    app = await example.start({ secret: SECRET });
  });
  afterAll(() => app.close());

  const statusUrl = (jobId: string, suffix = "", tokenFor = jobId) => `${app.url}/jobs/${jobId}${suffix}?token=${token(tokenFor)}`;

  it("serves the job's status as JSON with its token", async () => {
    const { jobId } = await SteppedJob.set({ wait: "1h" }).performLater("json");
    const response = await fetch(statusUrl(jobId));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ id: jobId, job: "SteppedJob", state: "scheduled" });
  });

  it("refuses a forged token with 403, without echoing it", async () => {
    const { jobId } = await SteppedJob.set({ wait: "1h" }).performLater("forged");
    const other = await SteppedJob.set({ wait: "1h" }).performLater("other");
    const forged = token(other.jobId); // valid, but for another job
    const responses = [await fetch(statusUrl(jobId, "", other.jobId)), await fetch(statusUrl(jobId, "/events", other.jobId))];
    for (const response of responses) {
      expect(response.status).toBe(403);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: "forbidden", message: "status token forged" });
      expect(text).not.toContain(forged);
    }
    expect((await fetch(`${app.url}/jobs/${jobId}?token=${token(jobId).slice(0, -2)}xx`)).status).toBe(403);
  });

  it("answers 404 for a job that does not exist (its token valid)", async () => {
    const unknown = randomUUID();
    for (const suffix of ["", "/events"]) {
      const response = await fetch(statusUrl(unknown, suffix));
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: "not_found" });
    }
  });

  it("streams every step's status as events, then the final one, then closes", async () => {
    const { jobId } = await SteppedJob.performLater("stream");
    const response = await fetch(statusUrl(jobId, "/events"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = statusEvents(response.body!);
    const seen: { id: string; state: unknown; message: unknown }[] = [];
    const next = async () => {
      const { value, done } = await events.next();
      expect(done, `stream ended after ${JSON.stringify(seen)}`).toBe(false);
      const progress = value!.status.progress as { message?: string } | null;
      seen.push({ id: value!.id, state: value!.status.state, message: progress?.message });
      return seen.at(-1)!;
    };
    // The first event is the status as it stands (queued, or running if the pool was quick).
    expect(["queued", "running"]).toContain((await next()).state);
    for (let step = 1; step <= 2; step++) {
      await open(`${jobId}:${step}`);
      // A step's progress is one event; a "running" event before it (the job starting) may come first.
      let event = await next();
      while (event.message === undefined) event = await next();
      expect(event).toMatchObject({ state: "running", message: `step ${step}/3` });
    }
    await open(`${jobId}:3`);
    let last = await next();
    while (last.state === "running") last = await next(); // step 3's progress, unless coalesced into the final status
    expect(last).toMatchObject({ state: "succeeded", message: "step 3/3" });
    expect(new Set(seen.map((event) => event.id)).size).toBe(seen.length); // each event its own version
    expect((await events.next()).done).toBe(true); // the server closed the stream
  });

  it("lets go of the server's watcher when the client hangs up", async () => {
    const { jobId } = await SteppedJob.performLater("hang up");
    const before = (await statusWatchers()).watchers;
    const client = new AbortController();
    const response = await fetch(statusUrl(jobId, "/events"), { signal: client.signal });
    const events = statusEvents(response.body!);
    expect((await events.next()).done).toBe(false);
    await waitFor(async () => (await statusWatchers()).watchers === before + 1, { message: "the stream's watcher" });
    client.abort();
    await waitFor(async () => (await statusWatchers()).watchers === before, { message: "the watcher freed after the client hung up" });
    expect(await statusWatchers()).toMatchObject({ jobs: 0, watchers: 0 });
  });
});
