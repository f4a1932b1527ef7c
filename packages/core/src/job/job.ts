/**
 * The `Job` base class. It only assembles the concerns that live in their own files:
 * settings (`settings.ts`, `decorators.ts`), enqueuing (`enqueuing.ts`), execution
 * (`execution.ts`), callbacks (`callbacks.ts`) and error rules (`exceptions.ts`).
 *
 * @module
 */

import type { Duration } from "../duration.js";
import type { JobStatus } from "../status.js";
import type { AfterDiscardHandler, PrioritySetting, QueueSetting } from "./settings.js";
import type { AroundCallback, Callback } from "./callbacks.js";
import type { StaticDiscard, StaticRescue, StaticRetry } from "./exceptions.js";
import type { ConcurrencyOptions, RateLimitOptions, StaticUnique } from "./flow.js";
import type { EnqueuedJob, SetOptions } from "./enqueuing.js";
import { enqueueJobs, enqueueOne, jobStatus, SET_OPTIONS_SCHEMA } from "./enqueuing.js";
import { JOB_WATCH_SCHEMA, watchStatus } from "../status/watch.js";
import { definitionOf } from "./settings.js";
import { performInline } from "./perform.js";
import { validateOptions } from "../config/validate.js";
import { uuidv7 } from "../ids.js";
import { constructJob, takeRestoredId } from "./restoring.js";
import { currentRuntime, markJobBase } from "../runtime.js";
import { jobToRun } from "./building.js";
import type { BatchMembership, ContinuationProgress } from "../adapter/payload.js";
import { batchHandle, type BatchHandle } from "../batch/handle.js";
import { Continuation, type Step, type StepOptions, type StopCheck } from "./steps.js";

/** The mark a constructor that takes services passes to `Job` ({@link Job.injected}). */
const INJECTED: unique symbol = Symbol("errand.injected");

/** A concrete job class whose instances are `J`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobClass<J extends Job<any, any> = Job<any, any>> = (new (...args: any[]) => J) & typeof Job;

/** The arguments of a job's `perform`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobArgs<J extends Job<any, any>> = Parameters<J["perform"]>;

/** What a job's `perform` resolves to. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobResult<J extends Job<any, any>> = Awaited<ReturnType<J["perform"]>>;

/** A job class with options applied by {@link Job.set}. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ConfiguredJob<J extends Job<any, any>> {
  /** Enqueues with the options given to `set`. */
  performLater(...args: JobArgs<J>): Promise<EnqueuedJob>;
  /** Runs now, in this process (options other than `queue`/`priority` do not apply). */
  performNow(...args: JobArgs<J>): Promise<JobResult<J>>;
}

/**
 * Base class of every job. Subclass it, implement `perform`, and enqueue with
 * `performLater`: the arguments must match `perform`'s parameters, and are stored with
 * superjson (models as gid references).
 *
 * @typeParam Args - `perform`'s parameters, e.g. `[user: User, month: Date]`.
 * @typeParam Result - what `perform` returns; stored as the job's result.
 *
 * @example
 * \@queueAs("reports")
 * \@retryOn(ApiTimeoutError, { attempts: 5, wait: "polynomial" })
 * export class ReportJob extends Job<[user: User, month: Date]> {
 *   async perform(user: User, month: Date) {
 *     this.progress(0.5, "fetched");
 *     return { rows: 42 };
 *   }
 * }
 * const { jobId } = await ReportJob.performLater(user, new Date());
 */
export abstract class Job<Args extends unknown[] = unknown[], Result = unknown> {
  static {
    markJobBase(this);
  }

