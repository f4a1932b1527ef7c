/**
 * One drain of the cluster bench: on emptied servers, fork the worker processes, warm them
 * up, enqueue the jobs (not timed), start every worker at once, and time the drain from the
 * first job start until no job is left queued or running (so every settle has landed),
 * reading each server's CPU and command counters around it.
 *
 * The parent's part goes through the public API too: `configure`, `performAllLater`,
 * `listQueues`.
 */
import { fork, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

import { Job, configure, listQueues, performAllLater, type AdapterOptionsSetting } from "@errand/core";

import { CpuSampler } from "./sampler.js";
import { flush, serverCounters, type Server } from "./servers.js";
import type { FromWorker, ToWorker, WorkerParams } from "./worker.js";

const WORKER = fileURLToPath(new URL("./worker.js", import.meta.url));
const WARMUP_PER_WORKER = 1000;
const DRAIN_CAP_MS = 120_000;
const now = () => performance.timeOrigin + performance.now();

/** One measured setup. */
export interface Setup {
  name: string;
  target: "standalone" | "cluster";
  queues: string[];
  /** `weighted`: every queue weight 1, so each reserve tries them in a fresh random order; `strict`: always in the listed order. */
  order: "weighted" | "strict";
}

/** What one drain gave. */
export interface Drain {
  jobsPerSecond: number;
  enqueueJobsPerSecond: number;
  /** Per server (in the order given): CPU µs per job over the drain, commands per job, keys after the enqueue. */
  nodes: { port: number; cpuUsPerJob: number; cpuShareOfCore: number; commandsPerJob: number; keysAfterEnqueue: number }[];
  workerCpuUsPerJob: number;
  /**
   * The busiest server's share of all servers' CPU, per 100 ms sample of the drain, averaged
   * (weighted by CPU): 1 when one server does all the work at any moment (one server, one
   * queue, or queues drained one at a time), 1/3 when three share it evenly.
   */
  busiestNodeShare: number;
  /** Jobs each worker process started. */
  startsPerWorker: number[];
}

/** Options of one drain. */
export interface DrainOptions {
  jobs: number;
  workers: number;
  concurrency: number;
}

/** The parent's twin of the worker's job class: same name, queue picked from the second argument. */
class NoopJob extends Job<[n: number, queue: string], void> {
  static override jobName = "NoopJob";
  static override queue = (job: NoopJob) => job.arguments[1];
  async perform(): Promise<void> {}
}

function adapterFor(setup: Setup, servers: readonly Server[]): AdapterOptionsSetting {
  return setup.target === "cluster"
    ? { use: "redis", nodes: servers.map(({ host, port }) => ({ host, port })), prefix: "bench" }
    : { use: "redis", url: `redis://${servers[0]!.host}:${servers[0]!.port}`, prefix: "bench" };
}

/** A pause between polls; not a wait for anything in particular. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until no job of `queues` is queued, scheduled, running or retrying, polling `listQueues`. */
async function drained(queues: readonly string[], capMs: number): Promise<void> {
  const deadline = Date.now() + capMs;
  for (;;) {
    const left = (await listQueues()).filter((q) => queues.includes(q.name)).reduce((sum, q) => sum + q.queued + q.scheduled + q.running + q.retrying, 0);
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`drain not finished after ${capMs} ms (${left} jobs left)`);
    await pause(5);
  }
}

/** Worker processes alive now: killed on the bench's exit, whatever ends it (an error, Ctrl-C). */
const alive = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of alive) child.kill("SIGKILL");
});

/** A forked worker process and a way to wait for its next message of a kind. */
class WorkerProcess {
  private readonly waiting = new Map<string, (message: FromWorker) => void>();
  private readonly child: ChildProcess;
  /** Jobs started since the last `start`, as last reported. */
  starts = 0;
  private onProgress: () => void = () => undefined;
  readonly exited: Promise<number | null>;

