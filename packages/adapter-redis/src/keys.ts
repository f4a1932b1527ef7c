/**
 * Key layout. Every key of one queue carries the queue's hash tag, `{queue}`, so a script
 * touching them runs on one Redis Cluster slot:
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `<prefix>:{q}:ready:<p>` | list | due jobs of priority `p`, FIFO (put-backs at the head; `lua/job-lib.lua`) |
 * | `<prefix>:{q}:prios` | zset | the priorities whose ready list has jobs (member and score: the priority) |
 * | `<prefix>:{q}:scheduled` | zset | jobs waiting for their `runAt` (ms) |
 * | `<prefix>:{q}:retrying` | zset | failed jobs waiting for their next attempt (ms) |
 * | `<prefix>:{q}:active` | zset | leased jobs by lease deadline (ms) |
 * | `<prefix>:{q}:done` | list | succeeded jobs in the order they finished, trimmed by retention from the head |
 * | `<prefix>:{q}:failed` | list | failed jobs (discarded, cancelled) in the order they finished, trimmed likewise (layout 4) |
 * | `<prefix>:{q}:dead` | zset | dead jobs by time of death, until purged |
 * | `<prefix>:{q}:jobs` | hash | every job of the queue: id → its record (MessagePack: compact body, state, times, lease, progress, result, error; flow fields below; `lua/job-lib.lua`) |
 * | `<prefix>:{q}:parked` | zset | jobs parked by a full concurrency key, by priority (counted as queued) |
 * | `<prefix>:{q}:deferred` | zset | jobs deferred by a rate limit, by the time a start is allowed (ms; counted as queued) |
 * | `<prefix>:{q}:flow` | string | "1" once a job with unique, concurrency or rate flow was stored in the queue |
 * | `<prefix>:{q}:recurring` | hash | recurring task → `"<lastTick ms> <jobId>"` (tasks whose jobs go to this queue) |
 * | `<prefix>:queues` | set | every queue name seen (for `*`, counts and lookups by id) |
 * | `<prefix>:layout` | string | the layout version of the prefix's keys (`LAYOUT_VERSION`; absent: version 1, see `migrate.ts`) |
 *
 * Layout 3 kept failed jobs in `done` too, beside the succeeded ones: counting or listing the
 * failed ones of a queue meant reading every finished record (900k succeeded, 1k failed);
 * `migrate.ts` splits the list (`lua/migrate-done.lua`, `<prefix>:{q}:done4` while it runs,
 * `<prefix>:{q}:split` once done).
 *
 * The operator's keys (control.ts) share one hash tag of their own, `{<prefix>:control}`, so a
 * worker's heartbeat is one script on one slot, on Redis Cluster too:
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `<prefix>:{<prefix>:control}:workers` | hash | worker id → its last beat's record (JSON) |
 * | `<prefix>:{<prefix>:control}:beats` | zset | worker id → when its record may go (ms: last beat + ttl + 1 h) |
 * | `<prefix>:{<prefix>:control}:paused` | set | paused queue names |
 * | `<prefix>:{<prefix>:control}:aborts` | zset | job id → when an operator asked to abort it (ms) |
 * | `<prefix>:{<prefix>:control}:abort-tokens` | hash | job id → the lease token of the run to abort (`interrupt:<token>` for an interrupt) |
 * | `<prefix>:{<prefix>:control}:tput:<minute>` | hash | `s:<queue>` / `f:<queue>` → runs finished in that UTC minute; expires after 25 h |
 *
 * Layout 1 (before 0.2) kept each job in a hash of its own, `<prefix>:{q}:j:<id>`, with the
 * whole payload in its `body` field, the ready jobs in one zset, `<prefix>:{q}:ready`
 * (score (priority + 2^20) · 2^32 + arrival), and the finished ones in the zset
 * `<prefix>:{q}:finished` (by finish time); `migrate.ts` moves them into layout 2.
 *
 * Flow-control keys are global (one namespace per prefix: two job classes or two queues that
 * name the same key share it), so they carry no hash tag; `<k>` is the key as core gives it:
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `<prefix>:unique:<k>` | hash | the unique key's holder: `id`, `q` (its queue), `w` (its `while`), `exp` (ms or ""); `PEXPIREAT` exp |
 * | `<prefix>:slots:<k>` | zset | concurrency slots: holder id → its lease deadline (ms) |
 * | `<prefix>:parked:<k>` | list | jobs parked on the concurrency key, FIFO: JSON `[queue, id]` |
 * | `<prefix>:parked-keys` | set | concurrency keys with parked jobs (the upkeep's safety sweep walks it) |
 * | `<prefix>:rate:<k>` | zset | rate-limit window: `"<id> <lease token>"` → start time (ms); `PEXPIRE` perMs |
 *
 * Batches (`batch.ts`, `lua/batch-lib.lua`) are global too: a batch's jobs may sit in several
 * queues, and the script settling any of them counts it in the same step:
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `<prefix>:batch:<id>` | hash | state, counts, description, times, callback jobs and the ids of those stored (`lua/batch-lib.lua`); `PEXPIRE` retentionMs once finished |
 *
 * A job of a batch keeps the batch id in its record (`bt`), so settle counts it without
 * reading its body (which keeps `batch` too, as any payload field).
 *
 * A job with flow control keeps its settings in its record, so reserve, settle, lease upkeep
 * and extension need not parse the body: `ck`/`cl` (concurrency key, limit), `rk`/`rl`/`rp`
 * (rate key, limit, perMs), `uk`/`uw` (unique key, while), read with the fields those
 * scripts read anyway (jobs stored with an older `fl` flag read the same: it is ignored).
 * The queue's `flow` marker tells those scripts, once per call, whether to read them at all:
 * a queue that never held such a job runs exactly the plain path (reading them too cost 3 %
 * more server instructions per drained job, mostly the table HMGET returns).
 *
 * The scripts that touch global keys reach keys outside the queue's slot, which only a
 * standalone Redis runs atomically: on a Redis Cluster, unique, concurrency and rate limits are
 * off (`capabilities`), and no payload carrying them reaches the adapter. Recurring state lives
 * under the queue's hash tag instead, so it works on a Cluster too: the tick's CAS and the
 * job's store are one script in one slot. `recurringState` finds a task by reading its field
 * in the `recurring` hash of every known queue (one HMGET per queue, sent together) and
 * taking the latest tick: a task keeps one queue in practice; one whose queue changed has a
 * record in each, and the newest is its state.
 *
 * Channels: `<prefix>:wake` (a queue name: work is due there) and `<prefix>:status`
 * (JSON `{ queue, state, ids }` per batch of state changes).
 *
 * @module
 */

