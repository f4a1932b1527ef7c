/**
 * `@errand/adapter-redis`: jobs in Redis or Redis Cluster, every multi-key step one Lua script.
 *
 * @example
 * import { configure } from "@errand/core";
 * configure({ adapter: { production: { use: "redis", url: process.env.REDIS_URL } } });
 *
 * @module
 */
import type { AdapterFactory } from "@errand/core/adapter";

import { RedisAdapter, type RedisAdapterOptions } from "./adapter.js";

export { RedisAdapter } from "./adapter.js";
export type { RedisAdapterOptions } from "./adapter.js";
export type { CapabilityNotes } from "./capabilities.js";
export { KeyLayout, LAYOUT_VERSION } from "./keys.js";
export type { QueueKeys } from "./keys.js";
export { readJobRecords } from "./lookup.js";
export { RedisStatusStore } from "./status-store.js";
export type { RedisStatusStoreOptions } from "./status-store.js";

/** Factory Errand calls for `adapter: { use: "redis", ... }` and `ERRAND_URL=redis://...`. */
export const createAdapter: AdapterFactory = (options) => new RedisAdapter(options as RedisAdapterOptions);
