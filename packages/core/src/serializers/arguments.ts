/**
 * Job arguments to and from the wire. Values go through superjson (Date, BigInt, Map,
 * Set, URL, RegExp, undefined, NaN, -0…); registered models become gids; registered custom
 * serializers handle their classes; Errand's own shapes (`shapes.ts`) keep what superjson
 * would change (sparse arrays, invalid dates, null-prototype objects, bytes, errors).
 * Before anything is written, the walk (`walk.ts`) checks that every value comes back as
 * it went in, and refuses the rest with `SerializationError` naming the path.
 *
 * Reading back has two passes: superjson restores the values and `shared-references.ts`
 * re-links shared references (the same object twice arrives as one object), then one pass
 * swaps model placeholders for their records and stored errors for errors, keeping shared
 * references shared.
 *
 * @module
 */
import { SuperJSON } from "superjson";
import type { SerializedValue } from "../adapter/contract.js";
import { DeserializationError } from "../errors.js";
import { onSerializerRegistered } from "./custom.js";
import { brandedModelOf, classModelOf, GidPlaceholder, loadModels, toGid } from "./models.js";
import { buildError, installShapes, type Shape, type StoredError } from "./shapes.js";
import { applySharedReferences, type ReferentialEqualities } from "./shared-references.js";
import { checkStorable } from "./walk.js";

const serializer = new SuperJSON();

// The transformers need the app name and the walk's marks while serializing, and collect
// the placeholders and errors they make while deserializing. superjson calls them
// synchronously, so this state lives only for the duration of one call.
let currentApp = "errand";
let currentMarks: Map<object, Shape> | null = null;
let collected: { placeholders: GidPlaceholder[]; errors: Set<object> | undefined } | null = null;

function placeholderFor(gid: string): GidPlaceholder {
  const placeholder = new GidPlaceholder(gid);
  collected?.placeholders.push(placeholder);
  return placeholder;
}

serializer.registerCustom<object, string>(
  {
    isApplicable: (value): value is object => typeof value === "object" && value !== null && classModelOf(value) !== undefined,
    serialize: (value) => toGid(currentApp, value),
    deserialize: placeholderFor,
  },
  "errand:gid",
);
// A branded plain record (Prisma, Drizzle, Kysely rows): superjson would walk into the gid
// string it returns (see walkedBySuperjson below), so its gid is wrapped in { value }.
serializer.registerCustom<object, { value: string }>(
  {
    isApplicable: (value): value is object => typeof value === "object" && value !== null && brandedModelOf(value) !== undefined,
    serialize: (value) => ({ value: toGid(currentApp, value) }),
    deserialize: (stored) => placeholderFor(stored.value),
  },
  "errand:gid-record",
);

// superjson walks into what a custom serializer returns for an array, a plain object, a
// Map, a Set or an Error, rebuilding it key by key: a string would come back as
// { "0": "s", "1": "t"… }. Such values get their stored form wrapped in { value }.
function walkedBySuperjson(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value) || value instanceof Map || value instanceof Set || value instanceof Error) return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

onSerializerRegistered((definition) => {
  serializer.registerCustom<unknown, never>(
    {
      isApplicable: (value): value is unknown => definition.applies(value) && !walkedBySuperjson(value),
      serialize: (value) => definition.serialize(value) as never,
      deserialize: (stored) => definition.deserialize(stored),
    },
    `custom:${definition.name}`,
  );
  serializer.registerCustom<unknown, { value: never }>(
    {
      isApplicable: (value): value is unknown => walkedBySuperjson(value) && definition.applies(value),
      serialize: (value) => ({ value: definition.serialize(value) as never }),
      deserialize: (stored) => definition.deserialize(stored.value),
    },
    `custom-wrapped:${definition.name}`,
  );
});

installShapes(serializer, {
  marks: () => currentMarks,
  errorRead: (stored) => {
    if (collected) (collected.errors ??= new Set()).add(stored);
  },
});

