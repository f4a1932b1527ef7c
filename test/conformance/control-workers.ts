/**
 * Conformance: pausing queues and the workers' heartbeats (`capabilities.control`,
 * adapter/control.ts) — a pause shows in `listQueues` and in every beat, and a reserve over
 * `"*"` leaves out the queues in `except`; beats store workers (removed when stopping) and
 * add their finished counts to the minute's throughput; changes made by another process
 * are seen.
 */
import { describe, expect, it } from "vitest";

import { jobs, listWorkers, queues, UnsupportedError } from "@errand/core";
import type { HeartbeatOptions, WorkerInfo } from "@errand/core/adapter";

import { reserve, withFixture, type AdapterWiring, type Fixture } from "./harness.js";
import { idOf, readySince, running, store, take, workerInfo } from "./operator-harness.js";

const MINUTE = 60_000;
const minuteStart = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

function beat(fixture: Fixture, worker: WorkerInfo, options: Partial<HeartbeatOptions> = {}) {
  return fixture.client.heartbeat({ worker, at: new Date(), ttlMs: 5000, finished: [], ...options });
}

export function controlWorkersSuite(wiring: AdapterWiring): void {
  const caps = wiring.capabilities;

  describe.runIf(caps.control)(`${wiring.name}: pausing queues and worker heartbeats [capability control]`, () => {
    it("a paused queue is marked in listQueues (an empty one listed too) and in every beat, until resumed", async () => {
      await withFixture(wiring, async (fixture) => {
        await store(fixture, readySince("paused-busy", 2000), readySince("open", 1000));
        await queues().pause("paused-empty", "paused-busy");
        const listed = await queues().list();
        expect(listed.find((info) => info.name === "paused-empty")).toMatchObject({ paused: true, queued: 0, running: 0, dead: 0 });
        expect(listed.find((info) => info.name === "paused-busy")).toMatchObject({ paused: true, queued: 1 });
        expect(listed.find((info) => info.name === "open")).toMatchObject({ paused: false, queued: 1 });
        expect([...(await beat(fixture, workerInfo("worker-p"))).paused].sort()).toEqual(["paused-busy", "paused-empty"]);
        // Pausing twice is pausing.
        await queues().pause("paused-busy");
        await queues().resume("paused-busy", "paused-empty");
        expect((await queues().list()).find((info) => info.name === "paused-busy")).toMatchObject({ paused: false, queued: 1 });
        expect((await beat(fixture, workerInfo("worker-p"))).paused).toEqual([]);
      });
    });

    it.runIf(caps.wildcardQueues)("[capability wildcardQueues] a reserve over \"*\" leaves out the queues in except", async () => {
      await withFixture(wiring, async (fixture) => {
        const [held, open] = await store(fixture, readySince("except-me", 2000), readySince("take-me", 1000));
        await queues().pause("except-me");
        const { paused } = await beat(fixture, workerInfo("worker-e"));
        const taken = await reserve(fixture.adapter, { queues: "*", except: paused, max: 10 });
        expect(taken.map(idOf)).toEqual([open!.id]);
        expect(await reserve(fixture.adapter, { queues: "*", except: paused, max: 10 })).toEqual([]);
        await queues().resume("except-me");
        expect((await reserve(fixture.adapter, { queues: "*", except: [], max: 10 })).map(idOf)).toEqual([held!.id]);
      });
    });

    it("a beat stores its worker: listWorkers returns it with lastBeatAt and ttlMs, a later beat replaces it, one with stopping removes it", async () => {
      await withFixture(wiring, async (fixture) => {
        await store(fixture, readySince("beats", 1000));
        const [job] = await take(fixture, "beats", 1);
        const at = new Date(Date.now() - 100);
        const info = workerInfo("worker-1", [running(job!)]);
        await beat(fixture, info, { at, ttlMs: 4000 });
        expect(await fixture.client.listWorkers()).toEqual([{ ...info, lastBeatAt: at, ttlMs: 4000 }]);
        const later = new Date();
        const idle = { ...info, running: [] };
        await beat(fixture, idle, { at: later });
        expect(await fixture.client.listWorkers()).toEqual([{ ...idle, lastBeatAt: later, ttlMs: 5000 }]);
        // One that stopped beating stays listed; the operator's API shows it gone.
        await beat(fixture, workerInfo("worker-0"), { at: new Date(Date.now() - 60_000), ttlMs: 5000 });
        expect((await listWorkers()).map((worker) => [worker.id, worker.gone])).toEqual([
          ["worker-1", false],
          ["worker-0", true],
        ]);
        await beat(fixture, idle, { stopping: true });
        expect((await fixture.client.listWorkers()).map((worker) => worker.id)).toEqual(["worker-0"]);
      });
    });

    it("finished counts of two workers in the same minute add up in throughput (throughputMinutes long, oldest first, the last entry the current minute)", async () => {
      await withFixture(wiring, async (fixture) => {
        await store(fixture, readySince("tp", 1000), readySince("tp-other", 1000));
        const at = new Date();
        await beat(fixture, workerInfo("worker-a"), { at, finished: [{ queue: "tp", succeeded: 2, failed: 1 }] });
        await beat(fixture, workerInfo("worker-b"), {
          at,
          finished: [
            { queue: "tp", succeeded: 3, failed: 0 },
            { queue: "tp-other", succeeded: 1, failed: 0 },
          ],
        });
        expect((await queues().list()).find((info) => info.name === "tp")?.throughput).toBeUndefined();
        const before = Date.now();
        const listed = await queues().list({ throughputMinutes: 5 });
        const after = Date.now();
        const throughput = listed.find((info) => info.name === "tp")!.throughput!;
        expect(throughput.succeeded).toHaveLength(5);
        expect(throughput.failed).toHaveLength(5);
        const last = throughput.since.getTime() + 4 * MINUTE;
        expect(last).toBeGreaterThanOrEqual(minuteStart(before));
        expect(last).toBeLessThanOrEqual(minuteStart(after));
        // The beats' minute (the read may fall in the next one).
        const index = (minuteStart(at.getTime()) - throughput.since.getTime()) / MINUTE;
        const expected = (count: number) => Array.from({ length: 5 }, (_, i) => (i === index ? count : 0));
        expect(throughput.succeeded).toEqual(expected(5));
        expect(throughput.failed).toEqual(expected(1));
        expect(listed.find((info) => info.name === "tp-other")!.throughput!.succeeded).toEqual(expected(1));
        await expect(queues().list({ throughputMinutes: 1441 })).rejects.toThrow(/throughputMinutes must be an integer from 1 to 1440/);
      });
    });

    it.runIf(wiring.peer !== undefined)("changes made through another process are seen: pauses, cancels, aborts, beats", async () => {
      await withFixture(wiring, async (fixture) => {
        const peer = await wiring.peer!(fixture.adapter);
        try {
          const [queued] = await store(fixture, readySince("peer-q", 2000), readySince("peer-run", 1000));
          const [job] = await take(fixture, "peer-run", 1);
          await peer.pauseQueues!({ queues: ["peer-q"], paused: true });
          expect((await beat(fixture, workerInfo("worker-here"))).paused).toEqual(["peer-q"]);
          expect((await queues().list()).find((info) => info.name === "peer-q")).toMatchObject({ paused: true });
          expect(await peer.changeJobs!({ action: "cancel", ids: [queued!.id] })).toEqual([queued!.id]);
          expect((await fixture.adapter.getStatus({ ids: [queued!.id] }))[0]?.state).toBe("failed");
          expect(await peer.changeJobs!({ action: "abort", ids: [idOf(job!)] })).toEqual([idOf(job!)]);
          expect((await beat(fixture, workerInfo("worker-here", [running(job!)]))).abort).toEqual([idOf(job!)]);
          await peer.heartbeat!({ worker: workerInfo("worker-there"), at: new Date(), ttlMs: 5000, finished: [] });
          expect((await fixture.client.listWorkers()).map((worker) => worker.id)).toEqual(["worker-here", "worker-there"]);
          if (caps.listJobs) expect((await peer.listJobs!({ ids: [idOf(job!)] })).jobs.map((listed) => listed.state)).toEqual(["running"]);
        } finally {
          await peer.close();
        }
      });
    });
  });

  describe.skipIf(caps.control)(`${wiring.name}: pausing queues and worker heartbeats [no capability control]`, () => {
    it("pauses, beats, workers and throughput are refused with UnsupportedError naming the capability", async () => {
      await withFixture(wiring, async (fixture) => {
        await expect(queues().pause("default")).rejects.toThrow(UnsupportedError);
        await expect(queues().resume("default")).rejects.toThrow(/capability control/);
        await expect(beat(fixture, workerInfo("worker-x"))).rejects.toThrow(/capability control/);
        await expect(fixture.client.listWorkers()).rejects.toThrow(/capability control/);
        await expect(listWorkers()).rejects.toThrow(UnsupportedError);
        await expect(queues().list({ throughputMinutes: 5 })).rejects.toThrow(/capability control/);
        // The counts themselves are still there.
        expect(Array.isArray(await queues().list())).toBe(true);
        await expect(jobs().abort([])).rejects.toThrow(/capability control/);
      });
    });
  });
}
