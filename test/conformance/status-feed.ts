/**
 * Conformance: status feeds (`capabilities.statusFeed`, `openStatusFeed`). With a feed open,
 * every write to a job's status — enqueue, reserve, progress, each settlement, a lease
 * expiry, revival and purge of a dead job — reports the job's id; a change made by another
 * process (a second adapter on the same data) is reported too; a closed feed reports
 * nothing more. An adapter without the capability has no `openStatusFeed`.
 *
 * A feed may report an id several times or merge changes (see the contract), so each step
 * waits for the id in the reports that arrived after the step began.
 */
import { describe, expect, it } from "vitest";

import { waitFor } from "@errand/core/testing";
import type { Adapter, JobPayload, Reservation, StatusFeed } from "@errand/core/adapter";

import { payload, reserve, withFixture, type AdapterWiring, type Fixture } from "./harness.js";

/** Deadline for one report: a status write, a publish and its delivery. */
const REPORT_MS = 10_000;

/** A feed open on an adapter, recording what it reports. */
class FeedRecorder {
  readonly reports: (readonly string[])[] = [];
  reconnects = 0;
  private constructor(private feed: StatusFeed | undefined) {}

  static async open(adapter: Adapter): Promise<FeedRecorder> {
    const recorder = new FeedRecorder(undefined);
    recorder.feed = await adapter.openStatusFeed!({
      onChange: (ids) => recorder.reports.push([...ids]),
      onReconnect: () => recorder.reconnects++,
    });
    return recorder;
  }

  /** Where the next step's reports begin. */
  mark(): number {
    return this.reports.length;
  }

  /** Every id reported since `since`. */
  idsSince(since: number): Set<string> {
    return new Set(this.reports.slice(since).flat());
  }

  /** Waits until each of `ids` was reported after `since`. */
  async reported(ids: readonly string[], since: number, what: string): Promise<void> {
    await waitFor(
      () => {
        const seen = this.idsSince(since);
        return ids.every((id) => seen.has(id));
      },
      { timeoutMs: REPORT_MS, message: `the status feed to report ${what} (${ids.length === 1 ? ids[0] : `${ids.length} ids`})` },
    );
  }

  async close(): Promise<void> {
    const feed = this.feed;
    this.feed = undefined;
    await feed?.close();
  }
}

/** Runs `body` with a feed open on the fixture's adapter, closed afterwards. */
function withFeed(wiring: AdapterWiring, body: (adapter: Adapter, feed: FeedRecorder, fixture: Fixture) => Promise<void>): Promise<void> {
  return withFixture(wiring, async (fixture) => {
    const feed = await FeedRecorder.open(fixture.adapter);
    try {
      await body(fixture.adapter, feed, fixture);
    } finally {
      await feed.close();
    }
  });
}

/** Enqueues `job` and reserves it (reserve retried: some backends show a job a moment late). */
async function enqueueAndReserve(adapter: Adapter, job: JobPayload, leaseMs = 30_000): Promise<Reservation> {
  await adapter.enqueue({ jobs: [job] });
  const [reservation] = await waitFor(async () => {
    const taken = await reserve(adapter, { queues: [job.queue], max: 1, leaseMs });
    return taken.length > 0 && taken;
  }, { timeoutMs: REPORT_MS, message: `job ${job.id} to be reserved` });
  return reservation!;
}

const error = { name: "Error", message: "feed test" };

