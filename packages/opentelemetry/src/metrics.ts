/**
 * The metric instruments, made once per {@link errandInstrumentation} call. Units are UCUM
 * as the conventions use them: seconds for durations, `{message}`/`{job}` for counts.
 * Histogram boundaries are left to the SDK's views; the conventions' advice for
 * `messaging.process.duration` is given.
 *
 * @module
 */
import type { Counter, Histogram, Meter } from "@opentelemetry/api";

import * as names from "./names.js";

/** The instruments the instrumentation records into. */
export interface ErrandMetrics {
  /** Jobs stored (duplicates of a unique job left out; failed sends counted with `error.type`). */
  sent: Counter;
  /** Runs started. */
  consumed: Counter;
  /** Runs ended, by `errand.job.outcome`. */
  finished: Counter;
  /** Runs that ended in a retry, a discard or death, by outcome and `error.type`. */
  failed: Counter;
  /** Perform duration, seconds. */
  duration: Histogram;
  /** From the time a job could run (`runAt`) to its start, seconds. */
  queueLatency: Histogram;
}

// The conventions' advice for messaging durations (seconds).
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Makes the instruments on `meter`. */
export function createMetrics(meter: Meter): ErrandMetrics {
  return {
    sent: meter.createCounter(names.METRIC_SENT, { unit: "{message}", description: "Jobs enqueued (stored by their backend)." }),
    consumed: meter.createCounter(names.METRIC_CONSUMED, { unit: "{message}", description: "Job runs started by a worker." }),
    finished: meter.createCounter(names.METRIC_FINISHED, { unit: "{job}", description: "Job runs ended, by errand.job.outcome." }),
    failed: meter.createCounter(names.METRIC_FAILED, { unit: "{job}", description: "Job runs that failed: retried, discarded or dead." }),
    duration: meter.createHistogram(names.METRIC_PROCESS_DURATION, {
      unit: "s",
      description: "Duration of a job's run (perform and its callbacks).",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    queueLatency: meter.createHistogram(names.METRIC_QUEUE_LATENCY, {
      unit: "s",
      description: "Time from when a job could run (its runAt) to its start.",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
  };
}
