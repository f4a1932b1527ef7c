/**
 * Finding things in the Redis adapter's keys: the set of known queues (`<prefix>:queues`),
 * job hashes by id, and the counts per queue.
 *
 * An id does not name its queue, so a lookup by id asks every known queue. The queue list
 * is read once a second at most; a queue registered by this process, or named by a wake-up,
 * is never missed for that second (see `noteWake`).
 *
 * @module
 */
import type { GetStatusOptions, QueueInfo, StatusRecord } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import type { KeyLayout } from "./keys.js";
import { toRecord } from "./status-hash.js";

/** A job hash found by id, with the queue it was found in. */
export interface FoundJob {
  queue: string;
  fields: Record<string, string>;
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
   * Job hashes by id. Each id is looked up in every known queue (one HGETALL per queue,
   * sent together): lookups cost O(queues), not O(jobs).
   */
  async findJobs(ids: readonly string[]): Promise<Map<string, FoundJob>> {
    const found = new Map<string, FoundJob>();
    if (ids.length === 0) return found;
    const queues = await this.knownQueues();
    const lookups = queues.flatMap((queue) => ids.map((id) => ({ queue, id, key: this.keys.queue(queue).job + id })));
    const replies = await Promise.all(lookups.map((lookup) => this.client.hgetall(lookup.key)));
    lookups.forEach((lookup, index) => {
      const fields = replies[index]!;
      if (fields.body === undefined) return;
      const seen = found.get(lookup.id);
      // A retry moving between queues exists in both for a moment: the newer copy wins.
      if (!seen || Number(fields.upd) > Number(seen.fields.upd)) found.set(lookup.id, { queue: lookup.queue, fields });
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

  /**
   * Counts per known queue: one ZCARD per state set, sent together. Jobs parked by a
   * concurrency limit or deferred by a rate limit count as queued.
   */
  async listQueues(): Promise<QueueInfo[]> {
    const queues = await this.knownQueues();
    return Promise.all(
      queues.map(async (name) => {
        const keys = this.keys.queue(name);
        const [ready, parked, deferred, scheduled, running, retrying, dead] = await Promise.all(
          [keys.ready, keys.parked, keys.deferred, keys.scheduled, keys.active, keys.retrying, keys.dead].map((key) => this.client.zcard(key)),
        );
        return { name, queued: ready! + parked! + deferred!, scheduled: scheduled!, running: running!, retrying: retrying!, dead: dead! };
      }),
    );
  }
}
