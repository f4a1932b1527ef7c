/**
 * The Redis status store's operator side (`StatusStore.control`, core's
 * `adapter/status-store-control.ts`): what the SQS adapter offers operators through it.
 *
 * Keys, all under the store's hash tag `{<prefix>}` (one Cluster slot, as its statuses):
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `{p}:s:<id>` field `body` | | the payload text while the job lives (dropped when it succeeds) |
 * | `{p}:i:<state>:<queue>:<job>` | zset | the listing index (`lua/status-index-lib.lua`) |
 * | `{p}:i:pairs` | set | `"<queue>\n<job>"` of every index zset |
 * | `{p}:v:<id>` | hash | void mark: its fields are the superseded `runAt` texts whose copies do not run (`*`: none runs); `PEXPIREAT` |
 * | `{p}:c:workers`, `:beats`, `:paused`, `:aborts`, `:abort-tokens`, `:tput:<minute>` | | as the Redis adapter's operator keys (`keys.ts`), run by the same `control-beat.lua` and `control-read.lua` |
 *
 * The index is written by the scripts that write statuses (`status-*.lua`, `status-flow-*.lua`),
 * in the same call: one ZREM and one ZADD per change of state, one SADD per job stored.
 *
 * An abort mark names the run: the job's lease token when it was asked. An interrupt mark is
 * one too, its token written `interrupt:<token>`; an abort of the same run replaces it, a later
 * interrupt leaves an abort mark as it is (`status-control-jobs.lua`). A beat answers the
 * marks of the jobs its worker runs (`control-beat.lua`), then, when there are any (rare),
 * checks them against the statuses in a second round trip and drops the marks of runs that
 * ended: the settle path never looks at marks.
 *
 * @module
 */
import {
  ConfigError,
  JobCancelledError,
  MAX_LIST_LIMIT,
  VOID_MARK_RETENTION_MS,
  type HeartbeatOptions,
  type HeartbeatResult,
  type JobPage,
  type JobState,
  type ListedJob,
  type ListJobsOptions,
  type PauseQueuesOptions,
  type QueueThroughput,
  type RunNowMark,
  type RunningJobInfo,
  type StatusControlState,
  type StatusDelivery,
  type StatusQueueFigures,
  type StatusStoreControl,
  type WorkerRecord,
} from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { readMarks } from "./abort-marks.js";
import { runScript } from "./scripts.js";
import { toRecord } from "./status-hash.js";

const MINUTE_MS = 60_000;
const STATES = new Set<JobState>(["scheduled", "queued", "running", "succeeded", "retrying", "failed", "dead"]);

/** What the store hands its operator side. */
export interface RedisStatusControlOptions {
  client: Redis | Cluster;
  /** `{<prefix>}:` */
  head: string;
  statusChannel: string;
  finishedTtlMs: number;
  /** How long a dead status (and its index entry) is kept, in ms. */
  deadTtlMs: number;
  /** Records deliveries (the store's `status-started.lua` call): answers the void positions. */
  started(items: readonly StatusDelivery[]): Promise<Set<number>>;
  check(): void;
}

/** A listing's place: the last job given (queue for `queued`, index score, id). */
interface Cursor {
  v: 1;
  s: JobState;
  q?: string;
  j?: string;
  at: [queue: string, score: string, id: string];
}

