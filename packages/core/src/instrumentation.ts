/**
 * The instrumentation seam: tracing and metrics packages (`@errand/opentelemetry`) watch
 * enqueues and performs through it, without core importing any of them.
 *
 * An {@link Instrumentation} is registered in the config (`instrumentation: [...]`) or on a
 * runtime (`runtime.instrument(...)`). Core calls it at two places:
 *
 * - **enqueue**, in the adapter client, once per `enqueue` call (one `performLater`, or
 *   one group of a `performAllLater`), before the payloads are checked and stored: the
 *   hook may write carrier entries into each payload's `headers` (trace context). It gets
 *   back how the call ended. A job written to the outbox meets it twice: at the write, in
 *   the app's context (`outbox: true`, transactions/route.ts), and at the relay's enqueue,
 *   whose payloads carry the headers of the first.
 * - **perform**, in the executor, once per reserved job whose payload was read: the hook
 *   may run the rest of the execution inside its own context (`run`), so what the job does
 *   is attributed to it, and is told how the run ended (succeeded, retry with its error and
 *   next run, failed by a discard rule, dead).
 *
 * Lifecycle of the set of hooks: empty at start; `add` appends, the function it returns
 * removes. With none registered, `enqueue` and `perform` are one length check each
 * (measured with `bench/dist/core/instructions.js`: see docs/observability.md).
 * A hook that throws does not disturb the job: the error is a process warning
 * (`ERRAND_INSTRUMENTATION`), as a throwing event listener's is.
 *
 * @module
 */
import type { EnqueueResult, JobPayload } from "./adapter/contract.js";

/** What an enqueue hook is told about the call it watches. */
export interface EnqueueContext {
  /** The adapter's name (`redis`, `postgres`…). */
  adapter: string;
  /** The payloads about to be stored, in order. A hook may set entries of their `headers`. */
  payloads: readonly JobPayload[];
  /**
   * True when the payloads are written to the outbox, inside the app's transaction, on their
   * way to `adapter` (docs/transactions-outbox.md). The relay's enqueue of them comes later,
   * in another context, with the `headers` written here unchanged: this is where the jobs
   * are made, that is where they reach the backend (and not at all if the transaction rolls back).
   */
  outbox?: boolean;
}

/** How an enqueue call ended: its results (one per payload, in order) or its error. */
export type EnqueueOutcome = { results: readonly EnqueueResult[]; error?: undefined } | { results?: undefined; error: unknown };

/** An enqueue in progress, as a hook follows it. */
export interface EnqueueScope {
  /** Called once, when the call has ended. */
  end(outcome: EnqueueOutcome): void;
}

/** What a perform hook is told about the run it watches. */
export interface PerformContext {
  /** The adapter's name. */
  adapter: string;
  /** The payload as reserved (its `executions` counts the runs before this one). */
  payload: JobPayload;
  /** This run's number: `payload.executions + 1`. */
  attempt: number;
  /** The worker running it. */
  workerId: string;
}

/** How a run ended, as a perform hook is told. */
export type PerformOutcome =
  | { outcome: "succeeded" }
  | { outcome: "retry"; error: unknown; runAt: Date }
  | { outcome: "discarded"; error: unknown }
  | { outcome: "dead"; error: unknown };

/** A run in progress, as a hook follows it. */
export interface PerformScope {
  /** Runs the rest of the execution (the job's perform included) inside the hook's context. */
  run?<T>(fn: () => T): T;
  /** Called once, when the run has ended. */
  end(outcome: PerformOutcome): void;
}

/**
 * Something that watches enqueues and performs: `@errand/opentelemetry`'s
 * `errandInstrumentation()`, or your own. Both hooks are optional; returning nothing from
 * one means "not interested in this one".
 */
export interface Instrumentation {
  /** Names it in warnings. */
  readonly name: string;
  /** Called before an enqueue call's payloads are checked and stored. */
  enqueue?(context: EnqueueContext): EnqueueScope | void;
  /** Called when a reserved job's payload has been read, before its class is looked up. */
  perform?(context: PerformContext): PerformScope | void;
}

function warn(instrumentation: Instrumentation, error: unknown): void {
  const message = `instrumentation "${instrumentation.name}" threw: ${error instanceof Error ? error.message : String(error)}`;
  process.emitWarning(message, { code: "ERRAND_INSTRUMENTATION" });
}

/** The instrumentations in force for one runtime. */
export class Instrumentations {
  /** Registered instrumentations, in order. Read `list.length` for the one check of a hot path. */
  readonly list: Instrumentation[] = [];

  /** Registers `instrumentation`; returns a function that removes it. */
  add(instrumentation: Instrumentation): () => void {
    this.list.push(instrumentation);
    return () => {
      const index = this.list.indexOf(instrumentation);
      if (index >= 0) this.list.splice(index, 1);
    };
  }

  /** Starts every enqueue hook; the scopes to end (empty when none is interested). */
  startEnqueue(context: EnqueueContext): Started<EnqueueScope>[] {
    return this.start<EnqueueContext, EnqueueScope>("enqueue", context);
  }

  /** Starts every perform hook; the scopes to run in and end (empty when none is interested). */
  startPerform(context: PerformContext): Started<PerformScope>[] {
    return this.start<PerformContext, PerformScope>("perform", context);
  }

  /**
   * Calls hook `kind` of each instrumentation in order (by name, so a hooked run allocates
   * no closure); a throw is a warning, not the job's error.
   */
  private start<Context, Scope>(kind: "enqueue" | "perform", context: Context): Started<Scope>[] {
    const started: Started<Scope>[] = [];
    for (const instrumentation of this.list) {
      try {
        const hook = instrumentation[kind] as ((context: Context) => Scope | void) | undefined;
        const scope = hook?.call(instrumentation, context);
        if (scope) started.push({ instrumentation, scope });
      } catch (error) {
        warn(instrumentation, error);
      }
    }
    return started;
  }
}

/** A scope and the instrumentation it came from (named in warnings). */
export interface Started<Scope> {
  instrumentation: Instrumentation;
  scope: Scope;
}

/** Ends every scope with `outcome`; a scope that throws is a warning. */
export function endScopes<Outcome>(started: readonly Started<{ end(outcome: Outcome): void }>[], outcome: Outcome): void {
  for (const { instrumentation, scope } of started) {
    try {
      scope.end(outcome);
    } catch (error) {
      warn(instrumentation, error);
    }
  }
}

/** Runs `fn` inside every scope's `run`, the first registered outermost. */
export function runInScopes<T>(started: readonly Started<PerformScope>[], fn: () => T): T {
  let wrapped = fn;
  for (let index = started.length - 1; index >= 0; index--) {
    const scope = started[index]!.scope;
    // `run`'s own errors are the job's: it calls the execution, which never throws.
    if (scope.run) {
      const inner = wrapped;
      wrapped = () => scope.run!(inner);
    }
  }
  return wrapped();
}
