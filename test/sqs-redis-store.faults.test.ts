// The fault suite's flow-control area (test/faults/flow.ts: kill -9 of a worker holding
// concurrency slots) on SQS with a shared Redis status store, which SQS's flow control needs
// (on the in-process store of test/sqs.faults.test.ts the case is skipped, saying so). Only
// that area: the others ask nothing of the status store that the plain SQS wiring does not
// test already. Judged on the queues and the store's parked jobs, pending sends and statuses
// (see faults/backends/sqs.ts), and on the runs and spans the jobs record.
import { sqsFaults } from "./faults/backends/sqs.js";
import { runFaults } from "./faults/index.js";

runFaults(sqsFaults({ statusStore: "redis" }), ["flow"]);
