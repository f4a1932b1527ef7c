/**
 * The inline adapter (`adapter: "inline"`): runs each job at enqueue, in the caller,
 * through the same execution path as a worker (callbacks, error rules, status). There is
 * no later, so a `wait` is refused (`maxDelayMs: 0`) and a failed job is not retried:
 * `performLater` rejects with the job's error and the job is recorded as dead. A job
 * dropped by `discardOn`, or handled by `rescueFrom`, does not reject.
 *
 * @module
 */
import { executeReservation, originalError } from "../job/execution.js";
import type { Runtime } from "../runtime.js";
import { memoryCapabilities } from "../memory/adapter.js";
import { type Adapter, type EnqueueOptions, type EnqueueResult, type Settlement } from "../adapter/contract.js";
import { TestAdapter } from "./test-adapter.js";

/** Runs jobs as they are enqueued. */
export class InlineAdapter extends TestAdapter implements Adapter {
  override readonly name = "inline";
  /**
   * Unique jobs and recurring ticks as the in-memory store decides them; no concurrency or
   * rate limits, since each job runs in its caller at once (no later to wait for); no
   * batches, whose callbacks are stored by a settle, where nothing runs them.
   */
  override readonly capabilities = { ...memoryCapabilities, maxDelayMs: 0, concurrencyLimits: false, rateLimits: false, batches: false };

  /** Why `batches` is off. */
  readonly capabilityNotes = { batches: "the inline adapter runs each job as it is enqueued, so a batch's callbacks would never run; use the test adapter and performEnqueuedJobs" };

  constructor(override readonly runtime: Runtime) {
    super(runtime);
  }

  override async enqueue(options: EnqueueOptions): Promise<EnqueueResult[]> {
    const results = await super.enqueue(options);
    const ids = new Set(results.map((result) => result.providerJobId));
    const reservations = this.takePending((job) => ids.has(job.providerJobId));
    let failure: unknown;
    for (const reservation of reservations) {
      let settlement: Settlement = await executeReservation(
        { runtime: this.runtime, workerId: "inline", adapter: "inline" },
        reservation,
      );
      if (settlement.outcome === "retry") {
        failure ??= originalError(settlement);
        settlement = { reservation, outcome: "dead", error: settlement.error, payload: settlement.payload };
      } else if (settlement.outcome === "dead") {
        failure ??= originalError(settlement);
      }
      await this.settle({ settlements: [settlement] });
    }
    if (failure !== undefined) {
      if (typeof failure === "object" && failure !== null) this.jobErrors.add(failure);
      throw failure;
    }
    return results;
  }

  // The job's own error reaches the caller unwrapped: it is not a backend failure.
  private readonly jobErrors = new WeakSet<object>();

  mapError(error: unknown): Error | undefined {
    return typeof error === "object" && error !== null && this.jobErrors.has(error) ? (error as Error) : undefined;
  }
}

