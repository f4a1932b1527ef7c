/**
 * Steps of a resumable job (`this.step`, docs/long-jobs.md): the state of one run.
 *
 * A run starts from the progress its payload carries (`continuation`: the steps completed
 * and where the interrupted one stood) and walks the job's `step` calls in order:
 *
 * - a step already completed is skipped (its function is not called);
 * - the step that was interrupted starts again at its saved cursor;
 * - a new step starts at its `start` option (or with no cursor).
 *
 * Each `advance`, `set` and `checkpoint`, and the start of every step after the run's
 * first, is a checkpoint: it asks whether the job must stop (its signal aborted — worker
 * shutdown after the grace, a timeout, a lost lease —, its worker stopping, an operator's
 * interrupt, or a test's interruption). If so it throws a {@link JobInterruptedError}, remembered by the run: the
 * executor saves {@link Continuation.saved} progress and re-enqueues the job
 * (`resumption.ts`). Once interrupted, every later checkpoint throws again, so a swallowed
 * interruption still ends the run.
 *
 * @module
 */
import type { ContinuationProgress, SerializedValue } from "../adapter/payload.js";
import { validateOptions, type OptionSchema } from "../config/validate.js";
import { JobInterruptedError, StepError } from "../errors.js";
import { readCursor, serializeCursor } from "../serializers/arguments.js";

/**
 * Decides at a checkpoint whether the job must stop (the worker's shutdown, a test's
 * interruption). Told where the checkpoint is: in `step` at `cursor`, or between steps
 * (`step` undefined) `after` the one completed last. Positional, not an object: a
 * checkpoint allocates nothing.
 */
export type StopCheck = (step: string | undefined, cursor: unknown, after: string | undefined) => boolean;

/** Options of `this.step`. */
export interface StepOptions<C> {
  /** The cursor a fresh start of the step begins at (a resumed step begins at its saved one). */
  start?: C;
}

const STEP_OPTIONS_SCHEMA: OptionSchema<StepOptions<unknown>> = {
  start: { expected: "a cursor (any storable value)", test: () => true },
};

/** What a run needs from its job. */
export interface StepHost {
  readonly jobName: string;
  readonly signal: AbortSignal;
  /** The worker's stop check, if the job runs under one. */
  readonly stopCheck: StopCheck | undefined;
  /** Shows where the job is in its status (`this.progress` with the job's last fraction). */
  report(message: string): void;
}

// A checkpoint reports where it is at most this often: a status write per advance of a
// 10,000-row loop would cost more than the rows; a second is what a person watching reads.
// A timer says when (a flag a checkpoint reads): reading the clock at every checkpoint
// was most of its cost (~950 instructions per advance with it, callgrind).
const REPORT_EVERY_MS = 1000;

/**
 * A step of a resumable job: its cursor and its checkpoints.
 * @typeParam C - the cursor's type: a number by default (`advance`), or any storable value (`set`).
 */
export class Step<C = number> {
  /** @internal */
  cursorValue: C | undefined;

  /** @internal */
  constructor(
    /** The step's name, unique within the job. */
    readonly name: string,
    private readonly run: Continuation,
    cursor: C | undefined,
    /** Whether the step was interrupted before and starts again at its saved cursor. */
    readonly resumed: boolean,
  ) {
    this.cursorValue = cursor;
  }

  /** Where the step stands: the saved cursor when resumed, else the `start` option (undefined without one). */
  get cursor(): C | undefined {
    return this.cursorValue;
  }

  /**
   * Moves a numeric cursor on by `by` (default 1; from no cursor, starts at 0), then
   * checkpoints. Call it after the work the new cursor stands for is done.
   * @throws StepError when the cursor is not a number; JobInterruptedError when the job must stop.
   */
  advance(by = 1): void {
    const cursor = this.cursorValue ?? 0;
    if (typeof cursor !== "number") throw new StepError(`step "${this.name}": advance() needs a numeric cursor, it holds ${typeof cursor}; use set()`);
    if (typeof by !== "number" || !Number.isFinite(by) || by <= 0) throw new StepError(`step "${this.name}": advance(by) needs a finite number > 0, got ${String(by)}`);
    this.cursorValue = (cursor + by) as C;
    this.run.moved();
    this.run.checkpoint(this);
  }

  /**
   * Sets the cursor (any value arguments may be: superjson types, models as references),
   * then checkpoints.
   * @throws JobInterruptedError when the job must stop.
   */
  set(cursor: C): void {
    this.cursorValue = cursor;
    this.run.moved();
    this.run.checkpoint(this);
  }

  /**
   * Checks whether the job must stop, without moving the cursor.
   * @throws JobInterruptedError when the job must stop.
   */
  checkpoint(): void {
    this.run.checkpoint(this);
  }
}

/** The steps' state of one run of a resumable job. */
export class Continuation {
  private readonly completed: string[];
  private readonly seen = new Set<string>();
  private readonly resumeAt: { step: string; cursor?: SerializedValue } | undefined;
  /** Where the interrupted step stands in the saved order: the number of steps completed before this run. */
  private readonly resumeIndex: number;
  /** Steps called so far in this run, completed ones included. */
  private position = 0;
  private current: Step<unknown> | undefined;
  private stoppedIn: Step<unknown> | undefined;
  private lastCompleted: string | undefined;
  private reportDue = false;
  private reportTimer: NodeJS.Timeout | undefined;
  /** Whether this run made progress: a step completed or a cursor moved. */
  advanced = false;
  /** The interruption thrown, once one was. */
  interruption: JobInterruptedError | undefined;
  /**
   * @internal an operator interrupted this run (`changeJobs({ action: "interrupt" })`, set by
   * the worker, worker/control.ts): its next checkpoint stops it. A field of the run, read at
   * every checkpoint: through a getter of the host it cost ~145 instructions per advance
   * (bench/core/checkpoint.ts at 2M advances: 502; as this field, 357; 356 before interrupts).
   */
  interruptRequested = false;

