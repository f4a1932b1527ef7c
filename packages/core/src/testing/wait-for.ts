/**
 * `waitFor`: the one way tests wait. It checks a condition until it holds or a deadline
 * passes, and the failure says what was awaited. No sleeps as synchronisation.
 *
 * @module
 */

/** `T` without its falsy members: what `waitFor` resolves to. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Deadline in ms. Default 5000. */
  timeoutMs?: number;
  /** Time between checks in ms. Default 5. */
  intervalMs?: number;
  /** What is awaited, for the error message. */
  message?: string;
}

/**
 * Resolves to the condition's first truthy value; rejects when `timeoutMs` passes first.
 * @example
 * const status = await waitFor(async () => (await ReportJob.status(id))?.state === "succeeded" && status, { message: "report done" });
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitForOptions = {}): Promise<Truthy<T>> {
  const { timeoutMs = 5000, intervalMs = 5, message = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Truthy<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`waitFor: timed out after ${timeoutMs} ms waiting for ${message}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
