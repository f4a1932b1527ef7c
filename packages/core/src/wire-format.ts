/**
 * The wire format: a payload is plain JSON, readable in redis-cli, psql or the SQS
 * console. Version 1 is validated field by field on read; anything else is
 * `MalformedPayloadError`, and the worker sends it to the dead set with that reason.
 *
 * @module
 */
import type { JobPayload } from "./adapter/contract.js";
import { MalformedPayloadError } from "./errors.js";

/** The current wire-format version. */
export const WIRE_VERSION = 1;

/** Turns a payload into the text a backend stores. */
export function encodePayload(payload: JobPayload): string {
  return JSON.stringify(payload);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// Every check below reads its field by name (`record.job`), not through a helper taking the
// key (`record[key]`): a key that changes from call to call made each read a megamorphic
// keyed load, ~90 instructions, 10 per payload (callgrind, bench/core/instructions.ts).

function fail(message: string): never {
  throw new MalformedPayloadError(message);
}

function isString(value: unknown): boolean {
  return typeof value === "string" && value.length > 0;
}

function isInteger(value: unknown, min: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min;
}

// The last date string found valid. A payload's `runAt` is usually its `enqueuedAt`, and a
// bulk enqueue stamps many jobs in the same millisecond: comparing with it (~50 instructions)
// saves most tests of the expression (~600 each, two per payload; callgrind, 100k no-op
// jobs). Checking the characters one by one in JavaScript cost as much as the expression.
let lastDate = "";

function isIsoDate(value: unknown): boolean {
  if (typeof value !== "string") return false;
  if (value === lastDate) return true;
  if (!ISO_DATE.test(value)) return false;
  lastDate = value;
  return true;
}

function requireString(value: unknown, label: string): void {
  if (!isString(value)) fail(`"${label}" must be a non-empty string`);
}

function requireDate(value: unknown, label: string): void {
  if (!isIsoDate(value)) fail(`"${label}" must be an ISO-8601 date string`);
}

function requireInteger(value: unknown, min: number, label: string): void {
  if (!isInteger(value, min)) fail(`"${label}" must be an integer >= ${min}`);
}

function requireAttempts(value: unknown): void {
  if (!Array.isArray(value)) fail(`"attempts" must be an array of earlier runs`);
  value.forEach((attempt: unknown, index) => {
    const label = `attempts[${index}]`;
    if (attempt === null || typeof attempt !== "object" || Array.isArray(attempt)) fail(`"${label}" must be an object`);
    const run = attempt as Record<string, unknown>;
    requireDate(run.startedAt, `${label}.startedAt`);
    requireDate(run.finishedAt, `${label}.finishedAt`);
    const error = run.error as Record<string, unknown> | null | undefined;
    if (error === null || typeof error !== "object" || typeof error.name !== "string" || typeof error.message !== "string") {
      fail(`"${label}.error" must be an object with a name and a message`);
    }
  });
}

function requireCounters(value: unknown): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(`"exceptionExecutions" must be an object of counts`);
  for (const [key, count] of Object.entries(value)) {
    if (!isInteger(count, 0)) fail(`"exceptionExecutions" ${JSON.stringify(key)} must be an integer >= 0`);
  }
}

/** `continuation`: `{ completed: unique step names, current?: { step, cursor? }, resumptions }`. */
function requireContinuation(value: unknown): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(`"continuation" must be an object`);
  const progress = value as Record<string, unknown>;
  const completed = progress.completed;
  if (!Array.isArray(completed) || completed.some((name) => typeof name !== "string" || name.length === 0)) {
    fail(`"continuation.completed" must be an array of step names`);
  }
  if (new Set(completed).size !== completed.length) fail(`"continuation.completed" names a step twice`);
  requireInteger(progress.resumptions, 0, "continuation.resumptions");
  const current = progress.current as Record<string, unknown> | null | undefined;
  if (current === undefined) return;
  if (current === null || typeof current !== "object" || Array.isArray(current)) fail(`"continuation.current" must be an object`);
  requireString(current.step, "continuation.current.step");
  const cursor = current.cursor as Record<string, unknown> | null | undefined;
  if (cursor !== undefined && (cursor === null || typeof cursor !== "object" || Array.isArray(cursor) || !("json" in cursor))) {
    fail(`"continuation.current.cursor" must be superjson output`);
  }
}

/**
 * Parses and validates stored text.
 * @throws MalformedPayloadError naming the first field that is wrong.
 */
export function decodePayload(body: string): JobPayload {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    fail(`not JSON (${(error as Error).message})`);
  }
  return validatePayload(value);
}

/**
 * Validates a parsed value against wire format v1.
 * @throws MalformedPayloadError naming the first field that is wrong.
 */
export function validatePayload(value: unknown): JobPayload {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail("not a JSON object");
  const record = value as Record<string, unknown>;
  if (record.v !== WIRE_VERSION) fail(`unsupported version ${JSON.stringify(record.v)} (expected ${WIRE_VERSION})`);
  requireString(record.job, "job");
  requireString(record.id, "id");
  requireString(record.queue, "queue");
  if (typeof record.priority !== "number" || !Number.isInteger(record.priority)) fail(`"priority" must be an integer`);
  const args = record.args as Record<string, unknown> | null | undefined;
  if (args === null || typeof args !== "object" || Array.isArray(args) || !Array.isArray(args.json)) {
    fail(`"args" must be superjson output whose "json" is an array`);
  }
  requireInteger(record.executions, 0, "executions");
  if (record.exceptionExecutions !== undefined) requireCounters(record.exceptionExecutions);
  if (record.attempts !== undefined) requireAttempts(record.attempts);
  requireDate(record.enqueuedAt, "enqueuedAt");
  requireDate(record.runAt, "runAt");
  if (record.timeoutMs !== undefined) requireInteger(record.timeoutMs, 1, "timeoutMs");
  if (record.group !== undefined) requireString(record.group, "group");
  if (record.flow !== undefined) requireFlow(record.flow);
  if (record.headers !== undefined) checkHeaders(record.headers);
  if (record.continuation !== undefined) requireContinuation(record.continuation);
  if (record.batch !== undefined) checkBatchMembership(record.batch);
  return record as unknown as JobPayload;
}

