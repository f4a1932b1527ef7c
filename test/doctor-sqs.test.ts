// `errand doctor` on SQS (the emulator) and on worker heartbeats, spawned as users run it:
// SQS with the process-local status store fails (and so do its recurring task and missing
// queues), with a shared RedisStatusStore and existing queues it passes; a Redis queue with
// jobs waiting and no worker fails, and passes once `errand work -q` serves it.
import { join } from "node:path";


import { migrate } from "@errand/adapter-postgres";
import { SqsAdapter } from "@errand/adapter-sqs";
import pg from "pg";
import { configure, Job, type Runtime } from "@errand/core";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { Cli } from "./support/cli.js";
import { appWithConfig, doctor, doctorHooks, lineOf, runCli, MIGRATIONS } from "./support/doctor.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

doctorHooks();
const rdUrl = redisUrl();
const prefixes: string[] = [];
let runtime: Runtime | undefined;
afterEach(async () => {
  Cli.killAll();
  await runtime?.close();
  runtime = undefined;
});
const pgUrl = postgresUrl();
const schemas: string[] = [];
afterAll(async () => {
  await dropPrefixes(rdUrl, prefixes);
  await dropSchemas(pgUrl, schemas);
});


/** The queues as the adapter itself creates them: each with its dead-letter queue and a redrive policy. */
async function createQueues(queuePrefix: string): Promise<void> {
  const creator = new SqsAdapter({ endpoint: sqsEndpoint(), region: "us-east-1", clientConfig: TEST_SQS_CONFIG, queuePrefix });
  await creator.queues.get("reports");
  await creator.close();
}

/** An SQS config with one job class on queue `reports`, a recurring task, and `store` as its status option (source text). */
function sqsConfig(queuePrefix: string, store?: string): string {
  return `
import { Job } from "@errand/core";
import { RedisStatusStore } from "@errand/adapter-redis";
export class ReportJob extends Job { static queue = "reports"; perform() {} }
export default {
  adapter: {
    use: "sqs",
    endpoint: ${JSON.stringify(sqsEndpoint())},
    region: "us-east-1",
    clientConfig: { credentials: ${JSON.stringify(TEST_SQS_CONFIG.credentials)} },
    queuePrefix: ${JSON.stringify(queuePrefix)},
    createQueues: false,
    ${store ? `status: ${store},` : ""}
  },
  jobs: [ReportJob],
  recurring: { hourly: { job: ReportJob, every: "1h" } },
};
`;
}

