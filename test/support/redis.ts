// For test files that need Redis: the URL found by the global setup (or a failure that says
// how to get one), and a key prefix of their own so files run in parallel.
import { randomBytes } from "node:crypto";

import { Redis } from "ioredis";
import { inject } from "vitest";

/** The URL of the test Redis; throws with instructions when there is none. */
export function redisUrl(): string {
  const found = inject("redis");
  if ("error" in found) throw new Error(found.error);
  return found.url;
}

/** A new unique key prefix. */
export function redisPrefix(name = "errand-t"): string {
  return `${name}-${randomBytes(5).toString("hex")}`;
}

/** Deletes every key under the prefixes a test file used. */
export async function dropPrefixes(url: string, prefixes: readonly string[]): Promise<void> {
  if (prefixes.length === 0) return;
  const client = new Redis(url);
  try {
    // An adapter's keys start `prefix:`; a status store's flow keys `{prefix}:` (its hash tag).
    for (const pattern of prefixes.flatMap((prefix) => [`${prefix}:*`, `{${prefix}}:*`])) {
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await client.unlink(...keys);
      } while (cursor !== "0");
    }
  } finally {
    client.disconnect();
  }
}
