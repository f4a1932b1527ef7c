/**
 * The PostgreSQL adapter. Every contract operation is one statement from `sql/queries`
 * (bulk through `unnest` arrays), run on the adapter's pool — or, for a transactional
 * enqueue, on the caller's own client inside its transaction.
 *
 * Background upkeep rides on `reserve`, throttled, so no timer runs while nobody works:
 * expired leases are put back and parked jobs swept (at most every `leaseCheckMs`), and
 * finished jobs past retention, stale unique locks and old rate-window starts are deleted in
 * bounded steps (every `retentionCheckMs`, and sooner while steps come back full), beside
 * the reserve rather than in its way (`upkeep.ts`).
 *
 * Flow control (unique, concurrency and rate limits, recurring ticks) is decided in SQL
 * (migrations 006 and 007, `flow.ts`); a job without `flow` takes the plain statements.
 * Batches are counted by the enqueue, settle, cancel and revive statements themselves
 * (migration 019, `batches.ts`), which insert a finished batch's callbacks in their transaction.
 *
 * Every statement that changes statuses also NOTIFYs the ids it changed on the status
 * channel (`publishStatus`, migration 005); `openStatusFeed` LISTENs on it (`status-feed.ts`)
 * over the connection the wake-ups use (`listen-connection.ts`): one per adapter.
 *
 * What the adapter can do is in `capabilities.ts`; the columns a settle batch becomes, in
 * `settle-args.ts`.
 *
 * @module
 */
import pg from "pg";

import {
  MigrationGate,
  AdapterError,
  ConfigError,
  ConnectionError,
  type Adapter,
  type AdapterCapabilities,
  type BatchRecord,
  type GetBatchesOptions,
  type OpenBatchesOptions,
  type SealBatchesOptions,
  type ChangeJobsOptions,
  type HeartbeatOptions,
  type HeartbeatResult,
  type JobPage,
  type ListJobsOptions,
  type ListQueuesOptions,
  type PauseQueuesOptions,
  type WorkerRecord,
  type DeadJob, type DiagnoseOptions, type Diagnosis,
  type EnqueueOptions,
  type EnqueueResult,
  type ExtendLeaseOptions,
  type GetStatusOptions,
  type ListDeadOptions,
  type MigrateResult,
  type RecurringRecord,
  type RecurringStateOptions,
  type PurgeDeadOptions,
  type QueueInfo,
  type Reservation,
  type ReserveOptions,
  type RetryDeadOptions,
  type SetProgressOptions,
  type SettleOptions,
  type StatusFeed,
  type StatusFeedOptions,
  type StatusRecord,
} from "@errand/core/adapter";

import { Batches, checkBatchIds } from "./batches.js";
import { capabilitiesOf, POSTGRES_CAPABILITIES } from "./capabilities.js";
import { RERUN_ON_DEADLOCK, rerunOnDeadlock } from "./deadlock.js";
import { Control } from "./control.js";
import { DeadSet } from "./dead-set.js";
import { diagnosePostgres } from "./diagnose.js";
import { Flow, hasFlow } from "./flow.js";
import { ListenConnection } from "./listen-connection.js";
import { Listener } from "./listener.js";
import { listQueues } from "./list-queues.js";
import { Listing } from "./list-jobs.js";
import { openStatusFeed } from "./status-feed.js";
import { statusState, type ReservedRow, type StatusRow } from "./job-rows.js";
import { statusRecord } from "./status-row.js";
import { migrate } from "./migrate.js";
import { channelName, loadQueries, quoteSchema, type QueryName } from "./sql.js";
import { checkAdapterOptions, type PostgresAdapterOptions } from "./options.js";
import { settleStatement } from "./settle-args.js";
import { Upkeep } from "./upkeep.js";
import { enqueueElement, expandBody } from "./body.js";
import { isUuid } from "./uuid.js";
import { joinable, queryJoined, type Queryable } from "./joined.js";

export type { PostgresAdapterOptions } from "./options.js";
export type { Queryable } from "./joined.js";

// PostgreSQL's own "connection gone" codes (admin shutdown, crash, cannot connect); Node's
// socket codes are mapped by core's adapter client.
const CONNECTION_CODES = new Set(["57P01", "57P02", "57P03", "08006", "08001", "08003", "08004"]);

