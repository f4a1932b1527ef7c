// PostgreSQL: a statement of the adapter's that PostgreSQL aborts to break a deadlock is run
// again (src/deadlock.ts). Found under kill -9 in the fault suite: "settle failed: deadlock
// detected". Each case holds the lower id in another transaction, runs the statement on
// both ids (higher first in its input), and once it waits, asks for the higher id too:
// where the statement already holds it, that is a deadlock, which PostgreSQL breaks by
// aborting the statement (it waited first, so its deadlock_timeout runs out first). Either
// way the statement must end without an error once the other transaction commits.
import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";

import { PostgresAdapter } from "@errand/adapter-postgres";
import type { Reservation, Settlement } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload } from "./conformance/harness.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";

const url = postgresUrl();
const schemas: string[] = [];
afterAll(() => dropSchemas(url, schemas));

async function twoRunningJobs() {
  const schema = schemaName();
  schemas.push(schema);
  const adapter = new PostgresAdapter({ url, schema, poolSize: 4 });
  await adapter.enqueue({ jobs: [payload(), payload()] });
  const reserved = await adapter.reserve({ queues: ["default"], max: 2, leaseMs: 60_000, waitMs: 0, workerId: "lock-order" });
  const ids = reserved.map((r) => (JSON.parse(r.body) as { id: string }).id);
  const [low, high] = ids[0]! < ids[1]! ? [reserved[0]!, reserved[1]!] : [reserved[1]!, reserved[0]!];
  const idOf = (r: Reservation) => (JSON.parse(r.body) as { id: string }).id;
  return { adapter, schema, low, high, lowId: idOf(low), highId: idOf(high) };
}

type Fixture = Awaited<ReturnType<typeof twoRunningJobs>>;

const statements: [string, (f: Fixture) => Promise<unknown>][] = [
  ["settle (all succeeded)", (f) => f.adapter.settle({ settlements: [f.high, f.low].map((reservation): Settlement => ({ reservation, outcome: "succeeded" })) })],
  [
    "settle (mixed outcomes)",
    (f) =>
      f.adapter.settle({
        settlements: [
          { reservation: f.high, outcome: "failed", error: { name: "Error", message: "x" } },
          { reservation: f.low, outcome: "released" },
        ],
      }),
  ],
  ["extendLease", (f) => f.adapter.extendLease({ reservations: [f.high, f.low], leaseMs: 60_000 })],
  ["setProgress", (f) => f.adapter.setProgress({ updates: [f.highId, f.lowId].map((jobId) => ({ jobId, fraction: 0.5 })) })],
];

describe("postgres: multi-row updates survive a deadlock", () => {
  it.each(statements)("%s completes when another transaction locks its rows in the other order", async (_name, run) => {
    const fixture = await twoRunningJobs();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query("SET deadlock_timeout = '20s'");
      await holder.query("BEGIN");
      await holder.query(`SELECT 1 FROM "${fixture.schema}".jobs WHERE id = $1 FOR UPDATE`, [fixture.lowId]);
      const statement = run(fixture);
      await waitFor(
        async () => {
          const { rows } = await holder.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE $1",
            [`%"${fixture.schema}"%`],
          );
          return rows[0].n > 0;
        },
        { message: "the statement waits for the lower id" },
      );
      await holder.query(`SELECT 1 FROM "${fixture.schema}".jobs WHERE id = $1 FOR UPDATE`, [fixture.highId]);
      await holder.query("COMMIT");
      await expect(statement).resolves.not.toThrow();
    } finally {
      await holder.end();
      await fixture.adapter.close();
    }
  });
});
