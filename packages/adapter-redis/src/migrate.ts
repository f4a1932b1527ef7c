/**
 * Upgrading a prefix's keys to the layout this version writes (`LAYOUT_VERSION`,
 * `<prefix>:layout`).
 *
 * State: the adapter's `MigrationGate` (core) runs `upgradeLayout` once, on first use; it
 * reads the prefix's layout (one GET). Up to date: ready, and nothing is read again. Absent with no queue registered:
 * a fresh prefix, marked current. Absent with queues: layout 1 (each job a hash of its own),
 * so every known queue's job hashes are found (SCAN of `<prefix>:{q}:j:*` on each master)
 * and moved into the queue's `jobs` hash (`migrate.lua`, a batch of ids per call), its ready
 * and finished zsets into its ready and done lists (`migrate-ready.lua`, lowest scores
 * first), then the prefix is marked current. Newer than this version: an error, every time. A failure (the
 * server down) leaves the gate unknown, so the next call tries again.
 *
 * Several processes may upgrade at once: each moves what it finds, a job moves once
 * (migrate.lua), and a process marks the layout only after its own pass moved every old
 * hash it found (SCAN returns every key that exists for the whole scan), so whoever marks it
 * first has moved them all. Workers of the old version must be
 * stopped first: they would keep writing layout-1 hashes nobody moves any more.
 *
 * Layout 2 → 3 moves nothing: layout 3 reads every layout-2 record as it is and only writes
 * flow bodies a layout-2 reader cannot expand (body.ts), so the mark keeps older versions
 * (which refuse a newer layout) away from them.
 *
 * Layout 3 → 4 splits each queue's `done` list into `done` (succeeded) and `failed`
 * (`migrate-done.lua`, `BATCH * 2` ids per call, oldest first; a queue once split is marked
 * and left alone), then marks the prefix. An upgrade from layout 1 or 2 ends with it too.
 * 900k finished jobs in one queue take about a second (bench/dashboard/redis.ts builds such
 * a queue).
 *
 * @module
 */
import { ConfigError } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { LAYOUT_VERSION, type KeyLayout } from "./keys.js";
import { runScript } from "./scripts.js";

/** The name `migrate()` reports for the upgrade from layout 1. */
export const LAYOUT_2 = "redis-layout-2: one jobs hash per queue, compact bodies";

/** The name `migrate()` reports for the upgrade from layout 2. */
export const LAYOUT_3 = "redis-layout-3: a flow job's settings only in its record";

/** The name `migrate()` reports for the upgrade from layout 3. */
export const LAYOUT_4 = "redis-layout-4: failed jobs in a list of their own";

/** Ids per migrate.lua call: bounded so one call stays short. */
const BATCH = 500;

/** `text` with glob characters escaped for SCAN MATCH. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The ids of `queue`'s layout-1 job hashes, from every master. */
async function oldJobIds(client: Redis | Cluster, keys: KeyLayout, queue: string): Promise<string[]> {
  const prefix = keys.queue(queue).job;
  const pattern = `${globEscape(prefix)}*`;
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes("master") : [client as Redis];
  const ids = new Set<string>();
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      for (const key of batch) ids.add(key.slice(prefix.length));
    } while (cursor !== "0");
  }
  return [...ids];
}

/** Splits every known queue's `done` list into succeeded and failed jobs (layout 3 → 4). */
async function splitDone(client: Redis | Cluster, keys: KeyLayout, queues: readonly string[]): Promise<void> {
  for (const queue of queues) {
    const { done, failed, done4, split, jobs } = keys.queue(queue);
    while ((await runScript<number>(client, "migrate-done", [done, failed, done4, split], [jobs, BATCH * 2])) > 0);
  }
}

/** Upgrades the prefix to `LAYOUT_VERSION`; answers the names of the upgrades this call applied. */
export async function upgradeLayout(client: Redis | Cluster, keys: KeyLayout): Promise<string[]> {
  const version = await client.get(keys.layout);
  if (version === String(LAYOUT_VERSION)) return [];
  if (version === "2" || version === "3") {
    await splitDone(client, keys, await client.smembers(keys.queues));
    // Only one process reports it: the one whose SET found the old version.
    const was = (await client.call("SET", keys.layout, String(LAYOUT_VERSION), "GET")) as string | null;
    if (was !== version) return [];
    return version === "2" ? [LAYOUT_3, LAYOUT_4] : [LAYOUT_4];
  }
  if (version !== null) {
    throw new ConfigError(`redis adapter: the keys under prefix "${keys.prefix}" have layout ${version}, which this version (layout ${LAYOUT_VERSION}) cannot read; upgrade @errand/adapter-redis`);
  }
  const queues = await client.smembers(keys.queues);
  for (const queue of queues) {
    const { jobs, job } = keys.queue(queue);
    const ids = await oldJobIds(client, keys, queue);
    for (let start = 0; start < ids.length; start += BATCH) {
      await runScript<number>(client, "migrate", [jobs], [job, ...ids.slice(start, start + BATCH)]);
    }
    const { ready, prios, finished, done } = keys.queue(queue);
    while ((await runScript<number>(client, "migrate-ready", [ready, prios, finished, done], [BATCH * 2])) > 0);
  }
  await splitDone(client, keys, queues);
  const set = await client.set(keys.layout, String(LAYOUT_VERSION), "NX");
  return set === "OK" && queues.length > 0 ? [LAYOUT_2, LAYOUT_3, LAYOUT_4] : [];
}
