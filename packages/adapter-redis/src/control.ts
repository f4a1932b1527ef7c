/**
 * The operator's side of the Redis adapter (`capabilities.control`): acting on jobs (cancel,
 * run now, abort, interrupt), pausing queues, worker heartbeats and throughput.
 *
 * Jobs live in their queue's slot (`{queue}`); what every worker must read at each beat
 * (paused queues, abort marks) and what it adds (its record, finished counts per minute)
 * lives under one hash tag of its own, `{<prefix>:control}` (keys.ts), so a beat is one
 * script on one slot (`control-beat.lua`), on a Redis Cluster too.
 *
 * An abort mark names a run: the job id in the `aborts` zset (scored by when it was asked)
 * and the lease token of the run in `abort-tokens`. An interrupt mark is one too, its token
 * written `interrupt:<token>` (a lease token is base64url, never holding a colon). Its life:
 *
 * - `changeJobs({ action: "abort" | "interrupt" })` checks in the job's queue that it runs
 *   and reads its lease token (`control-jobs.lua`), then marks it in the control slot
 *   (`control-mark.lua`, which keeps an abort of the same run over a later interrupt): two
 *   slots, two steps.
 * - A beat answers the marks of the jobs the worker says it runs. The mark may be stale: the
 *   job settled between the check and the mark, or before a beat saw it, and now runs again
 *   (a retry, a lease that ran out). So a beat that finds marks (rare) reads those jobs'
 *   records in their queues, a second round trip, and keeps a mark only while the job still
 *   holds the lease it was asked for (same token); stale marks are deleted. Times would not
 *   do: a release and the next reserve can fall in the same millisecond.
 * - The jobs a beat told this process to abort or interrupt are remembered here (`aborting`); when one
 *   settles, its mark is deleted (`settled`). A settle of unmarked jobs only checks that the
 *   set is empty. A mark nobody settles (its worker died) goes after an hour (the beat).
 *
 * @module
 */
import {
  ConfigError,
  JobCancelledError,
  groupBy,
  type ChangeJobsOptions,
  type HeartbeatOptions,
  type HeartbeatResult,
  type PauseQueuesOptions,
  type QueueThroughput,
  type RunningJobInfo,
  type Settlement,
  type StoredError,
  type WorkerRecord,
} from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { compactBody } from "./body.js";
import type { KeyLayout } from "./keys.js";
import { readMarks } from "./abort-marks.js";
import { bodyOf, flowOfFields, readJobs, type FoundJob, type Lookup } from "./lookup.js";
import { runScript } from "./scripts.js";

const MINUTE_MS = 60_000;
const ACTIONS = { cancel: "c", runNow: "n", abort: "a", interrupt: "a" } as const;

/** The error a cancelled job's status keeps (core's `JobCancelledError`). */
function cancelledError(): StoredError {
  const error = new JobCancelledError();
  return { name: error.name, message: error.message, code: error.code };
}

/** What the control slot tells `listQueues`. */
export interface ControlState {
  paused: Set<string>;
  /** A queue's throughput (zeros for one that finished nothing), when it was asked. */
  throughput?: (queue: string) => QueueThroughput;
}

/** The operator's actions and records of one Redis adapter. */
export class Control {
  /** Jobs a beat told this process to abort or interrupt: their marks go when they settle. */
  private readonly aborting = new Set<string>();

  constructor(
    private readonly client: Redis | Cluster,
    private readonly keys: KeyLayout,
    private readonly lookup: Lookup,
    /** The status channel changes are published on, `""` for none. */
    private readonly statusChannel: string,
  ) {}

