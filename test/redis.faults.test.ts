// The fault suite (test/faults/) on Redis: real `errand work` processes under kill -9,
// connections killed by the server (pub/sub included), bad job hashes and SIGTERM. Judged on
// the queue's raw keys, the ground truth no portable API can vouch for (see
// faults/backends/redis.ts), and on the runs the jobs record.
import { redisFaults } from "./faults/backends/redis.js";
import { runFaults } from "./faults/index.js";

runFaults(redisFaults());
