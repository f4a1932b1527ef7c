// Faults with real worker processes (`errand work`, spawned as users run it) on Redis:
// kill -9 mid-run, the worker's connections killed by the server (twice mid-run, once
// idle), a malformed job hash and an unknown job name, SIGTERM mid-run. Each case counts
// its jobs and the jobs lost, and asserts none were lost.
//
// This is a *.redis.test.ts because it reads raw keys: "lost" is judged on the queue's
// keys themselves (each job hash's `state` and `exe`, the `ready`, `active`, `finished`
// and `dead` sets), the ground truth no portable API can vouch for: a job whose hash says
// `queued` but that sits in no set would never run again, and only the raw keys show it.
// Runs are counted from a file the jobs write to (fixtures/postgres-faults/jobs.mjs,
// re-exported by fixtures/redis-faults/jobs.mjs): a lease that expires uncounts `exe`, so
// the hashes alone cannot say what ran twice. Bad jobs are written with raw commands.
//
// Each case has a key prefix of its own, and its worker a connection name of its own
// (`clientOptions: { connectionName }` in the config), so CLIENT LIST tells the worker's
// connections from those of other test files running at the same time; the test's own
// connection is named "errand-faults-test".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { KeyLayout, RedisAdapter, type QueueKeys } from "@errand/adapter-redis";
import { configure, performAllLater } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { SlowJob, TickJob } from "./fixtures/redis-faults/jobs.mjs";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { countRuns, printSummary, WorkerProcess } from "./support/worker-process.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONFIG = join(ROOT, "test/fixtures/redis-faults/errand.config.mjs");
const RUNS_DIR = mkdtempSync(join(tmpdir(), "errand-redis-faults-"));
const QUEUE = "default";

const url = redisUrl();
const redis = new Redis(url, { connectionName: "errand-faults-test" });
const prefixes: string[] = [];

afterEach(() => WorkerProcess.killAll());

afterAll(async () => {
  redis.disconnect();
  await dropPrefixes(url, prefixes);
  rmSync(RUNS_DIR, { recursive: true, force: true });
});

/** One case: its key prefix (dropped after the file), its worker's connection name, its jobs. */
class Case {
  readonly prefix = redisPrefix("errand-faults");
  readonly connectionName = `${this.prefix}-worker`;
  readonly layout = new KeyLayout(this.prefix);
  readonly keys: QueueKeys = this.layout.queue(QUEUE);
  readonly runsFile = join(RUNS_DIR, `${this.prefix}.runs`);
  /** Ids of the jobs enqueued through Errand, by argument: job n has id `ids[n]`. */
  readonly ids: string[] = [];
  /** Ids of jobs written with raw commands. */
  readonly rawIds: string[] = [];

  constructor() {
    prefixes.push(this.prefix);
  }

  /** Enqueues `count` jobs (arguments first…first+count-1) through the adapter, on the test's own connection. */
  async enqueue(jobClass: typeof TickJob | typeof SlowJob, count: number, first = 0): Promise<void> {
    expect(first, "arguments are enqueued in order").toBe(this.ids.length);
    const runtime = configure({ adapter: this.adapter() });
    try {
      const enqueued = await performAllLater(Array.from({ length: count }, (_, n) => new jobClass(first + n)));
      expect(enqueued.every((job) => job.enqueued && job.queue === QUEUE)).toBe(true);
      this.ids.push(...enqueued.map((job) => job.providerJobId));
    } finally {
      await runtime.close();
    }
  }

  /** An adapter on the test's connection (`client`: closing it leaves the connection open). */
  adapter(): RedisAdapter {
    return new RedisAdapter({ client: redis, prefix: this.prefix });
  }

  get allIds(): string[] {
    return [...this.ids, ...this.rawIds];
  }
}


/** An `errand work` process for one case: its prefix, connection name and runs file. */
function startWorker(c: Case, concurrency: number): WorkerProcess {
  return new WorkerProcess(CONFIG, concurrency, {
    REDIS_URL_FOR_TEST: url,
    ERRAND_TEST_PREFIX: c.prefix,
    ERRAND_TEST_CONNECTION_NAME: c.connectionName,
    ERRAND_TEST_RUNS: c.runsFile,
  });
}

/** Runs recorded by a case's jobs. */
function runs(c: Case): ReturnType<typeof countRuns> {
  return countRuns(c.runsFile);
}

/** One job hash as stored: `missing` when there is no hash for the id. */
interface JobRecord {
  id: string;
  state: string;
  exe: number;
  /** Lease token: set while leased, dropped by a settle, a release or a lease expiry. */
  tok: string | null;
  /** Start of the latest lease, ms (Redis clock). */
  sta: number | null;
}

