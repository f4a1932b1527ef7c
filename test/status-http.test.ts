// Job status over HTTP (issue 12, items 3 and 4): the Fetch-API handler behind a real
// node:http server, read with fetch — JSON for polling, Server-Sent Events, the access
// rules, resuming with Last-Event-ID, and the watcher freed when the client goes away.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { configure, Job, jobStatusHandler, statusToken, statusWatchers, toNodeHandler, type JobStatusHandler, type Runtime } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { readEvents, statusEvents } from "./support/sse.js";

const SECRET = "test-secret-that-is-long-enough-0123456789";
const gates = new Map<string, () => void>();
const gate = (name: string) => new Promise<void>((resolve) => gates.set(name, resolve));
const open = (name: string) => waitFor(() => gates.get(name), { message: `gate ${name} reached` }).then((release) => release());

class TwoStepJob extends Job<[name: string]> {
  async perform(name: string) {
    this.progress(0.5, "half");
    await gate(`${name}:1`);
    this.progress(1, "all");
    await gate(`${name}:2`);
    return { name, at: new Date(0) };
  }
}
class FailingJob extends Job<[]> {
  static override discard = [Error];
  perform(): never {
    throw new TypeError("no such feed");
  }
}

let runtime: Runtime;
let handler: JobStatusHandler;
let server: Server;
let base: string;

beforeAll(async () => {
  runtime = configure({ adapter: "async", jobs: [TwoStepJob, FailingJob] });
  handler = jobStatusHandler({ basePath: "/jobs", secret: SECRET, heartbeat: 100 });
  server = createServer(toNodeHandler(handler));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jobs`;
});
afterEach(() => {
  for (const release of gates.values()) release();
});
afterAll(async () => {
  handler.closeStreams();
  await new Promise((resolve) => server.close(resolve));
  await runtime.close();
});

const token = (jobId: string) => statusToken(jobId, { secret: SECRET });
const url = (jobId: string, suffix = "") => `${base}/${jobId}${suffix}?token=${token(jobId)}`;

describe("jobStatusHandler: access rules", () => {
  it("refuses to start without secret or authorize, and names bad options", () => {
    expect(() => jobStatusHandler({ basePath: "/jobs" })).toThrow(/needs an access rule: secret .* or authorize/);
    expect(() => jobStatusHandler({ secret: SECRET, heartbeet: 1 } as never)).toThrow(/unknown option "heartbeet".*"heartbeat"/);
    expect(() => jobStatusHandler({ secret: "short" })).toThrow(/secret is too short/);
    expect(() => jobStatusHandler({ secret: SECRET, basePath: "jobs" })).toThrow(/basePath must be a path starting with "\/"/);
  });

  it("serves a job's status only with its own valid token", async () => {
    const { jobId } = await FailingJob.set({ wait: "1h" }).performLater();
    const other = await FailingJob.set({ wait: "1h" }).performLater();
    expect((await fetch(url(jobId))).status).toBe(200);
    const refused = [
      await fetch(`${base}/${jobId}`),
      await fetch(`${base}/${jobId}?token=${token(other.jobId)}`),
      await fetch(`${base}/${jobId}?token=${statusToken(jobId, { secret: "another-secret-also-long-enough-0123" })}`),
      await fetch(`${base}/${jobId}/events?token=garbage`),
    ];
    for (const response of refused) expect(response.status).toBe(403);
    const body = (await refused[1]!.json()) as { error: string; message: string };
    expect(body).toEqual({ error: "forbidden", message: "status token forged" });
    expect(JSON.stringify(body)).not.toContain(token(other.jobId));
    const short = statusToken(jobId, { secret: SECRET, expiresIn: 1 });
    await waitFor(() => Date.now() > Number.parseInt(short.split(".")[1]!, 36));
    expect(await (await fetch(`${base}/${jobId}?token=${short}`)).json()).toMatchObject({ message: "status token expired" });
    const bearer = await fetch(`${base}/${jobId}`, { headers: { authorization: `Bearer ${token(jobId)}` } });
    expect(bearer.status).toBe(200);
  });

  it("answers 404 for an unknown job (after the token check) and for other paths, 405 for POST", async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect((await fetch(url(unknown))).status).toBe(404);
    expect((await fetch(url(unknown, "/events"))).status).toBe(404);
    expect((await fetch(`${base}/${unknown}`)).status).toBe(403);
    expect((await fetch(`${base}/a/b/c`)).status).toBe(404);
    expect((await fetch(url(unknown), { method: "POST" })).status).toBe(405);
  });

  it("an authorize hook decides per request; with a secret too, both must pass", async () => {
    const hooked = jobStatusHandler({ basePath: "/jobs", authorize: (request) => request.headers.get("x-user") === "ann" });
    const both = jobStatusHandler({ basePath: "/jobs", secret: SECRET, authorize: () => true });
    const { jobId } = await FailingJob.set({ wait: "1h" }).performLater();
    const request = (headers: Record<string, string>, query = "") => new Request(`http://x/jobs/${jobId}${query}`, { headers });
    expect((await hooked(request({ "x-user": "ann" }))).status).toBe(200);
    expect((await hooked(request({ "x-user": "bob" }))).status).toBe(403);
    expect((await both(request({}))).status).toBe(403);
    expect((await both(request({}, `?token=${token(jobId)}`))).status).toBe(200);
  });
});

