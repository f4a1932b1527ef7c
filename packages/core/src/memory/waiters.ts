/**
 * Reserves waiting for work in core's in-memory store. A waiter ends when the store wakes
 * everyone (something may have become ready), when its time is up, or when its signal
 * aborts; no timer runs while nobody waits.
 *
 * @module
 */

/** The reserves waiting on one store. */
export class Waiters {
  private readonly waiting = new Set<() => void>();

  /** Waits `ms` at most (at least 1), until {@link wakeAll}, or until `signal` aborts. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      timer.unref();
      this.waiting.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Ends every wait. */
  wakeAll(): void {
    if (this.waiting.size === 0) return;
    for (const done of [...this.waiting]) done();
  }
}
