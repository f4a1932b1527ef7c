/**
 * The fault suite's Redis wiring: a key prefix per case; "what is stored" read from the
 * queue's keys themselves — each job hash's `state`, `exe`, `tok`, and the `ready`,
 * `scheduled`, `retrying`, `active`, `done` and `dead` sets — the ground truth no portable
 * API can vouch for: a job whose hash says `queued` but that sits in no set would never run
 * again, and only the raw keys show it. Connections cut with `CLIENT KILL ID`.
 *
 * Each case's worker gets a connection name of its own (`clientOptions: { connectionName }`
 * in the fixture config), so CLIENT LIST tells its connections from those of other test
 * files running at the same time; the test's own connection is named "errand-faults-test".
 */
import { KeyLayout, readJobRecords, RedisAdapter } from "@errand/adapter-redis";
import { Redis } from "ioredis";
import { expect } from "vitest";

import { dropPrefixes, redisPrefix, redisUrl } from "../../support/redis.js";
import { insertRawJob, readyIds } from "../../support/redis-jobs.js";
import { faultFixture, QUEUE, type CaseJobs, type Connection, type FaultStore, type FaultWiring, type Runs, type Stored } from "../harness.js";

const SETS = ["ready", "scheduled", "retrying", "active", "done", "dead"] as const;
/** The set a job of each state belongs in (`done` holds succeeded and discarded jobs; no case discards one). */
const SET_OF: Record<string, (typeof SETS)[number]> = { queued: "ready", running: "active", succeeded: "done", dead: "dead" };

/** One job hash as stored: `missing` when there is no hash for the id. */
interface JobRecord {
  id: string;
  state: string;
  exe: number;
  /** Lease token: set while leased, dropped by a settle, a release or a lease expiry. */
  tok: string | null;
  /** Start of the latest lease, ms (Redis clock). */
  sta: number | null;
}