  /** Queue name or function of the job (twin of `@queueAs`). Default `"default"`. */
  declare static queue?: QueueSetting;
  /** Priority, lower first, or a function of the job returning one (twin of `@queueWithPriority`). Default 0. */
  declare static priority?: PrioritySetting;
  /** Retry rules (twin of `@retryOn`): `[[ErrorClass, { attempts, wait, jitter }]]`. */
  declare static retry?: StaticRetry;
  /** Discard rules (twin of `@discardOn`): `[ErrorClass]`. */
  declare static discard?: StaticDiscard;
  /** Rescue rules (twin of `@rescueFrom`): `[[ErrorClass, handler]]`. */
  declare static rescue?: StaticRescue;
  /** Handlers run when the job is discarded or dies (twin of `@afterDiscard`). */
  declare static afterDiscard?: AfterDiscardHandler | readonly AfterDiscardHandler[];
  /** Per-attempt time limit (twin of `@timeout`). */
  declare static timeout?: Duration;
  /** Named adapter this class is pinned to (twin of `@useAdapter`). */
  declare static adapter?: string;
  /** Uniqueness (twin of `@unique`): `{ key?, while, for? }`. */
  declare static unique?: StaticUnique;
  /** Per-key concurrency limit (twin of `@limitConcurrency`): `{ key, limit }`. */
  declare static concurrencyLimit?: ConcurrencyOptions;
  /** Rate limit (twin of `@rateLimit`): `{ limit, per, key? }`. */
  declare static rateLimit?: RateLimitOptions;
  /**
   * Inside `withTransaction`, wait for the app's transaction to commit before enqueueing
   * (Rails 8.2's `enqueue_after_transaction_commit`) when the adapter cannot join it.
   * Default true; false enqueues at once, even inside a transaction (docs/transactions.md).
   */
  declare static enqueueAfterCommit?: boolean;
  /**
   * Most times a resumable job (`this.step`) may be resumed; the interruption after the
   * last ends it dead with `ResumptionLimitError`. Default Infinity (docs/long-jobs.md).
   */
  declare static maxResumptions?: number;
  /** Wait before a resumed run (ms, `"10s"`, `{ seconds: 10 }`). Default 5 seconds. */
  declare static resumeWait?: Duration;
  /**
   * Whether an error thrown after the run made progress (a step completed, a cursor moved)
   * resumes from the last checkpoint, counted as a resumption (default true, as ActiveJob),
   * rather than being retried from the progress the run started with.
   */
  declare static resumeErrorsAfterAdvancing?: boolean;
  /** Name stored in payloads. Default: the class name; set it when code is minified. */
  declare static jobName?: string;
  /** Callbacks (twins of `@beforeEnqueue` and friends). */
  declare static beforeEnqueue?: Callback | readonly Callback[];
  declare static afterEnqueue?: Callback | readonly Callback[];
  declare static aroundEnqueue?: AroundCallback | readonly AroundCallback[];
  declare static beforePerform?: Callback | readonly Callback[];
  declare static afterPerform?: Callback | readonly Callback[];
  declare static aroundPerform?: AroundCallback | readonly AroundCallback[];

  /**
   * What the constructor of a job that takes services hands to `Job`: `super(Job.injected)`.
   * Such a job's arguments are not its constructor's: Errand sets them (the worker from the
   * payload, `performLater` from its own), so the constructor passes this mark instead.
   * @example
   * class SyncJob extends Job<[accountId: number]> {
   *   constructor(private readonly accounts: AccountRepository) {
   *     super(Job.injected);
   *   }
   * }
   */
  static readonly injected: typeof INJECTED = INJECTED;

  /** The arguments given to the constructor (or restored from the payload). */
  readonly arguments: Args;
  /** Errand job id: a random UUID. */
  jobId: string;
  /** The backend's id for this job, once enqueued. */
  providerJobId: string | undefined = undefined;
  /** Which run this is: 1 on the first attempt, 2 on the first retry… 0 before running. */
  executions = 0;
  /** The queue (prefix applied), once enqueued. */
  queueName = "";
  /** Priority, lower first. */
  priority = 0;
  // Restored jobs get ISO strings from the payload, parsed only if read: most jobs never
  // look, and two date parses were a twentieth of a no-op drain.
  private enqueuedAtValue: Date | string | undefined = undefined;
  private scheduledAtValue: Date | string | undefined = undefined;

  /** When the job was first enqueued. */
  get enqueuedAt(): Date | undefined {
    const value = this.enqueuedAtValue;
    return typeof value === "string" ? (this.enqueuedAtValue = new Date(value)) : value;
  }
  set enqueuedAt(value: Date | undefined) {
    this.enqueuedAtValue = value;
  }

  /** When the job is (or was) due to run. */
  get scheduledAt(): Date | undefined {
    const value = this.scheduledAtValue;
    return typeof value === "string" ? (this.scheduledAtValue = new Date(value)) : value;
  }
  set scheduledAt(value: Date | undefined) {
    this.scheduledAtValue = value;
  }

  /** @internal sets the times of a job restored from its payload (ISO strings, parsed on first read). */
  restoreTimes(enqueuedAt: string, scheduledAt: string): void {
    this.enqueuedAtValue = enqueuedAt;
    this.scheduledAtValue = scheduledAt;
  }
  /**
   * @internal the job's signal, or a function that makes it on first read: an
   * AbortController costs more than running a no-op job, and most jobs never look.
   */
  signalSource: AbortSignal | (() => AbortSignal) = NEVER_ABORTED;