  constructor(
    private readonly host: StepHost,
    saved: ContinuationProgress | undefined,
  ) {
    this.completed = saved ? [...saved.completed] : [];
    this.resumeAt = saved?.current;
    this.resumeIndex = this.completed.length;
  }

  /** Runs (or skips) one step; see the module comment. */
  async run<C>(name: string, fn: (step: Step<C>) => unknown, options: StepOptions<C> = {}): Promise<void> {
    if (typeof name !== "string" || name.length === 0) throw new StepError(`${this.host.jobName}: a step's name must be a non-empty string, got ${String(name)}`);
    if (typeof fn !== "function") throw new StepError(`${this.host.jobName}: step "${name}" needs a function`);
    validateOptions(options, STEP_OPTIONS_SCHEMA, `the options of step "${name}" of ${this.host.jobName}`);
    if (this.current) throw new StepError(`${this.host.jobName}: step "${name}" was started inside step "${this.current.name}"; steps cannot nest`);
    if (this.seen.has(name)) throw new StepError(`${this.host.jobName}: step "${name}" ran twice; step names must be unique`);
    this.seen.add(name);
    const index = this.position++;
    if (index < this.completed.length) {
      if (this.completed[index] !== name) throw this.mismatch(name, `"${this.completed[index]}" (completed)`, index);
      return;
    }
    // Against the steps completed before this run: once the resumed step completes here,
    // `completed` grows and the next step would otherwise be taken for the interrupted one.
    const resuming = this.resumeAt !== undefined && index === this.resumeIndex;
    if (resuming && this.resumeAt!.step !== name) throw this.mismatch(name, `"${this.resumeAt!.step}" (interrupted)`, index);
    if (this.lastCompleted !== undefined) this.checkpoint(undefined);
    const saved = resuming ? this.resumeAt!.cursor : undefined;
    const step = new Step<C>(name, this, saved === undefined ? options.start : (readCursor(saved) as C), resuming);
    this.current = step as Step<unknown>;
    this.report(step as Step<unknown>);
    try {
      await fn(step);
    } catch (error) {
      // Where the run stopped, for saved(): an error after progress may resume there.
      this.stoppedIn = step as Step<unknown>;
      throw error;
    } finally {
      this.current = undefined;
      clearTimeout(this.reportTimer);
    }
    // A swallowed interruption still ends the run: the step did not finish its work.
    if (this.interruption) {
      this.stoppedIn = step as Step<unknown>;
      throw this.interruption;
    }
    this.completed.push(name);
    this.lastCompleted = name;
    this.advanced = true;
  }

  /** @internal a cursor moved. */
  moved(): void {
    this.advanced = true;
  }

  /** @internal a checkpoint: in `step`, or between steps when undefined. */
  checkpoint(step: Step<unknown> | undefined): void {
    if (this.interruption) throw this.interruption;
    const stop = this.host.stopCheck;
    if (this.interruptRequested || this.host.signal.aborted || (stop !== undefined && (step ? stop(step.name, step.cursorValue, undefined) : stop(undefined, undefined, this.lastCompleted)))) {
      const where = step ? `in step "${step.name}" at cursor ${describeCursor(step.cursorValue)}` : `after step "${this.lastCompleted}"`;
      throw (this.interruption = new JobInterruptedError(this.host.jobName, where));
    }
    if (this.reportDue && step) this.report(step);
  }

  /** Shows where `step` is, and arms the timer that allows the next report. */
  private report(step: Step<unknown>): void {
    this.host.report(describe(step));
    this.reportDue = false;
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => (this.reportDue = true), REPORT_EVERY_MS);
    this.reportTimer.unref();
  }

  /**
   * The progress to store in the re-enqueued payload.
   * @throws SerializationError when the current cursor cannot be stored.
   */
  saved(app: string, resumptions: number): ContinuationProgress {
    const step = this.current ?? this.stoppedIn;
    if (!step || this.completed.includes(step.name)) return { completed: [...this.completed], resumptions };
    const current = step.cursorValue === undefined ? { step: step.name } : { step: step.name, cursor: serializeCursor(step.cursorValue, app) };
    return { completed: [...this.completed], current, resumptions };
  }

  private mismatch(name: string, expected: string, index: number): StepError {
    return new StepError(
      `${this.host.jobName}: step ${index + 1} is "${name}", but the saved progress has ${expected} there; steps must keep their names and order while a job may be resumed`,
    );
  }
}

function describe(step: Step<unknown>): string {
  if (step.cursorValue === undefined) return `step "${step.name}"`;
  return `step "${step.name}" at cursor ${describeCursor(step.cursorValue)}`;
}

/** A cursor for people: numbers and short strings as they are, the rest as JSON cut at 60 characters. */
function describeCursor(cursor: unknown): string {
  if (typeof cursor === "number" || typeof cursor === "bigint") return String(cursor);
  let text: string;
  try {
    text = typeof cursor === "string" ? cursor : (JSON.stringify(cursor) ?? String(cursor));
  } catch {
    text = String(cursor);
  }
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
