/**
 * The Redis server the Redis bench runs against, seen from a connection of the bench's own
 * (not a library's): fresh key prefixes, deleting one prefix's keys, the memory one
 * prefix's keys take, and the server's CPU time and command counts from INFO.
 *
 * The server is shared with other work (test suites use it at the same time), so the bench
 * never flushes anything: every measurement writes under a prefix of its own and deletes
 * exactly the keys under that prefix when it ends.
 */
import { randomBytes } from "node:crypto";

import { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A connection for the bench's own commands; errors reject the commands instead of crashing. */
export function connect(url = REDIS_URL): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
  client.on("error", () => undefined);
  return client;
}

/**
 * A key prefix no earlier measurement used: `errand-bench-<library>-<random>`. Letters,
 * digits and dashes only, so it is a valid prefix for both libraries (Errand refuses spaces
 * and braces) and has no glob character for SCAN MATCH.
 */
export function freshPrefix(library: string): string {
  return `errand-bench-${library.replace(/[^a-z0-9]/gi, "")}-${randomBytes(6).toString("hex")}`;
}

/** Options of {@link deleteKeys}. */
export interface DeleteKeysOptions {
  /**
   * The keys start with the prefix as a hash tag, `{prefix}:` (Errand's status stores), not
   * `prefix:`. Default false.
   */
  hashTag?: boolean;
}

/**
 * Deletes every key under `prefix:` (or `{prefix}:`, see {@link DeleteKeysOptions.hashTag}) by
 * SCAN + UNLINK, never FLUSH*; returns how many went.
 */
export async function deleteKeys(client: Redis, prefix: string, options: DeleteKeysOptions = {}): Promise<number> {
  if (!/^[\w-]+$/.test(prefix)) throw new Error(`refusing to delete keys of prefix ${JSON.stringify(prefix)}`);
  // Braces are literal in a SCAN pattern: only * ? [ ] and \ are special.
  const pattern = options.hashTag ? `{${prefix}}:*` : `${prefix}:*`;
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}

/** One INFO section as name → value. */
export async function info(client: Redis, section: string): Promise<Map<string, string>> {
  const text = await client.info(section);
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/**
 * CPU time (user + system) of the redis-server process so far, µs: INFO cpu is the server's
 * own getrusage, the same figure /proc/<pid>/stat gives, and it works for a server on
 * another machine too.
 */
export async function serverCpuUs(client: Redis): Promise<number> {
  const cpu = await info(client, "cpu");
  return (Number(cpu.get("used_cpu_user")) + Number(cpu.get("used_cpu_sys"))) * 1e6;
}

/**
 * Bytes the keys under `prefix:` take (MEMORY USAGE of each, every element counted). Exact
 * for one library's keys, where the server's `used_memory` would count every other client's
 * writes too.
 */
export async function prefixMemory(client: Redis, prefix: string): Promise<{ keys: number; bytes: number }> {
  let cursor = "0";
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (batch.length === 0) continue;
    const pipeline = client.pipeline();
    for (const key of batch) pipeline.memory("USAGE", key, "SAMPLES", 0);
    for (const [error, size] of (await pipeline.exec()) ?? []) {
      if (error || typeof size !== "number") continue;
      keys++;
      bytes += size;
    }
  } while (cursor !== "0");
  return { keys, bytes };
}

/** Calls and time per command since the server started (INFO commandstats; commands run by scripts count too). */
export async function commandStats(client: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const [name, value] of await info(client, "commandstats")) {
    const calls = /calls=(\d+)/.exec(value);
    const usec = /usec=(\d+)/.exec(value);
    if (calls && usec) stats.set(name.replace(/^cmdstat_/, ""), { calls: Number(calls[1]), usec: Number(usec[1]) });
  }
  return stats;
}

/** The commands run between two `commandStats` readings, most time first. */
export function commandsSince(
  before: Map<string, { calls: number; usec: number }>,
  after: Map<string, { calls: number; usec: number }>,
): Record<string, { calls: number; usec: number }> {
  const out: [string, { calls: number; usec: number }][] = [];
  for (const [name, now] of after) {
    const was = before.get(name) ?? { calls: 0, usec: 0 };
    if (now.calls > was.calls) out.push([name, { calls: now.calls - was.calls, usec: now.usec - was.usec }]);
  }
  return Object.fromEntries(out.sort((a, b) => b[1].usec - a[1].usec));
}