  /** Aborted when the worker shuts down, the job's lease is lost, or its timeout passes. */
  get signal(): AbortSignal {
    const source = this.signalSource;
    return typeof source === "function" ? (this.signalSource = source()) : source;
  }
  set signal(signal: AbortSignal) {
    this.signalSource = signal;
  }
  /**
   * Inside `perform`, the batch this job belongs to (`batch()`, docs/batches.md): its `id`,
   * `add(jobs)` to fan out into it, `status()`. `undefined` for a job outside any batch.
   */
  get batch(): BatchHandle | undefined {
    const membership = this.batchMembership;
    return membership === undefined ? undefined : batchHandle(this, membership);
  }
  /** Options set with the instance's {@link Job.set}, used by `enqueue` and `performAllLater`. */
  enqueueOptions: SetOptions = NO_OPTIONS;
  /** @internal progress sink installed by the executor. */
  reportProgress: ((fraction: number, message?: string) => void) | undefined = undefined;
  /** @internal the progress the payload carried (`continuation`), set by the executor. */
  savedProgress: ContinuationProgress | undefined = undefined;
  /** @internal the batch the payload named (`payload.batch`), set by the executor. */
  batchMembership: BatchMembership | undefined = undefined;
  /** @internal the worker's stop check, set by the executor. */
  stopCheck: StopCheck | undefined = undefined;
  /** @internal this run's steps, made by the first {@link Job.step} call. */
  continuationRun: Continuation | undefined = undefined;
  private lastFraction = 0;

  constructor(...args: Args | [injected: typeof INJECTED]) {
    // A constructor that takes services passes the mark: Errand sets the arguments later.
    this.arguments = (args.length === 1 && args[0] === INJECTED ? [] : args) as Args;
    // A job restored from its payload takes its stored id (restoring.ts).
    this.jobId = takeRestoredId(new.target) ?? uuidv7();
  }

  /** The work. Its return value (JSON-serializable, or superjson types) becomes the job's result. */
  abstract perform(...args: Args): Result | Promise<Result>;

  /**
   * Reports progress, stored in the job's status and pushed to subscribers.
   * @param fraction - between 0 and 1.
   * @param message - what is happening, for people ("fetched 4/10 pages").
   */
  progress(fraction: number, message?: string): void {
    if (typeof fraction !== "number" || !(fraction >= 0 && fraction <= 1)) {
      throw new RangeError(`progress: fraction must be between 0 and 1, got ${String(fraction)}`);
    }
    this.lastFraction = fraction;
    this.reportProgress?.(fraction, message);
  }

  /**
   * Runs one step of a resumable job (docs/long-jobs.md). Steps run in the order called;
   * one completed in an earlier run is skipped, one interrupted starts again at its saved
   * cursor. Inside, `step.advance()` / `step.set(cursor)` move the cursor and checkpoint;
   * when the worker shuts down (or the job must otherwise stop) a checkpoint interrupts the
   * job, which is re-enqueued with its progress and resumes there, on any worker.
   * @param name - unique within the job, and stable across deploys while jobs may resume.
   * @param options - `start`: the cursor a fresh start begins at.
   * @throws StepError for a name used twice, nested steps, or steps that do not match the saved progress.
   * @example
   * await this.step("rows", async (step) => {
   *   for (const row of await rowsFrom(file, step.cursor ?? 0)) {
   *     await save(row);
   *     step.advance();
   *   }
   * });
   */
  step<C = number>(name: string, fn: (step: Step<C>) => unknown, options?: StepOptions<C>): Promise<void> {
    let run = this.continuationRun;
    if (run === undefined) {
      const job = this;
      run = this.continuationRun = new Continuation(
        {
          jobName: this.constructor.name,
          get signal() {
            return job.signal;
          },
          stopCheck: this.stopCheck,
          report: (message) => this.reportProgress?.(this.lastFraction, message),
        },
        this.savedProgress,
      );
    }
    return run.run(name, fn, options);
  }

  /**
   * Sets options for this instance's `enqueue` (or `performAllLater`). Returns `this`.
   * @throws ConfigError for an unknown option (naming the nearest valid one) or a value of the wrong kind.
   */
  set(options: SetOptions): this {
    validateOptions(options, SET_OPTIONS_SCHEMA, `the set() options of ${this.constructor.name}`);
    this.enqueueOptions = { ...this.enqueueOptions, ...options };
    return this;
  }

