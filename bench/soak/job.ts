/**
 * The soak's job and what every child process shares: one no-op job class, `SoakJob`,
 * whose arguments carry the wall-clock time it was handed to `performAllLater`, and the
 * parameters a child gets on its command line.
 */
import { configure, Job, type AdapterOptionsSetting, type Runtime } from "@errand/core";

/** What the parent passes to the producer and to each worker, as JSON in argv[2]. */
export interface ChildParams {
  /** The adapter as `configure` takes it (the backend's, with the soak's retention). */
  adapter: AdapterOptionsSetting;
  /** Queues the worker takes (`"default"` for SQS, which cannot list queues; else `"*"`). */
  queues: string;
  /** Jobs one worker runs at once. */
  concurrency: number;
}

/** Reads the parameters a child was started with, or explains how to start it. */
export function childParams(script: string): ChildParams {
  const raw = process.argv[2];
  if (!raw) throw new Error(`${script} is a child of bench/dist/soak/run.js (npm run bench:soak); run that instead`);
  return JSON.parse(raw) as ChildParams;
}

/** Called with `(enqueuedAt, n)` each time a `SoakJob` starts in this process. */
let onStart: (enqueuedAt: number, n: number) => void = () => {};

/** Sets what a job start does in this process (the worker records its latency). */
export function setOnStart(handler: (enqueuedAt: number, n: number) => void): void {
  onStart = handler;
}

/**
 * A job that does nothing but tell the process it started. `enqueuedAt` is the producer's
 * wall clock (`performance.timeOrigin + performance.now()`) when its batch was handed to
 * `performAllLater`; `n` numbers the jobs of a run.
 */
export class SoakJob extends Job<[enqueuedAt: number, n: number], void> {
  static override jobName = "SoakJob";

  async perform(enqueuedAt: number, n: number): Promise<void> {
    onStart(enqueuedAt, n);
  }
}

/** The child's runtime: the adapter from the parent, `SoakJob`, no embedded worker. */
export function soakRuntime(params: ChildParams): Runtime {
  return configure({ adapter: params.adapter, jobs: [SoakJob], worker: { embedded: false } });
}
