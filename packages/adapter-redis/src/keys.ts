/**
 * Key layout. Every key of one queue carries the queue's hash tag, `{queue}`, so a script
 * touching them runs on one Redis Cluster slot:
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `<prefix>:{q}:ready` | zset | due jobs: score (priority + 2^20) · 2^32 + arrival |
 * | `<prefix>:{q}:scheduled` | zset | jobs waiting for their `runAt` (ms) |
 * | `<prefix>:{q}:retrying` | zset | failed jobs waiting for their next attempt (ms) |
 * | `<prefix>:{q}:active` | zset | leased jobs by lease deadline (ms) |
 * | `<prefix>:{q}:finished` | zset | succeeded and discarded jobs by finish time, trimmed by retention |
 * | `<prefix>:{q}:dead` | zset | dead jobs by time of death, until purged |
 * | `<prefix>:{q}:seq` | string | arrival counter |
 * | `<prefix>:{q}:j:<id>` | hash | one job: body, state, times, lease, progress, result, error |
 * | `<prefix>:queues` | set | every queue name seen (for `*`, counts and lookups by id) |
 *
 * Channels: `<prefix>:wake` (a queue name: work is due there) and `<prefix>:status`
 * (JSON `{ queue, state, ids }` per batch of state changes).
 *
 * @module
 */

/** The keys of one queue. */
export interface QueueKeys {
  ready: string;
  scheduled: string;
  retrying: string;
  active: string;
  finished: string;
  dead: string;
  seq: string;
  /** Prefix of the queue's job hashes: append the job id. */
  job: string;
}

/** Builds key names under one prefix. */
export class KeyLayout {
  private readonly cache = new Map<string, QueueKeys>();
  readonly queues: string;
  readonly wakeChannel: string;
  readonly statusChannel: string;

  constructor(readonly prefix: string) {
    this.queues = `${prefix}:queues`;
    this.wakeChannel = `${prefix}:wake`;
    this.statusChannel = `${prefix}:status`;
  }

  /** The keys of `queue`. */
  queue(queue: string): QueueKeys {
    let keys = this.cache.get(queue);
    if (!keys) {
      const base = `${this.prefix}:{${queue}}:`;
      keys = {
        ready: `${base}ready`,
        scheduled: `${base}scheduled`,
        retrying: `${base}retrying`,
        active: `${base}active`,
        finished: `${base}finished`,
        dead: `${base}dead`,
        seq: `${base}seq`,
        job: `${base}j:`,
      };
      this.cache.set(queue, keys);
    }
    return keys;
  }
}
