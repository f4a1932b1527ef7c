/**
 * The worker's write-behind batcher. Settlements and progress updates are collected and
 * sent together: one `setProgress` then one `settle` call per flush, with at most one
 * flush in flight. While a flush is in flight new items accumulate, so under load the
 * batches grow by themselves and the backend sees few, large calls.
 *
 * Order: a job's progress always goes out before its settlement (progress happens during
 * the run, so it is queued first and flushed first).
 *
 * States: idle (nothing queued) → scheduled (a flush will run on the next turn of the
 * event loop) → flushing (one call chain in flight; new items wait) → idle or scheduled.
 * A failed flush is retried with backoff, up to `maxAttempts`; after that its items are
 * dropped and reported, and their jobs run again when their leases expire
 * (at-least-once).
 *
 * @module
 */
import type { SetProgressOptions, Settlement } from "../adapter/contract.js";
import type { AdapterClient } from "../backends/client.js";

type ProgressUpdate = SetProgressOptions["updates"][number];

/** Write-behind batches of settlements and progress. */
export class SettleBatcher {
  private settlements: Settlement[] = [];
  private progress = new Map<string, ProgressUpdate>();
  private flushing: Promise<void> | undefined;
  private scheduled = false;

  constructor(
    private readonly client: AdapterClient,
    private readonly onError: (error: unknown) => void,
    private readonly maxAttempts = 5,
  ) {}

  /** Queues a settlement. */
  settle(settlement: Settlement): void {
    this.settlements.push(settlement);
    this.schedule();
  }

  /** Queues a progress update; a newer one for the same job replaces it. */
  reportProgress(update: ProgressUpdate): void {
    this.progress.set(update.jobId, update);
    this.schedule();
  }

  /** Items waiting or in flight. */
  get pending(): number {
    return this.settlements.length + this.progress.size + (this.flushing ? 1 : 0);
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.settlements.length > 0 || this.progress.size > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const settlements = this.settlements;
    const progress = [...this.progress.values()];
    this.settlements = [];
    this.progress.clear();
    for (let attempt = 1; ; attempt++) {
      try {
        if (progress.length > 0) await this.client.setProgress(progress.splice(0));
        if (settlements.length > 0) await this.client.settle(settlements);
        return;
      } catch (error) {
        this.onError(error);
        if (attempt >= this.maxAttempts) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** attempt)));
      }
    }
  }

  /** Resolves once everything queued so far has been sent (or given up on). */
  async drain(): Promise<void> {
    while (this.scheduled || this.flushing || this.settlements.length > 0 || this.progress.size > 0) {
      if (this.flushing) await this.flushing;
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
