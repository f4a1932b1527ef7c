/**
 * The worker, one child process: an Errand `Worker` on the scenario's Redis prefix running
 * `HeldJob`s, which stay running until the bench releases them and report progress when
 * the bench says so. Each progress message carries its send time on this machine's wall
 * clock (`t=<performance.timeOrigin + performance.now()>`), so a client can measure
 * `progress()` → event latency.
 *
 *   node --expose-gc bench/dist/realtime/worker.js '<{ url, prefix, concurrency }>'
 *
 * Notes `ready`. Calls (see ipc.ts):
 * - `enqueue { count }`: enqueues `count` held jobs (in one `performAllLater`), waits until
 *   all of them run, answers their ids in order;
 * - `round { first, count, spreadMs, fraction }`: jobs `first … first+count-1` each call
 *   `progress(fraction, "t=…")` once, spread evenly over `spreadMs` (job k at
 *   `k·spreadMs/count`); answers `spreadMs` after it began (rounds called back to back
 *   keep one pace);
 * - `release`: every held job returns, the worker stops, the runtime closes;
 * - `stats`: `process.cpuUsage()`.
 */
import { configure, Job, performAllLater, Worker } from "@errand/core";

import { note, serve, wallNow } from "./ipc.js";

/** What the parent passes on the command line. */
export interface WorkerParams {
  url: string;
  prefix: string;
  concurrency: number;
}

/** A progress round: which held jobs report, over how long. */
export interface Round {
  first: number;
  count: number;
  spreadMs: number;
  fraction: number;
}

const params = JSON.parse(process.argv[2] ?? "null") as WorkerParams | null;
if (!params) throw new Error("worker.ts is started by bench/dist/realtime/run.js with its parameters as JSON");

/** Running held jobs by their index (the job's argument). */
const held = new Map<number, HeldJob>();
let release: () => void = () => {};
const released = new Promise<void>((resolve) => (release = resolve));
let onStarted: (index: number) => void = () => {};

/** A job that runs until the bench releases it, reporting progress on request. */
class HeldJob extends Job<[index: number]> {
  static override jobName = "HeldJob";

  async perform(index: number): Promise<{ index: number }> {
    held.set(index, this);
    onStarted(index);
    await released;
    held.delete(index);
    return { index };
  }

  /** Reports progress stamped with the send time. */
  report(fraction: number): void {
    this.progress(fraction, `t=${wallNow()}`);
  }
}

const runtime = configure({ adapter: { use: "redis", url: params.url, prefix: params.prefix }, jobs: [HeldJob], worker: { embedded: false } });
const worker = new Worker({ runtime, concurrency: params.concurrency });
await worker.start();
let enqueued = 0;

serve({
  enqueue: async ({ count }: { count: number }): Promise<string[]> => {
    const from = enqueued;
    enqueued += count;
    let running = 0;
    let allRunning!: () => void;
    const started = new Promise<void>((resolve) => (allRunning = resolve));
    // Set before enqueuing: a job may start before performAllLater resolves.
    onStarted = (index) => {
      if (index >= from && index < from + count && ++running === count) allRunning();
    };
    const jobs = await performAllLater(Array.from({ length: count }, (_, i) => new HeldJob(from + i)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${running} of ${count} held jobs started within 60 s (concurrency ${params.concurrency})`)), 60_000);
    });
    try {
      await Promise.race([started, late]);
    } finally {
      clearTimeout(timer);
      onStarted = () => {};
    }
    return jobs.map((job) => job.jobId);
  },
  round: async ({ first, count, spreadMs, fraction }: Round): Promise<{ sent: number }> => {
    const jobs: HeldJob[] = [];
    for (let i = first; i < first + count; i++) {
      const job = held.get(i);
      if (!job) throw new Error(`held job ${i} is not running`);
      jobs.push(job);
    }
    // One timer per slot of 1 ms: jobs due in the same ms report together, as they would
    // if they were N separate pages' jobs finishing a step at that moment.
    const start = performance.now();
    let next = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = performance.now() - start;
        while (next < jobs.length && (next * spreadMs) / jobs.length <= elapsed) jobs[next++]!.report(fraction);
        if (next < jobs.length) setTimeout(tick, Math.max(0, (next * spreadMs) / jobs.length - elapsed));
        // A round lasts spreadMs even when its last job reports at once (one job: at 0).
        else setTimeout(resolve, Math.max(0, spreadMs - elapsed));
      };
      tick();
    });
    return { sent: jobs.length };
  },
  release: async () => {
    release();
    await worker.stop();
    await runtime.close();
    setImmediate(() => process.exit(0));
  },
  stats: () => ({ cpu: process.cpuUsage() }),
});
note("ready");