describe("errand doctor on SQS", () => {
  it("fails the process-local status store, the recurring task it cannot keep, and missing queues", async () => {
    const queuePrefix = sqsPrefix("doctor");
    const run = await doctor(appWithConfig(sqsConfig(queuePrefix)));
    expect(run.code, run.stdout).toBe(1);
    lineOf(run, /^✔ default adapter sqs: reachable at region us-east-1, \d+ ms round trip$/);
    lineOf(run, /^✘ default adapter sqs: job statuses live in each process's memory \(LocalStatusStore\): .* — give the adapter a shared store: status: new RedisStatusStore/);
    lineOf(run, new RegExp(`^✘ default adapter sqs: missing: ${queuePrefix}reports, ${queuePrefix}reports-dead — create them`));
    lineOf(run, /^✘ recurring task hourly: job ReportJob is on the sqs adapter, which cannot store recurring ticks/);
    lineOf(run, /^– default adapter sqs workers \(skipped\): the sqs adapter keeps no worker heartbeats/);
  });

  it("passes with a shared RedisStatusStore and the queues in place", async () => {
    const queuePrefix = sqsPrefix("doctor");
    const storePrefix = redisPrefix("doctor-status");
    prefixes.push(storePrefix);
    await createQueues(queuePrefix);
    const store = `new RedisStatusStore({ url: ${JSON.stringify(rdUrl)}, prefix: ${JSON.stringify(storePrefix)} })`;
    const run = await doctor(appWithConfig(sqsConfig(queuePrefix, store)));
    expect(run.code, run.stdout).toBe(0);
    expect(run.lines.filter((line) => !line.startsWith("✔ ")), run.stdout).toEqual([]);
    lineOf(run, /^✔ default adapter sqs: queues reports and their dead-letter queues exist$/);
    lineOf(run, /^✔ default adapter sqs: statuses in RedisStatusStore, shared, \d+ ms round trip$/);
    lineOf(run, /^✔ recurring task hourly: ReportJob every 1h, next run \S+Z$/);
    lineOf(run, /^✔ default adapter sqs workers: no jobs waiting; 0 live workers$/);
  });

  it("fails a PostgresStatusStore one migration behind, naming it, until errand migrate applies it", async () => {
    const queuePrefix = sqsPrefix("doctor");
    await createQueues(queuePrefix);
    const schema = schemaName("errand_doctor_store");
    schemas.push(schema);
    const pool = new pg.Pool({ connectionString: pgUrl });
    await migrate(pool, schema, { upTo: MIGRATIONS.at(-2)!.slice(0, 3) }).finally(() => pool.end());
    const store = `new (await import("@errand/adapter-postgres")).PostgresStatusStore({ url: ${JSON.stringify(pgUrl)}, schema: ${JSON.stringify(schema)}, migrate: false })`;
    const dir = appWithConfig(sqsConfig(queuePrefix, store));
    const before = await doctor(dir);
    expect(before.code, before.stdout).toBe(1);
    lineOf(before, /^✔ default adapter sqs: statuses in PostgresStatusStore, shared, \d+ ms round trip$/);
    lineOf(before, new RegExp(`^✘ default adapter sqs PostgresStatusStore: schema "${schema}": 1 migration pending: ${MIGRATIONS.at(-1)} — run \`errand migrate\`$`));
    // Reading the queues goes through the store, whose gate migrates on first use (were migrate on).
    lineOf(before, /^– default adapter sqs workers \(skipped\): unknown: a schema is not up to date/);

    // What the doctor named is still pending: it applied nothing.
    const migrated = await runCli(dir, ["migrate"]);
    expect(migrated.stdout).toBe(`sqs: applied ${MIGRATIONS.at(-1)}\n`);
    const after = await doctor(dir);
    expect(after.code, after.stdout).toBe(0);
    lineOf(after, new RegExp(`^✔ default adapter sqs PostgresStatusStore: schema "${schema}" up to date$`));
  });
});

describe("errand doctor on waiting jobs", () => {
  it("fails a queue with jobs and no live worker, and passes once a worker serves it", async () => {
    const prefix = redisPrefix("doctor-backlog");
    prefixes.push(prefix);
    const adapter = { use: "redis", url: rdUrl, prefix };
    // The worker's job holds its slot (20 s, then the worker is killed), so jobs stay waiting behind it.
    const dir = appWithConfig(`
import { Job } from "@errand/core";
export class SlowJob extends Job { static queue = "reports"; perform() { return new Promise((resolve) => setTimeout(resolve, 20000)); } }
export default { adapter: ${JSON.stringify(adapter)}, jobs: [SlowJob] };
`);
    class SlowJob extends Job {
      static override queue = "reports";
      perform() {}
    }
    runtime = configure({ adapter });
    for (let i = 0; i < 4; i++) await SlowJob.performLater();

    const before = await doctor(dir);
    expect(before.code, before.stdout).toBe(1);
    lineOf(before, /^✘ queue reports: 4 jobs waiting, no live worker serves it — run `errand work -q reports`$/);

    const worker = new Cli(["work", "-q", "reports", "-c", "1", "--prefetch", "1", "--config", join(dir, "errand.config.mjs")], { env: { NODE_ENV: "production" } });
    await worker.line(/ worker \S+ started: adapter redis, queues reports, concurrency 1$/);
    const after = await doctor(dir);
    expect(after.code, after.stdout).toBe(0);
    lineOf(after, /^✔ default adapter redis workers: jobs waiting in reports, every one served by a live worker or paused; 1 live worker$/);
  });
});
