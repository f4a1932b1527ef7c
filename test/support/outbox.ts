// What the outbox's test files share (outbox.test.ts, outbox-faults.test.ts): the app's
// PostgreSQL and the target Redis, the schemas and key prefixes a file made (dropped after its
// tests), the resources it closes last, writes committed through a `pg` client as an ORM
// helper's connection would make them, and a Redis behind a TCP proxy the test can stop.
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll } from "vitest";

import type { PostgresOutbox } from "@errand/adapter-postgres";
import type { OutboxJob, TransactionConnection } from "@errand/core";

import { payload } from "../conformance/harness.js";
import { dropSchemas, postgresUrl, schemaName } from "./postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./redis.js";
import { TcpProxy } from "./tcp-proxy.js";

/** Options of {@link outboxFile}. */
export interface OutboxFileOptions {
  /** Connections of the file's pool. */
  poolMax: number;
  /** Runs first in the file's afterAll (kill the child processes a test left running). */
  beforeClose?: () => void;
}

/**
 * The file's fixture: the PostgreSQL URL and a pool on it, the Redis URL and a raw client,
 * and `schema()` / `prefix()` / `closeLater()` whose results afterAll drops and closes
 * (closers in reverse order, then the clients, then the schemas and keys).
 */
export function outboxFile({ poolMax, beforeClose }: OutboxFileOptions) {
  const url = postgresUrl();
  const rUrl = redisUrl();
  const pool = new pg.Pool({ connectionString: url, max: poolMax });
  const raw = new Redis(rUrl);
  const schemas: string[] = [];
  const prefixes: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    beforeClose?.();
    for (const close of closers.reverse()) await close().catch(() => undefined);
    raw.disconnect();
    await pool.end();
    await dropSchemas(url, schemas);
    await dropPrefixes(rUrl, prefixes);
  });
  return {
    url,
    rUrl,
    pool,
    raw,
    /** A new schema, dropped after the file's tests. */
    schema(): string {
      const name = schemaName();
      schemas.push(name);
      return name;
    },
    /** A new Redis key prefix, its keys deleted after the file's tests. */
    prefix(): string {
      const name = redisPrefix();
      prefixes.push(name);
      return name;
    },
    /** Runs `close` after the file's tests (errors ignored), the last registered first. */
    closeLater(...close: (() => Promise<unknown>)[]): void {
      closers.push(...close);
    },
  };
}

/** The fixture {@link outboxFile} returns. */
export type OutboxFile = ReturnType<typeof outboxFile>;

/** `n` jobs on `queue` for the default adapter. */
export function jobsOn(queue: string, n: number): OutboxJob[] {
  return Array.from({ length: n }, () => ({ adapter: undefined, payload: payload({ queue }) }));
}

/** A `TransactionConnection` over a `pg` client, as the ORM helpers make one. */
export function pgConnection(client: pg.PoolClient): TransactionConnection {
  return { dialect: "postgres", library: "pg", query: (text, values) => client.query(text, values as unknown[]) };
}

/** Writes each batch of `batches` in a transaction of its own on one client of `pool`, ended by `end`. */
export async function writeInTransactions(pool: pg.Pool, outbox: PostgresOutbox, batches: readonly OutboxJob[][], end: "COMMIT" | "ROLLBACK" = "COMMIT"): Promise<void> {
  const client = await pool.connect();
  try {
    for (const jobs of batches) {
      await client.query("BEGIN");
      await outbox.write(pgConnection(client), jobs);
      await client.query(end);
    }
  } finally {
    client.release();
  }
}

/** A started TCP proxy to the Redis at `redisUrl` (stopped after the file's tests), and the URL that goes through it. */
export async function redisBehindProxy(file: OutboxFile): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(file.rUrl);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  await proxy.start();
  file.closeLater(() => proxy.stop());
  const via = new URL(file.rUrl);
  via.hostname = "127.0.0.1";
  via.port = String(proxy.port);
  return { proxy, url: via.toString() };
}
