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
 * Layout 3: a payload's `flow` is left out too when the record's flow fields (`ck cl`, `rk rl
 * rp`, `uk uw`, written by enqueue-flow.lua from the same payload) give it back exactly: no
 * `forMs`, no recurring part. Such a body starts with `~`, then the flag. It stored the key
 * twice, in the body and in the record: a concurrency job was 283 bytes queued against a
 * plain one's 203, a unique one 499 (bench/redis/memory.ts --variant, 20k jobs).
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
  /** The record's flow fields, when it holds them (needed for a body that starts with `~`). */
  flow?: FlowFields;
}

/** A record's flow fields (job-lib.lua), as it holds them: limits may be strings. */
export interface FlowFields {
  ck?: string | null;
  cl?: string | number | null;
  rk?: string | null;
  rl?: string | number | null;
  rp?: string | number | null;
  uk?: string | null;
  uw?: string | null;
}

/** The leading character of a body whose `flow` the record gives back. */
const FLOW_OUT = "~";

/** The payload's `flow` as the record's fields give it back. */
function flowOf(f: FlowFields): Record<string, Record<string, unknown>> {
  const flow: Record<string, Record<string, unknown>> = {};
  if (f.uk != null) flow.unique = { key: f.uk, while: f.uw };
  if (f.ck != null) flow.concurrency = { key: f.ck, limit: Number(f.cl) };
  if (f.rk != null) flow.rateLimit = { key: f.rk, limit: Number(f.rl), perMs: Number(f.rp) };
  return flow;
}

/** JSON with every object's keys sorted: equal texts, equal values. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "undefined";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record).sort().map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`).join(",")}}`;
}

/** The flow fields enqueue-flow.lua writes for `flow` (its unique, concurrency and rate parts). */
export function flowFields(flow: JobPayload["flow"]): FlowFields {
  const { unique, concurrency, rateLimit } = flow ?? {};
  return {
    ...(unique ? { uk: unique.key, uw: unique.while } : {}),
    ...(concurrency ? { ck: concurrency.key, cl: concurrency.limit } : {}),
    ...(rateLimit ? { rk: rateLimit.key, rl: rateLimit.limit, rp: rateLimit.perMs } : {}),
  };
}

const ID = 1;
const QUEUE = 2;
const JOB = 4;
const PRIORITY = 8;
const ENQUEUED_AT = 16;
const RUN_AT = 32;
/** 64 flag characters (bit set → field left out); none is `{`, which starts a verbatim body. */
const FLAGS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * The ISO string of `ms`, remembered for the last one: a batch's jobs mostly share their
 * dates (bulk enqueue), and `toISOString` was a third of `expandBody`'s time.
 */
let lastMs = Number.NaN;
let lastIso = "";
function isoOf(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** JSON of job class and queue names, remembered (few distinct ones; the cache starts over past 1,000). */
const quoted = new Map<string, string>();
function quote(text: string): string {
  let json = quoted.get(text);
  if (json === undefined) {
    if (quoted.size >= 1000) quoted.clear();
    json = JSON.stringify(text);
    quoted.set(text, json);
  }
  return json;
}

/**
 * The compact body of `payload` under `context` (a payload whose `v` is not 1 is kept whole,
 * `{` first). Each field left out must equal what the record gives back.
 */
export function compactBody(payload: JobPayload, context: BodyContext): string {
  if (payload.v !== 1) return JSON.stringify(payload);
  let flags = 0;
  let lead = "";
  const kept: Record<string, unknown> = {};
  for (const key in payload) {
    const value = (payload as unknown as Record<string, unknown>)[key];
    switch (key) {
      case "v":
        continue;
      case "id":
        if (value === context.id) flags |= ID;
        else kept.id = value;
        continue;
      case "queue":
        if (value === context.queue) flags |= QUEUE;
        else kept.queue = value;
        continue;
      case "job":
        if (context.job !== undefined && value === context.job) flags |= JOB;
        else kept.job = value;
        continue;
      case "priority":
        if (context.priority !== undefined && value === context.priority) flags |= PRIORITY;
        else kept.priority = value;
        continue;
      case "enqueuedAt":
        if (value === isoOf(context.enqueuedAt)) flags |= ENQUEUED_AT;
        else kept.enqueuedAt = value;
        continue;
      case "runAt":
        if (value === isoOf(context.runAt)) flags |= RUN_AT;
        else kept.runAt = value;
        continue;
      case "flow":
        if (context.flow && value !== undefined && canonical(value) === canonical(flowOf(context.flow))) lead = FLOW_OUT;
        else kept.flow = value;
        continue;
      default:
        kept[key] = value;
    }
  }
  return lead + FLAGS[flags]! + JSON.stringify(kept);
}

/** The payload JSON of a compact body read back with the same `context` (a whole payload, `{` first, as it is). */
export function expandBody(compact: string, context: BodyContext): string {
  // A payload of another wire version is stored whole (compactBody).
  if (compact.charCodeAt(0) === 123) return compact;
  let flow = "";
  if (compact[0] === FLOW_OUT) {
    flow = `,"flow":${JSON.stringify(flowOf(known(context.flow, "flow", context.id)))}`;
    compact = compact.slice(1);
  }
  const flags = FLAGS.indexOf(compact[0]!);
  if (flags < 0) throw new Error(`redis adapter: stored body of job ${context.id} has an unknown flag ${JSON.stringify(compact[0])}`);
  let out = '{"v":1';
  if (flags & JOB) out += `,"job":${quote(known(context.job, "job", context.id))}`;
  if (flags & ID) out += `,"id":${JSON.stringify(context.id)}`;
  if (flags & QUEUE) out += `,"queue":${quote(context.queue)}`;
  if (flags & PRIORITY) out += `,"priority":${known(context.priority, "priority", context.id)}`;
  if (compact.length > 3) out += `,${compact.slice(2, -1)}`;
  if (flags & ENQUEUED_AT) out += `,"enqueuedAt":"${known(isoOf(context.enqueuedAt), "enqueuedAt", context.id)}"`;
  if (flags & RUN_AT) out += `,"runAt":"${known(isoOf(context.runAt), "runAt", context.id)}"`;
  return `${out}${flow}}`;
}

/** `value`, which the record must hold for a compact body that left `name` out. */
function known<T>(value: T | undefined, name: string, id: string): T {
  if (value === undefined) throw new Error(`redis adapter: stored job ${id} lacks its ${name}`);
  return value;
}