export function statusFeedSuite(wiring: AdapterWiring): void {
  const caps = wiring.capabilities;
  describe(`${wiring.name}: status feed`, () => {
    it.runIf(caps.statusFeed)("[capability statusFeed] the adapter offers openStatusFeed and says so in its capabilities", async () => {
      await withFixture(wiring, async (fixture) => {
        expect(fixture.adapter.capabilities.statusFeed).toBe(true);
        expect(typeof fixture.adapter.openStatusFeed).toBe("function");
      });
    });

    it.skipIf(caps.statusFeed)("[no capability statusFeed] the adapter has no openStatusFeed", async () => {
      await withFixture(wiring, async (fixture) => {
        expect(fixture.adapter.capabilities.statusFeed).toBe(false);
        expect(fixture.adapter.openStatusFeed).toBeUndefined();
      });
    });

    it.runIf(caps.statusFeed)("[capability statusFeed] enqueue, reserve and setProgress each report the job's id", async () => {
      await withFeed(wiring, async (adapter, feed) => {
        const job = payload({ queue: "feed" });
        let since = feed.mark();
        await adapter.enqueue({ jobs: [job] });
        await feed.reported([job.id], since, "an enqueue");

        since = feed.mark();
        const [reservation] = await reserve(adapter, { queues: ["feed"], max: 1 });
        expect(reservation).toBeDefined();
        await feed.reported([job.id], since, "a reserve");

        since = feed.mark();
        await adapter.setProgress({ updates: [{ jobId: job.id, reservation: reservation!, fraction: 0.5, message: "half" }] });
        await feed.reported([job.id], since, "a progress update");
        await adapter.settle({ settlements: [{ reservation: reservation!, outcome: "succeeded" }] });
      });
    });

    it.runIf(caps.statusFeed)("[capability statusFeed] each settlement reports its job: succeeded, failed, retry, released, dead", async () => {
      await withFeed(wiring, async (adapter, feed) => {
        const settle = {
          succeeded: (reservation: Reservation) => ({ reservation, outcome: "succeeded" as const, result: '{"json":1}' }),
          failed: (reservation: Reservation) => ({ reservation, outcome: "failed" as const, error }),
          retry: (reservation: Reservation, job: JobPayload) => ({ reservation, outcome: "retry" as const, error, payload: { ...job, executions: 1 }, runAt: new Date(Date.now() + 60_000) }),
          released: (reservation: Reservation) => ({ reservation, outcome: "released" as const }),
          dead: (reservation: Reservation, job: JobPayload) => ({ reservation, outcome: "dead" as const, error, payload: job }),
        };
        for (const [outcome, settlement] of Object.entries(settle)) {
          const job = payload({ queue: `feed-${outcome}` });
          const reservation = await enqueueAndReserve(adapter, job);
          const since = feed.mark();
          await adapter.settle({ settlements: [settlement(reservation, job)] });
          await feed.reported([job.id], since, `a settlement (${outcome})`);
        }
      });
    });

    it.runIf(caps.statusFeed)("[capability statusFeed] reviving and purging a dead job each report its id", async () => {
      await withFeed(wiring, async (adapter, feed, fixture) => {
        const jobs = [payload({ queue: "feed-dead" }), payload({ queue: "feed-dead" })];
        for (const job of jobs) {
          const reservation = await enqueueAndReserve(adapter, job);
          await adapter.settle({ settlements: [{ reservation, outcome: "dead", error, payload: job }] });
        }
        const [revived, purged] = jobs as [JobPayload, JobPayload];
        let since = feed.mark();
        await waitFor(async () => (await fixture.client.retryDead({ ids: [revived.id] })) === 1, { timeoutMs: REPORT_MS, message: "the dead job to be revived" });
        await feed.reported([revived.id], since, "a revival of a dead job");

        since = feed.mark();
        await waitFor(async () => (await fixture.client.purgeDead({ ids: [purged.id] })) === 1, { timeoutMs: REPORT_MS, message: "the dead job to be purged" });
        await feed.reported([purged.id], since, "a purge of a dead job");
      });
    });

    it.runIf(caps.statusFeed)("[capability statusFeed] a job handed out again after its lease ran out is reported", async () => {
      await withFeed(wiring, async (adapter, feed) => {
        const job = payload({ queue: "feed-lease" });
        await enqueueAndReserve(adapter, job, 200);
        const since = feed.mark();
        await waitFor(async () => (await reserve(adapter, { queues: ["feed-lease"], max: 1 })).length > 0, {
          timeoutMs: REPORT_MS,
          message: "the job to come back after its lease ran out",
        });
        await feed.reported([job.id], since, "a lease expiry and the next delivery");
      });
    });

    it.runIf(caps.statusFeed)("[capability statusFeed] a bulk enqueue of 450 jobs reports every id", async () => {
      await withFeed(wiring, async (adapter, feed) => {
        // 450: more than two PostgreSQL notifications' worth (about 200 ids each).
        const jobs = Array.from({ length: 450 }, () => payload({ queue: "feed-bulk" }));
        const since = feed.mark();
        await adapter.enqueue({ jobs });
        await feed.reported(jobs.map((job) => job.id), since, "a bulk enqueue");
      });
    });

    it.runIf(caps.statusFeed)("[capability statusFeed] after close() a feed reports nothing more", async () => {
      await withFixture(wiring, async (fixture) => {
        const closed = await FeedRecorder.open(fixture.adapter);
        await closed.close();
        const after = closed.mark();
        // A second feed is the barrier: once it has the report, a first one still open would have it too.
        const open = await FeedRecorder.open(fixture.adapter);
        try {
          const job = payload({ queue: "feed-closed" });
          const since = open.mark();
          await fixture.adapter.enqueue({ jobs: [job] });
          await open.reported([job.id], since, "an enqueue to the feed still open");
          expect(closed.reports.slice(after)).toEqual([]);
        } finally {
          await open.close();
        }
      });
    });

    it.runIf(caps.statusFeed && !caps.localStatus && caps.durable && wiring.peer !== undefined)(
      "[capability statusFeed; skipped for local status or a backend that is not durable] changes made by another process (a second adapter) are reported",
      async () => {
        await withFeed(wiring, async (adapter, feed) => {
          const peer = await wiring.peer!(adapter);
          try {
            const job = payload({ queue: "feed-peer" });
            let since = feed.mark();
            await peer.enqueue({ jobs: [job] });
            await feed.reported([job.id], since, "an enqueue by another process");

            since = feed.mark();
            const [reservation] = await waitFor(async () => {
              const taken = await reserve(peer, { queues: ["feed-peer"], max: 1 });
              return taken.length > 0 && taken;
            }, { timeoutMs: REPORT_MS, message: "the peer to reserve the job" });
            await feed.reported([job.id], since, "a reserve by another process");

            since = feed.mark();
            await peer.settle({ settlements: [{ reservation: reservation!, outcome: "succeeded" }] });
            await feed.reported([job.id], since, "a settlement by another process");
          } finally {
            await peer.close();
          }
        });
      },
    );
  });
}
