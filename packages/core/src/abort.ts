/**
 * Linking abort signals without `AbortSignal.any`, whose dependent signals a long-lived
 * source keeps track of (a worker's shutdown signal would collect one per idle wait), and
 * pausing until a time or an abort.
 *
 * @module
 */

/** Aborts `child` (with the same reason) when `parent` aborts. Returns the unlink function. */
export function linkAbort(parent: AbortSignal, child: AbortController): () => void {
  if (parent.aborted) {
    child.abort(parent.reason);
    return () => {};
  }
  const forward = () => child.abort(parent.reason);
  parent.addEventListener("abort", forward, { once: true });
  return () => parent.removeEventListener("abort", forward);
}

/**
 * Resolves after `ms`, or at once when `signal` aborts. The timer is unref'd: whoever owns
 * the loop decides whether the process stays alive (a worker's `keepAlive`).
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
