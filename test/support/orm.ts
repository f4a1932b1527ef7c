// What every @errand/orm test file shares: a PostgreSQL adapter on a schema of its own, a
// `pg` client LISTENing on that adapter's wake channel, a worker, the app tables' schema,
// and the transactional-enqueue cases each ORM must pass (commit → stored, NOTIFY at commit,
// run; rollback → nothing stored, no NOTIFY).
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";

import { configure, Job, performAllLater, Worker, type Runtime, type TransactionConnection } from "@errand/core";
import type { PostgresAdapter } from "@errand/adapter-postgres";
import { waitFor } from "@errand/core/testing";

import { dropSchemas, postgresUrl, schemaName } from "./postgres.js";
import { freshPostgresAdapters } from "./postgres-adapters.js";

/** Runs `body` in the ORM's real transaction, which then commits or rolls back. */
export type RunInTransaction = (outcome: "commit" | "rollback", body: (connection: TransactionConnection) => Promise<void>) => Promise<void>;

/** The jobs every ORM file enqueues: records the tag it ran with. */
export const performed: string[] = [];

/** A job that notes its tag. */
export class OrmTaggedJob extends Job<[tag: string]> {
  perform(tag: string) {
    performed.push(tag);
  }
}

/** A job unique by its tag while queued or running: enqueued through the adapter's flow statement. */
export class OrmUniqueJob extends Job<[tag: string]> {
  static override unique = { key: (tag: string) => tag, while: "active" as const };
  perform(_tag: string) {}
}

/** One test file's adapter, runtime, wake-channel listener and app schema. */
export interface OrmHarness {
  readonly url: string;
  /** The schema of the app's tables (the ORM's), created before the tests, dropped after. */
  readonly appSchema: string;
  adapter: PostgresAdapter;
  runtime: Runtime;
  /** Payloads (queue names) of the NOTIFYs seen on the adapter's wake channel, in order. */
  readonly wakes: string[];
  /** A round trip on the listening connection: NOTIFYs committed before it have arrived. */
  syncListener(): Promise<void>;
  /** Ids of the jobs stored in the adapter's schema on `queue`, read outside any transaction. */
  storedOn(queue: string): Promise<string[]>;
  /** Starts a worker, waits for `condition`, stops it. */
  work<T>(condition: () => T, message: string): Promise<void>;
  /** A connection string whose sessions use the app schema first. */
  readonly appUrl: string;
}

/** Sets up the harness for a test file (`beforeAll`/`afterAll`); `tables` is the app's DDL. */
export function ormHarness(tables: string): OrmHarness {
  const url = postgresUrl();
  const appSchema = schemaName("errand_orm");
  const fresh = freshPostgresAdapters();
  const listener = new pg.Client({ connectionString: url, application_name: "errand-orm-test-listener" });
  const harness = {
    url,
    appSchema,
    appUrl: `${url}${url.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${appSchema}`)}`,
    wakes: [] as string[],
    async syncListener() {
      await listener.query("SELECT 1");
    },
    async storedOn(queue: string) {
      const { rows } = await harness.adapter.pool.query<{ id: string }>(`SELECT id FROM "${harness.adapter.schema}".jobs WHERE queue = $1`, [queue]);
      return rows.map((row) => row.id);
    },
    async work<T>(condition: () => T, message: string) {
      const worker = new Worker({ runtime: harness.runtime, concurrency: 2, pollInterval: "60s" });
      await worker.start();
      try {
        await waitFor(condition, { timeoutMs: 15_000, message });
      } finally {
        await worker.stop();
      }
    },
  } as OrmHarness;
  beforeAll(async () => {
    harness.adapter = fresh();
    harness.runtime = configure({ adapter: harness.adapter, worker: { embedded: false } });
    await harness.adapter.migrate();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA "${appSchema}"`);
      await admin.query(`SET search_path = "${appSchema}"`);
      await admin.query(tables);
    } finally {
      await admin.end();
    }
    await listener.connect();
    listener.on("notification", (message) => {
      if (message.channel === `errand:${harness.adapter.schema}`) harness.wakes.push(message.payload ?? "");
    });
    await listener.query(`LISTEN "errand:${harness.adapter.schema}"`);
  });
  afterAll(async () => {
    await listener.end();
    await harness.runtime?.close();
    await dropSchemas(url, [appSchema]);
  });
  return harness;
}

/**
 * The transactional-enqueue cases, on the ORM's real transactions: commit (stored, NOTIFY
 * only at commit, a worker runs it), rollback (nothing stored, no NOTIFY), and a bulk plus
 * a flow-controlled job (the adapter's other statements) through the same connection.
 */
