/**
 * `errand doctor`'s look at Redis (`Diagnosis`, core's `adapter/diagnosis.ts`), shared by the
 * adapter and `RedisStatusStore`: one PING, and for the adapter the prefix's key layout
 * against the one this version writes (`migrate.ts`), read with a GET and an SCARD, never
 * through the `MigrationGate` (which would upgrade it).
 *
 * ioredis queues commands while it reconnects, and by default reconnects forever, so a PING
 * to a server that is down would wait for it: every command here races a timer, and a
 * server that does not answer within `timeoutMs` is reported as a timeout (`ETIMEDOUT`, which
 * core reports as a `ConnectionError`).
 *
 * @module
 */
import type { SchemaDiagnosis } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { LAYOUT_VERSION, type KeyLayout } from "./keys.js";
import { LAYOUT_2, LAYOUT_3, LAYOUT_4 } from "./migrate.js";

/** Where `client` points, without credentials: `host:port`, or `cluster (n startup nodes)`. */
export function redisTarget(client: Redis | Cluster): string {
  if (client.isCluster) return "cluster";
  const { host, port } = (client as Redis).options;
  return `${host ?? "localhost"}:${port ?? 6379}`;
}

/** `promise`, or an `ETIMEDOUT` error once `timeoutMs` passed without it settling. */
export function answerWithin<T>(promise: Promise<T>, timeoutMs: number, target: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer from redis at ${target} within ${timeoutMs} ms`), { code: "ETIMEDOUT" })), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One PING's round trip, in ms, bounded by `timeoutMs`. */
export async function pingRedis(client: Redis | Cluster, timeoutMs: number): Promise<number> {
  const started = performance.now();
  await answerWithin(client.ping(), timeoutMs, redisTarget(client));
  return Math.round(performance.now() - started);
}

/** The upgrades `upgradeLayout` would apply to the prefix, or what is newer than this version can read. */
export async function diagnoseLayout(client: Redis | Cluster, keys: KeyLayout, timeoutMs: number): Promise<SchemaDiagnosis> {
  const [version, queues] = await answerWithin(Promise.all([client.get(keys.layout), client.scard(keys.queues)]), timeoutMs, redisTarget(client));
  const name = `key layout under prefix "${keys.prefix}"`;
  if (version === String(LAYOUT_VERSION)) return { name, pending: [] };
  if (version === "3") return { name, pending: [LAYOUT_4] };
  if (version === "2") return { name, pending: [LAYOUT_3, LAYOUT_4] };
  // No mark and no queue: a fresh prefix, which the first command marks current.
  if (version === null) return { name, pending: queues === 0 ? [] : [LAYOUT_2, LAYOUT_3, LAYOUT_4] };
  return { name, pending: [], newer: `layout ${version}, this version of @errand/adapter-redis writes layout ${LAYOUT_VERSION}` };
}
