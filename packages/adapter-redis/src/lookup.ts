/**
 * Finding things in the Redis adapter's keys: the set of known queues (`<prefix>:queues`),
 * job records by id (`job-read.lua`). The counts per queue are in `queue-counts.ts`.
 *
 * An id does not name its queue, so a lookup by id asks every known queue. The queue list
 * is read once a second at most; a queue registered by this process, or named by a wake-up,
 * is never missed for that second (see `noteWake`).
 *
 * @module
 */
import type { GetStatusOptions, StatusRecord } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { expandBody, type FlowFields } from "./body.js";
import type { KeyLayout } from "./keys.js";
import { defineScripts, runScript } from "./scripts.js";
import { toRecord } from "./status-hash.js";

/**
 * A job found by id, with the queue it was found in: its record as the old layout's hash
 * fields (`job_fields` in job-lib.lua; `cbody` is a compact body, `body` a verbatim one).
 */
export interface FoundJob {
  queue: string;
  fields: Record<string, string>;
}

/** The flow fields of a found job's record. */
export function flowOfFields(f: Record<string, string>): FlowFields {
  return { ck: f.ck, cl: f.cl, rk: f.rk, rl: f.rl, rp: f.rp, uk: f.uk, uw: f.uw };
}

/** The payload JSON of a found job, or undefined when its record keeps no body (succeeded, failed). */
export function bodyOf(id: string, job: FoundJob): string | undefined {
  const f = job.fields;
  if (f.body !== undefined) return f.body;
  if (f.cbody === undefined) return undefined;
  return expandBody(f.cbody, { id, queue: job.queue, job: f.job, priority: Number(f.priority), enqueuedAt: Number(f.enq), runAt: Number(f.run), flow: flowOfFields(f) });
}

/**
 * The records of `ids` in `queue` as the old layout's hash fields (`state`, `exe`, `tok`, …;
 * see `FoundJob`), `undefined` for ids the queue lacks: for tools and tests that look into
 * the keys. Defines the adapter's scripts on `client` if it has not got them.
 */
export function readJobRecords(client: Redis | Cluster, keys: KeyLayout, queue: string, ids: readonly string[]): Promise<(Record<string, string> | undefined)[]> {
  defineScripts(client);
  return readJobs(client, keys.queue(queue).jobs, ids);
}

/** Reads the records of `ids` in one queue's jobs hash: the fields of each, `undefined` for ids it lacks. */
export async function readJobs(client: Redis | Cluster, jobsKey: string, ids: readonly string[]): Promise<(Record<string, string> | undefined)[]> {
  if (ids.length === 0) return [];
  const replies = await runScript<string[][]>(client, "job-read", [jobsKey], ids);
  return replies.map((flat) => {
    if (flat.length === 0) return undefined;
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return fields;
  });
}

/** How long the queue list read from Redis is trusted, in ms. */
const QUEUE_LIST_TTL_MS = 1000;

/** The queue list and lookups by id of one Redis adapter. */
export class Lookup {
  /** Queues this process has registered in `<prefix>:queues`. */
  private readonly registered = new Set<string>();
  private queueList: { names: string[]; until: number } | undefined;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly keys: KeyLayout,
  ) {}

  /** Adds queues to `<prefix>:queues` the first time this process sees them. */
  async register(queues: Iterable<string>): Promise<void> {
    const fresh = [...queues].filter((queue) => !this.registered.has(queue));
    if (fresh.length === 0) return;
    await this.client.sadd(this.keys.queues, ...fresh);
    for (const queue of fresh) this.registered.add(queue);
    this.queueList = undefined;
  }

  /**
   * A wake-up named `queue`: when the cached list lacks it (created after the list was
   * read), the next `knownQueues` reads the list again; known queues cost no round trip.
   */
  noteWake(queue: string): void {
    if (this.queueList && !this.queueList.names.includes(queue)) this.queueList = undefined;
  }

  /** Every queue name known, sorted, from `<prefix>:queues`, cached for a second. */
  async knownQueues(): Promise<string[]> {
    const now = Date.now();
    if (!this.queueList || this.queueList.until < now) {
      const names = await this.client.smembers(this.keys.queues);
      for (const queue of this.registered) if (!names.includes(queue)) names.push(queue);
      this.queueList = { names: names.sort(), until: now + QUEUE_LIST_TTL_MS };
    }
    return this.queueList.names;
  }

  /**
   * Job records by id. Each id is looked up in every known queue (one script per queue,
   * sent together): lookups cost O(queues), not O(jobs).
   */
  async findJobs(ids: readonly string[]): Promise<Map<string, FoundJob>> {
    const found = new Map<string, FoundJob>();
    if (ids.length === 0) return found;
    const queues = await this.knownQueues();
    const replies = await Promise.all(queues.map((queue) => readJobs(this.client, this.keys.queue(queue).jobs, ids)));
    queues.forEach((queue, q) => {
      ids.forEach((id, index) => {
        const fields = replies[q]![index];
        if (fields?.state === undefined) return;
        const seen = found.get(id);
        // A retry moving between queues exists in both for a moment: the newer copy wins.
        if (!seen || Number(fields.upd) > Number(seen.fields.upd)) found.set(id, { queue, fields });
      });
    });
    return found;
  }

  /** Status records by id, in the order asked, `null` for unknown ids. */
  async getStatus({ ids }: GetStatusOptions): Promise<(StatusRecord | null)[]> {
    const found = await this.findJobs([...new Set(ids)]);
    const now = Date.now();
    return ids.map((id) => {
      const job = found.get(id);
      return job ? toRecord(id, job.fields, now, job.queue) : null;
    });
  }
}
