// The fault suite's areas that ask something of a shared status store, on SQS with a Redis
// status store (RedisStatusStore): flow control (test/faults/flow.ts: kill -9 of a worker
// holding concurrency slots), batches (test/faults/batches.ts: the store counts a batch's
// jobs and records its callbacks as pending sends) and continuations
// (test/faults/continuations.ts: a step's cursor re-enqueued through the store's wiring). On
// the in-process store of test/sqs.faults.test.ts the flow and batches cases are skipped,
// saying so. The other areas ask nothing of the status store that the plain SQS wiring does
// not test already. Judged on the queues and the store's parked jobs, pending sends and
// statuses (see faults/backends/sqs.ts), and on the runs, spans and callbacks the jobs record.
import { sqsFaults } from "./faults/backends/sqs.js";
import { runFaults } from "./faults/index.js";

runFaults(sqsFaults({ statusStore: "redis" }), ["flow", "batches", "continuations"]);
