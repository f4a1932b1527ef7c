// The cases every ORM passes on MariaDB (issue 16): the app's data in MySQL, its jobs on
// Redis. Inside the helper's `transaction(db, fn)` a job waits for the commit (`deferred`),
// is enqueued once after it, and exists nowhere after a rollback or an error; the
// connection says dialect "mysql" and has no `query`. The PostgreSQL routes cannot hold a
// MySQL transaction and say so: `set({ transaction })` on the PostgreSQL adapter, a scope
// whose job is for the PostgreSQL adapter in "join" mode, and a PostgresOutbox.
import { PostgresOutbox } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import { configure, Job, performAllLater, Worker, type Runtime } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { mysqlUsersWith } from "./mysql.js";
import type { MysqlOrm } from "./orm-mysql-fixtures.js";
import { dropSchemas, postgresUrl, schemaName } from "./postgres.js";
import { freshPostgresAdapters } from "./postgres-adapters.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./redis.js";

/** Tags the jobs of these cases ran with, in order. */
export const ran: string[] = [];

/** A job on the default adapter (Redis here) that notes its tag. */
export class MysqlTaggedJob extends Job<[tag: string]> {
  perform(tag: string) {
    ran.push(tag);
  }
}

/** A job pinned to the PostgreSQL adapter of `adapters.postgres` ("join" mode). */
export class MysqlPostgresJob extends Job<[tag: string]> {
  static override adapter = "postgres";
  perform(_tag: string) {}
}

/** Configures a runtime for one describe block, closed after it. */
function useRuntime(make: () => Parameters<typeof configure>[0], cleanup?: () => Promise<unknown>): { runtime: Runtime } {
  const holder = {} as { runtime: Runtime };
  beforeAll(() => {
    holder.runtime = configure(make());
  });
  afterAll(async () => {
    await holder.runtime?.close();
    await cleanup?.();
  });
  return holder;
}

