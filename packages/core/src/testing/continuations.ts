/**
 * `performContinuable`: runs a resumable job (`this.step`) to its end in this process,
 * interrupting it at chosen checkpoints, as ActiveJob's `Continuation::TestHelper` does.
 * Each run goes through the full execution path with its payload round-tripped through the
 * wire format, so the progress a real worker would save is the progress the next run reads.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";

import type { ContinuationProgress, JobPayload } from "../adapter/contract.js";
import { rules, validateOptions, type OptionSchema } from "../config/validate.js";
import { ConfigError } from "../errors.js";
import { payloadFor } from "../job/enqueuing.js";
import { executeReservation, originalError } from "../job/execution.js";
import type { Job, JobArgs, JobResult } from "../job/job.js";
import { currentRuntime } from "../runtime.js";
import { deserializeResult, readCursor } from "../serializers/arguments.js";

/**
 * Where to interrupt: `{ during: "rows", at: 500 }` at the checkpoint of step "rows" whose
 * cursor equals 500 (deep equality; without `at`, its first checkpoint), or
 * `{ after: "fetch" }` at the checkpoint before the step that follows "fetch".
 */
export interface Interruption {
  /** The step to interrupt in. */
  during?: string;
  /** The cursor to interrupt at (with `during`). */
  at?: unknown;
  /** The step after which to interrupt. */
  after?: string;
}

/** Options of {@link performContinuable}. */
export interface PerformContinuableOptions {
  /** Interruptions, each used once, in order: the next one waits until the previous fired. */
  interrupt?: Interruption[];
  /** Most runs before giving up with an error (default 100): a job that never ends. */
  maxRuns?: number;
}

/** Where a job stood when saved: the steps completed, and the interrupted step's cursor read back. */
export interface SavedProgress {
  completed: string[];
  step: string | undefined;
  cursor: unknown;
  resumptions: number;
}

/** How a {@link performContinuable} run ended. */
export interface ContinuableRun<R> {
  /** `succeeded`, `discarded` (a `discardOn` rule), `retry` (a failure that is no resumption, not run again here) or `dead`. */
  outcome: "succeeded" | "discarded" | "retry" | "dead";
  /** The job's result when it succeeded. */
  result: R | undefined;
  /** The error that ended it, unless it succeeded. */
  error: unknown;
  /** How many runs it took. */
  runs: number;
  /** The progress saved at each resumption (interruptions and errors after progress), in order. */
  resumptions: SavedProgress[];
  /** The progress of the last payload (the dead body's, for a dead job). */
  progress: SavedProgress | undefined;
}

const INTERRUPTION_SCHEMA: OptionSchema<Interruption> = {
  during: rules.nonEmptyString,
  at: { expected: "a cursor", test: () => true },
  after: rules.nonEmptyString,
};

const OPTIONS_SCHEMA: OptionSchema<PerformContinuableOptions> = {
  interrupt: { expected: "an array of interruptions", test: Array.isArray },
  maxRuns: rules.integer(1),
};

/**
 * Runs a resumable job until it ends, interrupting it where `options.interrupt` says and
 * resuming it each time (resume waits are skipped). Does not throw for the job's failure:
 * the outcome and error are in the answer.
 * @throws ConfigError for bad options; Error when the job needs more than `maxRuns` runs.
 * @example
 * const run = await performContinuable(ImportJob, ["rows.csv"], { interrupt: [{ during: "rows", at: 500 }] });
 * expect(run.resumptions[0]).toMatchObject({ step: "rows", cursor: 500 });
 */
export async function performContinuable<J extends Job<any, any>>( // eslint-disable-line @typescript-eslint/no-explicit-any
  jobClass: new (...args: any[]) => J, // eslint-disable-line @typescript-eslint/no-explicit-any
  args: JobArgs<J>,
  options: PerformContinuableOptions = {},
): Promise<ContinuableRun<JobResult<J>>> {
  validateOptions(options, OPTIONS_SCHEMA, "the options of performContinuable");
  const pending = (options.interrupt ?? []).map((interruption, index) => {
    validateOptions(interruption, INTERRUPTION_SCHEMA, `interrupt[${index}] of performContinuable`);
    if ((interruption.during === undefined) === (interruption.after === undefined)) {
      throw new ConfigError(`interrupt[${index}] of performContinuable needs either "during" or "after"`);
    }
    return interruption;
  });
  const stopping = (step: string | undefined, cursor: unknown, after: string | undefined): boolean => {
    const next = pending[0];
    if (next === undefined || !matches(next, step, cursor, after)) return false;
    pending.shift();
    return true;
  };
  const runtime = currentRuntime();
  let payload: JobPayload = payloadFor(new jobClass(...args), {}, runtime);
  const resumptions: SavedProgress[] = [];
  const maxRuns = options.maxRuns ?? 100;
  for (let runs = 1; runs <= maxRuns; runs++) {
    const settlement = await executeReservation({ runtime, workerId: "test", stopping }, { providerJobId: payload.id, body: JSON.stringify(payload) });
    const base = { runs, resumptions };
    switch (settlement.outcome) {
      case "succeeded":
        return { ...base, outcome: "succeeded", result: deserializeResult(settlement.result) as JobResult<J>, error: undefined, progress: savedOf(payload) };
      case "failed":
        return { ...base, outcome: "discarded", result: undefined, error: originalError(settlement), progress: savedOf(payload) };
      case "dead":
        return { ...base, outcome: "dead", result: undefined, error: originalError(settlement), progress: savedOf(settlement.payload ?? payload) };
      case "retry": {
        const before = payload.continuation?.resumptions ?? 0;
        payload = settlement.payload;
        if ((payload.continuation?.resumptions ?? 0) === before) {
          return { ...base, outcome: "retry", result: undefined, error: originalError(settlement), progress: savedOf(payload) };
        }
        resumptions.push(savedOf(payload)!);
        break;
      }
      default:
        throw new Error(`performContinuable: the run ended with outcome ${settlement.outcome}`);
    }
  }
  throw new Error(`performContinuable: ${jobClass.name} did not end within ${maxRuns} runs`);
}

function matches(interruption: Interruption, step: string | undefined, cursor: unknown, after: string | undefined): boolean {
  if (interruption.after !== undefined) return step === undefined && after === interruption.after;
  if (step !== interruption.during) return false;
  return !("at" in interruption) || isDeepStrictEqual(cursor, interruption.at);
}

function savedOf(payload: JobPayload): SavedProgress | undefined {
  const saved: ContinuationProgress | undefined = payload.continuation;
  if (saved === undefined) return undefined;
  const cursor = saved.current?.cursor;
  return { completed: saved.completed, step: saved.current?.step, cursor: cursor === undefined ? undefined : readCursor(cursor), resumptions: saved.resumptions };
}
