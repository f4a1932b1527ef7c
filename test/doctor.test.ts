// `errand doctor` against real Redis and PostgreSQL, spawned as users run it, with configs
// written outside the monorepo: a healthy setup (every line ✔, exit 0, and --json agrees), a
// schema one migration behind (✘ naming it; the doctor did not apply it) beside an invalid
// recurring task, servers that do not answer (✘ within a few seconds), and no config at all.

import { migrate } from "@errand/adapter-postgres";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { appDir, appWithConfig, doctor, doctorHooks, lineOf, MIGRATIONS } from "./support/doctor.js";
import { freePort } from "./support/ports.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";

doctorHooks();
const pgUrl = postgresUrl();
const rdUrl = redisUrl();
const schemas: string[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  await dropSchemas(pgUrl, schemas);
  await dropPrefixes(rdUrl, prefixes);
});

const LAST = MIGRATIONS.at(-1)!;
const BEFORE_LAST = MIGRATIONS.at(-2)!.slice(0, 3);

/** A config: PostgreSQL by default, Redis as adapter "fast", one job class each, one recurring task. */
function config(options: { pg: string; schema: string; redis: string; prefix: string; cron?: string }): string {
  return `
import { Job } from "@errand/core";
export class ReportJob extends Job { static queue = "reports"; perform() {} }
export class FastJob extends Job { static queue = "fast"; static adapter = "fast"; perform() {} }
export default {
  app: "doctor-test",
  adapter: { production: { use: "postgres", url: ${JSON.stringify(options.pg)}, schema: ${JSON.stringify(options.schema)} } },
  adapters: { fast: { use: "redis", url: ${JSON.stringify(options.redis)}, prefix: ${JSON.stringify(options.prefix)} } },
  jobs: [ReportJob, FastJob],
  recurring: { nightly: { job: ReportJob, cron: ${JSON.stringify(options.cron ?? "0 3 * * *")} } },
};
`;
}

async function migrated(upTo?: string): Promise<string> {
  const schema = schemaName("errand_doctor");
  schemas.push(schema);
  const pool = new pg.Pool({ connectionString: pgUrl });
  try {
    await migrate(pool, schema, upTo === undefined ? {} : { upTo });
  } finally {
    await pool.end();
  }
  return schema;
}

async function appliedIds(schema: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    return (await client.query<{ id: number }>(`SELECT id FROM "${schema}".migrations ORDER BY id`)).rows.map((row) => row.id);
  } finally {
    await client.end();
  }
}