/** Most entries a payload's `headers` may hold. */
export const MAX_HEADERS = 16;
/**
 * Most characters of a payload's `headers`, keys and values together. A W3C `traceparent`
 * is 55 and a `tracestate` at most 512; 4,096 leaves room for baggage without letting a
 * carrier outgrow the job (SQS stores 256 KiB a message, arguments included).
 */
export const MAX_HEADERS_LENGTH = 4096;

/**
 * `headers`: an object of at most {@link MAX_HEADERS} string entries (non-empty keys),
 * {@link MAX_HEADERS_LENGTH} characters in all. Checked on read and, by the adapter
 * client, before a payload is stored.
 * @throws MalformedPayloadError naming what is wrong.
 */
export function checkHeaders(headers: unknown): void {
  if (headers === null || typeof headers !== "object" || Array.isArray(headers)) fail(`"headers" must be an object of strings`);
  let count = 0;
  let length = 0;
  const entries = headers as Record<string, unknown>;
  for (const key in entries) {
    const value = entries[key];
    if (typeof value !== "string") fail(`"headers.${key}" must be a string`);
    if (key.length === 0) fail(`"headers" keys must be non-empty`);
    count++;
    length += key.length + value.length;
  }
  if (count > MAX_HEADERS) fail(`"headers" holds ${count} entries, more than ${MAX_HEADERS}`);
  if (length > MAX_HEADERS_LENGTH) fail(`"headers" holds ${length} characters, more than ${MAX_HEADERS_LENGTH}`);
}

/**
 * `flow`: each part present is complete and of the right kinds (see `FlowControl`).
 *
 * Runs at every reserve of a flow job, so it allocates nothing: a `for…in` over the parts
 * (no `Object.keys` array, no array literal per name, no destructuring) and string
 * comparisons for `while`. Measured (bench/flow/instructions.ts, drain of 20k unique jobs,
 * without V8's optimizing compiler): see bench/flow/README.md, "Where the time goes".
 */
function requireFlow(flow: unknown): void {
  if (flow === null || typeof flow !== "object" || Array.isArray(flow)) fail(`"flow" must be an object`);
  const parts = flow as Record<string, Record<string, unknown> | undefined>;
  for (const name in parts) {
    if (name !== "unique" && name !== "concurrency" && name !== "rateLimit" && name !== "recurring") fail(`"flow.${name}" is not a flow-control setting`);
    const part = parts[name];
    if (part === null || typeof part !== "object" || Array.isArray(part)) fail(`"flow.${name}" must be an object`);
  }
  const unique = parts.unique;
  if (unique !== undefined) {
    requireString(unique.key, "flow.unique.key");
    const blockWhile = unique.while;
    if (blockWhile !== "queued" && blockWhile !== "active" && blockWhile !== "done") fail(`"flow.unique.while" must be "queued", "active" or "done"`);
    if (unique.forMs !== undefined) requireInteger(unique.forMs, 1, "flow.unique.forMs");
  }
  const concurrency = parts.concurrency;
  if (concurrency !== undefined) {
    requireString(concurrency.key, "flow.concurrency.key");
    requireInteger(concurrency.limit, 1, "flow.concurrency.limit");
  }
  const rateLimit = parts.rateLimit;
  if (rateLimit !== undefined) {
    requireString(rateLimit.key, "flow.rateLimit.key");
    requireInteger(rateLimit.limit, 1, "flow.rateLimit.limit");
    requireInteger(rateLimit.perMs, 1, "flow.rateLimit.perMs");
  }
  const recurring = parts.recurring;
  if (recurring !== undefined) {
    requireString(recurring.task, "flow.recurring.task");
    requireDate(recurring.tick, "flow.recurring.tick");
  }
}

/** Longest batch id a payload may carry: core's are UUIDs (36); room for an app's own. */
export const MAX_BATCH_ID_LENGTH = 200;

/**
 * `batch`: `{ id: non-empty string of at most {@link MAX_BATCH_ID_LENGTH} characters,
 * callback?: "success" | "complete" | "failure" }`, no other key. Checked on read and, by
 * the adapter client, before a payload is stored.
 * @throws MalformedPayloadError naming what is wrong.
 */
export function checkBatchMembership(batch: unknown): void {
  if (batch === null || typeof batch !== "object" || Array.isArray(batch)) fail(`"batch" must be an object`);
  const membership = batch as Record<string, unknown>;
  for (const key in membership) if (key !== "id" && key !== "callback") fail(`"batch.${key}" is not a batch field (expected id and callback)`);
  requireString(membership.id, "batch.id");
  if ((membership.id as string).length > MAX_BATCH_ID_LENGTH) fail(`"batch.id" is ${(membership.id as string).length} characters, more than ${MAX_BATCH_ID_LENGTH}`);
  const callback = membership.callback;
  if (callback !== undefined && callback !== "success" && callback !== "complete" && callback !== "failure") {
    fail(`"batch.callback" must be "success", "complete" or "failure"`);
  }
}

/** Best-effort id of a stored body for the dead set when it cannot be validated. */
export function peekJobId(body: string): string | undefined {
  try {
    const value = JSON.parse(body) as { id?: unknown };
    return typeof value?.id === "string" ? value.id : undefined;
  } catch {
    return undefined;
  }
}
