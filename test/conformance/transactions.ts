/**
 * Conformance: jobs made inside the app's transaction (issue 16). "The app's transaction" is
 * a PostgreSQL one on the test database through the `pg` helper (`transaction`), whatever the
 * jobs' backend: data in PostgreSQL, jobs wherever the adapter keeps them. An adapter with
 * `transactionalEnqueue` joins it; any other defers its jobs to the commit.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { Job, performAllLater, SerializationError, TransactionFlushError } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { transaction } from "@errand/adapter-postgres";

import { dropSchemas, postgresUrl, schemaName } from "../support/postgres.js";
import { ALL_JOBS, journal, RecordJob, reserve, withFixture, type AdapterWiring } from "./harness.js";

/** Enqueued at once even inside a transaction. */
class AtOnceJob extends RecordJob {
  static override jobName = "AtOnceJob";
  static override enqueueAfterCommit = false;
}

/** Notes where its enqueue callbacks run, against the body's end. */
const phases: string[] = [];
class CallbackJob extends RecordJob {
  static override jobName = "CallbackJob";
  static override aroundEnqueue = async (_job: unknown, next: () => Promise<unknown>) => {
    phases.push("around enqueue");
    await next();
  };
}

/** Unique by its label while queued. */
class UniqueTxJob extends RecordJob {
  static override jobName = "UniqueTxJob";
  static override unique = { key: (label: string) => label, while: "queued" as const };
}

