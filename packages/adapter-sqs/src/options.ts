/**
 * The schema of the adapter's options, checked when it is built: an unknown option or a
 * value of the wrong kind is a `ConfigError` naming it.
 *
 * @module
 */
import { rules, validateOptions, type OptionSchema } from "@errand/core/adapter";

import type { SqsAdapterOptions } from "./adapter.js";

const ADAPTER_OPTIONS: OptionSchema<SqsAdapterOptions> = {
  client: rules.withMethods("an SQSClient", "send"),
  url: rules.nonEmptyString,
  region: rules.nonEmptyString,
  endpoint: rules.nonEmptyString,
  // The AWS SDK's own settings: the SDK reads them, Errand passes them through.
  clientConfig: rules.object(),
  queuePrefix: rules.string,
  fifo: rules.boolean,
  createQueues: rules.boolean,
  queueAttributes: rules.record(rules.string),
  maxReceiveCount: rules.integer(1),
  status: rules.withMethods("a status store (RedisStatusStore, PostgresStatusStore or LocalStatusStore)", "enqueued", "started", "stale", "settled", "get"),
  receivesInFlight: rules.integer(1),
  claimTimeoutMs: rules.integer(1),
};

/** Checks `new SqsAdapter(options)` / `{ use: "sqs", ...options }`. */
export function checkAdapterOptions(options: unknown): void {
  validateOptions(options, ADAPTER_OPTIONS, "the sqs adapter options");
}
