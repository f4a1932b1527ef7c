// The fault suite (test/faults/) on SQS (the emulator the global setup starts, or
// SQS_ENDPOINT): real `errand work` processes under kill -9, bad messages and SIGTERM; the
// connections case is skipped, its title says why. Judged on the queues' own attributes and
// the dead-letter queue (see faults/backends/sqs.ts), and on the runs the jobs record.
import { sqsFaults } from "./faults/backends/sqs.js";
import { runFaults } from "./faults/index.js";

runFaults(sqsFaults());
