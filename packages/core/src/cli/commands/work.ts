/**
 * `errand work`: runs a {@link Worker} against a shared backend until told to stop, one
 * log line per job outcome. A Procfile line is all a deployment needs:
 * `worker: errand work -q critical,2 -q default`.
 *
 * Shutdown, as states:
 *
 * - `running`: the worker reserves and runs jobs.
 * - first SIGTERM/SIGINT → `stopping`: `worker.stop()` stops reserving, hands buffered
 *   jobs back at once, gives running jobs `shutdownGrace` to finish, then aborts and hands
 *   back the rest; then the worker context closes: the runtime's adapters, and with
 *   `--nest` the Nest application (`app.close(signal)`: its shutdown hooks run). The
 *   process exits 0 and says how many jobs were handed back.
 * - a second signal while `stopping` → exit 130 at once. Jobs still running are not handed
 *   back; the backend runs them again when their lease expires (at-least-once), so nothing
 *   is lost, only delayed.
 *
 * @module
 */
import type { Command } from "commander";

import { Worker } from "../../worker/worker.js";
import type { Runtime } from "../../runtime.js";
import { requireSharedBackend } from "../context.js";
import { errorText, integerAtLeast, say } from "../output.js";
import { firstSignal, now } from "../signals.js";
import { openWorkerContext, type WorkerContextCliOptions } from "../worker-context.js";
import { startRelay, type RunningRelay } from "./relay.js";

/** Options of `errand work`. */
export interface WorkOptions extends WorkerContextCliOptions {
  /** Weighted queues; each value may hold several space-separated entries. */
  queues?: string[];
  concurrency?: number;
  prefetch?: number;
  adapter?: string;
  /** False with `--no-recurring`: this worker runs no recurring scheduler. */
  recurring?: boolean;
  /** False with `--no-relay`: no outbox relay beside the worker, even with `config.outbox`. */
  relay?: boolean;
}

/** `25000` → `25s`, `1500` → `1.5s`. */
const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** Prints one short line per outcome of this worker's jobs; returns the unsubscribe function. */
function logOutcomes(runtime: Runtime, workerId: string): () => void {
  const { events } = runtime;
  const offs = [
    events.on("job:complete", ({ payload, durationMs, workerId: by }) => {
      if (by === workerId) say(`${now()} ${payload.job} ${payload.id} completed in ${Math.round(durationMs)} ms`);
    }),
    events.on("job:retry", ({ payload, error, runAt, workerId: by }) => {
      if (by !== workerId) return;
      say(`${now()} ${payload.job} ${payload.id} failed (attempt ${payload.executions}), retry at ${runAt.toISOString()}: ${errorText(error)}`);
    }),
    events.on("job:discard", ({ payload, error, workerId: by }) => {
      if (by === workerId) say(`${now()} ${payload.job} ${payload.id} discarded: ${errorText(error)}`);
    }),
    events.on("job:dead", ({ payload, providerJobId, error, workerId: by }) => {
      if (by === workerId) say(`${now()} ${payload?.job ?? "?"} ${payload?.id ?? providerJobId} dead: ${errorText(error)}`);
    }),
    events.on("recurring:tick", ({ task, tick, jobId, duplicate, workerId: by }) => {
      // Every worker enqueues every tick: the one whose enqueue stored it says so.
      if (by === workerId && !duplicate) say(`${now()} recurring ${task}: tick ${tick.toISOString()} enqueued as ${jobId}`);
    }),
    events.on("worker:warning", ({ message, workerId: by }) => {
      if (by === workerId) process.stderr.write(`${now()} warning: ${message}\n`);
    }),
    events.on("worker:error", ({ error, workerId: by }) => {
      if (by === workerId) process.stderr.write(`${now()} worker error: ${errorText(error)}\n`);
    }),
  ];
  return () => offs.forEach((off) => off());
}

