/**
 * `@errand/adapter-sqs`: jobs in AWS SQS, with what SQS lacks (long delays, retries with
 * backoff, a dead set, job status) made up by the adapter.
 *
 * @example
 * import { configure } from "@errand/core";
 * configure({ adapter: { production: { use: "sqs", region: "eu-west-1", queuePrefix: "shop-" } } });
 *
 * @module
 */
import type { AdapterFactory } from "@errand/core/adapter";

import { SqsAdapter, type SqsAdapterOptions } from "./adapter.js";

export { SqsAdapter } from "./adapter.js";
export type { SqsAdapterOptions } from "./adapter.js";
export { QueueMap } from "./queues.js";
export type { SqsQueue, QueueMapOptions } from "./queues.js";
export { batches, delaySeconds, errorName, isMissingQueue, visibilitySeconds, checkQueueName } from "./limits.js";

/** Factory Errand calls for `adapter: { use: "sqs", ... }` and `ERRAND_URL=sqs://...`. */
export const createAdapter: AdapterFactory = (options) => new SqsAdapter(options as SqsAdapterOptions);