/** A value JSON keeps exactly: strings, booleans, null, and finite numbers other than -0. */
function isPlainJsonPrimitive(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    default:
      return value === null;
  }
}

// Walks `value` (throwing SerializationError at `path`), then runs superjson with the marks.
function serializeChecked(value: unknown, path: string, app: string): SerializedValue {
  const marks = checkStorable(value, path);
  currentApp = app;
  currentMarks = marks;
  try {
    return serializer.serialize(value) as SerializedValue;
  } finally {
    currentMarks = null;
  }
}

/**
 * Checks and serializes job arguments.
 * @param app - the app name written into model gids.
 * @throws SerializationError naming the argument path (`args[1].owner.avatar`).
 */
export function serializeArguments(args: readonly unknown[], app: string): SerializedValue {
  // The common case — ids, strings, flags — is plain JSON already, and primitives cannot be
  // changed by the caller afterwards: store them as they are (superjson adds no meta for
  // them). Measured: a fifth of a bulk enqueue of one-number jobs.
  if (args.every(isPlainJsonPrimitive)) return { json: [...args] };
  const { json, meta } = serializeChecked(args, "args", app);
  return meta === undefined ? { json } : { json, meta };
}

interface Read {
  value: unknown;
  placeholders: readonly GidPlaceholder[];
  /** Stored errors superjson read (to be built in the second pass); undefined when none. */
  errors: ReadonlySet<object> | undefined;
}

const NO_PLACEHOLDERS: readonly GidPlaceholder[] = Object.freeze([]);

// Runs the first pass: superjson restores the values, then shared references are re-linked
// (by our reader: superjson's reorders Sets and Maps). Collects placeholders and errors.
//
// Without meta (plain JSON: ids, strings, flags — every job of the core bench) superjson only
// copies the JSON: no transformer runs, so nothing is collected and nothing re-linked; that
// case skips the collector, the meta copy and the result spread. Measured (callgrind,
// bench/core/instructions.ts, 100k no-op jobs): they were ~1,000 instructions per job, 2.4–2.7 %
// of the drain at concurrency 1–50.
function readFirstPass(what: string, stored: SerializedValue): Read {
  try {
    // `== null`: a stored `"meta": null` reads as no meta, as it always has.
    if (stored.meta == null) {
      // superjson would copy the JSON with copy-anything (a Map of clones and a work list per
      // call, ~700 instructions per job of the core bench); an array of primitives — what
      // serializeArguments stores for ids, strings and flags — copies as a slice, the same.
      const json = stored.json;
      const value = Array.isArray(json) && json.every(isJsonPrimitive)
        ? json.slice()
        : serializer.deserialize({ json } as Parameters<typeof serializer.deserialize>[0]);
      return { value, placeholders: NO_PLACEHOLDERS, errors: undefined };
    }
    const found: NonNullable<typeof collected> = { placeholders: [], errors: undefined };
    collected = found;
    const { referentialEqualities, ...meta } = stored.meta as { referentialEqualities?: ReferentialEqualities };
    let value: unknown = serializer.deserialize({ json: stored.json, meta } as Parameters<typeof serializer.deserialize>[0]);
    if (referentialEqualities) value = applySharedReferences(value, referentialEqualities);
    return { value, placeholders: found.placeholders, errors: found.errors };
  } catch (error) {
    throw new DeserializationError(`${what} cannot be read: ${(error as Error).message}`, { cause: error });
  } finally {
    collected = null;
  }
}

/**
 * Restores job arguments, loading model records (one `findMany` per model class).
 * @throws DeserializationError when a record is gone or a type is unknown.
 */
export async function deserializeArguments(stored: SerializedValue): Promise<unknown[]> {
  return readArguments(stored);
}

