/**
 * Where a soak run's jobs are stored, per backend: the adapter setting the children get
 * (with the run's retention), the setup before the run (a fresh PostgreSQL schema, Redis
 * prefix or SQS queue prefix, migrated), one storage sample per period, and the clean-up.
 *
 * Samples, all in bytes or counts:
 * - PostgreSQL: per table of the run's schema `pg_total_relation_size` (total),
 *   `pg_relation_size` (heap), `pg_indexes_size`, and `n_live_tup` / `n_dead_tup` from
 *   pg_stat_user_tables; `bytes` is the schema's total. Errand's jobs leave dead tuples
 *   behind (each job is one insert, two updates and a delete), and only VACUUM makes their
 *   space reusable: when the server runs without autovacuum (the test server here:
 *   `autovacuum = off`), the store VACUUMs the run's tables itself every `vacuumMs`, in
 *   autovacuum's place, on a connection of its own, and counts the time it took.
 * - Redis: INFO memory `used_memory` (the whole server: other clients' keys count too) and
 *   the run's prefix: every key counted by SCAN; MEMORY USAGE of every queue-level key (from
 *   1,000 of its elements) and of an even sample of at most `JOB_SAMPLE` job hashes, scaled to all of them; `bytes` is
 *   that prefix estimate.
 * - SQS: the emulator's queue attributes (visible, in flight, delayed messages) of the
 *   run's queue, and the emulator process's RSS, which is where its messages live; `bytes`
 *   is that RSS.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { AdapterOptionsSetting } from "@errand/core";
import type { Redis } from "ioredis";
import pg from "pg";

import { Peer } from "../realtime/ipc.js";
import { connect, deleteKeys, info, REDIS_URL } from "../redis/store.js";
import { CLIENT_CONFIG, deleteQueues, freshPrefix, queueUrl, sqsClient } from "../sqs/store.js";

/** The durable backends a soak runs on. */
export type Backend = "postgres" | "redis" | "sqs";
export const BACKENDS: readonly Backend[] = ["postgres", "redis", "sqs"];

/**
 * The soak's own database, created when missing: VACUUM can only remove the dead rows no
 * open snapshot of the same database may still see, so on a shared server one long query of
 * another client in the tests' database (measured: a 77 s WAL-inspection query of another
 * bench) stops the soak's cleanup, and its storage and latency run away for reasons that are
 * not Errand's. A database of its own sees only its own snapshots.
 */
export const DATABASE_URL = process.env.SOAK_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/errand_soak";

/** Creates the database of `url` when it does not exist (connecting to `postgres` on the same server). */
async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

/** Job hashes MEMORY USAGE is asked for per Redis sample (the rest is scaled from them). */
const JOB_SAMPLE = 1_000;

/** The retention a run sets on the adapters that keep finished jobs (PostgreSQL, Redis). */
export interface Retention {
  retentionMs: number;
  maxFinished: number;
  /** PostgreSQL: how often a worker runs a retention step (at most 10,000 rows each). */
  retentionCheckMs: number;
}

/** How the store is looked after during the run. */
export interface Upkeep {
  /** PostgreSQL without autovacuum: VACUUM the run's tables this often (0: never). */
  vacuumMs: number;
}

/** One period's storage figures. */
export interface StorageSample {
  /** The figure plotted and judged: see the module comment. */
  bytes: number;
  /** Everything else read, by name. */
  detail: Record<string, number>;
}

/** A backend set up for one run. */
export interface Store {
  /** The adapter setting for `configure` in every process. */
  adapter: AdapterOptionsSetting;
  /** What the JSON shows of it (no URL). */
  shown: Record<string, unknown>;
  /** The queues a worker takes. */
  queues: string;
  /** What `bytes` is, for the plot's axis and the README. */
  bytesLabel: string;
  /** Facts for the JSON (PostgreSQL: autovacuum on the server, the bench's own VACUUMs). */
  facts(): Record<string, unknown>;
  sample(): Promise<StorageSample>;
  /** Removes the run's schema, keys or queues (and stops the emulator). */
  close(): Promise<void>;
}

/** Sets up `backend` for a run: a fresh namespace, migrated (PostgreSQL) by the caller's `migrate`. */
export async function openStore(backend: Backend, retention: Retention, upkeep: Upkeep): Promise<Store> {
  if (backend === "postgres") return postgres(retention, upkeep);
  if (backend === "redis") return redis(retention);
  return sqs();
}

