// Recurring tasks across real `errand work` processes, on Redis and on PostgreSQL: three
// workers each enqueue every tick of a task ticking every second, and the backend keeps one
// job per tick. Ticks are counted from the workers' own logs (each logs the ticks whose
// enqueue stored the job, "recurring process-tick: tick T enqueued as ID"), the runs from the
// file the job appends its id to. A worker is then killed with SIGKILL right after it stored a
// tick: that tick's job still runs once, and the ticks go on, each stored once.
//
// The backends get `capabilities.recurring` from their own branches (issue 13): until an
// adapter has it, its cases are skipped, saying so.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { createAdapter as createPostgres } from "@errand/adapter-postgres";
import { createAdapter as createRedis } from "@errand/adapter-redis";
import type { Adapter } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { WorkerProcess } from "./support/worker-process.js";

const TMP = mkdtempSync(join(tmpdir(), "errand-recurring-"));
const FIXTURES = new URL("./fixtures/recurring/", import.meta.url).pathname;
const TASK = "process-tick";

interface Backend {
  name: string;
  config: string;
  /** A store of the case's own: the workers' environment, and an adapter on it for the test's reads. */
  open(): { env: Record<string, string>; adapter: Adapter };
  cleanup(): Promise<void>;
}

const prefixes: string[] = [];
const schemas: string[] = [];
const BACKENDS: Backend[] = [
  {
    name: "redis",
    config: join(FIXTURES, "redis.config.mjs"),
    open() {
      const prefix = redisPrefix("errand-recurring");
      prefixes.push(prefix);
      const url = redisUrl();
      return { env: { REDIS_URL_FOR_TEST: url, ERRAND_TEST_PREFIX: prefix }, adapter: createRedis({ url, prefix }, { app: "errand", environment: "test" }) as Adapter };
    },
    cleanup: () => dropPrefixes(redisUrl(), prefixes),
  },
  {
    name: "postgres",
    config: join(FIXTURES, "postgres.config.mjs"),
    open() {
      const schema = schemaName("errand_recurring");
      schemas.push(schema);
      const url = postgresUrl();
      return { env: { DATABASE_URL_FOR_TEST: url, ERRAND_TEST_SCHEMA: schema }, adapter: createPostgres({ url, schema }, { app: "errand", environment: "test" }) as Adapter };
    },
    cleanup: () => dropSchemas(postgresUrl(), schemas),
  },
];

const adapters: Adapter[] = [];
afterEach(async () => {
  WorkerProcess.killAll();
  for (const adapter of adapters.splice(0)) await adapter.close();
});
afterAll(async () => {
  for (const backend of BACKENDS) await backend.cleanup();
  rmSync(TMP, { recursive: true, force: true });
});

/** The ticks each worker logged as stored: tick ISO → job ids. */
function storedTicks(workers: readonly WorkerProcess[]): Map<string, string[]> {
  const ticks = new Map<string, string[]>();
  for (const worker of workers) {
    for (const match of worker.stdout.matchAll(/ recurring process-tick: tick (\S+) enqueued as (\S+)\n/g)) {
      ticks.set(match[1]!, [...(ticks.get(match[1]!) ?? []), match[2]!]);
    }
  }
  return ticks;
}

const runsIn = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

/**
 * Every tick stored once, on consecutive seconds; every run is of a stored job; each job of
 * `ran` ran (`exactRuns`: once; else at least once — a job held by a killed worker runs again
 * after its lease, as at-least-once allows). Jobs of ticks stored while the workers stopped
 * may have been handed back unrun: only `ran` must have run.
 */
function expectOncePerTick(ticks: Map<string, string[]>, ran: readonly string[], runs: string[], tails: string, exactRuns = true): void {
  const times = [...ticks.keys()].map((iso) => Date.parse(iso)).sort((a, b) => a - b);
  for (const [tick, ids] of ticks) expect(ids, `tick ${tick} stored ${ids.length} times\n${tails}`).toHaveLength(1);
  times.forEach((time, index) => expect(time, `ticks not consecutive\n${tails}`).toBe(times[0]! + index * 1000));
  const jobs = new Set([...ticks.values()].flat());
  for (const run of runs) expect(jobs.has(run), `a run of ${run}, no stored tick's job\n${tails}`).toBe(true);
  for (const id of ran) {
    const count = runs.filter((run) => run === id).length;
    if (exactRuns) expect(count, `runs of ${id}\n${tails}`).toBe(1);
    else expect(count, `runs of ${id}\n${tails}`).toBeGreaterThanOrEqual(1);
  }
}

