// The outbox relayed to the PostgreSQL adapter (app data in one PostgreSQL, jobs in another;
// here two schemas), with real `errand relay` processes on test/fixtures/outbox: a batch
// sent and not yet deleted is sent again by the next relay, and the target stores each job id
// once (migration 018, enqueue.sql). A relay started on rows that were all sent already, then
// kill -9 of the relay mid-stream, again and again: every job in the target once, in the
// order written, none lost. The enqueue's idempotence alone: postgres-resend.pg.test.ts.
import { describe, expect, it } from "vitest";

import { PostgresAdapter, PostgresOutbox } from "@errand/adapter-postgres";
import { waitFor } from "@errand/core/testing";

import { jobsOn, outboxFile, writeInTransactions } from "./support/outbox.js";
import { killRelaysMidStream } from "./support/relay-kills.js";
import { RelayProcess } from "./support/relay-process.js";

const file = outboxFile({ poolMax: 2, beforeClose: () => RelayProcess.killAll() });
const { url, pool } = file;

/** A case: the app's schema (the outbox), the jobs' schema (the target), and the relay processes' environment. */
async function newCase() {
  const schema = file.schema();
  const target = file.schema();
  const outbox = new PostgresOutbox({ url, schema });
  const adapter = new PostgresAdapter({ url, schema: target, poolSize: 2 });
  file.closeLater(() => outbox.close(), () => adapter.close());
  await adapter.migrate();
  await outbox.pending();
  const env = { OUTBOX_TARGET: "postgres", OUTBOX_TARGET_PG_URL: url, OUTBOX_TARGET_SCHEMA: target, OUTBOX_PG_URL: url, OUTBOX_SCHEMA: schema };
  /** Job ids in the target on `queue`, in the order stored. */
  const stored = async (queue: string): Promise<string[]> =>
    (await pool.query<{ id: string }>(`SELECT id::text FROM "${target}".jobs WHERE queue = $1 ORDER BY seq`, [queue])).rows.map((row) => row.id);
  return { outbox, adapter, env, stored };
}

describe("outbox → postgres target (kill -9 of `errand relay`)", () => {
  it("a relay finding rows that were sent already (its predecessor killed before the delete) stores each job once", async () => {
    const c = await newCase();
    const batches = Array.from({ length: 4 }, () => jobsOn("r", 25));
    await writeInTransactions(pool, c.outbox, batches);
    const written = batches.flat().map((job) => job.payload);
    // What a relay killed after its send and before its DELETE leaves: the first 60 sent, every row still there.
    await c.adapter.enqueue({ jobs: written.slice(0, 60) });
    const relay = new RelayProcess(["relay"], { ...c.env, OUTBOX_BATCH: "40" });
    await waitFor(async () => (await c.outbox.pending()) === 0, { timeoutMs: 30_000, message: `the relay draining the outbox\n${relay.tail()}` });
    expect(await relay.stop(), relay.tail()).toEqual({ code: 0, signal: null });
    expect(relay.stderr, "no failed round").not.toMatch(/relay error/);
    expect(await c.stored("r")).toEqual(written.map((job) => job.id));
  }, 60_000);

  it("kill -9 of the relay mid-stream, 3 times: every job in the target exactly once, in order, none lost", async () => {
    const c = await newCase();
    const env = { ...c.env, OUTBOX_BATCH: "50" };
    const batches = Array.from({ length: 24 }, () => jobsOn("k", 50));
    await writeInTransactions(pool, c.outbox, batches);
    const written = batches.flat().map((job) => job.payload.id);
    const total = written.length;
    const sentNotDeleted = await killRelaysMidStream({ kills: 3, env, total, stored: async () => (await c.stored("k")).length, pending: () => c.outbox.pending() });
    const ids = await c.stored("k");
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(written);
    console.log(`outbox → postgres kill -9: ${total} jobs, 3 kills, ${sentNotDeleted} sent-not-deleted at a kill (resent, stored once), ${ids.length} in the target, lost ${total - ids.length}, doubled 0`);
  }, 120_000);
});
