/**
 * The names this package emits: span names, attributes, events and metrics. The messaging
 * semantic conventions' names where they have one (`messaging.*`, `error.type`), `errand.*`
 * otherwise. docs/observability.md tables them.
 *
 * @module
 */

/** `messaging.system`: Errand is the messaging system as the app sees it; the backend is {@link ATTR_ADAPTER}. */
export const MESSAGING_SYSTEM = "errand";

/** `messaging.system`, always {@link MESSAGING_SYSTEM}. */
export const ATTR_MESSAGING_SYSTEM = "messaging.system";
/** `send`, `create` or `process`. */
export const ATTR_OPERATION_TYPE = "messaging.operation.type";
/** Same values as the type here: Errand's operations are the generic ones. */
export const ATTR_OPERATION_NAME = "messaging.operation.name";
/** The queue (prefix applied). */
export const ATTR_DESTINATION = "messaging.destination.name";
/** The Errand job id. */
export const ATTR_MESSAGE_ID = "messaging.message.id";
/** Jobs in one enqueue call, on a batch's send span (two or more). */
export const ATTR_BATCH_COUNT = "messaging.batch.message_count";
/** The error's class name, on failed operations. */
export const ATTR_ERROR_TYPE = "error.type";

/** The job's class name as stored (`jobName`). */
export const ATTR_JOB_CLASS = "errand.job.class";
/** This run's number: 1 for the first. */
export const ATTR_ATTEMPT = "errand.job.attempt";
/** `redis`, `postgres`, `sqs`, `async`, … */
export const ATTR_ADAPTER = "errand.adapter";
/** The worker that ran the job. */
export const ATTR_WORKER = "errand.worker.id";
/** How a run ended: `succeeded`, `retry`, `discarded` or `dead`. */
export const ATTR_OUTCOME = "errand.job.outcome";
/** On a send span: uniqueness matched a job already stored, and nothing was stored. */
export const ATTR_DUPLICATE = "errand.job.duplicate";
/** `errand.job.outbox`: true on the spans of jobs written to the outbox in the app's transaction (relayed to the adapter later). */
export const ATTR_OUTBOX = "errand.job.outbox";
/** On the retry event: when the next run may start (ISO-8601). */
export const ATTR_RETRY_AT = "errand.job.retry_at";

/** Span event of a run that ends in a retry (besides the `exception` event), with {@link ATTR_RETRY_AT}. */
export const EVENT_RETRY = "errand.job.retry";
/** Span event of a run that a discard rule ended (besides the `exception` event). */
export const EVENT_DISCARD = "errand.job.discard";
/** Span event of a run after which the job is dead (besides the `exception` event). */
export const EVENT_DEAD = "errand.job.dead";

/** Counter of jobs stored by their backend (the conventions' sent messages). */
export const METRIC_SENT = "messaging.client.sent.messages";
/** Counter of runs started by a worker (the conventions' consumed messages). */
export const METRIC_CONSUMED = "messaging.client.consumed.messages";
/** Histogram of a run's duration, seconds (the conventions' process duration). */
export const METRIC_PROCESS_DURATION = "messaging.process.duration";
/** Counter of runs ended, by {@link ATTR_OUTCOME}. */
export const METRIC_FINISHED = "errand.job.finished";
/** Counter of runs that ended in a retry, a discard or death, with {@link ATTR_ERROR_TYPE}. */
export const METRIC_FAILED = "errand.job.failed";
/** Histogram of the time from a job's `runAt` to its start, seconds. */
export const METRIC_QUEUE_LATENCY = "errand.job.queue_latency";