/** The job ids of the ticks stored so far, once each has run (the workers still running). */
async function runOf(workers: readonly WorkerProcess[], runs: string, tails: () => string): Promise<string[]> {
  const ids = [...storedTicks(workers).values()].flat();
  await waitFor(() => ids.every((id) => runsIn(runs).includes(id)), { timeoutMs: 10_000, message: `the runs of ${ids.length} stored ticks\n${tails()}` });
  return ids;
}

describe.each(BACKENDS)("recurring tasks across three errand work processes on $name", (backend) => {
  it("over N ticks, N jobs: each tick stored once and run once", async (context) => {
    const { env, adapter } = backend.open();
    adapters.push(adapter);
    if (!adapter.capabilities.recurring) return context.skip(`the ${backend.name} adapter has no capabilities.recurring yet`);
    const runs = join(TMP, `${backend.name}-n.runs`);
    const workers = [1, 2, 3].map(() => new WorkerProcess(backend.config, 2, { ...env, ERRAND_RECURRING_RUNS: runs }));
    const tails = () => workers.map((worker) => worker.tail()).join("\n");
    await Promise.all(workers.map((worker) => worker.started()));
    const N = 5;
    await waitFor(() => storedTicks(workers).size >= N, { timeoutMs: N * 1000 + 10_000, message: `${N} stored ticks\n${tails()}` });
    const ran = await runOf(workers, runs, tails);
    expect(ran.length).toBeGreaterThanOrEqual(N);
    await Promise.all(workers.map((worker) => worker.stop()));
    const ticks = storedTicks(workers);
    expectOncePerTick(ticks, ran, runsIn(runs), tails());
    const [state] = await adapter.recurringState!({ tasks: [TASK] });
    const last = [...ticks.keys()].sort().at(-1)!;
    expect(state).toEqual({ task: TASK, lastTick: new Date(last), jobId: ticks.get(last)![0] });
  });

  it("kill -9 of the worker that stored a tick: the tick still runs once, the next ticks go on", async (context) => {
    const { env, adapter } = backend.open();
    adapters.push(adapter);
    if (!adapter.capabilities.recurring) return context.skip(`the ${backend.name} adapter has no capabilities.recurring yet`);
    const runs = join(TMP, `${backend.name}-kill.runs`);
    const workers = [1, 2, 3].map(() => new WorkerProcess(backend.config, 2, { ...env, ERRAND_RECURRING_RUNS: runs }));
    const tails = () => workers.map((worker) => worker.tail()).join("\n");
    await Promise.all(workers.map((worker) => worker.started()));
    // The first worker to store a tick is killed as soon as it says so.
    const victim = await waitFor(() => workers.find((worker) => storedTicks([worker]).size > 0), { timeoutMs: 10_000, message: `a stored tick\n${tails()}` });
    victim.child.kill("SIGKILL");
    const [killedTick, [killedJob]] = [...storedTicks([victim])][0]!;
    await victim.exit(5000);
    const survivors = workers.filter((worker) => worker !== victim);
    const after = (ticks: Map<string, string[]>) => [...ticks.keys()].filter((tick) => tick > killedTick).length;
    await waitFor(() => after(storedTicks(survivors)) >= 3, { timeoutMs: 15_000, message: `three ticks after the kill\n${tails()}` });
    // The killed tick's job ran (on the victim before it died, or by a survivor after its lease ran out).
    const ran = await runOf(workers, runs, tails);
    expect(ran).toContain(killedJob);
    await Promise.all(survivors.map((worker) => worker.stop()));
    // Ticks the victim logged before the kill count too; a job it held may have run twice.
    expectOncePerTick(storedTicks(workers), ran, runsIn(runs), tails(), false);
  });
});