  constructor(params: WorkerParams) {
    this.child = fork(WORKER, [JSON.stringify(params)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (message: FromWorker) => {
      if (message.type === "progress") {
        this.starts = message.starts;
        return this.onProgress();
      }
      const resolve = this.waiting.get(message.type);
      this.waiting.delete(message.type);
      resolve?.(message);
    });
    alive.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code) => {
        alive.delete(this.child);
        resolve(code);
      }),
    );
  }

  next<T extends FromWorker["type"]>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    return Promise.race([
      new Promise<Extract<FromWorker, { type: T }>>((resolve) => this.waiting.set(type, resolve as (m: FromWorker) => void)),
      this.exited.then((code) => Promise.reject(new Error(`a worker process exited with ${code} while the bench waited for "${type}"`))),
    ]);
  }

  /** Calls `listener` at each progress report. */
  watch(listener: () => void): void {
    this.onProgress = listener;
  }

  send(message: ToWorker): void {
    if (message.type === "start") this.starts = 0;
    if (this.child.connected) this.child.send(message);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/**
 * Waits until the workers together report `count` starts (their progress messages, no Redis
 * traffic), then until the queues are empty (every settle landed).
 */
async function finished(workers: readonly WorkerProcess[], count: number, queues: readonly string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fewer than ${count} jobs started within ${DRAIN_CAP_MS} ms`)), DRAIN_CAP_MS);
    const check = () => {
      if (workers.reduce((sum, w) => sum + w.starts, 0) < count) return;
      clearTimeout(timer);
      resolve();
    };
    for (const w of workers) w.watch(check);
  });
  await drained(queues, DRAIN_CAP_MS);
}

/** `count` jobs from `from` on, dealt round-robin over `queues`. */
function jobs(from: number, count: number, queues: readonly string[]): NoopJob[] {
  return Array.from({ length: count }, (_, i) => new NoopJob(from + i, queues[i % queues.length]!));
}

/** Runs one drain of `setup` on `servers` (emptied first: they are the bench's own). */
export async function measureDrain(setup: Setup, servers: readonly Server[], options: DrainOptions): Promise<Drain> {
  await Promise.all(servers.map(flush));
  const adapter = adapterFor(setup, servers);
  const runtime = configure({ adapter, jobs: [NoopJob], worker: { embedded: false } });
  const queues = setup.order === "weighted" ? setup.queues.map((q) => `${q},1`) : setup.queues;
  const workers = Array.from({ length: options.workers }, () => new WorkerProcess({ adapter, queues, concurrency: options.concurrency }));
  try {
    await (await runtime.adapterFor()).migrate();
    await Promise.all(workers.map((w) => w.next("ready")));

    // Warm-up: every worker process runs a few hundred jobs before the timed drain.
    await performAllLater(jobs(0, WARMUP_PER_WORKER * options.workers, setup.queues));
    for (const w of workers) w.send({ type: "start" });
    await finished(workers, WARMUP_PER_WORKER * options.workers, setup.queues);
    await Promise.all(workers.map((w) => (w.send({ type: "stop" }), w.next("stopped"))));

    const enqueueStart = now();
    await performAllLater(jobs(1_000_000, options.jobs, setup.queues));
    const enqueueJobsPerSecond = options.jobs / ((now() - enqueueStart) / 1000);

    const before = await Promise.all(servers.map(serverCounters));
    const sampler = await CpuSampler.start(servers, 100);
    for (const w of workers) w.send({ type: "start" });
    await finished(workers, options.jobs, setup.queues);
    const endAt = now();
    const busiestNodeShare = await sampler.stop();
    const after = await Promise.all(servers.map(serverCounters));
    const stopped = await Promise.all(workers.map((w) => (w.send({ type: "stop" }), w.next("stopped"))));

    const starts = stopped.reduce((sum, s) => sum + s.starts, 0);
    if (starts !== options.jobs) throw new Error(`${setup.name}: ${starts} jobs started, ${options.jobs} enqueued`);
    const firstStartAt = Math.min(...stopped.filter((s) => s.starts > 0).map((s) => s.firstStartAt));
    const seconds = (endAt - firstStartAt) / 1000;
    return {
      jobsPerSecond: options.jobs / seconds,
      enqueueJobsPerSecond,
      nodes: servers.map((server, i) => {
        const cpuS = after[i]!.cpuS - before[i]!.cpuS;
        return {
          port: server.port,
          cpuUsPerJob: (cpuS * 1e6) / options.jobs,
          cpuShareOfCore: cpuS / seconds,
          // Includes the bench's own: a few INFO/DBSIZE reads and the final listQueues polls.
          commandsPerJob: (after[i]!.commands - before[i]!.commands) / options.jobs,
          keysAfterEnqueue: before[i]!.keys,
        };
      }),
      busiestNodeShare,
      workerCpuUsPerJob: stopped.reduce((sum, s) => sum + s.cpuUs, 0) / options.jobs,
      startsPerWorker: stopped.map((s) => s.starts),
    };
  } finally {
    for (const w of workers) w.send({ type: "exit" });
    const exits = Promise.all(workers.map((w) => w.exited));
    const late = setTimeout(() => workers.forEach((w) => w.kill()), 10_000);
    await exits;
    clearTimeout(late);
    await runtime.close();
  }
}
