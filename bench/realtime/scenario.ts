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
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { statusToken } from "@errand/core";

import { connect, deleteKeys, freshPrefix, REDIS_URL, serverCpuUs } from "../redis/store.js";
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

/**
 * A scenario: `streams` streams over `jobs` running jobs (each its own, or all one), and
 * `rounds` recorded progress rounds of `roundMs` each (every job reports once per round).
 */
export interface ScenarioSpec {
  key: string;
  label: string;
  streams: number;
  jobs: number;
  rounds: number;
  roundMs: number;
}

/** How a scenario runs. */
export interface ScenarioOptions {
  /** Overrides every scenario's `rounds`. */
  rounds: number | undefined;
  /** Overrides every scenario's `roundMs`. */
  roundMs: number | undefined;
  pollMs: number;
  heartbeatMs: number;
  /** Node flags for the server (`--cpu-prof …`). */
  serverExecArgv: string[];
  /** CPU profiles of the server over the recorded rounds and the polling, into this directory. */
  profileDir: string | undefined;
  /** Stamp events as the server writes them (`ServerStats.written`): splits the server's part from the client's. */
  split: boolean;
  /**
   * Pin the server to CPU 0 and the clients to CPU 1 (`taskset`), so the clients do not run
   * on the server's core: as when the browsers are other machines.
   */
  pin: boolean;
  /** Heap snapshots of the server at baseline, with the streams open and after they closed (bench/results/profiles/). */
  heapSnapshot: boolean;
}

/** Server memory at one point: heap used + external (after GC), and RSS, bytes. */
export interface Memory {
  heapExternal: number;
  rss: number;
}

/** A latency's p50, p99 and max, ms. */
export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

const percentiles = (h: Histogram): Percentiles => ({ p50: h.percentile(50), p99: h.percentile(99), max: h.maxMs });

/** Everything a scenario measured. */
export interface ScenarioResult {
  /** The scenario as run (options applied). */
  spec: ScenarioSpec;
  openMs: number;
  /** Request sent → first status event, per stream. */
  firstEvent: Percentiles;
  latency: Percentiles & { p90: number; mean: number; count: number };
  /** The latency's two parts, split at the stored `updatedAt` (see `ClientReport`). */
  toStore: Percentiles;
  fromStore: Percentiles;
  /** With `split`: `progress()` → the server's `res.write` of the event. */
  written: Percentiles | null;
  expectedEvents: number;
  events: number;
  heartbeats: number;
  /** Progress events of an earlier round that arrived during the recorded ones (not timed). */
  stale: number;
  errors: string[];
  memory: { baseline: Memory; open: Memory; closed: Memory };
  /**
   * Over the recorded rounds: `cpuPressure`, the share of the time some task of the machine
   * waited for a CPU (see `cpuPressureUs`); the server's CPU, `cpuUs`, of which `systemUs` in
   * the kernel (a socket write on loopback does the receiver's TCP work too); the client
   * processes' CPU (`clientCpuUs`) and redis-server's (`redisCpuUs`, INFO cpu: the whole
   * server, other users included).
   */
  sse: { windowMs: number; cpuPressure: number; cpuUs: number; systemUs: number; requests: number; clientCpuUs: number; redisCpuUs: number };
  polling: { elapsedMs: number; cpuPressure: number; requests: number; ok: number; failed: number; cpuUs: number; systemUs: number; p50: number; p99: number };
}

/**
 * Time so far in which some runnable task of the machine waited for a CPU (Linux PSI,
 * /proc/pressure/cpu "some", µs); undefined where there is none. Over a window, its share of
 * the window says how contended the machine was: the machine is shared, and a process
 * waiting for a CPU delays events as much as slow code.
 */
export function cpuPressureUs(): number | undefined {
  try {
    const some = /^some .*total=(\d+)/m.exec(readFileSync("/proc/pressure/cpu", "utf8"));
    return some ? Number(some[1]) : undefined;
  } catch {
    return undefined;
  }
}