describe("jobStatusHandler: JSON", () => {
  it("serves the status with the result's JSON form and types, errors without stacks, never cached", async () => {
    const { jobId } = await FailingJob.performLater();
    await waitFor(async () => (await FailingJob.status(jobId))?.state === "failed", { message: "job failed" });
    const response = await fetch(url(jobId));
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: jobId, job: "FailingJob", state: "failed", error: { name: "TypeError", message: "no such feed" } });
    expect(body.error).not.toHaveProperty("stack");
    expect(body.version).toMatch(/^[A-Za-z0-9_-]{16}$/);

    const step = await TwoStepJob.performLater("json");
    await open("json:1");
    await open("json:2");
    await waitFor(async () => (await TwoStepJob.status(step.jobId))?.state === "succeeded", { message: "job done" });
    const done = (await (await fetch(url(step.jobId))).json()) as Record<string, unknown>;
    expect(done.result).toEqual({ name: "json", at: "1970-01-01T00:00:00.000Z" });
    expect(done.resultMeta).toBeDefined();
    expect(done.progress).toEqual({ fraction: 1, message: "all" });
  });
});

describe("jobStatusHandler: Server-Sent Events", () => {
  it("streams the current status, each change, and closes after the final one", async () => {
    const { jobId } = await TwoStepJob.performLater("sse");
    const response = await fetch(url(jobId, "/events"));
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const seen: { id: string; state: unknown; progress: unknown }[] = [];
    const reading = (async () => {
      for await (const event of statusEvents(response.body!)) seen.push({ id: event.id, state: event.status.state, progress: event.status.progress });
    })();
    await waitFor(() => seen.some((e) => e.state === "running"), { message: "running event" });
    await open("sse:1");
    await waitFor(() => seen.some((e) => (e.progress as { fraction?: number } | null)?.fraction === 1), { message: "progress 1" });
    await open("sse:2");
    await reading;
    expect(seen.at(-1)).toMatchObject({ state: "succeeded" });
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    await waitFor(() => handler.openStreams === 0, { message: "stream closed on the server" });
  });

  it("resumes from Last-Event-ID without repeating it, and answers 204 once the client has the final status", async () => {
    const { jobId } = await TwoStepJob.performLater("resume");
    const cut = new AbortController();
    const first = await fetch(url(jobId, "/events"), { signal: cut.signal });
    let lastId = "";
    for await (const event of statusEvents(first.body!)) {
      lastId = event.id;
      if ((event.status.progress as { fraction?: number } | null)?.fraction === 0.5) break;
    }
    cut.abort();
    await waitFor(async () => (await statusWatchers()).watchers === 0, { message: "watcher freed after the cut" });
    await open("resume:1");
    const resumed = await fetch(url(jobId, "/events"), { headers: { "last-event-id": lastId } });
    const after: { id: string; status: Record<string, unknown> }[] = [];
    for await (const event of statusEvents(resumed.body!)) {
      after.push(event);
      if ((event.status.progress as { fraction?: number }).fraction === 1) await open("resume:2");
    }
    expect(after[0]!.id).not.toBe(lastId);
    expect(after[0]!.status.progress).toEqual({ fraction: 1, message: "all" });
    expect(after.at(-1)!.status.state).toBe("succeeded");
    const again = await fetch(url(jobId, "/events"), { headers: { "last-event-id": after.at(-1)!.id } });
    expect(again.status).toBe(204);
  });

  it("sends heartbeats while nothing changes, and frees the watcher when the client goes away", async () => {
    const { jobId } = await TwoStepJob.performLater("gone");
    const controller = new AbortController();
    const response = await fetch(url(jobId, "/events"), { signal: controller.signal });
    let comments = 0;
    const reading = (async () => {
      for await (const event of readEvents(response.body!)) comments += event.comments.length;
    })().catch(() => undefined);
    await waitFor(() => comments >= 2, { message: "two heartbeats" });
    expect(handler.openStreams).toBe(1);
    expect(await statusWatchers()).toMatchObject({ watchers: 1 });
    controller.abort();
    await reading;
    await waitFor(async () => handler.openStreams === 0 && (await statusWatchers()).watchers === 0, { message: "stream and watcher freed" });
  });

  it("beats streams in turns when the interval spans several ticks, and every stream still gets its heartbeats", async () => {
    // 750 ms: three slots, one beaten every 250 ms; four streams, so one slot holds two.
    const turns = jobStatusHandler({ basePath: "/jobs", secret: SECRET, heartbeat: 750 });
    const { jobId } = await TwoStepJob.performLater("turns");
    const counts = [0, 0, 0, 0];
    const bodies = await Promise.all(counts.map(async () => (await turns(new Request(`http://x/jobs/${jobId}/events?token=${token(jobId)}`))).body!));
    const readings = bodies.map((body, i) =>
      (async () => {
        for await (const event of readEvents(body)) counts[i]! += event.comments.length;
      })().catch(() => undefined),
    );
    await waitFor(() => counts.every((count) => count >= 2), { message: "two heartbeats on every stream", timeoutMs: 10_000 });
    expect(turns.openStreams).toBe(4);
    turns.closeStreams();
    await Promise.all(readings);
    expect(turns.openStreams).toBe(0);
  });

  it("closeStreams ends open streams (before server.close)", async () => {
    const { jobId } = await TwoStepJob.performLater("close");
    const response = await fetch(url(jobId, "/events"));
    const events: unknown[] = [];
    const reading = (async () => {
      for await (const event of statusEvents(response.body!)) events.push(event);
    })();
    await waitFor(() => events.length > 0, { message: "first event" });
    handler.closeStreams();
    await reading;
    expect(handler.openStreams).toBe(0);
  });
});

describe("jobStatusHandler: CORS", () => {
  it("sends no CORS headers unless configured, and only to the named origins", async () => {
    const cors = jobStatusHandler({ basePath: "/jobs", secret: SECRET, cors: { origin: ["https://app.example"], credentials: true } });
    const { jobId } = await FailingJob.set({ wait: "1h" }).performLater();
    const from = (origin: string, method = "GET") => cors(new Request(`http://x/jobs/${jobId}?token=${token(jobId)}`, { method, headers: { origin } }));
    const allowed = await from("https://app.example");
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    expect((await from("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await from("https://app.example", "OPTIONS");
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toBe("Authorization, Last-Event-ID");
    expect(() => jobStatusHandler({ secret: SECRET, cors: { origins: "x" } as never })).toThrow(/unknown option "cors.origins".*"cors.origin"/);
  });
});
