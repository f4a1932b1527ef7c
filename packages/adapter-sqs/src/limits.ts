/**
 * SQS's limits, checked before anything is sent. The local emulator the tests use is more
 * lenient than AWS (it takes out-of-range delays and oversized batches), so the adapter
 * must not rely on the service to refuse them; these checks have unit tests of their own.
 *
 * @module
 */
import { ConfigError } from "@errand/core/adapter";

/** Longest per-message delay SQS accepts, in seconds (15 minutes). */
export const MAX_DELAY_SECONDS = 900;
/** Entries per batch call (SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch). */
export const MAX_BATCH_ENTRIES = 10;
/** Largest message, and largest batch in all, in bytes (body plus attributes). */
export const MAX_MESSAGE_BYTES = 1_048_576;
/** Longest visibility timeout, in seconds (12 hours). */
export const MAX_VISIBILITY_SECONDS = 43_200;
/** Longest long poll, in seconds. */
export const MAX_WAIT_SECONDS = 20;
/** Room kept for the adapter's own message attributes under the size limit. */
export const ATTRIBUTE_ALLOWANCE_BYTES = 1024;

/** The per-message delay to send for a job due at `runAtMs`: 0–900 s, whole seconds, rounded up. */
export function delaySeconds(runAtMs: number, nowMs: number): number {
  const seconds = Math.ceil((runAtMs - nowMs) / 1000);
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, seconds));
}

/** A visibility timeout for a lease of `leaseMs`, in SQS's range 0–43,200 s. */
export function visibilitySeconds(leaseMs: number): number {
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(leaseMs / 1000)));
}

/** Splits entries into SQS batches: at most 10 entries and at most 1 MiB (by `size`) each. */
export function batches<T>(entries: readonly T[], size: (entry: T) => number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const entryBytes = size(entry);
    if (current.length > 0 && (current.length === MAX_BATCH_ENTRIES || bytes + entryBytes > MAX_MESSAGE_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entryBytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** SQS error names, without the `AWS.SimpleQueueService.` prefix the emulator (and the legacy query API) adds. */
export function errorName(error: unknown): string {
  const name = (error as { name?: unknown; Code?: unknown } | undefined)?.name ?? (error as { Code?: unknown } | undefined)?.Code;
  return typeof name === "string" ? name.replace(/^AWS\.SimpleQueueService\./, "") : "";
}

/** Whether an error says the queue does not exist (its names differ between the JSON and query APIs). */
export function isMissingQueue(error: unknown): boolean {
  const name = errorName(error);
  return name === "QueueDoesNotExist" || name === "NonExistentQueue";
}

/** Checks an SQS queue name: letters, digits, `-` and `_`, at most 80 characters with `.fifo`. */
export function checkQueueName(name: string, queue: string): string {
  if (!/^[A-Za-z0-9_-]+(\.fifo)?$/.test(name) || name.length > 80) {
    throw new ConfigError(
      `sqs adapter: queue ${JSON.stringify(queue)} maps to SQS queue name ${JSON.stringify(name)}, which SQS refuses: ` +
        "use letters, digits, - and _ (80 characters at most with the prefix and .fifo)",
    );
  }
  return name;
}
