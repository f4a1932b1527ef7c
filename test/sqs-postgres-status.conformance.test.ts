// SQS standard queues with statuses in the PostgreSQL status store, shared by every process.
import { runSharedStatusConformance } from "./support/sqs-shared-status.js";

runSharedStatusConformance("postgres", false);
