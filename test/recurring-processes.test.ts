// Recurring tasks across real `errand work` processes, on Redis, on PostgreSQL, and on SQS
// with each shared status store (Redis, PostgreSQL): three workers each enqueue every tick of
// a task ticking every second, and the backend keeps one job per tick. Ticks are counted from
// the workers' own logs (each logs the ticks whose enqueue stored the job, "recurring
// process-tick: tick T enqueued as ID"), the runs from the file the job appends its id to. A
// worker is then killed with SIGKILL right after it stored a tick: that tick's job still runs
// once, and the ticks go on, each stored once. SQS's own crash window (a tick claimed in the
// store, the process killed before SQS has the message) is test/recurring-sqs-crash.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Adapter } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { recurringBackends, runsIn, storedTicks, TASK } from "./support/recurring-backends.js";
import { WorkerProcess } from "./support/worker-process.js";

const TMP = mkdtempSync(join(tmpdir(), "errand-recurring-"));
const { redis, postgres, sqsRedis, sqsPostgres } = recurringBackends();
const BACKENDS = [redis, postgres, sqsRedis, sqsPostgres];
// The kill after a stored tick asks nothing of SQS's store that the Redis store's case does
// not: on SQS + PostgreSQL store the crash cases are those of recurring-sqs-crash (6 s saved).
const KILL_BACKENDS = [redis, postgres, sqsRedis];

const adapters: Adapter[] = [];
afterEach(async () => {
  WorkerProcess.killAll();
  for (const adapter of adapters.splice(0)) await adapter.close();
});
afterAll(async () => {
  for (const backend of BACKENDS) await backend.cleanup();
  rmSync(TMP, { recursive: true, force: true });
});

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
    const runs = join(TMP, `${backend.slug}-n.runs`);
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
});

describe.each(KILL_BACKENDS)("recurring tasks across three errand work processes on $name: a kill", (backend) => {
  it("kill -9 of the worker that stored a tick: the tick still runs once, the next ticks go on", async (context) => {
    const { env, adapter } = backend.open();
    adapters.push(adapter);
    if (!adapter.capabilities.recurring) return context.skip(`the ${backend.name} adapter has no capabilities.recurring yet`);
    const runs = join(TMP, `${backend.slug}-kill.runs`);
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