/** RSS of process `pid` in bytes, from /proc (Linux); NaN when it cannot be read. */
export function processRss(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * 4096;
  } catch {
    return NaN;
  }
}

const hex = () => randomBytes(5).toString("hex");

async function postgres({ retentionMs, maxFinished, retentionCheckMs }: Retention, { vacuumMs }: Upkeep): Promise<Store> {
  const schema = `soak_${hex()}`;
  await ensureDatabase(DATABASE_URL);
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  const autovacuum = (await client.query<{ autovacuum: string }>("SHOW autovacuum")).rows[0]!.autovacuum === "on";
  const vacuums = vacuumLoop(schema, !autovacuum && vacuumMs > 0 ? vacuumMs : 0);
  const sizes = `
    SELECT c.relname AS name, pg_total_relation_size(c.oid)::float8 AS total, pg_relation_size(c.oid)::float8 AS heap,
           pg_indexes_size(c.oid)::float8 AS indexes, coalesce(s.n_live_tup, 0)::float8 AS live, coalesce(s.n_dead_tup, 0)::float8 AS dead
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE n.nspname = $1 AND c.relkind = 'r'`;
  const adapter = { use: "postgres", url: DATABASE_URL, schema, retentionMs, maxFinished, retentionCheckMs } as const;
  return {
    adapter,
    shown: { use: "postgres", schema: "fresh per run", retentionMs, maxFinished, retentionCheckMs },
    queues: "*",
    bytesLabel: "PostgreSQL: schema total (tables + indexes + TOAST)",
    sample: async () => {
      const { rows } = await client.query<{ name: string; total: number; heap: number; indexes: number; live: number; dead: number }>(sizes, [schema]);
      const detail: Record<string, number> = { heap: 0, indexes: 0, deadTuples: 0, liveTuples: 0 };
      let bytes = 0;
      for (const row of rows) {
        bytes += row.total;
        detail.heap! += row.heap;
        detail.indexes! += row.indexes;
        detail.deadTuples! += row.dead;
        detail.liveTuples! += row.live;
        // The tables that hold jobs get figures of their own; the flow tables stay empty here.
        if (row.name === "jobs" || row.name === "statuses") {
          for (const key of ["total", "heap", "indexes", "live", "dead"] as const) detail[`${row.name}.${key}`] = row[key];
        }
      }
      // The oldest snapshot another session of the database holds: VACUUM keeps every row it may see.
      const { rows: held } = await client.query<{ seconds: number | null }>(
        "SELECT extract(epoch FROM now() - min(xact_start))::float8 AS seconds FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL",
      );
      return { bytes, detail: { ...detail, vacuums: vacuums.count, vacuumSeconds: vacuums.ms / 1000, oldestSnapshotSeconds: held[0]?.seconds ?? 0 } };
    },
    facts: () => ({ serverAutovacuum: autovacuum, benchVacuumEverySeconds: !autovacuum && vacuumMs > 0 ? vacuumMs / 1000 : null, benchVacuums: vacuums.count, benchVacuumSeconds: vacuums.ms / 1000 }),
    close: async () => {
      await vacuums.stop();
      await client.query("SET client_min_messages = warning");
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/** VACUUM (plain: no lock that blocks the workers; throttled as autovacuum would throttle it) of every table in `schema` each `everyMs`, until stopped; 0: none. */
function vacuumLoop(schema: string, everyMs: number): { count: number; ms: number; stop(): Promise<void> } {
  const state = { count: 0, ms: 0, stop: async () => {} };
  if (everyMs === 0) return state;
  const client = new pg.Client({ connectionString: DATABASE_URL });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = client.connect().then(() => undefined);
  const round = async () => {
    const { rows } = await client.query<{ name: string; delay: number }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name,
              coalesce((SELECT split_part(o, '=', 2)::float8 FROM unnest(c.reloptions) AS o WHERE o LIKE 'autovacuum_vacuum_cost_delay=%'), 2) AS delay
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema],
    );
    const t = performance.now();
    // Throttled as autovacuum would throttle each table: its own autovacuum_vacuum_cost_delay
    // (migration 013 sets 0 on jobs and batches), else autovacuum's default, 2 ms per 200
    // cost units. Unthrottled throughout, a round took ~12 s of the two cores at 15.5k jobs/s.
    for (const { name, delay } of rows) {
      await client.query(`SET vacuum_cost_delay = ${delay}; SET vacuum_cost_limit = 200`);
      await client.query(`VACUUM ${name}`);
    }
    state.ms += performance.now() - t;
    state.count++;
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = round().then(() => {
        if (!stopped) schedule();
      });
    }, everyMs);
  };
  running = running.then(schedule);
  state.stop = async () => {
    stopped = true;
    clearTimeout(timer);
    await running.catch(() => undefined);
    await client.end();
  };
  return state;
}

