/**
 * Linking abort signals without `AbortSignal.any`, whose dependent signals a long-lived
 * source keeps track of (a worker's shutdown signal would collect one per idle wait).
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