describe("errand doctor", () => {
  it("passes every check of a healthy Redis + PostgreSQL setup, and --json says the same", async () => {
    const prefix = redisPrefix("doctor");
    prefixes.push(prefix);
    const dir = appWithConfig(config({ pg: pgUrl, schema: await migrated(), redis: rdUrl, prefix }));
    const run = await doctor(dir);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^errand doctor: environment production$/m);
    expect(run.lines.filter((line) => !line.startsWith("✔ ")), run.stdout).toEqual([]);
    lineOf(run, /^✔ config errand\.config\.mjs: valid for environment production$/);
    lineOf(run, /^✔ job classes: 2 registered \(FastJob, ReportJob\)$/);
    lineOf(run, /^✔ default adapter postgres: reachable at 127\.0\.0\.1:\d+\/\w+, \d+ ms round trip$/);
    lineOf(run, /^✔ default adapter postgres: schema "errand_doctor_\w+" up to date$/);
    lineOf(run, /^✔ adapter "fast" redis: reachable at \S+, \d+ ms round trip$/);
    lineOf(run, /^✔ adapter "fast" redis: key layout under prefix "doctor-\w+" up to date$/);
    lineOf(run, /^✔ default adapter postgres workers: no jobs waiting; 0 live workers$/);
    lineOf(run, /^✔ recurring task nightly: ReportJob cron "0 3 \* \* \*" \(UTC\), next run \S+T03:00:00\.000Z$/);
    expect(run.stdout).toMatch(/^ok: 9 passed, 0 failed$/m);

    const json = await doctor(dir, ["--json"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; environment: string; config: string; checks: { id: string; status: string; ok: boolean; title: string; latencyMs?: number }[] };
    expect(report.ok).toBe(true);
    expect(report.environment).toBe("production");
    expect(report.config).toMatch(/errand-doctor-\w+\/errand\.config\.mjs$/);
    expect(report.checks.map((check) => check.id)).toEqual([
      "config",
      "jobs",
      "adapter:default",
      "schema:default",
      "adapter:fast",
      "schema:fast",
      "backlog:default",
      "backlog:fast",
      "recurring:nightly",
    ]);
    expect(report.checks.every((check) => check.status === "pass" && check.ok)).toBe(true);
    expect(report.checks.find((check) => check.id === "adapter:default")?.latencyMs).toEqual(expect.any(Number));
  });

  // Two faults in one setup (each run costs seconds): each fails its own line, the rest is checked.
  it("fails on a pending migration, naming it without applying it, and on an invalid recurring task", async () => {
    const prefix = redisPrefix("doctor");
    prefixes.push(prefix);
    const schema = await migrated(BEFORE_LAST);
    const dir = appWithConfig(config({ pg: pgUrl, schema, redis: rdUrl, prefix, cron: "61 * * * *" }));
    const run = await doctor(dir);
    expect(run.code, run.stdout).toBe(1);
    expect(run.lines.filter((line) => line.startsWith("✘ ")), run.stdout).toHaveLength(2);
    lineOf(run, /^✘ recurring task nightly: .*cron "61 \* \* \* \*" is not a valid cron expression .* — fix the task in config\.recurring/);
    lineOf(run, new RegExp(`^✘ default adapter postgres: schema "${schema}": 1 migration pending: ${LAST} — run \`errand migrate\`$`));
    // Reading the queues would go through the adapter's migration gate: skipped, saying why.
    lineOf(run, /^– default adapter postgres workers \(skipped\): unknown: a schema is not up to date, and reading the queues would migrate it$/);
    lineOf(run, /^✔ adapter "fast" redis: key layout/);
    expect(await appliedIds(schema)).toEqual(MIGRATIONS.slice(0, -1).map((name) => Number(name.slice(0, 3))));
  });

  it("fails within a few seconds when the servers do not answer", async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const dir = appWithConfig(config({ pg: `postgres://postgres@127.0.0.1:${pgPort}/test`, schema: "errand", redis: `redis://127.0.0.1:${redisPort}`, prefix: "doctor-none" }));
    const run = await doctor(dir, ["--timeout", "1000"]);
    expect(run.code, run.stdout).toBe(1);
    lineOf(run, new RegExp(`^✘ default adapter postgres: unreachable: .*ECONNREFUSED 127\\.0\\.0\\.1:${pgPort} — start the server`));
    // ioredis reconnects forever: the doctor's own timeout ends the wait.
    lineOf(run, new RegExp(`^✘ adapter "fast" redis: unreachable: .*no answer from redis at 127\\.0\\.0\\.1:${redisPort} within 1000 ms`));
    lineOf(run, /^– default adapter postgres schema, queues and status store \(skipped\)/);
    lineOf(run, /^– adapter "fast" redis workers \(skipped\)/);
    // 1 s timeout, ioredis' 2 s disconnect timeout for a socket that never opened, and node's start.
    expect(run.ms).toBeLessThan(8000);
  });

  it("fails without a config file or ERRAND_URL, pointing at errand init", async () => {
    const run = await doctor(appDir());
    expect(run.code).toBe(1);
    lineOf(run, /^✘ config: no errand\.config\.\{ts,mts,mjs,js\} in \S+, and no ERRAND_URL — run `errand init`/);
    lineOf(run, /^– adapters, queues and recurring tasks \(skipped\): unknown: the config did not load$/);
  });
});
