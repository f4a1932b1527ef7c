/**
 * Where jobs made inside an app's transaction go, decided per adapter once its client is
 * built (the order of the interface, tx-interface.md):
 *
 * 1. **joined**: the adapter has `transactionalEnqueue` (PostgreSQL with `transactions:
 *    "join"`, its default) and the connection is PostgreSQL with `query`: stored now,
 *    through the connection, so the rows and their NOTIFY exist only at commit;
 * 2. **outbox**: `config.outbox` writes the connection's dialect: written now, through the
 *    connection, relayed after commit;
 * 3. **deferred**: kept in the scope, enqueued after commit (flush.ts).
 *
 * Refused (a `ConfigError`, inside the transaction, which then rolls back): a connection
 * of another database than the configured outbox writes (a MySQL transaction with a
 * PostgresOutbox), and, with no outbox, one an adapter with `transactionalEnqueue` cannot
 * join (a MySQL transaction with the PostgreSQL adapter in `"join"` mode). Deferring
 * there would quietly trade the promise the config made (no window) for the window.
 *
 * Jobs written to the outbox pass core's enqueue instrumentation here, with `outbox: true`
 * (the joined route passes it in the adapter client): the trace context of the request
 * that made them goes into their `headers`, which the relay keeps.
 *
 * Whatever the route, what the adapter cannot store (a wait past `maxDelayMs`, a priority,
 * flow control it lacks) is refused now, inside the transaction, so the app's transaction
 * rolls back rather than commit a job that will fail after.
 *
 * @module
 */
import type { EnqueueResult } from "../adapter/contract.js";
import { ConfigError } from "../errors.js";
import { endScopes } from "../instrumentation.js";
import { checkRetryPriorities } from "../job/capability-fit.js";
import { runWithCallbacks } from "../job/callbacks.js";
import { definitionOf } from "../job/settings.js";
import { currentRuntime } from "../runtime.js";
import type { TransactionConnection } from "./connection.js";
import { hasEnqueueCallbacks, takeIds } from "./flush.js";
import type { ScopedJob, TransactionScope } from "./scope.js";

/**
 * The outbox cannot write into a transaction of another database (a PostgresOutbox and a
 * MySQL transaction): deferring instead would quietly give up the outbox's promise.
 */
function outboxMismatch(outboxDialect: string, connection: TransactionConnection): ConfigError {
  return new ConfigError(
    `the outbox writes into ${outboxDialect} transactions, and this is a ${connection.dialect} transaction (${connection.library}): ` +
      `the outbox cannot store jobs in it. Run this transaction on ${outboxDialect}, or configure no outbox to enqueue these jobs after the commit`,
  );
}

/**
 * An adapter that joins transactions (PostgreSQL, `transactions: "join"`) given one of
 * another database: its jobs would not be the transaction's, so they are refused, as the
 * adapter refuses a PostgreSQL transaction without its schema.
 */
function joinMismatch(adapter: string, connection: TransactionConnection): ConfigError {
  const what = connection.dialect === "postgres" ? `this ${connection.library} connection has no query()` : `this is a ${connection.dialect} transaction (${connection.library})`;
  return new ConfigError(
    `the ${adapter} adapter enqueues inside PostgreSQL transactions only (transactionalEnqueue), and ${what}: ` +
      `its jobs cannot join it. To enqueue them after the commit, turn joining off on that adapter (PostgreSQL: transactions: "after-commit")`,
  );
}

/** What became of one job: stored now (`stored`), skipped by an around callback (`ran` false), or waiting (`deferred`). */
export interface Routed {
  /** The adapter's name. */
  adapter: string;
  /** False when an around callback did not call its block: nothing was stored. */
  ran: boolean;
  /** Waiting for the commit: kept in the scope, or written to the outbox. */
  deferred: boolean;
  /** Uniqueness matched a job stored already (joined route only: decided at the store). */
  duplicate: boolean;
}

/**
 * Routes jobs of one adapter made in `scope` (registered there, route "pending"). A single
 * job with enqueue callbacks is stored inside them; a batch (`performAllLater`) runs none.
 */
export async function routeScoped(scope: TransactionScope, adapter: string | undefined, entries: readonly ScopedJob[]): Promise<Routed[]> {
  const runtime = currentRuntime();
  const client = await runtime.adapterFor(adapter);
  for (const entry of entries) checkRetryPriorities(definitionOf(entry.job.constructor), entry.payload.job, client.name, client.capabilities);
  const payloads = entries.map((entry) => entry.payload);
  const connection = scope.connection;
  const joined = client.capabilities.transactionalEnqueue && connection.dialect === "postgres" && typeof connection.query === "function";
  // A joined write is the adapter client's enqueue, which checks the payloads itself.
  if (!joined) client.refuseUnstorable(payloads);
  const outbox = runtime.config.outbox;
  let write: ((payloads: typeof entries[number]["payload"][]) => Promise<EnqueueResult[] | undefined>) | undefined;
  let route: ScopedJob["route"] = "deferred";
  if (joined) {
    route = "joined";
    write = (batch) => client.enqueue(batch, connection);
  } else if (outbox !== undefined) {
    if (outbox.dialect !== connection.dialect) throw outboxMismatch(outbox.dialect, connection);
    route = "outbox";
    write = async (batch) => {
      // The jobs are made here, in the app's context: the enqueue hooks run now (trace
      // context into `headers`, stored with the row), not only at the relay, far from it.
      const scopes = runtime.instrumentation.list.length > 0 ? runtime.instrumentation.startEnqueue({ adapter: client.name, payloads: batch, outbox: true }) : [];
      try {
        // Headers a hook wrote count toward the adapter's payload limit: refused now, not at the relay.
        if (scopes.length > 0) client.refuseUnstorable(batch);
        await outbox.write(connection, batch.map((payload) => ({ adapter, payload })));
      } catch (error) {
        endScopes(scopes, { error });
        throw error;
      }
      endScopes(scopes, { results: batch.map((payload) => ({ jobId: payload.id, providerJobId: "" })) });
      return undefined;
    };
  } else if (client.capabilities.transactionalEnqueue) {
    throw joinMismatch(client.name, connection);
  }
  for (const entry of entries) entry.route = route;
  if (write === undefined) return entries.map(() => ({ adapter: client.name, ran: true, deferred: true, duplicate: false }));
  const deferred = route === "outbox";
  const single = entries.length === 1 ? entries[0]! : undefined;
  if (single !== undefined && hasEnqueueCallbacks(single.callbacks)) {
    const { beforeEnqueue, aroundEnqueue, afterEnqueue } = single.callbacks;
    let duplicate = false;
    const run = await runWithCallbacks(single.job, beforeEnqueue, aroundEnqueue, afterEnqueue, async () => {
      const stored = await write([single.payload]);
      takeIds(single, stored?.[0]);
      duplicate = stored?.[0]?.duplicate === true;
    });
    return [{ adapter: client.name, ran: run.ran, deferred, duplicate }];
  }
  const stored = await write(payloads);
  entries.forEach((entry, index) => takeIds(entry, stored?.[index]));
  return entries.map((_, index) => ({ adapter: client.name, ran: true, deferred, duplicate: stored?.[index]?.duplicate === true }));
}
