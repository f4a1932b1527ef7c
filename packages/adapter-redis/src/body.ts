/**
 * Compact bodies: a job's payload as its record stores it, without the fields the record
 * holds anyway (job-lib.lua: id, queue, job class, priority, enqueuedAt and runAt as ms).
 *
 * A compact body is one flag character, then JSON: the payload without `v` (always 1) and
 * without each field the flag says was left out. A field is left out only when the record
 * gives back exactly the same value (a date only when its ms print back as the same ISO
 * string), so `expandBody` rebuilds a payload equal to the one stored: same fields, same
 * values, the user's arguments (superjson `json` and `meta`) untouched as text. Only the key
 * order of the rebuilt JSON may differ (v, job, id, queue, priority first, the dates last).
 *
 * The no-op job of bench/redis: a 208-byte payload stores as `_{"args":{"json":[1]},"executions":0}`.
 *
 * @module
 */
import type { JobPayload } from "@errand/core/adapter";

/** What a record knows of a job when its body is written or read back. */
export interface BodyContext {
  id: string;
  queue: string;
  /** The record's job class, priority, enqueuedAt ms and runAt ms, when it holds them. */
  job?: string;
  priority?: number;
  enqueuedAt?: number;
  runAt?: number;
}

const ID = 1;
const QUEUE = 2;
const JOB = 4;
const PRIORITY = 8;
const ENQUEUED_AT = 16;
const RUN_AT = 32;
/** 64 flag characters (bit set → field left out); none is `{`, which starts a verbatim body. */
const FLAGS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function isoOf(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

/** The compact body of `payload` under `context` (a payload whose `v` is not 1 is kept whole, `{` first). */
export function compactBody(payload: JobPayload, context: BodyContext): string {
  if (payload.v !== 1) return JSON.stringify(payload);
  const { v: _v, id, queue, job, priority, enqueuedAt, runAt, ...rest } = payload;
  const kept: Record<string, unknown> = {};
  let flags = 0;
  if (id === context.id) flags |= ID;
  else kept.id = id;
  if (queue === context.queue) flags |= QUEUE;
  else kept.queue = queue;
  if (context.job !== undefined && job === context.job) flags |= JOB;
  else kept.job = job;
  if (context.priority !== undefined && priority === context.priority) flags |= PRIORITY;
  else kept.priority = priority;
  if (enqueuedAt === isoOf(context.enqueuedAt)) flags |= ENQUEUED_AT;
  else kept.enqueuedAt = enqueuedAt;
  if (runAt === isoOf(context.runAt)) flags |= RUN_AT;
  else kept.runAt = runAt;
  return FLAGS[flags]! + JSON.stringify({ ...kept, ...rest });
}

/** The payload JSON of a compact body read back with the same `context` (a whole payload, `{` first, as it is). */
export function expandBody(compact: string, context: BodyContext): string {
  // A payload of another wire version is stored whole (compactBody).
  if (compact[0] === "{") return compact;
  const flags = FLAGS.indexOf(compact[0]!);
  if (flags < 0) throw new Error(`redis adapter: stored body of job ${context.id} has an unknown flag ${JSON.stringify(compact[0])}`);
  const need = (bit: number, value: unknown, name: string): string => {
    if (!(flags & bit)) return "";
    if (value === undefined) throw new Error(`redis adapter: stored job ${context.id} lacks its ${name}`);
    return `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
  };
  const inner = compact.slice(2, -1);
  return (
    `{"v":1${need(JOB, context.job, "job")}${need(ID, context.id, "id")}${need(QUEUE, context.queue, "queue")}${need(PRIORITY, context.priority, "priority")}` +
    (inner ? `,${inner}` : "") +
    `${need(ENQUEUED_AT, isoOf(context.enqueuedAt), "enqueuedAt")}${need(RUN_AT, isoOf(context.runAt), "runAt")}}`
  );
}
