/**
 * Narrow bodies: a plain job's payload as its `body` column stores it, without the fields
 * that columns the reserve returns anyway hold — `v` (always 1), `id`, `priority` and
 * `runAt`. Such a body is `_` followed by the JSON of the rest; a full body (a flow job's,
 * a retried job's, one stored before narrow bodies, or one whose fields would not come back
 * exactly) is the payload's JSON, starting with `{`.
 *
 * A field is left out only when its column gives back exactly the same text: the id in
 * PostgreSQL's own spelling (lowercase, hyphenated), a safe-integer priority, a `runAt` that
 * `Date#toISOString` prints back unchanged (years 0000–9999, milliseconds). `expandBody`
 * rebuilds the payload's JSON from the body and the columns: same fields, same values, the
 * user's arguments untouched as text; only the key order differs (v, id, priority, runAt
 * first). Nothing but the plain enqueue writes a narrow body, and every statement that
 * moves a job's `run_at` or `priority` writes a full body with it (a retry, a revive), so
 * the columns and the left-out fields never disagree.
 *
 * Why: the 212-byte body of the benches' no-op job repeated 99 bytes of its own columns,
 * in the table and in its enqueue's WAL: 640 → 534 WAL bytes per job (bench/postgres/README.md,
 * "Narrow bodies"). The reserve's update logs only the bytes it changes, so the drain's WAL
 * stays as it was.
 *
 * @module
 */
import type { JobPayload } from "@errand/core/adapter";

import { isCanonicalUuid } from "./uuid.js";

/** The leading character of a narrow body. */
const NARROW = "_";
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Whether a payload's left-out fields would come back exactly from the columns. */
export function narrowable(payload: JobPayload): boolean {
  return (
    payload.v === 1 &&
    isCanonicalUuid(payload.id) &&
    Number.isSafeInteger(payload.priority) &&
    ISO_MS.test(payload.runAt) &&
    new Date(payload.runAt).toISOString() === payload.runAt
  );
}

/** What a narrow body holds of a payload. */
export type NarrowPart = Omit<JobPayload, "v" | "id" | "priority" | "runAt">;

/** Every key of a payload but the four left out: the compiler says when JobPayload grows one. */
const KEPT = {
  job: true,
  queue: true,
  args: true,
  executions: true,
  exceptionExecutions: true,
  attempts: true,
  enqueuedAt: true,
  timeoutMs: true,
  group: true,
  flow: true,
  headers: true,
  continuation: true,
  batch: true,
} as const satisfies Record<keyof NarrowPart, true>;
const KEPT_COUNT = Object.keys(KEPT).length;

/**
 * The payload without the fields its columns hold, for `JSON.stringify`: the enqueue
 * statement stores `_` and this object's JSON as the body. Built as a literal (JSON leaves its
 * undefined fields out): an object rest (`{ v, id, …rest }`) cost 2.8 µs of client CPU per
 * job (sql-variants.js, 20k jobs). A payload with a key the literal does not know (none that
 * core builds) is copied key by key instead, so nothing is dropped.
 */
export function narrowPart(payload: JobPayload): NarrowPart {
  const part: NarrowPart = {
    job: payload.job,
    queue: payload.queue,
    args: payload.args,
    executions: payload.executions,
    exceptionExecutions: payload.exceptionExecutions,
    attempts: payload.attempts,
    enqueuedAt: payload.enqueuedAt,
    timeoutMs: payload.timeoutMs,
    group: payload.group,
    flow: payload.flow,
    headers: payload.headers,
    continuation: payload.continuation,
    batch: payload.batch,
  };
  let keys = 0;
  for (const key in payload) if (Object.hasOwn(payload, key)) keys++;
  const optional = [part.exceptionExecutions, part.attempts, part.timeoutMs, part.group, part.flow, part.headers, part.continuation, part.batch];
  let known = KEPT_COUNT + 4 - optional.length;
  for (const value of optional) if (value !== undefined) known++;
  if (keys === known) return part;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) if (key !== "v" && key !== "id" && key !== "priority" && key !== "runAt") copy[key] = value;
  return copy as NarrowPart;
}

/**
 * What the enqueue statements get for one job: the payload itself (stored whole), or, when
 * narrowable, the fields the statement reads (`uniform`: a batch of one class, queue,
 * priority and executions passes those as parameters), `batchId` for a job counted in a
 * batch, plus `_narrow`, the rest of the payload, which it stores as `_` and that part's text.
 */
export function enqueueElement(job: JobPayload, uniform: boolean): object {
  if (!narrowable(job)) return job;
  const _narrow = narrowPart(job);
  // A job counted in a batch (migration 019): its id beside the narrow part, where the
  // statement reads it (a whole payload's `batch` is read where it is). JSON leaves it out
  // when undefined: nothing more for a job outside a batch.
  const batchId = job.batch !== undefined && job.batch.callback === undefined ? job.batch.id : undefined;
  if (uniform) return { id: job.id, runAt: job.runAt, enqueuedAt: job.enqueuedAt, batchId, _narrow };
  return { id: job.id, job: job.job, queue: job.queue, priority: job.priority, runAt: job.runAt, executions: job.executions, enqueuedAt: job.enqueuedAt, batchId, _narrow };
}

/**
 * The payload's JSON from a stored body and its row's columns; a full body comes back as it
 * is. `runMs` is `run_at` in epoch milliseconds (the reserve and dead-set statements return it
 * for narrow bodies only: NULL otherwise).
 */
export function expandBody(body: string, id: string, priority: number, runMs: string | number | null): string {
  if (body[0] !== NARROW) return body;
  if (runMs === null) throw new Error(`job ${id}: a narrow body came back without its run_at`);
  const rest = body.slice(2);
  const head = `{"v":1,"id":"${id}","priority":${priority},"runAt":"${new Date(Number(runMs)).toISOString()}"`;
  return rest === "}" ? `${head}}` : `${head},${rest}`;
}
