/**
 * The fault suite's PostgreSQL wiring: a schema per case; "what is stored" read from
 * `"<schema>".jobs` itself (`state`, `executions`, `lease_token`), the ground truth no
 * portable API can vouch for; connections cut with `pg_terminate_backend`.
 *
 * The test's own connections use application_name "errand-faults-test", so terminating
 * "errand" and "errand-listener" backends spares them; the worker's are told from other
 * files' by the schema in their last statement (every statement the adapter sends names
 * it, LISTEN too).
 */
import { PostgresAdapter } from "@errand/adapter-postgres";
import pg from "pg";

import { dropSchemas, postgresUrl, schemaName } from "../../support/postgres.js";
import { faultFixture, QUEUE, type CaseJobs, type Connection, type FaultStore, type FaultWiring, type Stored } from "../harness.js";

/** Backend kind by application_name. */
const KINDS: Record<string, string> = { errand: "pool", "errand-listener": "listener" };

/** The fault wiring of `@errand/adapter-postgres` (fixture config: 2 s lease, 200 ms lease checks and polls). */
export function postgresFaults(): FaultWiring {
  const url = postgresUrl();
  const db = new pg.Pool({ connectionString: url, max: 4, application_name: "errand-faults-test" });
  const schemas: string[] = [];

  function open(): FaultStore {
    const schema = schemaName("errand_faults");
    schemas.push(schema);
    const adapter = () => new PostgresAdapter({ pool: db, schema });
    // In the select list, pg_terminate_backend runs only on rows that passed the WHERE.
    const backends = async (terminate: boolean): Promise<Connection[]> => {
      const { rows } = await db.query<{ pid: number; application_name: string; terminated: boolean }>(
        `SELECT pid, application_name, ${terminate ? "pg_terminate_backend(pid)" : "true"} AS terminated FROM pg_stat_activity
         WHERE application_name IN ('errand', 'errand-listener') AND datname = current_database()
           AND pid <> pg_backend_pid() AND strpos(query, $1) > 0`,
        [schema],
      );
      return rows.filter((row) => row.terminated).map((row) => ({ id: String(row.pid), kind: KINDS[row.application_name]! }));
    };
    const byState = async () =>
      (
        await db.query<{ state: string; n: string; executions: string; dirty: string }>(
          `SELECT state, count(*) AS n, sum(executions) AS executions,
                  count(*) FILTER (WHERE state = 'available' AND (executions <> 0 OR lease_token IS NOT NULL)) AS dirty
           FROM "${schema}".jobs GROUP BY state`,
        )
      ).rows.map((row) => ({ state: row.state, n: Number(row.n), executions: Number(row.executions), dirty: Number(row.dirty) }));

    return {
      env: { DATABASE_URL_FOR_TEST: url, ERRAND_TEST_SCHEMA: schema },
      adapter,
      async insertRaw({ id, job, body }) {
        const migrating = adapter();
        await migrating.migrate().finally(() => migrating.close());
        await db.query(
          `INSERT INTO "${schema}".jobs (id, job, queue, run_at, state, body, enqueued_at) VALUES ($1, $2, $3, now(), 'available', $4, now())`,
          [id, job, QUEUE, body],
        );
        return id;
      },
      async progress() {
        const rows = await byState();
        const n = (state: string) => rows.find((row) => row.state === state)?.n ?? 0;
        return { succeeded: n("succeeded"), dead: n("dead"), pending: n("available") + n("running") };
      },
      async count(jobs: CaseJobs): Promise<Stored> {
        const rows = await byState();
        const n = (state: string) => rows.find((row) => row.state === state)?.n ?? 0;
        const anomalies: Record<string, number> = {};
        for (const row of rows) if (!["available", "running", "succeeded", "dead"].includes(row.state)) anomalies[`state ${row.state}`] = row.n;
        const missing = jobs.ids.length + jobs.rawIds.length - rows.reduce((sum, row) => sum + row.n, 0);
        if (missing !== 0) anomalies.missing = missing;
        // No case makes a job fail: a ready job has never finished a run (a run cut short is
        // uncounted when handed back or when its lease expires) and holds no lease.
        const dirty = rows.reduce((sum, row) => sum + row.dirty, 0);
        if (dirty !== 0) anomalies["available with executions or a lease token"] = dirty;
        return {
          ready: n("available"),
          leased: n("running"),
          dead: n("dead"),
          succeeded: n("succeeded"),
          executions: rows.reduce((sum, row) => sum + row.executions, 0),
          anomalies,
          raw: `rows by state: ${JSON.stringify(Object.fromEntries(rows.map((row) => [row.state, row.n])))}`,
        };
      },
      connections: {
        busyKinds: ["pool"],
        // The listener connects when a reserve first waits: only an idle worker is sure to hold it.
        idleKinds: ["listener"],
        listenerKind: "listener",
        list: () => backends(false),
        kill: () => backends(true),
      },
    };
  }

  return {
    name: "postgres",
    config: faultFixture("postgres.config.mjs"),
    leaseMs: 2_000,
    killJobs: 10_000,
    open,
    async close() {
      await db.end();
      await dropSchemas(url, schemas);
    },
  };
}