/** Jobs in PostgreSQL. */
export class PostgresAdapter implements Adapter {
  /** What PostgreSQL supports, known before any adapter is built. */
  static readonly capabilities: AdapterCapabilities = POSTGRES_CAPABILITIES;
  readonly name = "postgres";
  /** The class's capabilities; without `publishStatus`, no `statusFeed`. */
  readonly capabilities: AdapterCapabilities;
  /**
   * Reports the ids of jobs whose status changed, from any process, over the adapter's
   * LISTEN connection (`errand:<schema>:status`); after a dropped connection it reconnects
   * and calls `onReconnect`. Absent with `publishStatus: false`.
   */
  readonly openStatusFeed?: (options: StatusFeedOptions) => Promise<StatusFeed>;
  /** Why a capability is off here: `transactionalEnqueue` with `transactions: "after-commit"`. */
  readonly capabilityNotes?: Partial<Record<keyof AdapterCapabilities, string>>;
  /** The pool Errand's statements run on. */
  readonly pool: pg.Pool;
  /** The schema in use. */
  readonly schema: string;
  private readonly ownsPool: boolean;
  private readonly queries: Record<QueryName, string>;
  private readonly listenConnection: ListenConnection;
  private readonly listener: Listener;
  private readonly channel: string;
  /** The status channel, or null when `publishStatus` is off (the SQL then notifies nothing). */
  private readonly statusChannel: string | null;
  private readonly options: Required<Pick<PostgresAdapterOptions, "retentionMs" | "maxFinished" | "leaseCheckMs" | "retentionCheckMs">>;
  private readonly migrations: MigrationGate;
  private readonly dead: DeadSet;
  private readonly flow: Flow;
  private readonly upkeep: Upkeep;
  private readonly listing: Listing;
  private readonly control: Control;
  private readonly batches: Batches;
  private closed = false;

  constructor(options: PostgresAdapterOptions) {
    checkAdapterOptions(options);
    this.schema = options.schema ?? "errand";
    quoteSchema(this.schema);
    if (!options.pool && !options.url) {
      throw new ConfigError("postgres adapter: give { url } (or ERRAND_URL=postgres://...) or your own { pool }");
    }
    const statementTimeout = options.statementTimeoutMs ?? 30_000;
    this.ownsPool = !options.pool;
    this.pool =
      options.pool ??
      new pg.Pool({
        connectionString: options.url,
        max: options.poolSize ?? 10,
        ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
        application_name: "errand",
      });
    // An idle pooled client that the server drops emits "error" on the pool; the next query
    // gets a fresh connection. Without a listener Node would crash the process.
    this.pool.on("error", () => undefined);
    this.queries = loadQueries(this.schema);
    this.channel = channelName(this.schema);
    this.statusChannel = options.publishStatus === false ? null : channelName(this.schema, ":status");
    const connection: pg.ClientConfig = options.url
      ? { connectionString: options.url, application_name: "errand-listener" }
      : { ...(this.pool.options as pg.ClientConfig), application_name: "errand-listener" };
    this.listenConnection = new ListenConnection(connection);
    this.listener = new Listener(this.listenConnection, this.channel, () => undefined);
    // `transactions: "after-commit"`: no joining, so core defers jobs made inside a scope.
    const { capabilities, notes } = capabilitiesOf(this.statusChannel !== null, options.transactions !== "after-commit");
    this.capabilities = capabilities;
    if (notes) this.capabilityNotes = notes;
    if (this.statusChannel !== null) {
      const channel = this.statusChannel;
      this.openStatusFeed = (feedOptions) => {
        if (this.closed) return Promise.reject(new Error("the postgres adapter is closed"));
        return openStatusFeed(this.listenConnection, channel, feedOptions);
      };
    }
    this.migrations = new MigrationGate(() => migrate(this.pool, this.schema), options.migrate ?? true);
    this.dead = new DeadSet({
      pool: this.pool,
      query: (name, values, client) => this.query(name, values, client),
      prepare: () => this.prepare(),
      wakeChannel: this.channel,
      statusChannel: this.statusChannel,
    });
    this.flow = new Flow({
      query: (name, values, client) => this.query(name, values, client),
      wakeChannel: this.channel,
      statusChannel: this.statusChannel,
    });
    this.options = {
      retentionMs: options.retentionMs ?? 86_400_000,
      maxFinished: options.maxFinished ?? 100_000,
      leaseCheckMs: options.leaseCheckMs ?? 1000,
      retentionCheckMs: options.retentionCheckMs ?? 60_000,
    };
    const query = <R extends pg.QueryResultRow>(name: QueryName, values: unknown[]) => this.query<R>(name, values);
    this.listing = new Listing({ query });
    this.control = new Control({ query, wakeChannel: this.channel, statusChannel: this.statusChannel });
    this.batches = new Batches({ query, wakeChannel: this.channel, statusChannel: this.statusChannel });
    this.upkeep = new Upkeep({
      query: (name, values) => this.query(name, values),
      flow: this.flow,
      wakeChannel: this.channel,
      statusChannel: this.statusChannel,
      ...this.options,
    });
  }

