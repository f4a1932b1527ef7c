// The Redis adapter's layout 1 (before the jobs hash), frozen as plain commands: what the
// old scripts (enqueue.lua, reserve.lua, settle.lua, enqueue-flow.lua of 0.1) left in Redis
// for a job in each state, so test/redis-upgrade.redis.test.ts can write it and upgrade it.
//
// Layout 1, per queue `q` under `<prefix>:{q}:`: a hash `j:<id>` per job (body, job, queue,
// priority, state, exe, run, enq, upd, score; tok, wid, sta while leased; fin, res, err
// once settled; ck/cl, rk/rl/rp, uk/uw for flow), the zsets ready, scheduled, retrying,
// active, finished, dead, parked, deferred, the `seq` counter, the `flow` marker and the
// `recurring` hash; globally `<prefix>:queues`, `unique:<k>`, `slots:<k>`, `parked:<k>`,
// `parked-keys` and `rate:<k>`.
import type { JobPayload } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

/** The states a layout-1 job can be written in. */
export type OldState = "queued" | "scheduled" | "running" | "retrying" | "succeeded" | "failed" | "dead" | "parked" | "deferred";

/** How one old job is written. */
export interface OldJob {
  payload: JobPayload;
  state: OldState;
  /** running: lease deadline ms (past: the lease ran out); retrying: runAt ms of the next attempt; deferred: when a start is allowed. */
  at?: number;
  /** Flow fields of its hash: ck, cl, rk, rl, rp, uk, uw. */
  flow?: Record<string, string | number>;
}

const ERROR = JSON.stringify({ name: "Error", message: "boom" });

/** Writes `jobs` of one queue as layout 1 did; the jobs' `queue` must be `queue`. */
export async function writeLayout1(redis: Redis | Cluster, prefix: string, queue: string, jobs: readonly OldJob[]): Promise<void> {
  const base = `${prefix}:{${queue}}:`;
  await redis.sadd(`${prefix}:queues`, queue);
  const now = Date.now();
  for (const { payload, state, at, flow } of jobs) {
    const id = payload.id;
    const seq = await redis.incr(`${base}seq`);
    const score = (payload.priority + 1_048_576) * 2 ** 32 + (seq % 2 ** 32);
    const fields: Record<string, string | number> = {
      body: JSON.stringify(payload),
      job: payload.job,
      queue,
      priority: payload.priority,
      state: state === "parked" || state === "deferred" ? "queued" : state,
      exe: 0,
      run: Date.parse(payload.runAt),
      enq: Date.parse(payload.enqueuedAt),
      upd: now,
      score: state === "scheduled" ? "" : score,
      ...flow,
    };
    if (flow) await redis.set(`${base}flow`, "1");
    switch (state) {
      case "queued":
        await redis.zadd(`${base}ready`, score, id);
        break;
      case "scheduled":
        await redis.zadd(`${base}scheduled`, Date.parse(payload.runAt), id);
        break;
      case "running":
        Object.assign(fields, { exe: 1, tok: "old-token", wid: "old-worker", sta: now - 1000 });
        await redis.zadd(`${base}active`, at ?? now + 60_000, id);
        if (flow?.ck !== undefined) await redis.zadd(`${prefix}:slots:${flow.ck}`, at ?? now + 60_000, id);
        break;
      case "retrying":
        Object.assign(fields, { exe: 1, err: ERROR, run: at ?? now, sta: now - 1000 });
        await redis.zadd(`${base}retrying`, at ?? now, id);
        break;
      case "succeeded":
        Object.assign(fields, { exe: 1, sta: now - 1000, fin: now, res: "42" });
        await redis.zadd(`${base}finished`, now, id);
        break;
      case "failed":
        Object.assign(fields, { exe: 1, sta: now - 1000, fin: now, err: ERROR });
        await redis.zadd(`${base}finished`, now, id);
        break;
      case "dead":
        Object.assign(fields, { exe: 3, sta: now - 1000, fin: now, err: ERROR });
        await redis.zadd(`${base}dead`, now, id);
        break;
      case "parked":
        await redis.zadd(`${base}parked`, score, id);
        await redis.rpush(`${prefix}:parked:${flow!.ck}`, JSON.stringify([queue, id]));
        await redis.sadd(`${prefix}:parked-keys`, String(flow!.ck));
        break;
      case "deferred":
        await redis.zadd(`${base}deferred`, at ?? now, id);
        break;
    }
    await redis.hset(`${base}j:${id}`, fields);
    if (flow?.uk !== undefined) await redis.hset(`${prefix}:unique:${flow.uk}`, { id, q: queue, w: String(flow.uw), exp: "" });
    if (flow?.rk !== undefined && state === "running") {
      await redis.zadd(`${prefix}:rate:${flow.rk}`, now - 1000, `${id} old-token`);
      await redis.pexpire(`${prefix}:rate:${flow.rk}`, Number(flow.rp));
    }
  }
}

/** Records a recurring task's last tick as layout 1 did (`<prefix>:{q}:recurring`, unchanged in layout 2). */
export async function writeRecurringTick(redis: Redis | Cluster, prefix: string, queue: string, task: string, tick: number, jobId: string): Promise<void> {
  await redis.hset(`${prefix}:{${queue}}:recurring`, task, `${tick} ${jobId}`);
}