export function transactionsSuite(wiring: AdapterWiring): void {
  const joins = wiring.capabilities.transactionalEnqueue;
  const mode = joins ? "joined" : "deferred to commit";
  describe(`${wiring.name}: jobs inside the app's transaction (${mode})`, () => {
    const url = postgresUrl();
    const appSchema = schemaName("tx_app");
    let pool: pg.Pool;
    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: url, max: 4 });
      await pool.query(`CREATE SCHEMA "${appSchema}"; CREATE TABLE "${appSchema}".orders (id text PRIMARY KEY)`);
    });
    afterAll(async () => {
      await pool.end();
      await dropSchemas(url, [appSchema]);
    });
    const insertOrder = (client: pg.ClientBase, id: string) => client.query(`INSERT INTO "${appSchema}".orders (id) VALUES ($1)`, [id]);
    const orderExists = async (id: string) => (await pool.query(`SELECT 1 FROM "${appSchema}".orders WHERE id = $1`, [id])).rowCount === 1;
    const config = { jobs: [...ALL_JOBS, AtOnceJob, CallbackJob, UniqueTxJob] };

    it("commit: the job is stored after the commit, not before, and runs", async () => {
      await withFixture(wiring, config, async (fixture) => {
        let seenInside: unknown = "unread";
        const made = await transaction(pool, async (client) => {
          await insertOrder(client, "commit-1");
          const enqueued = await RecordJob.performLater("tx-commit");
          // Another connection (the adapter's, a worker's) does not see it yet.
          seenInside = await RecordJob.status(enqueued.jobId);
          expect(await reserve(fixture.adapter, { max: 10 })).toEqual([]);
          return enqueued;
        });
        expect(made.deferred).toBe(!joins);
        expect(made.providerJobId === "").toBe(!joins);
        expect(seenInside).toBeNull();
        expect((await RecordJob.status(made.jobId))?.state).toBe("queued");
        await fixture.startWorker();
        await waitFor(() => journal.performed.some((entry) => entry.label === "tx-commit"), { timeoutMs: 10_000, message: "the committed job to run" });
        expect(await orderExists("commit-1")).toBe(true);
      });
    });

    it("rollback: nothing is stored and nothing runs", async () => {
      await withFixture(wiring, config, async (fixture) => {
        let jobId = "";
        await expect(
          transaction(pool, async (client) => {
            await insertOrder(client, "rollback-1");
            jobId = (await RecordJob.performLater("tx-rollback")).jobId;
            throw new Error("the app changed its mind");
          }),
        ).rejects.toThrow("the app changed its mind");
        expect(await orderExists("rollback-1")).toBe(false);
        expect(await RecordJob.status(jobId)).toBeNull();
        // A job that would run is reserved here; none is.
        expect(await reserve(fixture.adapter, { max: 10 })).toEqual([]);
        expect(journal.performed).toEqual([]);
      });
    });

    it("a nested transaction (savepoint) that rolls back drops only its own jobs", async () => {
      await withFixture(wiring, config, async () => {
        const ids = await transaction(pool, async (client) => {
          const outer = await RecordJob.performLater("outer");
          let inner = "";
          await expect(
            transaction(client, async () => {
              inner = (await RecordJob.performLater("inner")).jobId;
              throw new Error("inner gives up");
            }),
          ).rejects.toThrow("inner gives up");
          const kept = await transaction(client, async () => (await RecordJob.performLater("inner kept")).jobId);
          return { outer: outer.jobId, inner, kept };
        });
        expect(await RecordJob.status(ids.outer)).not.toBeNull();
        expect(await RecordJob.status(ids.kept)).not.toBeNull();
        expect(await RecordJob.status(ids.inner)).toBeNull();
      });
    });

    it("jobs are enqueued in the order they were made, performLater and performAllLater alike", async () => {
      await withFixture(wiring, config, async (fixture) => {
        const order: string[] = [];
        fixture.runtime.events.on("job:enqueue", (event) => order.push(event.payload.id));
        const made = await transaction(pool, async () => {
          const a = await RecordJob.performLater("a");
          const b = await RecordJob.performLater("b");
          const [c, d] = await performAllLater([new RecordJob("c"), new RecordJob("d")]);
          return [a, b, c!, d!];
        });
        expect(made.every((job) => job.deferred === !joins)).toBe(true);
        expect(order).toEqual(made.map((job) => job.jobId));
      });
    });

    it("a class with enqueueAfterCommit = false is enqueued at once, and stays when the transaction rolls back", async () => {
      await withFixture(wiring, config, async () => {
        let seenInside: unknown = null;
        let jobId = "";
        await expect(
          transaction(pool, async () => {
            const enqueued = await AtOnceJob.performLater("at once");
            jobId = enqueued.jobId;
            expect(enqueued.deferred).toBe(false);
            seenInside = await AtOnceJob.status(jobId);
            throw new Error("rolled back");
          }),
        ).rejects.toThrow("rolled back");
        expect(seenInside).not.toBeNull();
        expect(await AtOnceJob.status(jobId)).not.toBeNull();
      });
    });

    it("a performLater not awaited before the transaction's end still belongs to it", async () => {
      await withFixture(wiring, config, async () => {
        let pending!: ReturnType<typeof RecordJob.performLater>;
        await transaction(pool, async (client) => {
          await insertOrder(client, "unawaited");
          pending = RecordJob.performLater("unawaited");
        });
        const { jobId } = await pending;
        expect(await RecordJob.status(jobId)).not.toBeNull();
      });
    });

    it("a serialization error is thrown at performLater, so the app's transaction rolls back", async () => {
      await withFixture(wiring, config, async () => {
        await expect(
          transaction(pool, async (client) => {
            await insertOrder(client, "serialization");
            await RecordJob.performLater((() => "not data") as unknown as string);
          }),
        ).rejects.toBeInstanceOf(SerializationError);
        expect(await orderExists("serialization")).toBe(false);
      });
    });

    it(`enqueue callbacks run where the job is stored (${joins ? "inside the transaction" : "after the commit"})`, async () => {
      await withFixture(wiring, config, async () => {
        phases.length = 0;
        await transaction(pool, async () => {
          await CallbackJob.performLater("callbacks");
          phases.push("body end");
        });
        expect(phases).toEqual(joins ? ["around enqueue", "body end"] : ["body end", "around enqueue"]);
      });
    });

    it("performNow inside a transaction runs now", async () => {
      await withFixture(wiring, config, async () => {
        const result = await transaction(pool, async () => RecordJob.performNow("now"));
        expect(result).toEqual({ label: "now" });
        expect(journal.performed.map((entry) => entry.label)).toEqual(["now"]);
      });
    });

    it.runIf(!joins && wiring.capabilities.unique)("[capability unique] a deferred unique job is decided at the flush: duplicate is unknown at performLater, the second stores nothing", async () => {
      await withFixture(wiring, config, async () => {
        const [first, second] = await transaction(pool, async () => [await UniqueTxJob.performLater("once"), await UniqueTxJob.performLater("once")]);
        expect([first!.duplicate, second!.duplicate]).toEqual([false, false]);
        expect([first!.deferred, second!.deferred]).toEqual([true, true]);
        expect(await UniqueTxJob.status(first!.jobId)).not.toBeNull();
        expect(await UniqueTxJob.status(second!.jobId)).toBeNull();
      });
    });

    it.runIf(!joins)("a flush that fails after the commit throws TransactionFlushError naming the jobs; the data stays committed", async () => {
      await withFixture(wiring, config, async (fixture) => {
        let jobId = "";
        const failure = await transaction(pool, async (client) => {
          await insertOrder(client, "flush-fails");
          jobId = (await RecordJob.performLater("lost")).jobId;
          // The adapter goes away between the job's making and the commit.
          await fixture.client.close();
        }).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(TransactionFlushError);
        expect((failure as TransactionFlushError).jobs.map((job) => job.jobId)).toEqual([jobId]);
        expect((failure as Error).message).toContain(`RecordJob ${jobId}`);
        expect(await orderExists("flush-fails")).toBe(true);
      });
    });
  });
}
