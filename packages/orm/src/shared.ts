/**
 * What the ORM helpers share: the error for a connection that cannot run statements, the
 * dialect names, and the brand that marks plain records as models.
 *
 * @module
 */
import { brandModel, ConfigError, type TransactionConnection } from "@errand/core";

/** Query rows as the PostgreSQL adapter reads them. */
export type Rows = { rows: Record<string, unknown>[] };

/** A connection for `library` on `dialect`; `query` only when the dialect is "postgres". */
export function connection(library: string, dialect: string, query: (text: string, values: readonly unknown[]) => Promise<Rows>): TransactionConnection {
  return dialect === "postgres" ? { dialect, library, query } : { dialect, library };
}

/** Throws when `value` is not an object (a transaction handle was expected). */
export function expectObject(helper: string, value: unknown, what: string): asserts value is Record<string, unknown> {
  if (typeof value !== "object" && typeof value !== "function") {
    throw new ConfigError(`${helper}: expected ${what}, got ${value === null ? "null" : typeof value}`);
  }
  if (value === null) throw new ConfigError(`${helper}: expected ${what}, got null`);
}

/** Brands a record, each record of an array, and leaves anything else (null, counts) alone. */
export function brandResult(result: unknown, name: string): void {
  if (Array.isArray(result)) {
    for (const record of result) if (isRecord(record)) brandModel(record, name);
  } else if (isRecord(result)) {
    brandModel(result, name);
  }
}

function isRecord(value: unknown): value is object {
  return typeof value === "object" && value !== null && !(value instanceof Date);
}