/** Runs a worker until SIGTERM/SIGINT, then shuts it down gracefully. */
export async function work(options: WorkOptions): Promise<void> {
  const context = await openWorkerContext(options);
  const { runtime } = context;
  try {
    const client = await runtime.adapterFor(options.adapter);
    requireSharedBackend(client, "work");
    const worker = new Worker({
      runtime,
      adapter: options.adapter,
      queues: options.queues,
      concurrency: options.concurrency,
      prefetch: options.prefetch,
      // Commander sets true unless --no-recurring: only the flag overrides the config.
      ...(options.recurring === false ? { recurring: false } : {}),
    });
    let released = 0;
    const offStop = runtime.events.on("worker:stop", (event) => {
      if (event.workerId === worker.id) released = event.released;
    });
    const offOutcomes = logOutcomes(runtime, worker.id);
    let relay: RunningRelay | undefined;
    // The worker keeps the process alive while it runs (WorkerOptions.keepAlive).
    try {
      await worker.start();
      // Commander sets true unless --no-relay.
      if (runtime.config.outbox && options.relay !== false) relay = startRelay(runtime);
      const recurring = worker.recurringTasks.length > 0 ? `, recurring ${worker.recurringTasks.join(", ")}` : "";
      const relaying = relay ? ", outbox relay" : "";
      // The handlers before the started line: whoever reads that line may send SIGTERM at
      // once, and the first process.on("SIGTERM") takes milliseconds (Node loads its signal
      // handling then). Said first, a SIGTERM read from it killed the process by the signal
      // in 5 of 24 fault-suite stops on a loaded machine (29 of 40 in a bare Node script).
      const signalled = firstSignal(() => `${worker.runningCount} running job(s) were not handed back and run again when their lease expires`);
      say(`${now()} worker ${worker.id} started: adapter ${client.name}, queues ${worker.queues}, concurrency ${worker.concurrency}${recurring}${relaying}`);
      const signal = await signalled;
      say(
        `${now()} ${signal}: stopping; ${worker.runningCount} running job(s) get up to ${seconds(worker.shutdownGraceMs)} to finish (${signal} again exits at once)`,
      );
      await Promise.all([worker.stop(), relay?.stop()]);
      await runtime.config.outbox?.close();
      say(`${now()} worker ${worker.id} stopped: ${worker.processed} job(s) processed, ${released} released back to the backend`);
      // With --nest, Nest's app.close(signal): its onModuleDestroy, beforeApplicationShutdown
      // (where ErrandModule closes the runtime) and onApplicationShutdown hooks run now.
      await context.close(signal);
    } finally {
      offOutcomes();
      offStop();
    }
  } finally {
    await context.close();
  }
}

/** Adds `work` to the program. */
export function registerWork(program: Command): void {
  program
    .command("work")
    .description("run jobs from a shared backend (redis, postgres, sqs) until SIGTERM/SIGINT")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .option(
      "--nest <module>",
      "run inside a Nest application context of this module, FILE or FILE#EXPORT (default export, else AppModule): Errand's config is its ErrandModule's options (no config file is read; not with --config), Nest builds the jobs (needs @errand/nestjs)",
    )
    .option(
      "-q, --queues <queues...>",
      'queues to work, "name" or "name,weight" (repeatable; "*" = every queue; default: config worker.queues, else "*")',
    )
    .option("-c, --concurrency <n>", "jobs run at once (default: config worker.concurrency, else 10)", integerAtLeast(1))
    .option("--prefetch <n>", "jobs reserved ahead of free slots (default: config worker.prefetch, else adaptive from max(concurrency, 10) up to 200)", integerAtLeast(0))
    .option("--adapter <name>", "named adapter from config.adapters (default: the default adapter)")
    .option("--no-recurring", "do not run the recurring scheduler in this worker (other workers still enqueue the ticks)")
    .option("--no-relay", "do not run the outbox relay in this worker, even when the config has an outbox (run `errand relay` instead)")
    .addHelpText(
      "after",
      `
Examples:
  errand work -q critical,2 -q default,1 -c 20
  errand work --queues '*'
  errand work --nest dist/app.module.js#AppModule -c 20

SIGTERM/SIGINT stops gracefully: running jobs get worker.shutdownGrace (default 25s) to
finish, the rest are handed back to the backend; with --nest, Nest's app.close() then runs
the app's shutdown hooks. A second signal exits at once.`,
    )
    .action((options: WorkOptions) => work(options));
}