function encode(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decode(text: string, state: JobState, queue: string | undefined, job: string | undefined): Cursor["at"] {
  let cursor: Cursor;
  try {
    cursor = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
  } catch {
    throw new ConfigError(`redis status store: listJobs cursor ${JSON.stringify(text.slice(0, 40))} is not a cursor this store gave`);
  }
  const at = cursor?.at;
  if (cursor?.v !== 1 || !Array.isArray(at) || at.length !== 3 || !at.every((part) => typeof part === "string")) {
    throw new ConfigError(`redis status store: listJobs cursor ${JSON.stringify(text.slice(0, 40))} is not a cursor this store gave`);
  }
  if (cursor.s !== state || cursor.q !== queue || cursor.j !== job) {
    throw new ConfigError(
      `redis status store: listJobs cursor was made for state ${JSON.stringify(cursor.s)}, queue ${JSON.stringify(cursor.q ?? null)}, job ${JSON.stringify(cursor.j ?? null)}; give it with the same state, queue and job`,
    );
  }
  return at;
}

/** A listed job from its status hash (`null` when the hash is gone). */
function listed(id: string, hash: Record<string, string>, now: number): ListedJob | null {
  const record = toRecord(id, hash, now);
  if (!record) return null;
  return hash.body === undefined ? record : { ...record, body: hash.body };
}

/** The flat `[field, value, …]` reply of HGETALL inside a script, as an object. */
function fields(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

/** The operator's side of a `RedisStatusStore`; see the module notes. */
export class RedisStatusControl implements StatusStoreControl {
  private readonly c: { workers: string; beats: string; paused: string; aborts: string; abortTokens: string; tput: string };

  constructor(private readonly options: RedisStatusControlOptions) {
    const c = `${options.head}c:`;
    this.c = { workers: `${c}workers`, beats: `${c}beats`, paused: `${c}paused`, aborts: `${c}aborts`, abortTokens: `${c}abort-tokens`, tput: `${c}tput:` };
  }

  private get client(): Redis | Cluster {
    this.options.check();
    return this.options.client;
  }

  async list(options: ListJobsOptions): Promise<JobPage> {
    const client = this.client;
    if ("ids" in options) {
      if (options.ids.length === 0) return { jobs: [] };
      const pipeline = client.pipeline();
      for (const id of options.ids) pipeline.hgetall(`${this.options.head}s:${id}`);
      const replies = (await pipeline.exec()) ?? [];
      const now = Date.now();
      const jobs = options.ids.flatMap((id, i) => {
        const [error, hash] = replies[i]!;
        if (error) throw error;
        const job = listed(id, hash as Record<string, string>, now);
        return job ? [job] : [];
      });
      return { jobs };
    }
    const { state, queue, job, cursor, limit } = options;
    if (!STATES.has(state)) throw new ConfigError(`redis status store: listJobs state must be one of ${[...STATES].join(", ")}, got ${JSON.stringify(state)}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new ConfigError(`redis status store: listJobs limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
    const at = cursor === undefined ? ["", "", ""] : decode(cursor, state, queue, job);
    const [more, rows] = await runScript<[number, [string, string, string, string[]][]]>(client, "status-list", [`${this.options.head}i:pairs`], [
      this.options.head,
      state,
      queue ?? "",
      job ?? "",
      limit,
      ...at,
      // The retention of the state listed: dead statuses outlive the other finished ones.
      state === "dead" ? this.options.deadTtlMs : this.options.finishedTtlMs,
    ]);
    const now = Date.now();
    const jobs = rows.flatMap(([id, , , flat]) => {
      const found = listed(id, fields(flat), now);
      return found ? [found] : [];
    });
    const last = rows[rows.length - 1];
    if (!more || !last) return { jobs };
    const next: Cursor = { v: 1, s: state, at: [state === "queued" ? last[2] : "", last[1], last[0]] };
    if (queue !== undefined) next.q = queue;
    if (job !== undefined) next.j = job;
    return { jobs, next: encode(next) };
  }

  async figures(queues: readonly string[]): Promise<StatusQueueFigures[]> {
    if (queues.length === 0) return [];
    const rows = await runScript<[number, number, number, number, number, number, number, string][]>(this.client, "status-figures", [`${this.options.head}i:pairs`], [
      this.options.head,
      this.options.finishedTtlMs,
      this.options.deadTtlMs,
      ...queues,
    ]);
    return queues.map((queue, i) => {
      const [queued, scheduled, running, retrying, succeeded, failed, dead, oldest] = rows[i]!;
      const figures: StatusQueueFigures = { queue, queued, scheduled, running, retrying, succeeded, failed, dead };
      if (Number(oldest) >= 0) figures.oldestQueuedMs = Number(oldest);
      return figures;
    });
  }

  async deliveries(items: readonly StatusDelivery[]): Promise<string[]> {
    const void_ = await this.options.started(items);
    return [...new Set(items.filter((_, i) => void_.has(i)).map((item) => item.id))];
  }

  /** Runs `status-control-jobs.lua` with `action` over `args` (one or three per job). */
  private jobs(action: "c" | "n" | "a" | "i", args: readonly string[]): Promise<string[]> {
    const error = new JobCancelledError();
    return runScript<string[]>(this.client, "status-control-jobs", [this.c.aborts], [
      this.options.head,
      action,
      this.options.statusChannel,
      this.options.finishedTtlMs,
      JSON.stringify({ name: error.name, message: error.message, code: error.code }),
      VOID_MARK_RETENTION_MS,
      this.options.deadTtlMs,
      ...args,
    ]);
  }

  async cancel(ids: readonly string[]): Promise<string[]> {
    return ids.length === 0 ? [] : this.jobs("c", [...new Set(ids)]);
  }

  async runNow(marks: readonly RunNowMark[]): Promise<void> {
    if (marks.length > 0) await this.jobs("n", marks.flatMap((mark) => [mark.id, mark.superseded, mark.body]));
  }

  async abort(ids: readonly string[]): Promise<string[]> {
    return ids.length === 0 ? [] : this.jobs("a", [...new Set(ids)]);
  }

  async interrupt(ids: readonly string[]): Promise<string[]> {
    return ids.length === 0 ? [] : this.jobs("i", [...new Set(ids)]);
  }

  async pauseQueues({ queues, paused }: PauseQueuesOptions): Promise<void> {
    if (queues.length === 0) return;
    if (paused) await this.client.sadd(this.c.paused, ...queues);
    else await this.client.srem(this.c.paused, ...queues);
  }

  async heartbeat({ worker, at, ttlMs, finished, stopping }: HeartbeatOptions): Promise<HeartbeatResult> {
    const c = this.c;
    const record = JSON.stringify({ ...worker, lastBeatAt: at.toISOString(), ttlMs });
    const args: (string | number)[] = [c.tput, worker.id, record, stopping ? "1" : "", ttlMs, Math.floor(at.getTime() / MINUTE_MS), finished.length];
    for (const count of finished) args.push(count.queue, count.succeeded, count.failed);
    for (const job of worker.running) args.push(job.id);
    const [paused, asked] = await runScript<[string[], string[]]>(this.client, "control-beat", [c.workers, c.beats, c.paused, c.aborts, c.abortTokens], args);
    if (asked.length === 0) return { paused, abort: [], interrupt: [] };
    const confirmed = await this.confirmAborts(asked);
    return { paused, abort: confirmed.filter((mark) => mark.kind === "abort").map((mark) => mark.id), interrupt: confirmed.filter((mark) => mark.kind === "interrupt").map((mark) => mark.id) };
  }

  /**
   * The marked runs still current (the status runs under the token asked for), with their
   * marks' kinds (an interrupt's token is written `interrupt:<token>`); the other marks are dropped.
   */
  private async confirmAborts(asked: readonly string[]): Promise<{ id: string; kind: "abort" | "interrupt" }[]> {
    const marks = readMarks(asked);
    const pipeline = this.client.pipeline();
    for (const id of marks.keys()) pipeline.hmget(`${this.options.head}s:${id}`, "state", "tok");
    const replies = (await pipeline.exec()) ?? [];
    const confirmed: { id: string; kind: "abort" | "interrupt" }[] = [];
    const stale: string[] = [];
    [...marks].forEach(([id, { token, kind }], i) => {
      const [error, reply] = replies[i]!;
      if (error) throw error;
      const [state, tok] = reply as [string | null, string | null];
      if (state === "running" && tok === token) confirmed.push({ id, kind });
      else stale.push(id);
    });
    if (stale.length > 0) await Promise.all([this.client.zrem(this.c.aborts, ...stale), this.client.hdel(this.c.abortTokens, ...stale)]);
    return confirmed;
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    const [all, kept] = await Promise.all([this.client.hgetall(this.c.workers), this.client.zrangebyscore(this.c.beats, Date.now(), "+inf")]);
    return kept
      .flatMap((id) => (all[id] === undefined ? [] : [all[id]]))
      .map((text) => {
        const r = JSON.parse(text) as Omit<WorkerRecord, "startedAt" | "lastBeatAt" | "running"> & { startedAt: string; lastBeatAt: string; running: (Omit<RunningJobInfo, "startedAt"> & { startedAt: string })[] };
        return { ...r, startedAt: new Date(r.startedAt), lastBeatAt: new Date(r.lastBeatAt), running: r.running.map((job) => ({ ...job, startedAt: new Date(job.startedAt) })) };
      })
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async state(throughputMinutes?: number): Promise<StatusControlState> {
    const count = throughputMinutes ?? 0;
    const first = Math.floor(Date.now() / MINUTE_MS) - count + 1;
    const [paused, perMinute] = await runScript<[string[], string[][]]>(this.client, "control-read", [this.c.paused], [this.c.tput, first, count]);
    if (throughputMinutes === undefined) return { paused };
    const throughput: Record<string, QueueThroughput> = {};
    perMinute.forEach((flat, minute) => {
      for (let i = 0; i < flat.length; i += 2) {
        const field = flat[i]!;
        const queue = field.slice(2);
        const entry = (throughput[queue] ??= { since: new Date(first * MINUTE_MS), succeeded: new Array<number>(count).fill(0), failed: new Array<number>(count).fill(0) });
        (field.startsWith("s:") ? entry.succeeded : entry.failed)[minute] = Number(flat[i + 1]);
      }
    });
    return { paused, throughput };
  }
}
