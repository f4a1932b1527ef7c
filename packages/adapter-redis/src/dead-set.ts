/**
 * The Redis adapter's dead set: listing, reviving and purging dead jobs. Each queue keeps
 * its dead jobs in `<prefix>:{q}:dead`, scored by time of death; their records stay until
 * purged. Core decides what a revived job looks like (`revive`); the scripts only move it.
 *
 * @module
 */
import type { DeadJob, ListDeadOptions, PurgeDeadOptions, RetryDeadOptions, StoredError } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import type { KeyLayout } from "./keys.js";
import { compactBody } from "./body.js";
import { bodyOf, readJobs, type Lookup } from "./lookup.js";
import { runScript } from "./scripts.js";

/** One entry of a queue's dead zset. */
interface DeadEntry {
  id: string;
  queue: string;
  diedAt: number;
}

/** Dead jobs of one Redis adapter, across its queues. */
export class DeadSet {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly keys: KeyLayout,
    private readonly lookup: Lookup,
    /** The status channel revivals and purges are published on, `""` for none. */
    private readonly statusChannel: string,
  ) {}

  /** Dead jobs, newest first, of one queue or of all. */
  async list({ queue, limit = 100, offset = 0 }: ListDeadOptions): Promise<DeadJob[]> {
    const queues = queue === undefined ? await this.lookup.knownQueues() : [queue];
    const entries = (await Promise.all(queues.map((name) => this.newest(name, offset + limit))))
      .flat()
      // Jobs of several queues can die in the same millisecond: newer ids (UUIDv7) first then,
      // as ZREVRANGE orders equal scores within one queue.
      .sort((a, b) => b.diedAt - a.diedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(offset, offset + limit);
    const fields = await Promise.all(entries.map(async (entry) => (await readJobs(this.client, this.keys.queue(entry.queue).jobs, [entry.id]))[0]));
    return entries.flatMap((entry, index) => {
      const record = fields[index];
      const body = record && bodyOf(entry.id, { queue: entry.queue, fields: record });
      const error = record?.err;
      if (body === undefined) return [];
      return [{ id: entry.id, providerJobId: entry.id, queue: entry.queue, body, error: error ? (JSON.parse(error) as StoredError) : { name: "Error", message: "unknown" }, diedAt: new Date(entry.diedAt) }];
    });
  }

  /** Moves the chosen dead jobs back to their queues as core revives them; answers how many moved. */
  async retry({ select, revive }: RetryDeadOptions): Promise<number> {
    let moved = 0;
    for (const [queue, ids] of await this.select(select)) {
      const keys = this.keys.queue(queue);
      const records = await readJobs(this.client, keys.jobs, ids);
      const args: string[] = [keys.jobs, this.keys.wakeChannel, queue, this.statusChannel, this.keys.base];
      ids.forEach((id, index) => {
        const record = records[index];
        const body = record && bodyOf(id, { queue, fields: record });
        if (body === undefined) return;
        const revived = revive(body);
        // null: core keeps it dead. The record keeps its job class and enqueuedAt and takes
        // runAt "now": the body keeps those itself.
        if (revived) args.push(id, compactBody(revived.payload, { id, queue }));
      });
      if (args.length > 5) moved += await runScript<number>(this.client, "revive-dead", [keys.prios, keys.dead], args);
    }
    return moved;
  }

  /** Deletes the chosen dead jobs; answers how many were deleted. */
  async purge({ select }: PurgeDeadOptions): Promise<number> {
    let deleted = 0;
    for (const [queue, ids] of await this.select(select)) {
      const keys = this.keys.queue(queue);
      deleted += await runScript<number>(this.client, "purge-dead", [keys.dead], [keys.jobs, this.statusChannel, queue, ...ids]);
    }
    return deleted;
  }

  /** Dead entries of one queue, newest first: ids with their time of death. */
  private async newest(queue: string, count: number): Promise<DeadEntry[]> {
    const flat = await this.client.zrevrange(this.keys.queue(queue).dead, 0, count - 1, "WITHSCORES");
    const entries: DeadEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push({ id: flat[i]!, queue, diedAt: Number(flat[i + 1]) });
    return entries;
  }

  /** Dead jobs chosen by `select`, grouped by queue; ids that are not dead are left out. */
  private async select(select: RetryDeadOptions["select"]): Promise<Map<string, string[]>> {
    const byQueue = new Map<string, string[]>();
    if ("ids" in select) {
      for (const [id, job] of await this.lookup.findJobs(select.ids)) {
        if (job.fields.state !== "dead") continue;
        const list = byQueue.get(job.queue) ?? [];
        list.push(id);
        byQueue.set(job.queue, list);
      }
      return byQueue;
    }
    const queues = select.queue === undefined ? await this.lookup.knownQueues() : [select.queue];
    for (const queue of queues) {
      const ids = await this.client.zrange(this.keys.queue(queue).dead, 0, -1);
      if (ids.length > 0) byQueue.set(queue, ids);
    }
    return byQueue;
  }
}
