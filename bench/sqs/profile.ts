/**
 * Where an SQS measurement's time goes: starts the SQS like run.ts (SQS_ENDPOINT, else a
 * fauxqs emulator in this process), runs one measurement in a child, then prints the rate,
 * CPU per job in the child and in the emulator, every adapter call Errand made during the
 * timed part and, with `--cpu`, a V8 CPU profile summary of the timed part.
 *
 *   npx tsc -b bench && node bench/dist/sqs/profile.js --jobs 5000                 # Errand, drain 5k, concurrency 10
 *   node bench/dist/sqs/profile.js --jobs 5000 --concurrency 50 --cpu [--no-inline]
 *   node bench/dist/sqs/profile.js --jobs 5000 --library sqs-consumer              # the peer (handleMessage), no call log
 *   node bench/dist/sqs/profile.js --jobs 5000 --scenario bulk                     # bulk | sequential | inflight | latency
 *
 * The emulator's CPU is its whole process: here that is this script, which does nothing
 * else meanwhile. The .cpuprofile goes to bench/results/profiles/.
 */
import { runProfileScript } from "../lib/profile-script.js";
import type { LibraryName } from "./libraries.js";
import { inChild } from "./run.js";
import type { Measurement } from "./scenarios.js";
import { openSqs } from "./store.js";

const sqs = await openSqs();
try {
  await runProfileScript<LibraryName, Measurement>(process.argv.slice(2), {
    tag: "sqs",
    measure: (request, execArgv) => {
      const params: Parameters<typeof inChild>[0] = { ...request, endpoint: sqs.endpoint };
      if (sqs.emulatorPid !== undefined) params.emulatorPid = sqs.emulatorPid;
      return inChild(params, execArgv);
    },
    storeCosts: (result) => `emulator ${result.emulatorCpuUsPerJob?.toFixed(1) ?? "n/a"} µs`,
  });
} finally {
  await sqs.stop();
}