async function redis({ retentionMs, maxFinished }: Retention): Promise<Store> {
  const prefix = `errand-soak-${hex()}`;
  const client = connect();
  return {
    adapter: { use: "redis", url: REDIS_URL, prefix, retentionMs, maxFinished },
    shown: { use: "redis", prefix: "fresh per run", retentionMs, maxFinished },
    queues: "*",
    bytesLabel: "Redis: MEMORY USAGE of the run's keys (job hashes sampled)",
    facts: () => ({}),
    sample: async () => {
      const memory = await info(client, "memory");
      const own = await prefixBytes(client, prefix);
      return { bytes: own.bytes, detail: { ...own.detail, usedMemory: Number(memory.get("used_memory")) } };
    },
    close: async () => {
      await deleteKeys(client, prefix);
      client.disconnect();
    },
  };
}

/** The prefix's keys and their estimated bytes: queue-level keys exactly, job hashes from a sample. */
async function prefixBytes(client: Redis, prefix: string): Promise<{ bytes: number; detail: Record<string, number> }> {
  const jobKeys: string[] = [];
  const otherKeys: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 2000);
    cursor = next;
    for (const key of keys) (key.includes("}:j:") ? jobKeys : otherKeys).push(key);
  } while (cursor !== "0");
  const step = Math.max(1, Math.ceil(jobKeys.length / JOB_SAMPLE));
  const sampled = jobKeys.filter((_, i) => i % step === 0);
  const pipeline = client.pipeline();
  // Layouts 2–3 keep a queue's jobs in one hash: SAMPLES 0 would walk all of its 100k–1.2M
  // entries (tens of ms with the server blocked, every period, inside the latency measured);
  // 1,000 of same-shaped records estimate it within about 1 %.
  for (const key of otherKeys) pipeline.memory("USAGE", key, "SAMPLES", 1000);
  for (const key of sampled) pipeline.memory("USAGE", key, "SAMPLES", 0);
  const sizes = ((await pipeline.exec()) ?? []).map(([error, size]) => (error || typeof size !== "number" ? 0 : size));
  const otherBytes = sizes.slice(0, otherKeys.length).reduce((a, b) => a + b, 0);
  const sampleBytes = sizes.slice(otherKeys.length).reduce((a, b) => a + b, 0);
  const jobBytes = sampled.length === 0 ? 0 : (sampleBytes / sampled.length) * jobKeys.length;
  return { bytes: otherBytes + jobBytes, detail: { jobKeys: jobKeys.length, jobBytes, otherKeys: otherKeys.length, otherBytes } };
}

async function sqs(): Promise<Store> {
  const emulator = new Peer("fauxqs", new URL("./fauxqs.js", import.meta.url).pathname, []);
  const endpoint = await emulator.note<string>("ready");
  const prefix = freshPrefix("soak");
  const client: SQSClient = sqsClient(endpoint);
  let url: string | undefined;
  return {
    adapter: { use: "sqs", endpoint, clientConfig: CLIENT_CONFIG, queuePrefix: prefix },
    shown: { use: "sqs", server: "fauxqs in a child process", queuePrefix: "fresh per run", status: "each process's own LocalStatusStore (the default)" },
    queues: "default",
    bytesLabel: "SQS: RSS of the fauxqs emulator's process",
    facts: () => ({}),
    sample: async () => {
      const detail: Record<string, number> = {};
      // The queue exists once the first job was sent.
      url ??= await queueUrl(client, `${prefix}default`).catch(() => undefined);
      if (url) {
        const { Attributes = {} } = await client.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"] }),
        );
        detail.visible = Number(Attributes.ApproximateNumberOfMessages ?? 0);
        detail.inFlight = Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
        detail.delayed = Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
      }
      return { bytes: processRss(emulator.pid), detail };
    },
    close: async () => {
      await deleteQueues(client, prefix).catch(() => undefined);
      client.destroy();
      await emulator.call("stop").catch(() => undefined);
      await emulator.exit();
    },
  };
}
