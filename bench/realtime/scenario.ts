/**
 * One scenario of the realtime bench, start to end, in fresh processes: a server, a
 * worker, and one client process per 5,000 streams, on a Redis key prefix of its own.
 *
 * Steps: warm-up (1,000 streams get one progress event each and close, so compiled
 * code, node's parser pool and the feed's first subscription are not counted) → baseline (server memory after GC, no
 * stream open, the feed closed) → open N streams → idle memory → one unrecorded progress
 * round, then `rounds` recorded ones (each job reports once per round, spread evenly over
 * `roundMs`) with the server's CPU over them → close every stream → memory again (the feed
 * closed again) → the same N pages polling `GET /jobs/:id` every second for `pollMs`, while
 * the jobs go on reporting at the same pace → teardown, keys deleted.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { statusToken } from "@errand/core";

import { connect, deleteKeys, freshPrefix, REDIS_URL } from "../redis/store.js";
import type { ClientReport, OpenReport, PollReport } from "./client.js";
import { Histogram } from "./histogram.js";
import { Peer, wallNow } from "./ipc.js";
import type { ServerParams, ServerStats } from "./server.js";
import type { Round, WorkerParams } from "./worker.js";

const HERE = fileURLToPath(new URL(".", import.meta.url));
/** Streams per client process: two processes hold 10,000 under `ulimit -n` 20,000 with room to spare. */
const PER_CLIENT = 5_000;
/**
 * Streams of the warm-up cycle. 1,000 fills node:http's pool of free HTTP parsers (it
 * keeps up to 1,000, ~350 bytes each) and gets the hot paths compiled: with a warm-up of
 * 100, 1.1 MB stayed after 1,000 streams closed, and the heap snapshots showed 680 KB of
 * it was compiled code and 350 KB those 900 more pooled parsers — nothing of the streams.
 */
const WARMUP_STREAMS = 1_000;
/** Connects in flight per client: well under the server's accept backlog (4096). */
const MAX_CONNECTING = 200;

/** A scenario: `streams` streams over `jobs` running jobs (each its own, or all one). */
export interface ScenarioSpec {
  key: string;
  label: string;
  streams: number;
  jobs: number;
}

/** How a scenario runs. */
export interface ScenarioOptions {
  rounds: number;
  roundMs: number;
  pollMs: number;
  heartbeatMs: number;
  /** Node flags for the server (`--cpu-prof …`). */
  serverExecArgv: string[];
  /** Heap snapshots of the server at baseline, with the streams open and after they closed (bench/results/profiles/). */
  heapSnapshot: boolean;
}

/** Server memory at one point: heap used + external (after GC), and RSS, bytes. */
export interface Memory {
  heapExternal: number;
  rss: number;
}

/** Everything a scenario measured. */
export interface ScenarioResult {
  spec: ScenarioSpec;
  openMs: number;
  /** Request sent → first status event, per stream. */
  firstEvent: { p50: number; p99: number; max: number };
  latency: { p50: number; p90: number; p99: number; max: number; mean: number; count: number };
  expectedEvents: number;
  events: number;
  heartbeats: number;
  /** Progress events of an earlier round that arrived during the recorded ones (not timed). */
  stale: number;
  errors: string[];
  memory: { baseline: Memory; open: Memory; closed: Memory };
  sse: { windowMs: number; cpuUs: number; requests: number };
  polling: { elapsedMs: number; requests: number; ok: number; failed: number; cpuUs: number; p50: number; p99: number };
  clientCpuUs: number;
}

const memoryOf = (stats: ServerStats): Memory => ({ heapExternal: stats.memory.heapUsed + stats.memory.external, rss: stats.memory.rss });
const cpuOf = (stats: ServerStats): number => stats.cpu.user + stats.cpu.system;