  /** Enqueues this instance with the options from {@link Job.set} and `options`. */
  enqueue(options: SetOptions = {}): Promise<EnqueuedJob> {
    return enqueueOne(this, { ...this.enqueueOptions, ...options });
  }

  /** Runs this instance now, with its perform callbacks and rescue/discard rules. */
  performNow(): Promise<Result> {
    return performInline(this) as Promise<Result>;
  }

  /** Enqueues a job of this class. Arguments are those of `perform`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  static performLater<J extends Job<any, any>>(this: new (...args: any[]) => J, ...args: JobArgs<J>): Promise<EnqueuedJob> {
    let job: J;
    try {
      job = forEnqueue(this, args);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return enqueueOne(job, {});
  }

  /** Runs a job of this class now, in this process, with the same callbacks; resolves to its result. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  static performNow<J extends Job<any, any>>(this: new (...args: any[]) => J, ...args: JobArgs<J>): Promise<JobResult<J>> {
    return jobToRun<J>(currentRuntime().resolve, this, args).then(performInline) as Promise<JobResult<J>>;
  }

  /**
   * An instance holding `args`, built without the subclass's constructor (Job's own runs,
   * the prototype is the subclass's): for `performAllLater` and `enqueue` of a job whose
   * constructor takes services. Its instance fields and services are not there; it is only
   * for enqueueing (the worker builds the instance that performs, with the resolve hook).
   * @example
   * await performAllLater([SyncJob.build(1), SyncJob.build(2).set({ wait: "1h" })]);
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  static build<J extends Job<any, any>>(this: new (...args: any[]) => J, ...args: JobArgs<J>): J {
    return Reflect.construct(Job, args, this) as J;
  }

  /**
   * Options for the next enqueue: `wait` (ms, `"10m"`, `{ minutes: 10 }`), `waitUntil`,
   * `queue`, `priority`, `transaction`, `group`. An unknown option or a value of the wrong
   * kind rejects the enqueue (or run) with `ConfigError`, before anything is stored.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  static set<J extends Job<any, any>>(this: new (...args: any[]) => J, options: SetOptions): ConfiguredJob<J> {
    const jobClass = this;
    return {
      performLater: (...args) => {
        let job: J;
        try {
          job = forEnqueue(jobClass, args);
        } catch (error) {
          return Promise.reject(error as Error);
        }
        return enqueueOne(job, options);
      },
      // Bad options reject, as they do for performLater.
      performNow: (...args) => jobToRun<J>(currentRuntime().resolve, jobClass, args).then((job) => performInline(job.set(options))) as Promise<JobResult<J>>,
    };
  }

  /** The status of a job of this class by id, or `null` when unknown or expired. */
  static status(jobId: string): Promise<JobStatus | null> {
    return jobStatus(this, jobId);
  }

  /**
   * Watches a job of this class through the adapter it uses: the current status first,
   * then each change, ending after a terminal state (see `watchStatus`).
   * @example
   * for await (const status of ReportJob.watch(jobId)) render(status);
   */
  static watch(jobId: string, options: { signal?: AbortSignal } = {}): AsyncIterableIterator<JobStatus> {
    validateOptions(options, JOB_WATCH_SCHEMA, `the watch() options of ${this.name}`);
    const adapter = definitionOf(this).adapter;
    return watchStatus(jobId, adapter === undefined ? options : { ...options, adapter });
  }
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * The instance `performLater` enqueues. With the config's resolve hook a job's constructor
 * may take services, so it is not called: {@link Job.build}. Without one, `new JobClass`,
 * refused when the constructor kept its arguments back (`constructJob`, restoring.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function forEnqueue<J extends Job<any, any>>(jobClass: new (...args: any[]) => J, args: unknown[]): J {
  if (currentRuntime().resolve !== undefined) return Reflect.construct(Job, args, jobClass) as J;
  return constructJob<J>(jobClass, args);
}

/** Options of a job nobody called `set()` on; `set()` replaces it, never changes it. */
const NO_OPTIONS: SetOptions = Object.freeze({});

/**
 * Enqueues many jobs in one round trip per adapter. Each instance may carry options set
 * with `job.set({...})`. As in ActiveJob, enqueue callbacks do not run.
 *
 * @example
 * await performAllLater([new ReportJob(u1, d), new ReportJob(u2, d).set({ wait: "1h" })]);
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function performAllLater(jobs: readonly Job<any, any>[]): Promise<EnqueuedJob[]> {
  return enqueueJobs(jobs);
}
