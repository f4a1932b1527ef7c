// SQS FIFO queues with statuses in the Redis status store, shared by every process. FIFO with
// the PostgreSQL store is left out on purpose: the adapter's FIFO paths call the store as the
// standard ones do, and what each store does is the status-store conformance areas' (run on
// both stores in status-stores.test.ts); the fourth combination cost ~95 s of the suite.
import { runSharedStatusConformance } from "./support/sqs-shared-status.js";

runSharedStatusConformance("redis", true);
