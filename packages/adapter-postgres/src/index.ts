/**
 * `@errand/adapter-postgres`: durable jobs in the app's own PostgreSQL database.
 *
 * @example
 * import { configure } from "@errand/core";
 * configure({ adapter: { production: { use: "postgres", url: process.env.DATABASE_URL } } });
 *
 * @module
 */
import type { AdapterFactory } from "@errand/core/adapter";

import { PostgresAdapter, type PostgresAdapterOptions } from "./adapter.js";

export { PostgresAdapter } from "./adapter.js";
export type { PostgresAdapterOptions } from "./adapter.js";
export { migrate } from "./migrate.js";
export { pgConnection, transaction } from "./transaction.js";
export type { MigrateOptions } from "./migrate.js";
export { PostgresOutbox } from "./outbox.js";
export type { PostgresOutboxOptions } from "./outbox.js";
export { PostgresStatusStore } from "./status-store.js";
export type { PostgresStatusStoreOptions } from "./status-store.js";

/** Factory Errand calls for `adapter: { use: "postgres", ... }` and `ERRAND_URL=postgres://...`. */
export const createAdapter: AdapterFactory = (options) => new PostgresAdapter(options as PostgresAdapterOptions);
