/**
 * Faults: the server cuts every connection of a worker, twice mid-run and once while idle —
 * it reconnects and finishes, none lost, and it still hears of jobs enqueued after the idle
 * cut. Gated: a backend without connections a server can cut (SQS) says why in the title.
 */
import { waitFor } from "@errand/core/testing";
import { describe, expect, it } from "vitest";

import { TickJob } from "../fixtures/faults/jobs.mjs";
import { expectStored, extraExecutions, lost, type Connection, type FaultSuite } from "./harness.js";

const TITLE =
  "the server cuts the worker's connections twice mid-run and once while idle: it reconnects and finishes, none lost, a job enqueued after the idle cut still runs";

/** Registers the connections case (or its skip, saying why) for one backend. */
export function connectionsSuite({ wiring, newCase }: FaultSuite): void {
  describe(`${wiring.name} faults: connections`, () => {
    if (wiring.noConnections !== undefined) {
      it.skip(`[no connections a server can cut: ${wiring.noConnections}] ${TITLE}`, () => {});
      return;
    }
    it(`[connections a server can cut] ${TITLE}`, async () => {
      // 7,000 jobs still to run after the second cut: with 5,000 (2,000 left), a loaded
      // machine once saw Postgres finish them all before the cut landed.
      const jobs = 10_000;
      const late = 500;
      const c = newCase();
      const connections = c.store.connections;
      if (!connections) throw new Error(`the ${wiring.name} fault wiring has no connections, and no noConnections reason`);
      const describeCut = (cut: Connection[]) =>
        [...new Set([...connections.busyKinds, ...connections.idleKinds])].map((kind) => `${cut.filter((x) => x.kind === kind).length} ${kind}`).join(" + ");
      const gone = new Set<string>();
      const cutAll = async () => {
        const cut = await connections.kill();
        for (const connection of cut) gone.add(connection.id);
        return cut;
      };

      const worker = c.startWorker(10);
      // Idle on an empty queue, the worker waits for wake-ups: its idle connections show up.
      await c.untilConnected(worker, connections.idleKinds, gone, "the idle worker's connections");
      const started = performance.now();
      await c.enqueue(TickJob, jobs);

      const cuts: string[] = [];
      for (const threshold of [1_000, 3_000]) {
        // 10 s, well under the Redis fixture's 30 s poll: the first jobs are started by the
        // enqueue's wake-up, not by the idle worker's poll.
        await c.untilSucceeded(worker, threshold, 10_000);
        // Each kind must be there (back, after the first cut) for the cut to prove anything.
        await c.untilConnected(worker, connections.busyKinds, gone, `the worker's connections before the cut at ${threshold} done`);
        const done = (await c.progress()).succeeded;
        const cut = await cutAll();
        cuts.push(describeCut(cut));
        expect(done, "the cut came after the last job: not mid-run").toBeLessThan(jobs);
        for (const kind of connections.busyKinds) expect(cut.filter((x) => x.kind === kind).length, `${kind} connections cut`).toBeGreaterThan(0);
      }
      await c.untilSucceeded(worker, jobs, 30_000);
      const drainedMs = performance.now() - started;

      // Idle: nothing left to run, the worker waits for a wake-up. Cut everything.
      await c.untilConnected(worker, connections.idleKinds, gone, "the idle worker's connections");
      const idleCut = await cutAll();
      cuts.push(describeCut(idleCut));
      expect(idleCut.filter((x) => x.kind === connections.listenerKind).length, `${connections.listenerKind} connections cut`).toBeGreaterThan(0);
      // Back: new connections, listening for wake-ups again.
      await c.untilConnected(worker, connections.idleKinds, gone, "new connections after the idle cut");
      if (connections.listening) await waitFor(() => connections.listening!(), { timeoutMs: 10_000, message: "the worker listening for wake-ups again" });
      // On Redis the idle worker's next poll is ~30 s away (its fixture config): only the
      // wake-up published by the enqueue can start these jobs within the deadline.
      const lateStarted = performance.now();
      await c.enqueue(TickJob, late);
      await c.untilSucceeded(worker, jobs + late, 10_000);
      const lateMs = performance.now() - lateStarted;
      expect(worker.child.exitCode, worker.tail()).toBeNull();
      await worker.stop();

      const total = jobs + late;
      const end = await c.count();
      const ran = c.runs();
      expectStored(end, { ready: 0, leased: 0, dead: 0, succeeded: total });
      expect(ran.distinct).toBe(total);
      expect(lost(total, end, ran)).toBe(0);
      c.summary("connections cut", {
        jobs: total,
        succeeded: end.succeeded,
        lost: lost(total, end, ran),
        "connections cut (1,000 done | 3,000 done | idle)": cuts.join(" | "),
        "worker error lines": worker.stderr.split("\n").filter((line) => line.includes("worker error")).length,
        "ran twice (runs recorded)": ran.total - total,
        "ran twice (sum of executions)": extraExecutions(end, total),
        "10,000 drained ms": Math.round(drainedMs),
        "500 late jobs done in ms": Math.round(lateMs),
        "total ms": Math.round(performance.now() - started),
      });
    }, 60_000);
  });
}
