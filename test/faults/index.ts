/**
 * The fault suite: real `errand work` processes (spawned as users run them) under kill -9,
 * connections cut by the server, bad payloads and SIGTERM, and batches whose callbacks must
 * run once under kill -9 and racing workers, on every durable backend. Each case counts its
 * jobs and the jobs lost, asserts none were lost, and prints a one-line summary. A backend's test file is only wiring:
 *
 *   runFaults(postgresFaults());
 *
 * with the wiring (how to reach and read the backend's raw store) in `backends/`. A case a
 * backend cannot run says so in its title, as the conformance suite's gated cases do.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, afterEach } from "vitest";

import { WorkerProcess } from "../support/worker-process.js";
import { batchesFaultSuite } from "./batches.js";
import { badPayloadSuite } from "./bad-payload.js";
import { connectionsSuite } from "./connections.js";
import { continuationsFaultSuite } from "./continuations.js";
import { flowFaultSuite } from "./flow.js";
import { FaultCase, type FaultSuite, type FaultWiring } from "./harness.js";
import { killSuite } from "./kill.js";
import { sigtermSuite } from "./sigterm.js";

export type { FaultWiring } from "./harness.js";

/** The fault areas, each a file here. */
export type FaultArea = "kill" | "connections" | "bad-payload" | "sigterm" | "flow" | "continuations" | "batches";

const AREAS: readonly FaultArea[] = ["kill", "connections", "bad-payload", "sigterm", "flow", "continuations", "batches"];

/**
 * Registers the fault areas for one backend (every one unless `areas` names some: a second
 * wiring of a backend runs only the areas it changes), and the cleanup after them.
 */
export function runFaults(wiring: FaultWiring, areas: readonly FaultArea[] = AREAS): void {
  const runsDir = mkdtempSync(join(tmpdir(), `errand-${wiring.name}-faults-`));
  let cases = 0;
  afterEach(() => WorkerProcess.killAll());
  afterAll(async () => {
    await wiring.close();
    rmSync(runsDir, { recursive: true, force: true });
  });
  const suite = { wiring, newCase: () => new FaultCase(wiring, wiring.open(), join(runsDir, `case-${++cases}.runs`)) };
  const suites: Record<FaultArea, (suite: FaultSuite) => void> = {
    kill: killSuite,
    connections: connectionsSuite,
    "bad-payload": badPayloadSuite,
    sigterm: sigtermSuite,
    flow: flowFaultSuite,
    continuations: continuationsFaultSuite,
    batches: batchesFaultSuite,
  };
  for (const area of areas) suites[area](suite);
}
