// SQS standard queues with statuses in the Redis status store, shared by every process.
import { runSharedStatusConformance } from "./support/sqs-shared-status.js";

runSharedStatusConformance("redis", false);
