/**
 * A worker process of the soak: an Errand `Worker` on the backend's adapter running
 * `SoakJob`s, recording each job's enqueue → start latency (its start on this machine's
 * wall clock minus the producer's stamp in its arguments) into a histogram the parent
 * collects once per period.
 *
 *   node bench/dist/soak/worker.js '<ChildParams>'     (started by run.ts)
 *
 * States: idle (runtime configured, no `Worker`) → `start` → working → `stop` → idle …;
 * `close` stops it if working, closes the runtime and exits. Starts are counted in every
 * state a job can start in (working, and while `stop` lets running jobs finish).
 *
 * Notes `ready`. Calls (see ../realtime/ipc.ts):
 * - `start`: a fresh `Worker` starts; answers the wall time it was asked to;
 * - `stop`: the worker stops (running jobs finish);
 * - `count`: `{ started, lastStartAt }` since the process began (for the calibration drain);
 * - `record`: from now on each start's wall time is kept (calibration: a few 10k at most);
 * - `timeline`: the start times kept since `record`, which stops keeping them;
 * - `report`: the period's `{ histogram, started }` (both reset; the parent reads RSS from
 *   /proc itself);
 * - `close`: stops, closes the runtime, exits.
 */
import { Worker } from "@errand/core";

import { Histogram } from "../realtime/histogram.js";
import { note, serve, wallNow } from "../realtime/ipc.js";
import { childParams, setOnStart, soakRuntime } from "./job.js";

const params = childParams("worker.js");
const runtime = soakRuntime(params);
const period = new Histogram();
let periodStarted = 0;
let started = 0;
let lastStartAt = 0;
let worker: Worker | undefined;
let timeline: number[] | undefined;

setOnStart((enqueuedAt) => {
  const now = wallNow();
  period.record(now - enqueuedAt);
  periodStarted++;
  started++;
  lastStartAt = now;
  timeline?.push(now);
});

async function stop(): Promise<void> {
  const running = worker;
  worker = undefined;
  await running?.stop();
}

serve({
  start: async () => {
    if (worker) throw new Error("the worker is already working");
    const at = wallNow();
    worker = new Worker({ runtime, concurrency: params.concurrency, queues: params.queues, recurring: false });
    await worker.start();
    return at;
  },
  stop,
  count: () => ({ started, lastStartAt }),
  record: () => {
    timeline = [];
  },
  timeline: () => {
    const kept = timeline ?? [];
    timeline = undefined;
    return kept;
  },
  report: () => {
    const report = { histogram: period.toJSON(), started: periodStarted };
    period.reset();
    periodStarted = 0;
    return report;
  },
  close: async () => {
    await stop();
    await runtime.close();
    setImmediate(() => process.exit(0));
  },
});
note("ready");
