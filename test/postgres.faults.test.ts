// The fault suite (test/faults/) on PostgreSQL: real `errand work` processes under kill -9,
// backends terminated by the server, bad rows and SIGTERM. Judged on `"<schema>".jobs`
// itself, the ground truth no portable API can vouch for (see faults/backends/postgres.ts),
// and on the runs the jobs record.
import { postgresFaults } from "./faults/backends/postgres.js";
import { runFaults } from "./faults/index.js";

runFaults(postgresFaults());
