/**
 * Batches in PostgreSQL (`capabilities.batches`; the contract is core's `adapter/batch.ts`):
 * the TypeScript side of migration 019, where the counting is done. A batch is a row of
 * `job_batches`; its jobs carry its id in `jobs.batch_id`. The enqueue, settle, cancel and
 * revive statements count into it in their own transaction, and the one that brings a sealed
 * batch's `pending` to 0 inserts its callbacks there too (`batch_finish`). Here: storing
 * new batches (`openBatches`), sealing them (`sealBatches`, which may finish them) and
 * reading them back (`getBatches`).
 *
 * A batch row's states are open → running (sealed) → finished, as in the contract; the
 * transitions happen in SQL only (019's header has them, and the race they close).
 *
 * @module
 */
import type pg from "pg";

import {
  ConfigError,
  type BatchCallbackKind,
  type BatchRecord,
  type GetBatchesOptions,
  type JobPayload,
  type OpenBatchesOptions,
  type SealBatchesOptions,
} from "@errand/core/adapter";

import { batchRecord, type BatchRow } from "./batch-record.js";
import type { QueryName } from "./sql.js";
import { isUuid } from "./uuid.js";

/** What batches need of their adapter. */
export interface BatchesContext {
  /** Runs a named query of the adapter's own, after migrations. */
  query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[]): Promise<pg.QueryResult<R>>;
  wakeChannel: string;
  /** The status channel, or null when the adapter publishes none. */
  statusChannel: string | null;
}

const KINDS: readonly BatchCallbackKind[] = ["success", "complete", "failure"];
const OPEN_KEYS = new Set(["batches"]);
const IDS_KEYS = new Set(["ids"]);
const BATCH_KEYS = new Set(["id", "description", "callbacks", "createdAt"]);

/** Throws when `options` has a key outside `known`. */
function checkKeys(what: string, options: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new ConfigError(`postgres adapter: ${what}: unknown option ${JSON.stringify(key)} (known: ${[...known].join(", ")})`);
  }
}

/** The ids of `options`, checked: strings in the uuid form (the column's type), else an error naming the first that is not. */
function checkedIds(what: string, options: SealBatchesOptions | GetBatchesOptions): string[] {
  if (typeof options !== "object" || options === null || !Array.isArray(options.ids)) throw new ConfigError(`postgres adapter: ${what} takes { ids: string[] }`);
  checkKeys(what, options, IDS_KEYS);
  for (const id of options.ids) if (typeof id !== "string") throw new ConfigError(`postgres adapter: ${what}: a batch id must be a string, got ${JSON.stringify(id)}`);
  return options.ids;
}

/** Throws for a payload in `jobs` naming a batch by an id the `uuid` column cannot hold. */
export function checkBatchIds(jobs: readonly JobPayload[]): void {
  for (const job of jobs) {
    if (job.batch !== undefined && (typeof job.batch.id !== "string" || !isUuid(job.batch.id))) {
      throw new ConfigError(`postgres adapter: job ${job.id} names batch ${JSON.stringify(job.batch.id)}, which is no batch id (a UUID)`);
    }
  }
}

/** Batches of one PostgreSQL adapter. */
export class Batches {
  constructor(private readonly context: BatchesContext) {}

  /** Stores new batches, open, every count at 0; an id stored already is an error naming it. */
  async open(options: OpenBatchesOptions): Promise<void> {
    if (typeof options !== "object" || options === null || !Array.isArray(options.batches)) throw new ConfigError("postgres adapter: openBatches takes { batches: NewBatch[] }");
    checkKeys("openBatches", options, OPEN_KEYS);
    if (options.batches.length === 0) return;
    const rows = options.batches.map((batch) => {
      checkKeys("openBatches: a batch", batch, BATCH_KEYS);
      if (typeof batch.id !== "string" || !isUuid(batch.id)) throw new ConfigError(`postgres adapter: openBatches: batch id ${JSON.stringify(batch.id)} is no UUID`);
      const callbacks = batch.callbacks ?? {};
      for (const kind of Object.keys(callbacks)) {
        if (!KINDS.includes(kind as BatchCallbackKind)) throw new ConfigError(`postgres adapter: openBatches: batch ${batch.id} has a callback of unknown kind ${JSON.stringify(kind)} (known: ${KINDS.join(", ")})`);
      }
      return { id: batch.id, description: batch.description ?? null, callbacks, createdAt: batch.createdAt };
    });
    try {
      await this.context.query("batch-open", [JSON.stringify(rows)]);
    } catch (error) {
      const { code, detail } = error as { code?: string; detail?: string };
      if (code !== "23505") throw error;
      // detail: "Key (id)=(0190…) already exists."
      const id = /\(id\)=\(([^)]*)\)/.exec(detail ?? "")?.[1] ?? "(one of the batch ids)";
      throw new Error(`postgres adapter: openBatches: batch ${id} is stored already (a batch id is used once)`, { cause: error });
    }
  }

  /** Seals batches, finishing those with no job pending; an unknown id fails the call, naming it (019's batch_seal). */
  async seal(options: SealBatchesOptions): Promise<void> {
    const ids = checkedIds("sealBatches", options);
    if (ids.length === 0) return;
    const bad = ids.find((id) => !isUuid(id));
    if (bad !== undefined) throw new Error(`postgres adapter: sealBatches: no batch ${JSON.stringify(bad)} (not a batch id)`);
    // Sorted: the function locks rows in id order anyway; sorted ids make the same plan every time.
    const sorted = [...new Set(ids.map((id) => id.toLowerCase()))].sort();
    await this.context.query("batch-seal", [sorted, this.context.wakeChannel, this.context.statusChannel]);
  }

  /** Batch records by id, null for an unknown (or deleted) one, in the order asked. */
  async get(options: GetBatchesOptions): Promise<(BatchRecord | null)[]> {
    const ids = checkedIds("getBatches", options);
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return ids.map(() => null);
    const { rows } = await this.context.query<BatchRow>("batch-get", [valid]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id.toLowerCase());
      return row ? batchRecord(row) : null;
    });
  }
}