const pressureShare = (before: number | undefined, ms: number): number => {
  const after = cpuPressureUs();
  return before === undefined || after === undefined ? NaN : (after - before) / 1000 / ms;
};

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
  const rounds = options.rounds ?? spec.rounds;
  const roundMs = options.roundMs ?? spec.roundMs;
  const prefix = freshPrefix("realtime");
  const secret = randomBytes(24).toString("base64url");
  const redis = connect();
  const server = new Peer("server", join(HERE, "server.js"), [JSON.stringify({ url: REDIS_URL, prefix, secret, heartbeatMs: options.heartbeatMs, split: options.split } satisfies ServerParams)], options.serverExecArgv);
  const worker = new Peer("worker", join(HERE, "worker.js"), [JSON.stringify({ url: REDIS_URL, prefix, concurrency: spec.jobs + WARMUP_STREAMS } satisfies WorkerParams)]);
  const clients = Array.from({ length: Math.ceil(spec.streams / PER_CLIENT) }, (_, i) => new Peer(`client ${i + 1}`, join(HERE, "client.js"), []));
  if (options.pin) {
    // -a: every thread of the process (libuv's pool, V8's GC helpers) too.
    execFileSync("taskset", ["-a", "-p", "-c", "0", String(server.pid)], { stdio: "ignore" });
    for (const client of clients) execFileSync("taskset", ["-a", "-p", "-c", "1", String(client.pid)], { stdio: "ignore" });
  }
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
    const round = (first: number, count: number, fraction: number) => worker.call("round", { first, count, spreadMs: roundMs, fraction } satisfies Round);

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
    const from = wallNow();
    await all("record", { on: true, from });
    await server.call("record", { from });
    const profile = async (phase: string | null) => {
      if (options.profileDir) await server.call("profile", { path: phase && join(options.profileDir, `realtime-${spec.key}-${phase}.cpuprofile`) });
    };
    await profile("sse");
    const before = await stats();
    const pressureBefore = cpuPressureUs();
    const redisBefore = await serverCpuUs(redis);
    const begun = performance.now();
    for (let r = 1; r <= rounds; r++) await round(first, spec.jobs, 0.02 + (0.9 * r) / rounds);
    const expectedEvents = spec.streams * rounds;
    await until("every progress event", async () => (await received()) >= expectedEvents, 10_000).catch((error: Error) => errors.push(error.message));
    const after = await stats();
    const windowMs = performance.now() - begun;
    const ssePressure = pressureShare(pressureBefore, windowMs);
    const redisCpuUs = (await serverCpuUs(redis)) - redisBefore;
    await profile(null);
    await all("record", { on: false });
    const reports = await all<ClientReport>("collect");
    const latency = new Histogram();
    const toStore = new Histogram();
    const fromStore = new Histogram();
    for (const report of reports) {
      latency.merge(report.latency);
      toStore.merge(report.toStore);
      fromStore.merge(report.fromStore);
    }
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
    await profile("polling");
    const pollBefore = await stats();
    const pollPressureBefore = cpuPressureUs();
    const pollBegun = performance.now();
    const pollUrls = jobOf.map(statusUrl);
    const polls = await Promise.all(clients.map((client, c) => client.call<PollReport>("poll", { urls: share(pollUrls, c), intervalMs: 1_000, durationMs: options.pollMs })));
    const pollAfter = await stats();
    const pollMs = performance.now() - pollBegun;
    const pollPressure = pressureShare(pollPressureBefore, pollMs);
    await profile(null);
    polling = false;
    await pacing;
    const pollLatency = new Histogram();
    for (const poll of polls) pollLatency.merge(poll.latency);
    errors.push(...polls.flatMap((p) => p.firstErrors));
    const written = after.written ? percentiles(new Histogram().merge(after.written)) : null;

    return {
      spec: { ...spec, rounds, roundMs },
      openMs,
      firstEvent: percentiles(firstEvent),
      latency: { ...percentiles(latency), p90: latency.percentile(90), mean: latency.meanMs, count: latency.count },
      toStore: percentiles(toStore),
      written,
      fromStore: percentiles(fromStore),
      expectedEvents,
      events: reports.reduce((sum, r) => sum + r.events, 0),
      heartbeats: reports.reduce((sum, r) => sum + r.heartbeats, 0),
      stale: reports.reduce((sum, r) => sum + r.stale, 0),
      errors,
      memory: { baseline, open: memoryOf(idleStats), closed },
      sse: { windowMs, cpuPressure: ssePressure, cpuUs: cpuOf(after) - cpuOf(before), systemUs: after.cpu.system - before.cpu.system, requests: after.requests - before.requests, clientCpuUs: reports.reduce((sum, r) => sum + r.cpu.user + r.cpu.system, 0), redisCpuUs },
      polling: {
        elapsedMs: pollMs,
        cpuPressure: pollPressure,
        requests: pollAfter.requests - pollBefore.requests,
        ok: polls.reduce((sum, p) => sum + p.ok, 0),
        failed: polls.reduce((sum, p) => sum + p.failed, 0),
        cpuUs: cpuOf(pollAfter) - cpuOf(pollBefore),
        systemUs: pollAfter.cpu.system - pollBefore.cpu.system,
        p50: pollLatency.percentile(50),
        p99: pollLatency.percentile(99),
      },
    };
  } finally {
    await Promise.allSettled([worker.call("release"), server.call("close")]);
    for (const peer of [server, worker, ...clients]) peer.disconnect();
    await Promise.all([server, worker, ...clients].map((peer) => peer.exit()));
    await deleteKeys(redis, prefix).catch(() => 0);
    redis.disconnect();
  }
}
