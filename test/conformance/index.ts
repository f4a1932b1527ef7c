/**
 * The adapter conformance suite: the contract's executable spec. An adapter's test file
 * is only wiring:
 *
 *   runConformance({ name: "async", capabilities, create: async () => new AsyncAdapter() });
 *
 * Cases gated on a capability say so in their title; each has a paired case checking
 * that an adapter without it refuses the option with a clear error.
 */
import type { AdapterWiring } from "./harness.js";
import { batchesSuite } from "./batches.js";
import { batchesJobsSuite } from "./batches-jobs.js";
import { capabilitiesSuite } from "./capabilities.js";
import { continuationsSuite } from "./continuations.js";
import { controlSuite } from "./control.js";
import { controlWorkersSuite } from "./control-workers.js";
import { deadSuite } from "./dead.js";
import { enqueueSuite } from "./enqueue.js";
import { flowLimitsSuite } from "./flow-limits.js";
import { flowRecurringSuite } from "./flow-recurring.js";
import { flowUniqueSuite } from "./flow-unique.js";
import { leaseSuite } from "./lease.js";
import { listJobsSuite } from "./list-jobs.js";
import { mailerSuite } from "./mailer.js";
import { reserveSuite } from "./reserve.js";
import { retrySuite } from "./retry.js";
import { shutdownSuite } from "./shutdown.js";
import { statusSuite } from "./status.js";
import { transactionsSuite } from "./transactions.js";
import { watchSuite } from "./watch.js";
import { statusFeedSuite } from "./status-feed.js";
import { wireFormatSuite } from "./wire-format.js";
import { workerControlSuite } from "./worker-control.js";
import { workerInterruptSuite } from "./worker-interrupt.js";

export type { AdapterWiring } from "./harness.js";

/** Registers every conformance area for one adapter. */
export function runConformance(wiring: AdapterWiring): void {
  enqueueSuite(wiring);
  reserveSuite(wiring);
  leaseSuite(wiring);
  retrySuite(wiring);
  deadSuite(wiring);
  statusSuite(wiring);
  watchSuite(wiring);
  statusFeedSuite(wiring);
  shutdownSuite(wiring);
  continuationsSuite(wiring);
  wireFormatSuite(wiring);
  capabilitiesSuite(wiring);
  flowUniqueSuite(wiring);
  flowLimitsSuite(wiring);
  flowRecurringSuite(wiring);
  listJobsSuite(wiring);
  controlSuite(wiring);
  controlWorkersSuite(wiring);
  mailerSuite(wiring);
  workerControlSuite(wiring);
  workerInterruptSuite(wiring);
  transactionsSuite(wiring);
  batchesSuite(wiring);
  batchesJobsSuite(wiring);
}
