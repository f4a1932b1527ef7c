/**
 * Job arguments to and from the wire. Values go through superjson (Date, BigInt, Map,
 * Set, URL, RegExp, Error, undefined…); registered models become gids; registered custom
 * serializers handle the rest. Before anything is written, a walk checks that every
 * value can come back as it went in: superjson alone would silently turn a function into
 * `null` and a class instance into a plain object.
 *
 * @module
 */
import { SuperJSON } from "superjson";
import type { SerializedValue } from "../adapter/contract.js";
import { DeserializationError, SerializationError } from "../errors.js";
import { customSerializerFor, onSerializerRegistered } from "./custom.js";
import { GidPlaceholder, loadModels, modelOf, toGid } from "./models.js";

const serializer = new SuperJSON();

// The gid transformer needs the app name while serializing and collects the placeholders
// it makes while deserializing. superjson calls both synchronously, so the state lives in
// these variables only for the duration of one call.
let currentApp = "errand";
let collected: GidPlaceholder[] | null = null;

serializer.registerCustom<object, string>(
  {
    isApplicable: (value): value is object => typeof value === "object" && value !== null && modelOf(value) !== undefined,
    serialize: (value) => toGid(currentApp, value),
    deserialize: (gid) => {
      const placeholder = new GidPlaceholder(gid);
      collected?.push(placeholder);
      return placeholder;
    },
  },
  "errand:gid",
);

onSerializerRegistered((definition) => {
  serializer.registerCustom<unknown, never>(
    {
      isApplicable: (value): value is unknown => definition.applies(value),
      serialize: (value) => definition.serialize(value) as never,
      deserialize: (stored) => definition.deserialize(stored),
    },
    `custom:${definition.name}`,
  );
});

const PLAIN_IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

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

function childPath(path: string, key: string): string {
  return PLAIN_IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function typeName(value: object): string {
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return ctor?.name || "an object with a custom prototype";
}

// Throws SerializationError at the first value that would not survive the round trip.
function check(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return;
    case "symbol":
      throw new SerializationError(path, `${String(value)} is a symbol, which cannot be stored`);
    case "function":
      throw new SerializationError(
        path,
        `function ${value.name || "(anonymous)"} cannot be stored; pass data and look the behaviour up in perform`,
      );
  }
  if (value === null) return;
  const object = value as object;
  if (ancestors.has(object)) throw new SerializationError(path, "is a circular reference, which cannot be stored");
  if (modelOf(object) || customSerializerFor(object)) return;
  if (object instanceof Date || object instanceof RegExp || object instanceof URL || object instanceof Error) return;
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      for (let index = 0; index < object.length; index++) check(object[index], `${path}[${index}]`, ancestors);
      return;
    }
    if (object instanceof Map) {
      for (const [key, entry] of object) {
        check(key, `${path}<key ${describeKey(key)}>`, ancestors);
        check(entry, `${path}.get(${describeKey(key)})`, ancestors);
      }
      return;
    }
    if (object instanceof Set) {
      let index = 0;
      for (const entry of object) check(entry, `${path}<item ${index++}>`, ancestors);
      return;
    }
    const prototype = Object.getPrototypeOf(object);
    if (prototype !== Object.prototype && prototype !== null) {
      throw new SerializationError(
        path,
        `is an instance of ${typeName(object)}, which cannot be stored: register it with registerModel() (stored as a reference) or registerSerializer(), or pass plain data`,
      );
    }
    if (Object.getOwnPropertySymbols(object).length > 0) {
      throw new SerializationError(path, "has symbol keys, which cannot be stored");
    }
    for (const key of Object.keys(object)) check((object as Record<string, unknown>)[key], childPath(path, key), ancestors);
  } finally {
    ancestors.delete(object);
  }
}

function describeKey(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : String(key);
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
  check(args, "args", new Set());
  currentApp = app;
  const { json, meta } = serializer.serialize(args as unknown[]);
  return meta === undefined ? { json } : { json, meta };
}

/**
 * Restores job arguments, loading model records (one `findMany` per model class).
 * @throws DeserializationError when a record is gone or a type is unknown.
 */
export async function deserializeArguments(stored: SerializedValue): Promise<unknown[]> {
  const placeholders: GidPlaceholder[] = [];
  let args: unknown[];
  collected = placeholders;
  try {
    args = serializer.deserialize(stored as Parameters<typeof serializer.deserialize>[0]);
  } catch (error) {
    throw new DeserializationError(`arguments cannot be read: ${(error as Error).message}`, { cause: error });
  } finally {
    collected = null;
  }
  if (!Array.isArray(args)) throw new DeserializationError("arguments are not an array");
  if (placeholders.length === 0) return args;
  const records = await loadModels(placeholders);
  return replacePlaceholders(args, records) as unknown[];
}

// Swaps every placeholder in a freshly deserialized tree for its record.
function replacePlaceholders(value: unknown, records: Map<string, unknown>): unknown {
  if (value instanceof GidPlaceholder) return records.get(value.gid);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = replacePlaceholders(value[index], records);
    return value;
  }
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [replacePlaceholders(k, records), replacePlaceholders(v, records)] as const);
    value.clear();
    for (const [k, v] of entries) value.set(k, v);
    return value;
  }
  if (value instanceof Set) {
    const items = [...value].map((item) => replacePlaceholders(item, records));
    value.clear();
    for (const item of items) value.add(item);
    return value;
  }
  if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = replacePlaceholders(record[key], records);
  }
  return value;
}

/**
 * Serializes a job's return value for its status (superjson text), or `undefined` for none.
 * @throws SerializationError naming the path inside `result`.
 */
export function serializeResult(value: unknown, app: string): string | undefined {
  if (value === undefined) return undefined;
  check(value, "result", new Set());
  currentApp = app;
  return serializer.stringify(value);
}

/** Reads a result written by {@link serializeResult}. Model references stay gid strings. */
export function deserializeResult(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const value = serializer.parse(text);
  return value instanceof GidPlaceholder ? value.gid : value;
}
