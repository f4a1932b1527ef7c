/**
 * One worker process of the cluster bench (forked by `run.ts`), through Errand's public API
 * only: `configure`, a `Job` class, `new Worker`. It never touches keys itself, so it keeps
 * working whatever the Redis adapter's key layout is.
 *
 * States, driven by the parent's messages: configured (sends `ready`) → `start`: a Worker
 * runs on the given queues → `stop`: the Worker stops, the process sends `stopped` with
 * what it ran → `start` again … → `exit`: the runtime closes and the process ends.
 */
import { performance } from "node:perf_hooks";

import { Job, Worker, configure, type AdapterOptionsSetting } from "@errand/core";

/** What the parent passes (JSON, argv[2]). */
export interface WorkerParams {
  adapter: AdapterOptionsSetting;
  /** Worker `queues` option, e.g. `["a,1", "b,1"]` (weighted, random order per reserve) or `["a", "b"]` (strict order). */
  queues: string[];
  concurrency: number;
}

/** Parent → worker. */
export type ToWorker = { type: "start" } | { type: "stop" } | { type: "exit" };

/** Worker → parent. */
export type FromWorker =
  | { type: "ready" }
  /** Jobs started since `start`, every 20 ms while the Worker runs (so the parent need not poll Redis). */
  | { type: "progress"; starts: number }
  | {
      type: "stopped";
      /** Jobs started since `start`. */
      starts: number;
      /** First and last start, `performance.timeOrigin + performance.now()` (ms, comparable across processes). */
      firstStartAt: number;
      lastStartAt: number;
      /** This process's CPU (user + system) from `start` to `stop`, µs. */
      cpuUs: number;
    };

// A parent that died (its servers gone with it) leaves nothing to report to: end too. Set
// before anything awaits, since a connect to a server that is gone would wait forever.
process.once("disconnect", () => process.exit(0));

const params = JSON.parse(process.argv[2]!) as WorkerParams;
const now = () => performance.timeOrigin + performance.now();
let starts = 0;
let firstStartAt = 0;
let lastStartAt = 0;

/** The bench's job: no work, one number. The parent picks its queue when it enqueues. */
class NoopJob extends Job<[n: number, queue: string], void> {
  static override jobName = "NoopJob";
  async perform(): Promise<void> {
    lastStartAt = now();
    if (starts++ === 0) firstStartAt = lastStartAt;
  }
}

const runtime = configure({ adapter: params.adapter, jobs: [NoopJob], worker: { embedded: false } });
let worker: Worker | undefined;
let progress: NodeJS.Timeout | undefined;
let cpuAtStart = process.cpuUsage();

// With a callback, a failed send (the parent gone) is not an 'error' event; the disconnect handler ends the process.
const send = (message: FromWorker) => {
  if (process.connected) process.send!(message, undefined, undefined, () => undefined);
};

process.on("message", (message: ToWorker) => {
  void (async () => {
    switch (message.type) {
      case "start":
        starts = 0;
        cpuAtStart = process.cpuUsage();
        worker = new Worker({ runtime, queues: params.queues, concurrency: params.concurrency });
        await worker.start();
        progress = setInterval(() => send({ type: "progress", starts }), 20);
        break;
      case "stop": {
        clearInterval(progress);
        await worker?.stop();
        worker = undefined;
        const cpu = process.cpuUsage(cpuAtStart);
        send({ type: "stopped", starts, firstStartAt, lastStartAt, cpuUs: cpu.user + cpu.system });
        break;
      }
      case "exit":
        clearInterval(progress);
        await worker?.stop();
        await runtime.close();
        process.disconnect();
        break;
    }
  })().catch((error: unknown) => {
    console.error("cluster bench worker:", error);
    process.exit(1);
  });
});
// Listening before this first await keeps the IPC channel read, so a parent's death is seen here too.
await (await runtime.adapterFor()).migrate();
send({ type: "ready" });