/** Polls `check` every 50 ms until it returns true; throws naming `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs one scenario; every process it started is gone when it returns. */
export async function runScenario(spec: ScenarioSpec, options: ScenarioOptions): Promise<ScenarioResult> {
  const prefix = freshPrefix("realtime");
  const secret = randomBytes(24).toString("base64url");
  const redis = connect();
  const server = new Peer("server", join(HERE, "server.js"), [JSON.stringify({ url: REDIS_URL, prefix, secret, heartbeatMs: options.heartbeatMs } satisfies ServerParams)], options.serverExecArgv);
  const worker = new Peer("worker", join(HERE, "worker.js"), [JSON.stringify({ url: REDIS_URL, prefix, concurrency: spec.jobs + WARMUP_STREAMS } satisfies WorkerParams)]);
  const clients = Array.from({ length: Math.ceil(spec.streams / PER_CLIENT) }, (_, i) => new Peer(`client ${i + 1}`, join(HERE, "client.js"), []));
  try {
    const port = await server.note<number>("ready");
    await worker.note("ready");
    const stats = (gc = false) => server.call<ServerStats>("stats", { gc });
    const eventsUrl = (jobId: string) => `http://127.0.0.1:${port}/jobs/${jobId}/events?token=${statusToken(jobId, { secret, expiresIn: "1h" })}`;
    const statusUrl = (jobId: string) => `http://127.0.0.1:${port}/jobs/${jobId}?token=${statusToken(jobId, { secret, expiresIn: "1h" })}`;
    const all = <T>(type: string, payload?: unknown) => Promise.all(clients.map((client) => client.call<T>(type, payload)));
    const received = async () => (await all<ClientReport>("collect")).reduce((sum, report) => sum + report.events, 0);
    // Closed streams have let go of their watchers, and the hub its Redis subscription (it lingers 2 s).
    const settled = async () => {
      const now = await stats();
      if (now.openStreams > 0 || now.hub.watchers > 0) return false;
      const [, subscribers] = (await redis.pubsub("NUMSUB", `${prefix}:status`)) as [string, number];
      return Number(subscribers) === 0;
    };
    const round = (first: number, count: number, fraction: number) => worker.call("round", { first, count, spreadMs: options.roundMs, fraction } satisfies Round);

    // Warm-up.
    const warm = await worker.call<string[]>("enqueue", { count: WARMUP_STREAMS });
    await clients[0]!.call("open", { urls: warm.map(eventsUrl), maxConnecting: MAX_CONNECTING });
    await clients[0]!.call("record", { on: true });
    await round(0, WARMUP_STREAMS, 0.01);
    await until("the warm-up events", async () => (await clients[0]!.call<ClientReport>("collect")).events >= WARMUP_STREAMS, 10_000);
    await clients[0]!.call("record", { on: false });
    await clients[0]!.call("close");
    const ids = await worker.call<string[]>("enqueue", { count: spec.jobs });
    await until("the warm-up streams to close", settled);
    const baseline = memoryOf(await stats(true));
    const snapshot = async (label: string) => {
      if (options.heapSnapshot) console.error(`  heap snapshot: ${await server.call<string>("snapshot", { label })}`);
    };
    await snapshot("baseline");

    // Open N streams.
    const jobOf = Array.from({ length: spec.streams }, (_, i) => ids[i % spec.jobs]!);
    const share = <T>(list: T[], c: number) => list.slice(c * PER_CLIENT, (c + 1) * PER_CLIENT);
    const urls = jobOf.map(eventsUrl);
    const opening = performance.now();
    const opened = await Promise.all(clients.map((client, c) => client.call<OpenReport>("open", { urls: share(urls, c), maxConnecting: MAX_CONNECTING })));
    const openMs = performance.now() - opening;
    const firstEvent = new Histogram();
    for (const o of opened) firstEvent.merge(o.firstEvent);
    const errors = opened.flatMap((o) => o.firstErrors);
    const openCount = opened.reduce((sum, o) => sum + o.opened, 0);
    if (openCount !== spec.streams) throw new Error(`${openCount} of ${spec.streams} streams opened: ${errors.join("; ")}`);
    const idleStats = await stats(true);
    if (idleStats.openStreams !== spec.streams) throw new Error(`the server has ${idleStats.openStreams} open streams, expected ${spec.streams}`);
    await snapshot("open");

    // Progress rounds: one unrecorded, then the recorded ones.
    const first = WARMUP_STREAMS;
    await round(first, spec.jobs, 0.02);
    await all("record", { on: true, from: wallNow() });
    const before = await stats();
    const begun = performance.now();
    for (let r = 1; r <= options.rounds; r++) await round(first, spec.jobs, 0.02 + (0.9 * r) / options.rounds);
    const expectedEvents = spec.streams * options.rounds;
    await until("every progress event", async () => (await received()) >= expectedEvents, 10_000).catch((error: Error) => errors.push(error.message));
    const after = await stats();
    const windowMs = performance.now() - begun;
    await all("record", { on: false });
    const reports = await all<ClientReport>("collect");
    const latency = new Histogram();
    for (const report of reports) latency.merge(report.latency);
    errors.push(...reports.flatMap((r) => r.firstErrors));

    // Close every stream; memory once the hub has let go.
    await all("close");
    await until("every stream to close and the feed to end", settled);
    const closed = memoryOf(await stats(true));
    await snapshot("closed");

    // The same pages polling every second while the jobs keep reporting at the same pace.
    let polling = true;
    const pacing = (async () => {
      while (polling) await round(first, spec.jobs, 0.5);
    })();
    const pollBefore = await stats();
    const pollBegun = performance.now();
    const pollUrls = jobOf.map(statusUrl);
    const polls = await Promise.all(clients.map((client, c) => client.call<PollReport>("poll", { urls: share(pollUrls, c), intervalMs: 1_000, durationMs: options.pollMs })));
    const pollAfter = await stats();
    const pollMs = performance.now() - pollBegun;
    polling = false;
    await pacing;
    const pollLatency = new Histogram();
    for (const poll of polls) pollLatency.merge(poll.latency);
    errors.push(...polls.flatMap((p) => p.firstErrors));
    const clientCpuUs = reports.reduce((sum, r) => sum + r.cpu.user + r.cpu.system, 0);

    return {
      spec,
      openMs,
      firstEvent: { p50: firstEvent.percentile(50), p99: firstEvent.percentile(99), max: firstEvent.maxMs },
      latency: { p50: latency.percentile(50), p90: latency.percentile(90), p99: latency.percentile(99), max: latency.maxMs, mean: latency.meanMs, count: latency.count },
      expectedEvents,
      events: reports.reduce((sum, r) => sum + r.events, 0),
      heartbeats: reports.reduce((sum, r) => sum + r.heartbeats, 0),
      stale: reports.reduce((sum, r) => sum + r.stale, 0),
      errors,
      memory: { baseline, open: memoryOf(idleStats), closed },
      sse: { windowMs, cpuUs: cpuOf(after) - cpuOf(before), requests: after.requests - before.requests },
      polling: {
        elapsedMs: pollMs,
        requests: pollAfter.requests - pollBefore.requests,
        ok: polls.reduce((sum, p) => sum + p.ok, 0),
        failed: polls.reduce((sum, p) => sum + p.failed, 0),
        cpuUs: cpuOf(pollAfter) - cpuOf(pollBefore),
        p50: pollLatency.percentile(50),
        p99: pollLatency.percentile(99),
      },
      clientCpuUs,
    };
  } finally {
    await Promise.allSettled([worker.call("release"), server.call("close")]);
    for (const peer of [server, worker, ...clients]) peer.disconnect();
    await Promise.all([server, worker, ...clients].map((peer) => peer.exit()));
    await deleteKeys(redis, prefix).catch(() => 0);
    redis.disconnect();
  }
}