export function transactionalEnqueueCases(library: string, h: OrmHarness, run: RunInTransaction): void {
  it(`${library}: a job enqueued in a committed transaction is stored at commit, not announced before, and runs`, async () => {
    const queue = `${library}-commit`;
    await run("commit", async (connection) => {
      expect(connection).toMatchObject({ dialect: "postgres", library });
      const { jobId } = await OrmTaggedJob.set({ transaction: connection, queue }).performLater(`${library}:committed`);
      expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
      // Inside the transaction: not visible to others, and no NOTIFY has gone out.
      expect(await h.storedOn(queue)).toEqual([]);
      await h.syncListener();
      expect(h.wakes).not.toContain(queue);
    });
    expect(await h.storedOn(queue)).toHaveLength(1);
    await h.work(() => performed.includes(`${library}:committed`), "the committed job to run");
  });

  // The enqueue statements NOTIFY the jobs due at the statement's time
  // (statement_timestamp(); now() is the BEGIN time, earlier than the job's runAt, and once
  // announced nothing: found by this case).
  // Waits for the NOTIFY of the job the case above committed (that case fails on its own
  // if the transaction did), so only a missing NOTIFY can make this one fail.
  it(`${library}: the committed job's NOTIFY arrives at commit`, async () => {
    await waitFor(() => h.wakes.includes(`${library}-commit`), { timeoutMs: 3_000, message: `the NOTIFY of ${library}-commit after commit` });
  });

  it(`${library}: a job enqueued in a rolled-back transaction is neither stored nor announced`, async () => {
    const queue = `${library}-rollback`;
    await run("rollback", async (connection) => {
      await OrmTaggedJob.set({ transaction: connection, queue }).performLater(`${library}:rolled-back`);
    });
    expect(await h.storedOn(queue)).toEqual([]);
    // A NOTIFY sent after the rollback arrives; had the rolled-back one gone out, it would be before it.
    const marker = `${library}-marker`;
    await OrmTaggedJob.set({ queue: marker }).performLater("marker");
    await waitFor(() => h.wakes.includes(marker), { message: "the marker's NOTIFY" });
    expect(h.wakes).not.toContain(queue);
  });

  it(`${library}: a bulk and a unique (flow) job go through the same connection, reading its rows`, async () => {
    const queue = `${library}-bulk`;
    let ids: string[] = [];
    await run("commit", async (connection) => {
      const results = await performAllLater([
        new OrmTaggedJob(`${library}:bulk-1`).set({ transaction: connection, queue, priority: 1 }),
        new OrmTaggedJob(`${library}:bulk-2`).set({ transaction: connection, queue, priority: 5 }),
      ]);
      expect(results).toHaveLength(2);
      // The second job with the key is a duplicate: the adapter learns it from the rows the connection answers.
      const first = await OrmUniqueJob.set({ transaction: connection, queue }).performLater(`${library}:key`);
      const second = await OrmUniqueJob.set({ transaction: connection, queue }).performLater(`${library}:key`);
      expect(second.jobId).toBe(first.jobId);
      ids = [...results.map((result) => result.jobId), first.jobId];
    });
    expect((await h.storedOn(queue)).sort()).toEqual(ids.sort());
  });
}

/** Records the jobs of {@link modelCases} were given, as they were given them. */
export const loadedRecords: unknown[][] = [];

/** A job given model records: notes them. */
export class OrmRecordsJob extends Job<[records: object[]]> {
  perform(records: object[]) {
    loadedRecords.push(records);
  }
}

/** What {@link modelCases} needs of an ORM with a registered model of table `users`. */
export interface ModelFixture {
  /** Inserts users with these emails; resolves to their records as the ORM returns them, branded. */
  create(emails: string[]): Promise<object[]>;
  /** Deletes a user by id, through the ORM. */
  remove(record: object): Promise<void>;
  /** SELECTs on `users` the ORM logged (its own logging) since the last reset. */
  selects(): number;
  resetSelects(): void;
}

/**
 * Model cases: records passed to `performLater` travel as gids and come back loaded (N
 * references with one query, counted in the ORM's log); a record gone by perform time fails
 * the job with `DeserializationError`.
 */
export function modelCases(library: string, h: OrmHarness, fixture: ModelFixture): void {
  it(`${library}: records travel as gids and N references load with one query`, async () => {
    const users = await fixture.create([`${library}-a@example.com`, `${library}-b@example.com`, `${library}-c@example.com`]);
    const { jobId } = await OrmRecordsJob.set({ queue: `${library}-models` }).performLater([users[0]!, users[1]!, users[2]!, users[0]!]);
    const { rows } = await h.adapter.pool.query<{ body: string }>(`SELECT body FROM "${h.adapter.schema}".jobs WHERE id = $1`, [jobId]);
    for (const user of users) expect(rows[0]!.body).toContain(`/${(user as { id: number }).id}`);
    expect(rows[0]!.body).toMatch(/gid:\/\/[^/]+\/User\//);
    fixture.resetSelects();
    const before = loadedRecords.length;
    await h.work(() => loadedRecords.length > before, "the records job to run");
    const given = loadedRecords.at(-1)!;
    expect(given.map((record) => (record as { email: string }).email)).toEqual([...[0, 1, 2, 0].map((i) => (users[i] as { email: string }).email)]);
    expect(fixture.selects()).toBe(1);
  });

  it(`${library}: a record deleted before perform fails the job with DeserializationError`, async () => {
    const [user] = await fixture.create([`${library}-gone@example.com`]);
    await OrmRecordsJob.set({ queue: `${library}-gone` }).performLater([user!]);
    await fixture.remove(user!);
    const errors: unknown[] = [];
    const note = ({ payload, error }: { payload?: { queue: string }; error: unknown }) => {
      if (payload?.queue === `${library}-gone`) errors.push(error);
    };
    const unsubscribe = [h.runtime.events.on("job:retry", note), h.runtime.events.on("job:discard", note), h.runtime.events.on("job:dead", note)];
    try {
      await h.work(() => errors.length > 0, "the job with a deleted record to fail");
    } finally {
      for (const off of unsubscribe) off();
    }
    expect(errors[0]).toMatchObject({ name: "DeserializationError", message: expect.stringMatching(/^User \d+ \(gid:\/\/.+\) no longer exists$/) });
  });
}