/** The fault wiring of `@errand/adapter-redis` (fixture config: 2 s lease, 30 s poll, so only a wake-up starts work at once). */
export function redisFaults(): FaultWiring {
  const url = redisUrl();
  const redis = new Redis(url, { connectionName: "errand-faults-test" });
  const prefixes: string[] = [];

  function open(): FaultStore {
    const prefix = redisPrefix("errand-faults");
    prefixes.push(prefix);
    const connectionName = `${prefix}-worker`;
    const layout = new KeyLayout(prefix);
    const keys = layout.queue(QUEUE);

    async function readJobs(ids: readonly string[]): Promise<JobRecord[]> {
      const records = await readJobRecords(redis, layout, QUEUE, ids);
      return ids.map((id, index) => {
        const { state, exe, tok, sta } = records[index] ?? {};
        return { id, state: state ?? "missing", exe: Number(exe ?? 0), tok: tok ?? null, sta: sta === undefined ? null : Number(sta) };
      });
    }

    /** The worker's connections, from CLIENT LIST, by the name the config gave them. */
    async function list(): Promise<Connection[]> {
      const clients = (await redis.call("CLIENT", "LIST")) as string;
      return clients.split("\n").flatMap((line) => {
        const fields = new Map(
          line
            .trim()
            .split(" ")
            .filter(Boolean)
            .map((field) => [field.slice(0, field.indexOf("=")), field.slice(field.indexOf("=") + 1)] as const),
        );
        if (fields.get("name") !== connectionName) return [];
        const pubsub = Number(fields.get("sub") ?? 0) + Number(fields.get("psub") ?? 0) > 0 || (fields.get("flags") ?? "").includes("P");
        return [{ id: fields.get("id")!, kind: pubsub ? "pub/sub" : "command" }];
      });
    }

    return {
      env: { REDIS_URL_FOR_TEST: url, ERRAND_TEST_PREFIX: prefix, ERRAND_TEST_CONNECTION_NAME: connectionName },
      adapter: () => new RedisAdapter({ client: redis, prefix }),
      // Written as the adapter writes a ready job (as the conformance wiring's insertRaw does).
      async insertRaw({ id, job, body }) {
        await insertRawJob(redis, keys, id, job, body);
        await redis.sadd(layout.queues, QUEUE);
        return id;
      },
      // One ZCARD per set, cheap at 10,000 jobs; count() then checks every hash.
      async progress() {
        const [ready, finished, [active, dead]] = await Promise.all([
          readyIds(redis, keys).then((ids) => ids.length),
          redis.llen(keys.done),
          Promise.all([keys.active, keys.dead].map((key) => redis.zcard(key))),
        ]);
        return { succeeded: finished!, dead: dead!, pending: ready! + active! };
      },
      async count(jobs: CaseJobs): Promise<Stored> {
        const records = await readJobs([...jobs.ids, ...jobs.rawIds]);
        const members = await Promise.all(SETS.map(async (set) => new Set(set === "ready" ? await readyIds(redis, keys) : set === "done" ? await redis.lrange(keys.done, 0, -1) : await redis.zrange(keys[set], 0, -1))));
        const inSet = Object.fromEntries(SETS.map((set, index) => [set, members[index]!])) as Record<(typeof SETS)[number], Set<string>>;
        const states: Record<string, number> = {};
        const anomalies: Record<string, number> = {};
        const flag = (what: string) => (anomalies[what] = (anomalies[what] ?? 0) + 1);
        const known = new Map(records.map((record) => [record.id, record]));
        for (const record of records) {
          states[record.state] = (states[record.state] ?? 0) + 1;
          const set = SET_OF[record.state];
          if (!set) flag(`state ${record.state}`);
          else if (!inSet[set].has(record.id)) flag(`${record.state} but not in ${set}`);
          // No case makes a job fail: a queued job has never finished a run and holds no lease.
          if (record.state === "queued" && (record.exe !== 0 || record.tok !== null)) flag("queued with exe or a lease token");
        }
        for (const set of SETS) {
          for (const id of inSet[set]) if (SET_OF[known.get(id)?.state ?? ""] !== set) flag(`in ${set} but ${known.get(id)?.state ?? "not a job of the case"}`);
        }
        return {
          ready: inSet.ready.size,
          leased: inSet.active.size,
          dead: inSet.dead.size,
          succeeded: states.succeeded ?? 0,
          executions: records.reduce((sum, record) => sum + record.exe, 0),
          anomalies,
          raw: `jobs by state: ${JSON.stringify(states)}; sets: ${JSON.stringify(Object.fromEntries(SETS.map((set) => [set, inSet[set].size])))}`,
        };
      },
      connections: {
        busyKinds: ["command", "pub/sub"],
        idleKinds: ["command", "pub/sub"],
        listenerKind: "pub/sub",
        list,
        async kill() {
          const killed: Connection[] = [];
          for (const connection of await list()) {
            if (Number(await redis.call("CLIENT", "KILL", "ID", connection.id)) === 1) killed.push(connection);
          }
          return killed;
        },
        // Subscribed again to this prefix's wake channel, as the server counts subscribers.
        listening: async () => Number(((await redis.call("PUBSUB", "NUMSUB", layout.wakeChannel)) as [string, number])[1]) === 1,
      },
      // The jobs the dead worker held, with the lease deadlines it left in `active`: each may
      // run again only once its lease ran out.
      async afterKill(jobs: CaseJobs) {
        const flat = await redis.zrange(keys.active, 0, -1, "WITHSCORES");
        const deadlines = new Map<string, number>();
        for (let i = 0; i < flat.length; i += 2) deadlines.set(flat[i]!, Number(flat[i + 1]));
        return async (ran: Runs) => {
          // Only a job the dead worker held ran twice…
          expect(ran.repeated.filter((n) => !deadlines.has(jobs.ids[n]!))).toEqual([]);
          // …and each of those was leased again only once its lease had run out: its latest
          // start (Redis clock, like the deadline) is not before the deadline the dead worker left.
          const stranded = await readJobs([...deadlines.keys()]);
          expect(stranded.filter((job) => job.state !== "succeeded" || job.sta === null || job.sta < deadlines.get(job.id)!)).toEqual([]);
        };
      },
    };
  }

  return {
    name: "redis",
    config: faultFixture("redis.config.mjs"),
    leaseMs: 2_000,
    killJobs: 10_000,
    open,
    async close() {
      redis.disconnect();
      await dropPrefixes(url, prefixes);
    },
  };
}