  /** Runs pending migrations once, before the first statement, when `migrate` is on. */
  private prepare(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the postgres adapter is closed"));
    return this.migrations.whenReady();
  }

  private query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[], client?: Queryable): Promise<pg.QueryResult<R>> {
    // Once migrated, the statement goes out in this turn of the event loop: the first chunk
    // of a bulk enqueue is on its way to PostgreSQL while the next one is stringified.
    const run =
      client === undefined
        ? () => this.pool.query<R>(this.queries[name], values)
        : () => queryJoined(client, this.queries[name], values, this.schema) as Promise<pg.QueryResult<R>>;
    const first = this.migrations.ready && !this.closed ? run() : this.prepare().then(run);
    // Only the adapter's own autocommit statements: one in the caller's transaction is the caller's to retry.
    return client === undefined && RERUN_ON_DEADLOCK.has(name) ? rerunOnDeadlock(first, run) : first;
  }

  async migrate(): Promise<MigrateResult> {
    return { applied: await this.migrations.run() };
  }

  /** Round trip and pending migrations, on a client of its own, never through the migration gate (`diagnose.ts`). */
  diagnose({ timeoutMs }: DiagnoseOptions): Promise<Diagnosis> {
    return diagnosePostgres(this.pool.options as pg.ClientConfig, this.schema, timeoutMs);
  }

  async enqueue({ jobs, transaction }: EnqueueOptions): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    const client = joinable(transaction);
    checkBatchIds(jobs);
    if (hasFlow(jobs)) return this.flow.enqueue(jobs, client);
    const first = jobs[0]!;
    const uniform = jobs.every(
      (job) => job.job === first.job && job.queue === first.queue && job.priority === first.priority && job.executions === first.executions,
    );
    const payloads = JSON.stringify(jobs.map((job) => enqueueElement(job, uniform)));
    if (uniform) {
      await this.query("enqueue-uniform", [payloads, first.job, first.queue, first.priority, first.executions, this.channel, this.statusChannel], client);
    } else {
      await this.query("enqueue", [payloads, this.channel, this.statusChannel], client);
    }
    return jobs.map((job) => ({ jobId: job.id, providerJobId: job.id }));
  }

  async reserve({ queues, except, max, leaseMs, waitMs, signal, workerId }: ReserveOptions): Promise<Reservation[]> {
    const deadline = Date.now() + waitMs;
    const leased: Reservation[] = [];
    for (;;) {
      await this.upkeep.run();
      const mark = this.listener.mark();
      const want = max - leased.length;
      // "*" but paused queues: the queues with waiting jobs (the count log) but those, by
      // name. While a queue is paused, "*" thus takes queue by queue rather than by priority
      // across queues; no reserve without `except` changes.
      const from = queues === "*" && except !== undefined && except.length > 0 ? (await this.query<{ queue: string }>("ready-queues", [except])).rows.map((row) => row.queue) : queues;
      // Cut short (a pause, a stop) while the upkeep ran: no look with the queues it was given.
      if (signal?.aborted) return leased;
      const { rows } =
        from === "*"
          ? await this.query<ReservedRow>("reserve-any", [want, leaseMs, workerId, this.statusChannel])
          : await this.query<ReservedRow>("reserve-queues", [from, want, leaseMs, workerId, this.statusChannel]);
      let denied = 0;
      for (const row of rows) {
        if (row.lease_token === null) denied++;
        else leased.push({ providerJobId: row.id, body: expandBody(row.body, row.id, row.priority, row.run_ms), handle: row.lease_token, deliveries: row.executions });
      }
      // Jobs flow control parked or deferred left the ready set: look again at once for what
      // was behind them, until the batch is full or nothing was turned away.
      if (denied > 0 && leased.length < max && !this.closed) continue;
      if (leased.length > 0) return leased;
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted || this.closed) return [];
      await this.listener.wait(queues, Math.min(left, this.options.leaseCheckMs), signal, mark);
    }
  }

  async settle({ settlements }: SettleOptions): Promise<void> {
    if (settlements.length === 0) return;
    const { name, values } = settleStatement(settlements, this.statusChannel, this.channel);
    await this.query(name, values);
  }

  async extendLease({ reservations, leaseMs }: ExtendLeaseOptions): Promise<string[]> {
    if (reservations.length === 0) return [];
    const { rows } = await this.query<{ id: string }>("extend-leases", [
      reservations.map((r) => r.providerJobId),
      reservations.map((r) => r.handle),
      leaseMs,
    ]);
    const held = new Set(rows.map((row) => row.id));
    return reservations.map((r) => r.providerJobId).filter((id) => !held.has(id));
  }

  async setProgress({ updates }: SetProgressOptions): Promise<void> {
    if (updates.length === 0) return;
    await this.query("set-progress", [
      updates.map((update) => update.jobId),
      updates.map((update) => JSON.stringify(update.message === undefined ? { fraction: update.fraction } : { fraction: update.fraction, message: update.message })),
      this.statusChannel,
    ]);
  }

  async getStatus({ ids }: GetStatusOptions): Promise<(StatusRecord | null)[]> {
    const valid = ids.filter(isUuid);
    const { rows } = valid.length ? await this.query<StatusRow>("get-status", [valid]) : { rows: [] as StatusRow[] };
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id.toLowerCase());
      if (!row) return null;
      return statusRecord(row, statusState(row));
    });
  }

  async recurringState({ tasks }: RecurringStateOptions): Promise<(RecurringRecord | null)[]> {
    return this.flow.recurringState(tasks);
  }

  /** Counts per queue from the count log (migration 014), with pauses and throughput (list-queues.ts). */
  listQueues(options: ListQueuesOptions = {}): Promise<QueueInfo[]> {
    return listQueues({ query: (name, values) => this.query(name, values) }, options);
  }

  /** A page of one state's jobs, or jobs by id (list-jobs.ts has the orders and cursors). */
  listJobs(options: ListJobsOptions): Promise<JobPage> {
    return this.listing.list(options);
  }

  /** Cancels, runs now or aborts jobs (control.ts); answers the ids the action applied to. */
  changeJobs(options: ChangeJobsOptions): Promise<string[]> {
    return this.control.changeJobs(options);
  }

  /** Pauses or resumes queues for every worker. */
  pauseQueues(options: PauseQueuesOptions): Promise<void> {
    return this.control.pauseQueues(options);
  }

  /** Stores a worker's beat; answers the paused queues and its jobs to abort. */
  heartbeat(options: HeartbeatOptions): Promise<HeartbeatResult> {
    return this.control.heartbeat(options);
  }

  /** Worker records kept, live or gone, by id. */
  listWorkers(): Promise<WorkerRecord[]> {
    return this.control.listWorkers();
  }

  /** Stores new batches, open (batches.ts, migration 019). */
  openBatches(options: OpenBatchesOptions): Promise<void> {
    return this.batches.open(options);
  }

  /** Seals batches; those with every job finished finish here, enqueueing their callbacks. */
  sealBatches(options: SealBatchesOptions): Promise<void> {
    return this.batches.seal(options);
  }

  /** Batch records by id, `null` for an unknown (or deleted) one, in order. */
  getBatches(options: GetBatchesOptions): Promise<(BatchRecord | null)[]> {
    return this.batches.get(options);
  }

  listDead(options: ListDeadOptions): Promise<DeadJob[]> {
    return this.dead.list(options);
  }

  retryDead(options: RetryDeadOptions): Promise<number> {
    return this.dead.retry(options);
  }

  purgeDead(options: PurgeDeadOptions): Promise<number> {
    return this.dead.purge(options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A retention step in flight finishes (or fails: the adapter is closed) before the pool ends.
    await this.upkeep.idle();
    await this.listener.close();
    await this.listenConnection.close();
    if (this.ownsPool) await this.pool.end();
  }

  mapError(error: unknown, operation: string): Error | undefined {
    const code = (error as { code?: string } | undefined)?.code;
    if (code && CONNECTION_CODES.has(code)) return new ConnectionError(this.name, operation, error);
    if (code === "42P01") {
      // undefined_table: the schema was never migrated (migrate: false).
      const hint = new Error(`${(error as Error).message}; run \`errand migrate\` to create Errand's tables in schema "${this.schema}"`);
      return new AdapterError(this.name, operation, hint);
    }
    return undefined;
  }
}
