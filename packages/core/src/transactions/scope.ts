/**
 * The app's transaction as a scope Errand sees (issue 16): `withTransaction` runs the app's
 * code in an AsyncLocalStorage store, and every enqueue made inside reads it once.
 *
 * State machine of one {@link TransactionScope} (one per `withTransaction` body run):
 *
 * - **open**: the app's code runs. Each `performLater` / `performAllLater` / `deliverLater`
 *   registers its jobs synchronously, in the order made, then routes them (core's
 *   enqueuing.ts and route.ts): joined (written now through the connection), outbox
 *   (written now through the connection) or deferred (kept in memory here). Writes in
 *   flight are tracked.
 * - **closing**: the app's code returned; the body waits for the tracked writes (a
 *   `performLater` nobody awaited still lands inside the transaction; a failed one fails the
 *   body, so the ORM rolls back). A registration from now on is not the transaction's: it
 *   goes to the nearest open outer scope, or enqueues as outside any transaction.
 * - **committed** (`open()` resolved): an inner scope (a savepoint) hands its deferred jobs
 *   to its parent, in order; the outermost one flushes them: one bulk enqueue per adapter
 *   (a job with enqueue callbacks alone, its callbacks around the store). A flush that
 *   fails throws {@link TransactionFlushError} naming the jobs not enqueued.
 * - **rolled back** (`open()` rejected): the deferred jobs are dropped; joined and outbox
 *   rows went with the transaction. An outer scope keeps its own.
 *
 * With no `withTransaction` anywhere the store is never entered: an enqueue costs one
 * `getStore()` (undefined), and Node 20 enables AsyncLocalStorage's hooks only at the first
 * `run()`.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";

import type { JobPayload } from "../adapter/contract.js";
import { ConfigError, TransactionFlushError } from "../errors.js";
import type { CallbackSet } from "../job/callbacks.js";
import type { TransactionConnection } from "./connection.js";
import { flushDeferred } from "./flush.js";

/** What happened to a job made inside a transaction. */
export type EntryRoute = "pending" | "joined" | "outbox" | "deferred";

/** One job made inside a scope. */
export interface ScopedJob {
  /** The adapter name its class is pinned to (`undefined`: the default). */
  adapter: string | undefined;
  /** The payload built when the job was made (arguments serialized then). */
  payload: JobPayload;
  /** The job instance (its callbacks get it; its ids are set when stored). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  job: any;
  /** Its class's enqueue callbacks, run around the store; `undefined` for `performAllLater` (none run). */
  callbacks: CallbackSet | undefined;
  /** Where it went: "pending" until routed (route.ts). */
  route: EntryRoute;
}

/** One `withTransaction` body run; see the module's state machine. */
export class TransactionScope {
  /** Where the scope is in the module's state machine. */
  state: "open" | "closing" | "committed" | "rolled back" = "open";
  /** Every job registered here (and handed up by committed inner scopes), in order. */
  readonly jobs: ScopedJob[] = [];
  private readonly inFlight: Promise<unknown>[] = [];

  constructor(
    readonly connection: TransactionConnection,
    readonly parent: TransactionScope | undefined,
  ) {}

  /** Keeps `write` until the body ends: it must land inside the transaction. */
  track(write: Promise<unknown>): void {
    this.inFlight.push(write);
    // The caller gets the rejection through its own promise; settle() rethrows it for the body.
    write.catch(() => undefined);
  }

  /** Waits for every tracked write (including ones started meanwhile); throws the first failure. */
  async settle(): Promise<void> {
    let seen = 0;
    while (seen < this.inFlight.length) {
      const batch = this.inFlight.slice(seen);
      seen = this.inFlight.length;
      const results = await Promise.allSettled(batch);
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
    }
  }
}

const storage = new AsyncLocalStorage<TransactionScope>();

/**
 * The open scope an enqueue made now belongs to, or `undefined`: the one `getStore()` of
 * the enqueue path. A closed scope passes to its nearest open ancestor.
 */
export function activeScope(): TransactionScope | undefined {
  let scope = storage.getStore();
  while (scope !== undefined && scope.state !== "open") scope = scope.parent;
  return scope;
}

function checkConnection(connection: unknown): asserts connection is TransactionConnection {
  const value = connection as Partial<TransactionConnection> | null;
  if (typeof value !== "object" || value === null || typeof value.dialect !== "string" || typeof value.library !== "string") {
    throw new ConfigError("withTransaction: open() must call body with a TransactionConnection ({ dialect, library, query? }) as its first argument");
  }
  if (value.query !== undefined && typeof value.query !== "function") {
    throw new ConfigError(`withTransaction: the ${value.library} connection's query must be a function (text, values) => Promise<{ rows }>`);
  }
}

/**
 * Runs `fn` inside the app's transaction as a scope Errand sees: jobs enqueued inside join
 * it (PostgreSQL adapter, `transactions: "join"`), go to the outbox through it
 * (`defineConfig({ outbox })`), or wait for its commit and are dropped if it rolls back
 * (Rails 8.2's `enqueue_after_transaction_commit`). `open(body)` must run `body` inside the
 * transaction and resolve after commit, reject after rollback. Nested calls are savepoints:
 * an inner commit hands its deferred jobs to the outer scope, an inner rollback drops only its own.
 *
 * @returns what `fn` resolved to, once the transaction committed and its deferred jobs were enqueued.
 * @throws TransactionFlushError when the transaction committed but deferred jobs could not be
 *   enqueued (their names and ids are in the error: the data is committed, the jobs are not).
 * @example
 * await withTransaction((body) => db.transaction((tx) => body(myConnection(tx), tx)), async (tx) => {
 *   await tx.insert(users).values(user);
 *   await WelcomeJob.performLater(user.id); // enqueued only if the insert commits
 * });
 */
export async function withTransaction<Tx, T>(
  open: (body: (connection: TransactionConnection, tx: Tx) => Promise<T>) => Promise<T>,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  if (typeof open !== "function") throw new ConfigError("withTransaction: open must be a function (body) => the ORM's transaction running body");
  if (typeof fn !== "function") throw new ConfigError("withTransaction: fn must be a function (tx) => your work");
  const parent = activeScope();
  let scope: TransactionScope | undefined;
  let result: T;
  try {
    result = await open(async (connection, tx) => {
      checkConnection(connection);
      // An ORM may run the body again (a retried transaction): the last run is the one that commits.
      if (scope !== undefined) scope.state = "rolled back";
      const own = new TransactionScope(connection, parent);
      scope = own;
      try {
        const value = await storage.run(own, () => fn(tx));
        own.state = "closing";
        await own.settle();
        return value;
      } finally {
        if (own.state === "open") own.state = "closing";
      }
    });
  } catch (error) {
    if (scope !== undefined) scope.state = "rolled back";
    throw error;
  }
  if (scope === undefined) throw new ConfigError("withTransaction: open() resolved without running body: it must call body inside the transaction");
  const committed: TransactionScope = scope;
  committed.state = "committed";
  const deferred = committed.jobs.filter((job) => job.route === "deferred");
  if (committed.parent !== undefined && committed.parent.state === "open") {
    committed.parent.jobs.push(...deferred);
    return result;
  }
  if (deferred.length > 0) {
    const failed = await flushDeferred(deferred);
    if (failed.length > 0) throw new TransactionFlushError(failed.map(({ entry, error }) => ({ job: entry.payload.job, jobId: entry.payload.id, error })));
  }
  return result;
}