  /** Cancels, runs now, aborts or interrupts jobs by id; answers the ids changed, in the order given. */
  async changeJobs({ action, ids }: ChangeJobsOptions): Promise<string[]> {
    const code = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
    if (!code) throw new ConfigError(`redis adapter: changeJobs action must be cancel, runNow, abort or interrupt, got ${JSON.stringify(action)}`);
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || id === "")) throw new ConfigError("redis adapter: changeJobs ids must be non-empty strings");
    if (ids.length === 0) return [];
    const found = await this.lookup.findJobs([...new Set(ids)]);
    const byQueue = groupBy([...found], ([, job]) => job.queue);
    const changed = new Set<string>();
    const tokens: string[] = [];
    await Promise.all(
      [...byQueue].map(async ([queue, jobs]) => {
        const reply = await this.runOnQueue(code, queue, jobs);
        if (code !== "a") for (const id of reply) changed.add(id);
        else {
          for (let i = 0; i < reply.length; i += 2) {
            changed.add(reply[i]!);
            tokens.push(reply[i]!, reply[i + 1]!);
          }
        }
      }),
    );
    if (tokens.length > 0) {
      const c = this.keys.control;
      await runScript<number>(this.client, "control-mark", [c.aborts, c.abortTokens], [action === "interrupt" ? "i" : "a", ...tokens]);
    }
    return ids.filter((id, index) => changed.has(id) && ids.indexOf(id) === index);
  }

  /** One `control-jobs.lua` call for the jobs of `queue`. */
  private async runOnQueue(code: "c" | "n" | "a", queue: string, jobs: readonly (readonly [string, FoundJob])[]): Promise<string[]> {
    const keys = this.keys.queue(queue);
    const args: (string | number)[] = [keys.jobs, code, this.keys.base, this.keys.wakeChannel, this.statusChannel, queue, JSON.stringify(cancelledError())];
    if (code === "n") {
      const now = Date.now();
      for (const [id, job] of jobs) {
        const state = job.fields.state;
        const body = state === "scheduled" || state === "retrying" ? bodyOf(id, job) : undefined;
        if (body === undefined) continue;
        args.push(id, this.bodyRunningAt(id, job, body, now), now, Number(job.fields.upd));
      }
    } else {
      for (const [id] of jobs) args.push(id);
    }
    if (args.length === 7) return [];
    return runScript<string[]>(this.client, "control-jobs", [keys.prios, keys.scheduled, keys.retrying, keys.parked, keys.deferred, keys.failed], args);
  }

  /** The compact body of a found job with its `runAt` made `now` (a body that is not wire format stays as it is). */
  private bodyRunningAt(id: string, job: FoundJob, body: string, now: number): string {
    const f = job.fields;
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return job.fields.cbody ?? body;
    }
    payload.runAt = new Date(now).toISOString();
    const context = { id, queue: job.queue, job: f.job, priority: Number(f.priority), enqueuedAt: Number(f.enq), runAt: now, flow: flowOfFields(f) };
    return compactBody(payload as never, context);
  }

  /** Pauses or resumes queues for every worker. */
  async pauseQueues({ queues, paused }: PauseQueuesOptions): Promise<void> {
    if (!Array.isArray(queues) || queues.some((queue) => typeof queue !== "string" || queue === "")) throw new ConfigError("redis adapter: pauseQueues queues must be non-empty strings");
    if (typeof paused !== "boolean") throw new ConfigError(`redis adapter: pauseQueues paused must be true or false, got ${JSON.stringify(paused)}`);
    if (queues.length === 0) return;
    if (paused) await this.client.sadd(this.keys.control.paused, ...queues);
    else await this.client.srem(this.keys.control.paused, ...queues);
  }

  /** Stores a beat; answers the paused queues and the jobs of this worker to abort or interrupt. */
  async heartbeat({ worker, at, ttlMs, finished, stopping }: HeartbeatOptions): Promise<HeartbeatResult> {
    const c = this.keys.control;
    const record = JSON.stringify({ ...worker, lastBeatAt: at.toISOString(), ttlMs });
    const args: (string | number)[] = [c.tput, worker.id, record, stopping ? "1" : "", ttlMs, Math.floor(at.getTime() / MINUTE_MS), finished.length];
    for (const count of finished) args.push(count.queue, count.succeeded, count.failed);
    for (const job of worker.running) args.push(job.id);
    const [paused, asked] = await runScript<[string[], string[]]>(this.client, "control-beat", [c.workers, c.beats, c.paused, c.aborts, c.abortTokens], args);
    if (asked.length === 0) return { paused, abort: [], interrupt: [] };
    const confirmed = await this.confirmAborts(worker.running, asked);
    for (const id of confirmed.keys()) this.aborting.add(id);
    const abort: string[] = [];
    const interrupt: string[] = [];
    for (const [id, kind] of confirmed) (kind === "abort" ? abort : interrupt).push(id);
    return { paused, abort, interrupt };
  }

  /** The marked jobs whose current run the mark was made for (same lease token), with their marks' kinds; deletes the others' marks. */
  private async confirmAborts(running: readonly RunningJobInfo[], asked: readonly string[]): Promise<Map<string, "abort" | "interrupt">> {
    const marks = readMarks(asked);
    const jobs = running.filter((job) => marks.has(job.id));
    const byQueue = groupBy(jobs, (job) => job.queue);
    const confirmed = new Set<string>();
    await Promise.all(
      [...byQueue].map(async ([queue, group]) => {
        const records = await readJobs(this.client, this.keys.queue(queue).jobs, group.map((job) => job.id));
        group.forEach((job, index) => {
          const f = records[index];
          if (f?.state === "running" && f.tok === marks.get(job.id)!.token) confirmed.add(job.id);
        });
      }),
    );
    const stale = [...marks.keys()].filter((id) => !confirmed.has(id));
    if (stale.length > 0) await this.unmark(stale);
    return new Map([...marks].flatMap(([id, mark]) => (confirmed.has(id) ? [[id, mark.kind] as const] : [])));
  }

  /** Whether a beat told this process to abort jobs it has not settled yet (see `settled`). */
  get marked(): boolean {
    return this.aborting.size > 0;
  }

  /**
   * Jobs settled by this process: the abort marks of those a beat told it to abort are
   * deleted. The adapter calls it only while `marked`: a settle of unmarked jobs costs one
   * check of a Set's size.
   */
  async settled(settlements: readonly Settlement[]): Promise<void> {
    const done: string[] = [];
    for (const s of settlements) if (this.aborting.delete(s.reservation.providerJobId)) done.push(s.reservation.providerJobId);
    if (done.length > 0) await this.unmark(done);
  }

  /** Deletes the marks of `ids`. */
  private async unmark(ids: readonly string[]): Promise<void> {
    const c = this.keys.control;
    await Promise.all([this.client.zrem(c.aborts, ...ids), this.client.hdel(c.abortTokens, ...ids)]);
  }

  /**
   * Every worker record kept (live or gone), by id: those whose hour after their ttl has not
   * run out (a beat drops the others; with no worker beating any more, nobody would).
   */
  async listWorkers(): Promise<WorkerRecord[]> {
    const c = this.keys.control;
    const [all, kept] = await Promise.all([this.client.hgetall(c.workers), this.client.zrangebyscore(c.beats, Date.now(), "+inf")]);
    return kept
      .flatMap((id) => (all[id] === undefined ? [] : [all[id]]))
      .map((text) => {
        const r = JSON.parse(text) as Omit<WorkerRecord, "startedAt" | "lastBeatAt" | "running"> & { startedAt: string; lastBeatAt: string; running: (Omit<RunningJobInfo, "startedAt"> & { startedAt: string })[] };
        return { ...r, startedAt: new Date(r.startedAt), lastBeatAt: new Date(r.lastBeatAt), running: r.running.map((job) => ({ ...job, startedAt: new Date(job.startedAt) })) };
      })
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The paused queues, and each queue's finished runs per minute for the last `minutes` (current one included). */
  async read(minutes: number | undefined): Promise<ControlState> {
    const count = minutes ?? 0;
    const first = Math.floor(Date.now() / MINUTE_MS) - count + 1;
    const [paused, perMinute] = await runScript<[string[], string[][]]>(this.client, "control-read", [this.keys.control.paused], [this.keys.control.tput, first, count]);
    const state: ControlState = { paused: new Set(paused) };
    if (minutes === undefined) return state;
    const throughput = new Map<string, QueueThroughput>();
    const of = (queue: string) => {
      let entry = throughput.get(queue);
      if (!entry) throughput.set(queue, (entry = { since: new Date(first * MINUTE_MS), succeeded: new Array<number>(count).fill(0), failed: new Array<number>(count).fill(0) }));
      return entry;
    };
    perMinute.forEach((flat, minute) => {
      for (let i = 0; i < flat.length; i += 2) {
        const field = flat[i]!;
        const entry = of(field.slice(2));
        (field.startsWith("s:") ? entry.succeeded : entry.failed)[minute] = Number(flat[i + 1]);
      }
    });
    state.throughput = of;
    return state;
  }
}