/** The after-commit cases (jobs on Redis) and the PostgreSQL routes' refusals, for one ORM on MariaDB. */
export function mysqlOrmCases(orm: MysqlOrm<any>, table: string): void {
  const { library } = orm;
  afterAll(() => orm.close());

  describe(`${library} on MariaDB, jobs on Redis: after the commit`, () => {
    const url = redisUrl();
    const prefix = redisPrefix(`errand-mysql-${library}`);
    const h = useRuntime(() => ({ adapter: new RedisAdapter({ url, prefix }), jobs: [MysqlTaggedJob], worker: { embedded: false } }), () => dropPrefixes(url, [prefix]));
    const queued = async (queue: string) => (await (await h.runtime.adapterFor()).listJobs({ state: "queued", queue, limit: 50 })).jobs.map((job) => job.id);

    it("the connection is dialect mysql, without query", async () => {
      await orm.transaction(async (tx) => {
        expect(orm.connection(tx)).toEqual({ dialect: "mysql", library });
      });
    });

    it("commit: the jobs wait for it (deferred), are enqueued once after it, in order, and run", async () => {
      const queue = `${library}-commit`;
      const email = `${queue}@example.com`;
      const ids = await orm.transaction(async (tx) => {
        await orm.insert(tx, email);
        const one = await MysqlTaggedJob.set({ queue }).performLater(`${queue}-1`);
        const [two, three] = await performAllLater([new MysqlTaggedJob(`${queue}-2`).set({ queue }), new MysqlTaggedJob(`${queue}-3`).set({ queue })]);
        expect([one, two, three].map((job) => [job!.deferred, job!.providerJobId])).toEqual([[true, ""], [true, ""], [true, ""]]);
        // Nothing is in Redis before the commit.
        expect(await queued(queue)).toEqual([]);
        return [one.jobId, two!.jobId, three!.jobId];
      });
      expect(await mysqlUsersWith(table, email)).toBe(1);
      expect(await queued(queue)).toEqual(ids);
      const worker = new Worker({ runtime: h.runtime, concurrency: 1, queues: [queue] });
      await worker.start();
      try {
        await waitFor(() => ran.filter((tag) => tag.startsWith(queue)).length === 3, { timeoutMs: 10_000, message: "the three committed jobs to run" });
      } finally {
        await worker.stop();
      }
      expect(ran.filter((tag) => tag.startsWith(queue))).toEqual([`${queue}-1`, `${queue}-2`, `${queue}-3`]);
    });

    it("rollback: the row and the job exist nowhere", async () => {
      const queue = `${library}-rollback`;
      const email = `${queue}@example.com`;
      let jobId = "";
      const rolledBack = orm.transaction(async (tx) => {
        await orm.insert(tx, email);
        jobId = (await MysqlTaggedJob.set({ queue }).performLater(queue)).jobId;
        await orm.rollback(tx, email);
      });
      await expect(rolledBack).rejects.toThrow(orm.rolledBackWith);
      expect(jobId).not.toBe("");
      expect(await mysqlUsersWith(table, email)).toBe(0);
      expect(await queued(queue)).toEqual([]);
      expect(await MysqlTaggedJob.status(jobId)).toBeNull();
    });

    it("an error thrown inside: the row and the job exist nowhere", async () => {
      const queue = `${library}-error`;
      const email = `${queue}@example.com`;
      const declined = new Error("payment declined");
      let jobId = "";
      await expect(
        orm.transaction(async (tx) => {
          await orm.insert(tx, email);
          jobId = (await MysqlTaggedJob.set({ queue }).performLater(queue)).jobId;
          throw declined;
        }),
      ).rejects.toBe(declined);
      expect(await mysqlUsersWith(table, email)).toBe(0);
      expect(await queued(queue)).toEqual([]);
      expect(await MysqlTaggedJob.status(jobId)).toBeNull();
    });
  });

  describe(`${library} on MariaDB: the PostgreSQL adapter in "join" mode refuses the transaction`, () => {
    const fresh = freshPostgresAdapters();
    useRuntime(() => ({ adapter: "async", adapters: { postgres: fresh() }, jobs: [MysqlPostgresJob], worker: { embedded: false } }));

    it("set({ transaction }) with the MySQL connection names the dialect and the way out", async () => {
      await expect(orm.plain((tx) => MysqlPostgresJob.set({ transaction: orm.connection(tx) }).performLater("set"))).rejects.toThrow(
        `postgres adapter: set({ transaction }) got a mysql transaction (${library}): the PostgreSQL adapter joins PostgreSQL transactions only`,
      );
    });

    it("a job made inside transaction(db, fn) is refused, and the transaction rolls back, even when the app swallowed the error", async () => {
      const message = `the postgres adapter enqueues inside PostgreSQL transactions only (transactionalEnqueue), and this is a mysql transaction (${library})`;
      for (const swallow of [false, true]) {
        const email = `${library}-join-${swallow}@example.com`;
        const inside = orm.transaction(async (tx) => {
          await orm.insert(tx, email);
          const enqueued = MysqlPostgresJob.performLater(email);
          await (swallow ? enqueued.catch(() => undefined) : enqueued);
        });
        await expect(inside).rejects.toThrow(message);
        expect(await mysqlUsersWith(table, email)).toBe(0);
      }
    });
  });

  describe(`${library} on MariaDB: a PostgresOutbox refuses the transaction`, () => {
    const pgUrl = postgresUrl();
    const schema = schemaName("errand_mysql_outbox");
    const outbox = new PostgresOutbox({ url: pgUrl, schema });
    const rUrl = redisUrl();
    const prefix = redisPrefix(`errand-mysql-outbox-${library}`);
    useRuntime(
      () => ({ adapter: new RedisAdapter({ url: rUrl, prefix }), outbox, jobs: [MysqlTaggedJob], worker: { embedded: false } }),
      async () => {
        await outbox.close();
        await dropSchemas(pgUrl, [schema]);
        await dropPrefixes(rUrl, [prefix]);
      },
    );

    it("a job made inside transaction(db, fn) is refused (not deferred), and the transaction rolls back", async () => {
      const email = `${library}-outbox@example.com`;
      await expect(
        orm.transaction(async (tx) => {
          await orm.insert(tx, email);
          await MysqlTaggedJob.performLater(email);
        }),
      ).rejects.toThrow(`the outbox writes into postgres transactions, and this is a mysql transaction (${library}): the outbox cannot store jobs in it`);
      expect(await mysqlUsersWith(table, email)).toBe(0);
    });

    it("PostgresOutbox.write with the MySQL connection names it", async () => {
      await expect(orm.plain((tx) => outbox.write(orm.connection(tx), []))).rejects.toThrow(
        `postgres outbox: writes need a "postgres" connection with query(), got a "mysql" connection from ${library} without query()`,
      );
    });
  });
}
