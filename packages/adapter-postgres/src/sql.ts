/**
 * The package's SQL lives in `.sql` files (`sql/migrations`, `sql/queries`), read once
 * per schema. `errand.` in them names the schema and is replaced by the configured one.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { ConfigError } from "@errand/core/adapter";

const SQL_DIR = fileURLToPath(new URL("../sql/", import.meta.url));

/** Checks a schema name and returns it quoted for SQL. */
export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(`postgres adapter: schema ${JSON.stringify(schema)} must be lower-case letters, digits and _, starting with a letter or _`);
  }
  return `"${schema}"`;
}

/**
 * The NOTIFY channel `errand:<schema>` plus `suffix`. PostgreSQL cuts identifiers at 63
 * bytes, and `pg_notify` refuses a longer channel, so a name that would be longer carries a
 * hash of the schema instead (`errand:#<24 hex>`); a name that fits keeps the schema.
 */
export function channelName(schema: string, suffix = ""): string {
  const name = `errand:${schema}${suffix}`;
  if (Buffer.byteLength(name) <= 63) return name;
  return `errand:#${createHash("sha256").update(schema).digest("hex").slice(0, 24)}${suffix}`;
}

function inSchema(text: string, quoted: string): string {
  return text.replace(/\berrand\./g, `${quoted}.`);
}

/** The runtime queries, by file name without `.sql`. */
export type QueryName =
  | "enqueue"
  | "enqueue-uniform"
  | "enqueue-flow"
  | "reserve-queues"
  | "reserve-any"
  | "settle"
  | "settle-succeeded"
  | "extend-leases"
  | "expire-leases"
  | "set-progress"
  | "get-status"
  | "list-queues"
  | "fold-counts"
  | "control-read"
  | "control-pause"
  | "control-resume"
  | "control-beat"
  | "control-workers"
  | "control-cancel"
  | "control-abort"
  | "control-due-later"
  | "control-run-now"
  | "ready-queues"
  | "list-queued"
  | "list-scheduled"
  | "list-retrying"
  | "list-running"
  | "list-dead-jobs"
  | "list-failed"
  | "list-succeeded"
  | "list-ids"
  | "list-dead"
  | "select-dead"
  | "revive"
  | "purge-dead"
  | "retention"
  | "flow-sweep"
  | "flow-retention"
  | "recurring-state"
  | "status-enqueued"
  | "status-started"
  | "status-stale"
  | "status-settled"
  | "status-progress"
  | "status-get"
  | "status-delete"
  | "status-deliveries"
  | "status-pairs-live"
  | "status-pairs-done"
  | "status-list-live"
  | "status-list-running"
  | "status-list-done"
  | "status-list-ids"
  | "status-figures"
  | "status-cancel"
  | "status-run-now"
  | "status-abort"
  | "status-beat"
  | "status-control-read"
  | "status-pause"
  | "status-workers"
  | "status-flow-bodies"
  | "status-batch-open"
  | "status-batch-seal"
  | "status-batch-get"
  | "outbox-write"
  | "outbox-read"
  | "outbox-delete"
  | "outbox-pending"
  | "batch-open"
  | "batch-seal"
  | "batch-get"
  | "batch-retention";

/** Every query, with the schema filled in. */
export function loadQueries(schema: string): Record<QueryName, string> {
  const quoted = quoteSchema(schema);
  const queries = {} as Record<QueryName, string>;
  for (const file of readdirSync(`${SQL_DIR}queries`)) {
    if (!file.endsWith(".sql")) continue;
    queries[file.slice(0, -4) as QueryName] = inSchema(readFileSync(`${SQL_DIR}queries/${file}`, "utf8"), quoted);
  }
  return queries;
}

/** One numbered migration. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** The migrations, in order, with the schema filled in. */
export function loadMigrations(schema: string): Migration[] {
  const quoted = quoteSchema(schema);
  return readdirSync(`${SQL_DIR}migrations`)
    .filter((file) => /^\d{3}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      id: Number(file.slice(0, 3)),
      name: file.slice(0, -4),
      sql: inSchema(readFileSync(`${SQL_DIR}migrations/${file}`, "utf8"), quoted),
    }));
}
