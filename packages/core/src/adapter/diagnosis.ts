/**
 * What a backend reports of its own health for `errand doctor`: {@link Adapter.diagnose}
 * (and {@link StatusStore.diagnose} for a store beside it). The adapter only reads and
 * reports facts — a round trip's latency, the migrations not applied yet, which queues
 * exist; core decides what passes and says what to do (`doctor/`).
 *
 * A diagnosis never changes anything: it reads the schema's version on a connection of its
 * own, never through the adapter's `MigrationGate` (which would migrate on first use), and
 * never creates a queue.
 *
 * @module
 */

/** Options of {@link Adapter.diagnose}. */
export interface DiagnoseOptions {
  /**
   * Longest the diagnosis may take, in ms. The adapter bounds its connection attempts by it
   * (a server that does not answer must not hang the doctor); core gives up after it too.
   */
  timeoutMs: number;
  /**
   * The queues the workers serve (prefix applied), for a backend whose queues must exist
   * before use (SQS). Others ignore them.
   */
  queues: readonly string[];
}

/** Options of {@link StatusStore.diagnose}. */
export interface DiagnoseStoreOptions {
  /** Longest the diagnosis may take, in ms (see {@link DiagnoseOptions.timeoutMs}). */
  timeoutMs: number;
}

/** A backend's schema (tables, a key layout) as the diagnosis found it. */
export interface SchemaDiagnosis {
  /** What the schema is, for messages: `schema "errand"`, `key layout under prefix "errand"`. */
  name: string;
  /** Migrations not applied yet, in the order `errand migrate` would apply them; empty when up to date. */
  pending: string[];
  /**
   * Set when the stored schema is newer than this version of the adapter can read (a later
   * release migrated it): what was found, e.g. `migration 031 applied, this version knows up to 030`.
   */
  newer?: string;
}

/** One queue the workers serve, on a backend whose queues must exist (SQS). */
export interface QueueDiagnosis {
  /** Errand queue name (prefix applied). */
  queue: string;
  /** The backend's name of the queue (`errand-reports`). */
  name: string;
  exists: boolean;
  /** Its dead-letter queue. */
  deadLetter: { name: string; exists: boolean };
  /** False when the queue exists but does not send messages it cannot deliver to its dead-letter queue (no redrive policy to it). */
  redrive: boolean;
  /** The adapter creates a missing queue (and its dead-letter queue) on first use. */
  createdOnUse: boolean;
}

/** What {@link StatusStore.diagnose} found. */
export interface StoreDiagnosis {
  /** One round trip to the store's server, in ms. */
  latencyMs: number;
  /** Its schema, for a store that has one (PostgreSQL). */
  schema?: SchemaDiagnosis;
}

/** The status store beside a backend that keeps no job state (SQS), as {@link Adapter.diagnose} reports it. */
export interface StatusStoreDiagnosis {
  /** The store's class, for messages (`RedisStatusStore`). */
  name: string;
  /** Every process using it sees the same statuses ({@link StatusStore.shared}). */
  shared: boolean;
  /** What the store's own diagnosis found; absent for a store without `diagnose` (the in-process one) or when it failed. */
  diagnosis?: StoreDiagnosis;
  /** Why the store's diagnosis failed (its server cannot be reached), when it did. */
  error?: string;
}

/** What {@link Adapter.diagnose} found. Facts only: core decides what passes. */
export interface Diagnosis {
  /** One round trip to the backend's server, in ms. */
  latencyMs: number;
  /** Where the adapter points, without credentials (`127.0.0.1:5432/test`), for messages. */
  target?: string;
  /** The backend's schema; absent for a backend without one (SQS). */
  schema?: SchemaDiagnosis;
  /** Each queue of {@link DiagnoseOptions.queues}, for a backend whose queues must exist (SQS). */
  queues?: QueueDiagnosis[];
  /** The status store, for a backend that keeps statuses in one (SQS). */
  statusStore?: StatusStoreDiagnosis;
}
