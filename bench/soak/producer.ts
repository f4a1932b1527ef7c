/**
 * The producer process of the soak: enqueues `SoakJob`s with `performAllLater`, each batch
 * stamped with the wall-clock time it is handed over, either at a fixed rate (the steady
 * phase) or as fast as it goes (calibration drains, the burst, the scheduled backlog).
 *
 *   node bench/dist/soak/producer.js '<ChildParams>'     (started by run.ts)
 *
 * One call runs at a time (the parent awaits each). Notes `ready`. Calls (../realtime/ipc.ts):
 * - `steady { from, count, rate, tickMs }`: jobs `from … from+count-1` at `rate` per second:
 *   every `tickMs` one batch brings the number enqueued up to `rate × elapsed` (a batch that
 *   took longer than a tick is caught up by the next, at most `MAX_BATCH` per call);
 *   answers `{ elapsedMs, maxBehind }`, the most jobs it was ever behind its schedule
 *   after a batch;
 * - `bulk { from, count, waitMs? }`: as fast as it goes, `MAX_BATCH` a call, `IN_FLIGHT`
 *   calls at once; with `waitMs` every job is scheduled that far ahead (`set({ wait })`);
 *   answers `{ elapsedMs }`;
 * - `report`: the jobs enqueued since the last report;
 * - `close`: closes the runtime and exits.
 */
import { performAllLater } from "@errand/core";

import { note, serve, wallNow } from "../realtime/ipc.js";
import { childParams, SoakJob, soakRuntime } from "./job.js";

/** Jobs in one `performAllLater`: one round trip each; 1,000 keeps a statement or script under a few ms. */
const MAX_BATCH = 1_000;
/** Bulk calls in flight at once: two keep the store busy while the next batch is built. */
const IN_FLIGHT = 2;

const params = childParams("producer.js");
const runtime = soakRuntime(params);
let enqueued = 0;

/** Enqueues jobs `from … from+count-1`, stamped now, optionally all scheduled `waitMs` ahead. */
async function enqueue(from: number, count: number, waitMs?: number): Promise<void> {
  const at = wallNow();
  const jobs = Array.from({ length: count }, (_, i) => {
    const job = new SoakJob(at, from + i);
    return waitMs === undefined ? job : job.set({ wait: waitMs });
  });
  await performAllLater(jobs);
  enqueued += count;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

serve({
  steady: async ({ from, count, rate, tickMs }: { from: number; count: number; rate: number; tickMs: number }) => {
    const start = performance.now();
    let sent = 0;
    let maxBehind = 0;
    for (let tick = 1; sent < count; tick++) {
      const due = Math.min(count, Math.floor((rate * (performance.now() - start)) / 1000));
      while (sent < due) {
        const n = Math.min(due - sent, MAX_BATCH);
        await enqueue(from + sent, n);
        sent += n;
      }
      maxBehind = Math.max(maxBehind, Math.min(count, Math.floor((rate * (performance.now() - start)) / 1000)) - sent);
      // The next tick on the grid from the start; ticks a slow batch overran are skipped.
      const elapsed = performance.now() - start;
      tick = Math.max(tick, Math.ceil(elapsed / tickMs));
      await sleep(Math.max(0, tick * tickMs - elapsed));
    }
    return { elapsedMs: performance.now() - start, maxBehind };
  },
  bulk: async ({ from, count, waitMs }: { from: number; count: number; waitMs?: number }) => {
    const start = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < count) {
        const first = next;
        const n = Math.min(MAX_BATCH, count - first);
        next += n;
        await enqueue(from + first, n, waitMs);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    return { elapsedMs: performance.now() - start };
  },
  report: () => {
    const report = { enqueued };
    enqueued = 0;
    return report;
  },
  close: async () => {
    await runtime.close();
    setImmediate(() => process.exit(0));
  },
});
note("ready");