async function readJobs(c: Case, ids: readonly string[]): Promise<JobRecord[]> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(c.keys.job + id, "state", "exe", "tok", "sta");
  const replies = (await pipeline.exec()) ?? [];
  return ids.map((id, index) => {
    const [error, fields] = replies[index]!;
    if (error) throw error;
    const [state, exe, tok, sta] = fields as (string | null)[];
    return { id, state: state ?? "missing", exe: Number(exe ?? 0), tok: tok ?? null, sta: sta === null || sta === undefined ? null : Number(sta) };
  });
}

const SETS = ["ready", "scheduled", "retrying", "active", "finished", "dead"] as const;

interface Tally {
  /** Jobs of the case per hash state (`missing`: no hash at all). */
  states: Record<string, number>;
  /** Sum of the hashes' `exe`. */
  executions: number;
  /** Members of each of the queue's sets. */
  sets: Record<(typeof SETS)[number], number>;
  records: JobRecord[];
}

async function tally(c: Case): Promise<Tally> {
  const records = await readJobs(c, c.allIds);
  const states: Record<string, number> = {};
  for (const record of records) states[record.state] = (states[record.state] ?? 0) + 1;
  const cards = await Promise.all(SETS.map((set) => redis.zcard(c.keys[set])));
  return {
    states,
    executions: records.reduce((sum, record) => sum + record.exe, 0),
    sets: Object.fromEntries(SETS.map((set, index) => [set, cards[index]!])) as Tally["sets"],
    records,
  };
}

function describeTally(t: Tally): string {
  return `jobs by state: ${JSON.stringify(t.states)}; sets: ${JSON.stringify(t.sets)}`;
}

/**
 * Waits until at least `count` jobs of the case have finished. Polls the `finished` set (one
 * ZCARD, cheap at 10,000 jobs); it holds succeeded and discarded jobs, and none of these
 * can be discarded: each case then checks every job's hash.
 */
async function untilSucceeded(c: Case, count: number, worker: WorkerProcess, timeoutMs: number): Promise<void> {
  try {
    await waitFor(async () => (await redis.zcard(c.keys.finished)) >= count, { timeoutMs, intervalMs: 25, message: `${count} jobs succeeded` });
  } catch (error) {
    throw new Error(`${(error as Error).message}; ${describeTally(await tally(c))}\n${worker.tail()}`);
  }
}

/** Jobs not `succeeded` at the end: in another state, or with no hash left. */
function lost(jobs: number, end: Tally): number {
  return jobs - (end.states.succeeded ?? 0);
}

interface Connection {
  id: string;
  /** A subscribed connection (the wake-up channel), as opposed to the command connection. */
  pubsub: boolean;
}

/** The worker's connections, from CLIENT LIST, by the connection name the config gave it. */
async function workerConnections(c: Case): Promise<Connection[]> {
  const list = (await redis.call("CLIENT", "LIST")) as string;
  return list.split("\n").flatMap((line) => {
    const fields = new Map(
      line
        .trim()
        .split(" ")
        .filter(Boolean)
        .map((field) => [field.slice(0, field.indexOf("=")), field.slice(field.indexOf("=") + 1)] as const),
    );
    if (fields.get("name") !== c.connectionName) return [];
    const pubsub = Number(fields.get("sub") ?? 0) + Number(fields.get("psub") ?? 0) > 0 || (fields.get("flags") ?? "").includes("P");
    return [{ id: fields.get("id")!, pubsub }];
  });
}