/**
 * Restores job arguments as {@link deserializeArguments} does, without a promise when nothing
 * has to be loaded: the executor awaits only when it gets one (an async call and its await
 * per job were ~400 instructions of a no-op drain, with their garbage).
 * @throws DeserializationError (or rejects with it, when records are loaded).
 */
export function readArguments(stored: SerializedValue): unknown[] | Promise<unknown[]> {
  const read = readFirstPass("arguments", stored);
  if (!Array.isArray(read.value)) throw new DeserializationError("arguments are not an array");
  if (read.placeholders.length === 0 && read.errors === undefined) return read.value;
  return restoreReferences(read);
}

async function restoreReferences(read: Read): Promise<unknown[]> {
  const records = read.placeholders.length > 0 ? await loadModels(read.placeholders) : new Map<string, unknown>();
  return secondPass(read, (placeholder) => records.get(placeholder.gid)) as unknown[];
}

function isJsonPrimitive(value: unknown): boolean {
  return value === null || typeof value !== "object";
}

// Swaps placeholders and stored errors in a tree superjson has just read. Each object is
// handled once, so an object (or error) that appeared twice is still one object after.
function secondPass(read: Read, record: (placeholder: GidPlaceholder) => unknown): unknown {
  const done = new Map<object, unknown>();
  const resolve = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (value instanceof GidPlaceholder) return record(value);
    const known = done.get(value);
    if (known !== undefined) return known;
    if (read.errors?.has(value)) {
      // No cycle can pass through an error (the walk refused cycles), so its properties
      // can be resolved before it is remembered.
      const error = buildError(value as StoredError, resolve);
      done.set(value, error);
      return error;
    }
    done.set(value, value);
    if (Array.isArray(value)) {
      for (const key of Object.keys(value)) {
        const index = Number(key);
        const item: unknown = value[index];
        const next = resolve(item);
        if (next !== item) value[index] = next;
      }
    } else if (value instanceof Map) {
      const entries = [...value].map(([k, v]) => [resolve(k), resolve(v)] as const);
      value.clear();
      for (const [k, v] of entries) value.set(k, v);
    } else if (value instanceof Set) {
      const items = [...value].map(resolve);
      value.clear();
      for (const item of items) value.add(item);
    } else if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
      const object = value as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        const next = resolve(object[key]);
        if (next !== object[key]) object[key] = next;
      }
    }
    return value;
  };
  return resolve(read.value);
}

/**
 * Serializes a job's return value for its status (superjson text), or `undefined` for none.
 * @throws SerializationError naming the path inside `result`.
 */
export function serializeResult(value: unknown, app: string): string | undefined {
  if (value === undefined) return undefined;
  return JSON.stringify(serializeChecked(value, "result", app));
}

/**
 * Reads a result written by {@link serializeResult}. Model references stay gid strings.
 * @throws DeserializationError when the text cannot be read.
 */
export function deserializeResult(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  let stored: SerializedValue;
  try {
    stored = JSON.parse(text) as SerializedValue;
  } catch (error) {
    throw new DeserializationError(`the result is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const read = readFirstPass("the result", stored);
  if (read.placeholders.length === 0 && read.errors === undefined) return read.value;
  return secondPass(read, (placeholder) => placeholder.gid);
}

/**
 * A step's cursor as a payload's `continuation` stores it: superjson output, walked first
 * as arguments are (a value that cannot be stored exactly is a `SerializationError` naming
 * its path under `cursor`).
 */
export function serializeCursor(value: unknown, app: string): SerializedValue {
  return serializeChecked(value, "cursor", app);
}

/**
 * Reads a cursor written by {@link serializeCursor}. Model references stay gid strings.
 * @throws DeserializationError when it cannot be read.
 */
export function readCursor(stored: SerializedValue): unknown {
  const read = readFirstPass("the step's cursor", stored);
  if (read.placeholders.length === 0 && read.errors === undefined) return read.value;
  return secondPass(read, (placeholder) => placeholder.gid);
}
