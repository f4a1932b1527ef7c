/**
 * The Redis connection an adapter runs its commands on: the app's own client (left open at
 * close), a `Cluster` made from `nodes`, or a `Redis` made from `url`. A client Errand makes
 * gets an `error` listener: ioredis emits `error` on every failed reconnect, which without
 * a listener would crash the process, while the commands themselves still reject.
 *
 * @module
 */
import { ConfigError } from "@errand/core/adapter";
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

import type { RedisAdapterOptions } from "./options.js";

/** The client to use, and whether the adapter made it (and so closes it). */
export function connect(options: RedisAdapterOptions): { client: Redis | Cluster; ownsClient: boolean } {
  let client: Redis | Cluster;
  if (options.client) return { client: options.client, ownsClient: false };
  if (options.nodes) client = new Cluster(options.nodes, options.clientOptions as ClusterOptions | undefined);
  else if (options.url) client = new Redis(options.url, (options.clientOptions ?? {}) as RedisOptions);
  else throw new ConfigError("redis adapter: give { url } (or ERRAND_URL=redis://...), { nodes } for a cluster, or your own { client }");
  client.on("error", () => undefined);
  return { client, ownsClient: true };
}

/**
 * Ends a client Errand made. A connected one QUITs (its queued commands are sent first); one
 * that lost its server and is reconnecting is disconnected at once: a QUIT would wait in its
 * offline queue until `maxRetriesPerRequest` gave up on it (about 10 s with ioredis' defaults,
 * measured against a closed port), and the reconnect timer would keep the process alive.
 */
export async function closeClient(client: Redis | Cluster): Promise<void> {
  if (client.status === "reconnecting" || client.status === "close" || client.status === "end") return client.disconnect();
  await client.quit().catch(() => client.disconnect());
}
