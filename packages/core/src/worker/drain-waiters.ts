/**
 * Callers of `Worker.drained()` waiting for the worker to run out of ready work.
 *
 * Each waiter records the worker's reserve sequence number when it asked; it is answered by
 * the first idle moment (nothing running or buffered) reached by a reserve that *started
 * after* it asked, once pending settlements are written — so a job enqueued before the call
 * is never missed by a reserve already in flight. Stopping answers every waiter.
 *
 * @module
 */

interface Waiter {
  afterSeq: number;
  resolve: () => void;
}

/** The waiters of `drained()`, by reserve sequence number. */
export class DrainWaiters {
  private waiters: Waiter[] = [];

  /** How many wait. */
  get size(): number {
    return this.waiters.length;
  }

  /** A promise answered by the first idle moment of a reserve numbered above `afterSeq`. */
  add(afterSeq: number): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ afterSeq, resolve }));
  }

  /** The worker went idle after reserve `seq`: answers those it satisfies once `flushed` resolves. */
  idleAfter(seq: number, flush: () => Promise<void>): void {
    const ready = this.waiters.filter((waiter) => seq > waiter.afterSeq);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => seq <= waiter.afterSeq);
    void flush().then(() => {
      for (const waiter of ready) waiter.resolve();
    });
  }

  /** Answers every waiter (the worker stopped). */
  resolveAll(): void {
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }
}