/** The keys of one queue. */
export interface QueueKeys {
  /** Layout 1 only (`migrate.ts`): the ready zset. */
  ready: string;
  /** The priorities with ready jobs; each has the list `readyList(p)`. */
  prios: string;
  scheduled: string;
  retrying: string;
  active: string;
  /** Layout 1 only (`migrate.ts`): the finished zset. */
  finished: string;
  /** Succeeded jobs, oldest first (list). */
  done: string;
  /** Failed (discarded, cancelled) jobs, oldest first (list; layout 4). */
  failed: string;
  /** Layout 3 → 4 only (`migrate.ts`): the succeeded jobs of `done` while it is split. */
  done4: string;
  /** Layout 3 → 4 only (`migrate.ts`): set once the queue's `done` list was split. */
  split: string;
  dead: string;
  parked: string;
  deferred: string;
  recurring: string;
  flow: string;
  /** The queue's jobs hash: job id → record (`lua/job-lib.lua`). */
  jobs: string;
  /** Layout 1 only (`migrate.ts`): prefix of the queue's job hashes, one per job. */
  job: string;
}

/**
 * The key layout this version writes (`<prefix>:layout`). 3: a flow job's body may leave its
 * `flow` to the record (`~` bodies, body.ts), which a layout-2 reader cannot rebuild; the
 * keys are those of layout 2, whose bodies read as before. 4: failed jobs have a list of
 * their own (`failed`), apart from the succeeded ones (`done`).
 */
export const LAYOUT_VERSION = 4;

/** The keys of the operator's records, under one hash tag (`{<prefix>:control}`). */
export interface ControlKeys {
  workers: string;
  beats: string;
  paused: string;
  aborts: string;
  abortTokens: string;
  /** What the per-minute throughput keys start with: `<tput><minute>`. */
  tput: string;
}

/** Builds key names under one prefix. */
export class KeyLayout {
  private readonly cache = new Map<string, QueueKeys>();
  readonly queues: string;
  readonly wakeChannel: string;
  readonly statusChannel: string;
  /** The layout version of the prefix (`LAYOUT_VERSION`). */
  readonly layout: string;
  /**
   * What every key name starts with (`<prefix>:`): the scripts that touch flow keys or other
   * queues' keys build the names from it, as `flowKey` and `queue` do here.
   */
  readonly base: string;

  /** The operator's keys (`control.ts`). */
  readonly control: ControlKeys;

  constructor(readonly prefix: string) {
    this.base = `${prefix}:`;
    const tag = `${prefix}:{${prefix}:control}:`;
    this.control = { workers: `${tag}workers`, beats: `${tag}beats`, paused: `${tag}paused`, aborts: `${tag}aborts`, abortTokens: `${tag}abort-tokens`, tput: `${tag}tput:` };
    this.queues = `${prefix}:queues`;
    this.wakeChannel = `${prefix}:wake`;
    this.statusChannel = `${prefix}:status`;
    this.layout = `${prefix}:layout`;
  }

  /** The keys of `queue`. */
  queue(queue: string): QueueKeys {
    let keys = this.cache.get(queue);
    if (!keys) {
      const base = `${this.prefix}:{${queue}}:`;
      keys = {
        ready: `${base}ready`,
        prios: `${base}prios`,
        scheduled: `${base}scheduled`,
        retrying: `${base}retrying`,
        active: `${base}active`,
        finished: `${base}finished`,
        done: `${base}done`,
        failed: `${base}failed`,
        done4: `${base}done4`,
        split: `${base}split`,
        dead: `${base}dead`,
        parked: `${base}parked`,
        deferred: `${base}deferred`,
        recurring: `${base}recurring`,
        flow: `${base}flow`,
        jobs: `${base}jobs`,
        job: `${base}j:`,
      };
      this.cache.set(queue, keys);
    }
    return keys;
  }

  /** The ready list of priority `priority` in `queue` (see `prios`). */
  readyList(queue: string, priority: number | string): string {
    return `${this.prefix}:{${queue}}:ready:${priority}`;
  }

  /** A global flow-control key: `kind` is `unique`, `slots`, `parked` or `rate`. */
  flowKey(kind: "unique" | "slots" | "parked" | "rate", key: string): string {
    return `${this.base}${kind}:${key}`;
  }

  /** The record of batch `id` (global: `lua/batch-lib.lua`). */
  batch(id: string): string {
    return `${this.base}batch:${id}`;
  }

  /** The set of concurrency keys with parked jobs. */
  get parkedKeys(): string {
    return `${this.base}parked-keys`;
  }
}