/** Waits until the worker has a command and a pub/sub connection, none of them among `gone`. */
async function untilConnected(c: Case, worker: WorkerProcess, gone: ReadonlySet<string>, message: string): Promise<Connection[]> {
  try {
    return await waitFor(
      async () => {
        const fresh = (await workerConnections(c)).filter((connection) => !gone.has(connection.id));
        return fresh.some((connection) => connection.pubsub) && fresh.some((connection) => !connection.pubsub) && fresh;
      },
      { timeoutMs: 10_000, intervalMs: 10, message },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; named connections: ${JSON.stringify(await workerConnections(c))}\n${worker.tail()}`);
  }
}

/** Kills every connection of the worker from the server side (CLIENT KILL ID); returns them. */
async function killConnections(c: Case): Promise<Connection[]> {
  const killed: Connection[] = [];
  for (const connection of await workerConnections(c)) {
    if (Number(await redis.call("CLIENT", "KILL", "ID", connection.id)) === 1) killed.push(connection);
  }
  return killed;
}

/** Subscribers of the case's wake-up channel, as the server counts them. */
async function wakeSubscribers(c: Case): Promise<number> {
  const reply = (await redis.call("PUBSUB", "NUMSUB", c.layout.wakeChannel)) as [string, number];
  return Number(reply[1]);
}

/** The one-line summary of a case, to quote. */
function summary(name: string, fields: Record<string, number | string>): void {
  printSummary("redis", name, fields);
}

describe("redis faults with real worker processes", () => {
  it("kill -9 mid-run, 10,000 jobs: a second worker finishes them, none lost, stranded jobs run again after their lease", async () => {
    const jobs = 10_000;
    const c = new Case();
    const started = performance.now();
    await c.enqueue(TickJob, jobs);
    const enqueuedMs = performance.now() - started;

    const first = startWorker(c, 20);
    await untilSucceeded(c, 3_000, first, 30_000);
    first.child.kill("SIGKILL");
    expect((await first.exit(5_000)).signal).toBe("SIGKILL");
    // The server applies what the dead worker had sent before it frees its connections:
    // once they are gone, the keys hold everything the worker ever wrote.
    await waitFor(async () => (await workerConnections(c)).length === 0, { timeoutMs: 5_000, message: "the killed worker's connections closed" });
    // Leased by the dead worker (running, in its buffer, or done but not settled yet), with
    // the lease deadlines it left: they come back only when those pass.
    const flat = await redis.zrange(c.keys.active, 0, -1, "WITHSCORES");
    const deadlines = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) deadlines.set(flat[i]!, Number(flat[i + 1]));
    const atKill = await tally(c);
    expect(atKill.states.missing ?? 0, describeTally(atKill)).toBe(0);
    expect(atKill.states.running ?? 0, describeTally(atKill)).toBe(deadlines.size);
    expect(deadlines.size, `the worker held no job when killed: nothing was stranded\n${first.tail()}`).toBeGreaterThan(0);
    expect(atKill.states.succeeded ?? 0, "the worker finished every job before the kill").toBeLessThan(jobs);

    const second = startWorker(c, 20);
    await untilSucceeded(c, jobs, second, 30_000);
    const drainedMs = performance.now() - started;
    await second.stop();

    const end = await tally(c);
    const ran = runs(c);
    expect(end.states, describeTally(end)).toEqual({ succeeded: jobs });
    expect(end.sets).toEqual({ ready: 0, scheduled: 0, retrying: 0, active: 0, finished: jobs, dead: 0 });
    expect(ran.distinct).toBe(jobs);
    expect(ran.total).toBeGreaterThanOrEqual(jobs);
    // Only a job the dead worker held may have run twice…
    expect(ran.repeated.filter((n) => !deadlines.has(c.ids[n]!))).toEqual([]);
    // …and each of those was leased again only once its lease had run out: its latest start
    // (Redis clock, like the deadline) is not before the deadline the dead worker left.
    const stranded = await readJobs(c, [...deadlines.keys()]);
    expect(stranded.filter((job) => job.state !== "succeeded" || job.sta === null || job.sta < deadlines.get(job.id)!)).toEqual([]);
    expect(lost(jobs, end)).toBe(0);
    summary("kill -9", {
      jobs,
      succeeded: end.states.succeeded ?? 0,
      lost: lost(jobs, end),
      "succeeded at kill": atKill.states.succeeded ?? 0,
      "stranded at kill": deadlines.size,
      "ran twice (runs recorded)": ran.total - jobs,
      "ran twice (sum of exe)": end.executions - jobs,
      "enqueue ms": Math.round(enqueuedMs),
      "total ms": Math.round(drainedMs),
    });
  }, 60_000);

  it("the server kills the worker's connections twice mid-run and once while idle: it reconnects and finishes, none lost, a later job still wakes it", async () => {
    const jobs = 5_000;
    const late = 500;
    const c = new Case();
    const worker = startWorker(c, 10);
    // Idle on an empty queue, the worker waits on its pub/sub connection: both of its
    // connections show up in CLIENT LIST under the name the config gave it.
    await untilConnected(c, worker, new Set(), "the idle worker's command and pub/sub connections");
    const started = performance.now();
    await c.enqueue(TickJob, jobs);

    const gone = new Set<string>();
    const killed: string[] = [];
    for (const threshold of [1_000, 3_000]) {
      // 10 s, well under the 30 s poll: the first jobs are started by the enqueue's wake-up
      // (the worker waited on a prefix with no queue yet), not by the idle worker's poll.
      await untilSucceeded(c, threshold, worker, 10_000);
      // Both connections must be there (back, after the first kill) for the kill to prove anything.
      await untilConnected(c, worker, gone, `the worker's connections before the kill at ${threshold} done`);
      const done = await redis.zcard(c.keys.finished);
      const cut = await killConnections(c);
      for (const connection of cut) gone.add(connection.id);
      killed.push(`${cut.filter((x) => !x.pubsub).length} command + ${cut.filter((x) => x.pubsub).length} pub/sub`);
      expect(done, "the kill came after the last job: not mid-run").toBeLessThan(jobs);
      expect(cut.filter((x) => !x.pubsub).length).toBeGreaterThan(0);
      expect(cut.filter((x) => x.pubsub).length).toBeGreaterThan(0);
    }
    await untilSucceeded(c, jobs, worker, 30_000);
    const drainedMs = performance.now() - started;

    // Idle: nothing left to run, the worker waits on the wake channel. Kill both connections.
    await untilConnected(c, worker, gone, "the idle worker's connections");
    const idleCut = await killConnections(c);
    for (const connection of idleCut) gone.add(connection.id);
    killed.push(`${idleCut.filter((x) => !x.pubsub).length} command + ${idleCut.filter((x) => x.pubsub).length} pub/sub`);
    expect(idleCut.filter((x) => x.pubsub).length).toBeGreaterThan(0);
    // Back: new connections, the new pub/sub one subscribed to this prefix's wake channel.
    await untilConnected(c, worker, gone, "new connections after the idle kill");
    await waitFor(async () => (await wakeSubscribers(c)) === 1, { timeoutMs: 10_000, message: "the wake channel subscribed again" });
    // The idle worker's next poll is ~30 s away (pollInterval in the config): only the
    // wake-up published by the enqueue can start these jobs within the deadline.
    const lateStarted = performance.now();
    await c.enqueue(TickJob, late, jobs);
    await untilSucceeded(c, jobs + late, worker, 10_000);
    const lateMs = performance.now() - lateStarted;
    expect(worker.child.exitCode, worker.tail()).toBeNull();
    await worker.stop();

    const total = jobs + late;
    const end = await tally(c);
    const ran = runs(c);
    expect(end.states, describeTally(end)).toEqual({ succeeded: total });
    expect(end.sets).toEqual({ ready: 0, scheduled: 0, retrying: 0, active: 0, finished: total, dead: 0 });
    expect(ran.distinct).toBe(total);
    expect(lost(total, end)).toBe(0);
    summary("connections killed", {
      jobs: total,
      succeeded: end.states.succeeded ?? 0,
      lost: lost(total, end),
      "connections killed (1,000 done | 3,000 done | idle)": killed.join(" | "),
      "worker error lines": worker.stderr.split("\n").filter((line) => line.includes("worker error")).length,
      "ran twice (runs recorded)": ran.total - total,
      "ran twice (sum of exe)": end.executions - total,
      "5,000 drained ms": Math.round(drainedMs),
      "500 late jobs done in ms": Math.round(lateMs),
      "total ms": Math.round(performance.now() - started),
    });
  }, 60_000);

  it("a job hash whose body is not JSON and one naming an unregistered job end dead with the reason; 100 good jobs succeed, the worker goes on", async () => {
    const jobs = 100;
    const c = new Case();
    const started = performance.now();
    await c.enqueue(TickJob, jobs / 2);
    // Two jobs written the way the adapter stores them, bypassing its encoding (as the
    // conformance suite's insertRaw does): one body not JSON, one a valid payload of a job
    // no worker knows.
    // Ids sort ghost first: the dead list is compared in id order.
    const malformed = "raw-malformed";
    const unknown = "raw-ghost";
    const now = Date.now();
    const ghost = { v: 1, job: "GhostJob", id: unknown, queue: QUEUE, priority: 0, args: { json: [] }, executions: 0, enqueuedAt: new Date(now).toISOString(), runAt: new Date(now).toISOString() };
    for (const [id, job, body] of [
      [malformed, "raw", "{this is not json"],
      [unknown, "GhostJob", JSON.stringify(ghost)],
    ] as const) {
      const score = 1_048_576 * 2 ** 32 + Number(await redis.incr(c.keys.seq));
      await redis.hset(c.keys.job + id, { body, job, queue: QUEUE, priority: 0, state: "queued", exe: 0, run: now, enq: now, upd: now, score });
      await redis.zadd(c.keys.ready, score, id);
      c.rawIds.push(id);
    }

    const worker = startWorker(c, 5);
    const until = async (message: string, done: (t: Tally) => boolean) => {
      try {
        await waitFor(async () => done(await tally(c)), { timeoutMs: 15_000, intervalMs: 25, message });
      } catch (error) {
        throw new Error(`${(error as Error).message}; ${describeTally(await tally(c))}\n${worker.tail()}`);
      }
    };
    await until(`${jobs / 2} succeeded and 2 dead`, (t) => t.states.succeeded === jobs / 2 && t.states.dead === 2);
    // The worker goes on after the bad jobs: the second half, enqueued now, runs too.
    await c.enqueue(TickJob, jobs / 2, jobs / 2);
    await until(`${jobs} succeeded`, (t) => t.states.succeeded === jobs);
    const drainedMs = performance.now() - started;
    expect(worker.child.exitCode, worker.tail()).toBeNull();
    await worker.stop();

    const adapter = c.adapter();
    const dead = (await adapter.listDead({ queue: QUEUE })).sort((a, b) => a.id.localeCompare(b.id));
    await adapter.close();
    expect(dead.map((job) => ({ id: job.id, message: job.error.message }))).toEqual([
      { id: unknown, message: expect.stringMatching(/^unknown job class "GhostJob"/) },
      { id: malformed, message: expect.stringMatching(/^malformed payload: not JSON/) },
    ]);
    const end = await tally(c);
    expect(end.states, describeTally(end)).toEqual({ succeeded: jobs, dead: 2 });
    expect(end.sets).toEqual({ ready: 0, scheduled: 0, retrying: 0, active: 0, finished: jobs, dead: 2 });
    expect((await redis.zrange(c.keys.dead, 0, -1)).sort()).toEqual([unknown, malformed].sort());
    expect(runs(c)).toEqual({ total: jobs, distinct: jobs, repeated: [] });
    expect(lost(jobs, end)).toBe(0);
    summary("bad jobs", {
      jobs,
      succeeded: end.states.succeeded ?? 0,
      lost: lost(jobs, end),
      dead: end.states.dead ?? 0,
      "dead reasons": dead.map((job) => JSON.stringify(job.error.message)).join(" | "),
      "total ms": Math.round(drainedMs),
    });
  }, 40_000);

  it("SIGTERM mid-run: the worker exits 0 by itself, unfinished jobs are handed back, a second worker drains them, none lost", async () => {
    const jobs = 200;
    const c = new Case();
    const started = performance.now();
    await c.enqueue(SlowJob, jobs);

    const first = startWorker(c, 10);
    await untilSucceeded(c, 30, first, 30_000);
    await first.stop();
    const stopped = first.stdout.match(/stopped: (\d+) job\(s\) processed, (\d+) released back/);
    expect(stopped, first.tail()).not.toBeNull();

    const afterStop = await tally(c);
    const handedBack = afterStop.records.filter((job) => job.state === "queued");
    expect(afterStop.states.running ?? 0, describeTally(afterStop)).toBe(0);
    expect(Object.keys(afterStop.states).filter((state) => state !== "succeeded" && state !== "queued")).toEqual([]);
    expect((afterStop.states.succeeded ?? 0) + handedBack.length).toBe(jobs);
    expect(handedBack.length).toBeGreaterThan(0);
    // No lease left behind, and every queued job is back in `ready`, where a reserve finds it.
    expect(afterStop.sets.active).toBe(0);
    expect(afterStop.sets.ready).toBe(handedBack.length);
    // A hand-back uncounts the start and drops the lease: the job is as it was enqueued.
    expect(handedBack.filter((job) => job.exe !== 0 || job.tok !== null)).toEqual([]);

    const second = startWorker(c, 10);
    await untilSucceeded(c, jobs, second, 30_000);
    const drainedMs = performance.now() - started;
    await second.stop();

    const end = await tally(c);
    const ran = runs(c);
    expect(end.states, describeTally(end)).toEqual({ succeeded: jobs });
    expect(end.sets).toEqual({ ready: 0, scheduled: 0, retrying: 0, active: 0, finished: jobs, dead: 0 });
    expect(ran.distinct).toBe(jobs);
    // Running jobs finished within the grace and the rest never started: nothing ran twice.
    expect(ran.total).toBe(jobs);
    expect(lost(jobs, end)).toBe(0);
    summary("SIGTERM", {
      jobs,
      succeeded: end.states.succeeded ?? 0,
      lost: lost(jobs, end),
      "succeeded at stop": afterStop.states.succeeded ?? 0,
      "queued at stop (released + never reserved)": handedBack.length,
      "worker said processed/released": `${stopped![1]}/${stopped![2]}`,
      "ran twice (runs recorded)": ran.total - jobs,
      "ran twice (sum of exe)": end.executions - jobs,
      "total ms": Math.round(drainedMs),
    });
  }, 40_000);
});
