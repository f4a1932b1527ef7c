/**
 * The walk that runs before superjson. For every value it decides one of three things:
 * superjson keeps it exactly (plain data, `Date`, `Map`…); it needs one of Errand's own
 * shapes (`shapes.ts`: sparse arrays, invalid dates, null-prototype objects, bytes, built-in
 * errors), and is marked so; or it cannot come back as it went in, and the walk throws
 * `SerializationError` naming its path. Left alone, superjson would turn a function into
 * `null`, a class instance into a plain object, a hole into `null`.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";

import { SerializationError } from "../errors.js";
import { customSerializerFor } from "./custom.js";
import { byteClassName, errorClassName, type Shape } from "./shapes.js";
import { MODEL_NAME, modelOf, referenceProblem } from "./models.js";

const PLAIN_IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

// superjson refuses these keys (they could rewrite a prototype on the way back); refusing
// them here gives the path instead of superjson's bare Error.
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Checks that `value` can be stored and read back exactly.
 * @param path - where `value` sits, e.g. `args`; errors extend it (`args[1].owner.avatar`).
 * @returns the objects that need one of Errand's own shapes, each with its shape.
 * @throws SerializationError at the first value that would not come back as it went in.
 */
export function checkStorable(value: unknown, path: string): Map<object, Shape> {
  const marks = new Map<object, Shape>();
  visit(value, path, new Set(), marks);
  return marks;
}

/** `path.key`, or `path["odd key"]` when the key is not an identifier. */
export function childPath(path: string, key: string): string {
  return PLAIN_IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function visit(value: unknown, path: string, ancestors: Set<object>, marks: Map<object, Shape>): void {
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
  if (modelOf(object)) {
    const problem = referenceProblem(object);
    if (problem) throw new SerializationError(path, problem);
    return;
  }
  if (customSerializerFor(object)) return;
  ancestors.add(object);
  try {
    visitObject(object, path, ancestors, marks);
  } finally {
    ancestors.delete(object);
  }
}

// A record branded for a model this process has not registered names it (the error path only).
function symbolKeysProblem(object: object): string {
  const brand = (object as { [MODEL_NAME]?: unknown })[MODEL_NAME];
  return typeof brand === "string"
    ? `is a record of model "${brand}", which is not registered in this process (registerModel("${brand}", …))`
    : "has symbol keys, which cannot be stored";
}

// Decides by exact prototype: a subclass of Map or Date would come back as the base class.
function visitObject(object: object, path: string, ancestors: Set<object>, marks: Map<object, Shape>): void {
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype === Object.prototype || prototype === null) {
    if (prototype === null) marks.set(object, "null-prototype");
    if (Object.getOwnPropertySymbols(object).length > 0) throw new SerializationError(path, symbolKeysProblem(object));
    visitProperties(object, Object.keys(object), path, ancestors, marks);
  } else if (prototype === Array.prototype) {
    visitArray(object as unknown[], path, ancestors, marks);
  } else if (prototype === Date.prototype) {
    refuseOwnKeys(object, path, "Date", []);
    if (Number.isNaN((object as Date).getTime())) marks.set(object, "invalid-date");
  } else if (prototype === RegExp.prototype) {
    refuseOwnKeys(object, path, "RegExp", ["lastIndex"]);
    const { lastIndex } = object as RegExp;
    if (lastIndex !== 0) {
      throw new SerializationError(`${path}.lastIndex`, `is ${String(lastIndex)}, mid-match state that is not stored; pass a RegExp whose lastIndex is 0`);
    }
  } else if (prototype === URL.prototype) {
    refuseOwnKeys(object, path, "URL", []);
  } else if (prototype === Map.prototype) {
    refuseOwnKeys(object, path, "Map", []);
    for (const [key, entry] of object as Map<unknown, unknown>) {
      visit(key, `${path}<key ${describeKey(key)}>`, ancestors, marks);
      visit(entry, `${path}.get(${describeKey(key)})`, ancestors, marks);
    }
  } else if (prototype === Set.prototype) {
    refuseOwnKeys(object, path, "Set", []);
    let index = 0;
    for (const entry of object as Set<unknown>) visit(entry, `${path}<item ${index++}>`, ancestors, marks);
  } else if (byteClassName(object)) {
    refuseExtraByteKeys(object as ArrayBufferView | ArrayBuffer, path);
    marks.set(object, "bytes");
  } else if (errorClassName(object)) {
    marks.set(object, "error");
    // All own keys, not only enumerable ones: message, stack and cause are not enumerable.
    visitProperties(object, Reflect.ownKeys(object), path, ancestors, marks);
  } else if (object instanceof Error) {
    throw new SerializationError(
      path,
      `is an instance of ${typeName(object)}, an Error subclass, which would come back as a plain Error: register it with registerSerializer(), or pass plain data (its message, a code)`,
    );
  } else {
    throw new SerializationError(
      path,
      `is an instance of ${typeName(object)}, which cannot be stored: register it with registerModel() (stored as a reference) or registerSerializer(), or pass plain data`,
    );
  }
}

// Items are visited by index; a hole marks the array sparse, any other key is refused.
function visitArray(array: unknown[], path: string, ancestors: Set<object>, marks: Map<object, Shape>): void {
  if (Object.getOwnPropertySymbols(array).length > 0) throw new SerializationError(path, "has symbol keys, which cannot be stored");
  const { length } = array;
  const keys = Object.keys(array);
  // Indices come first in key order, so a dense array without extra keys ends its keys
  // with the last index.
  if (keys.length === length && (length === 0 || keys[length - 1] === String(length - 1))) {
    for (let index = 0; index < length; index++) visit(array[index], `${path}[${index}]`, ancestors, marks);
    return;
  }
  let present = 0;
  for (const key of keys) {
    if (!ARRAY_INDEX.test(key)) {
      throw new SerializationError(
        childPath(path, key),
        "is a property of an array besides its items, which would be lost; pass an object holding the array and the property",
      );
    }
    present++;
    visit(array[Number(key)], `${path}[${key}]`, ancestors, marks);
  }
  if (present < length) marks.set(array, "sparse-array");
}

function visitProperties(
  object: object,
  keys: readonly (string | symbol)[],
  path: string,
  ancestors: Set<object>,
  marks: Map<object, Shape>,
): void {
  for (const key of keys) {
    if (typeof key === "symbol") throw new SerializationError(path, "has symbol keys, which cannot be stored");
    const at = childPath(path, key);
    if (PROTOTYPE_KEYS.has(key)) {
      throw new SerializationError(at, `the key "${key}" cannot be stored: read back, it could change an object's prototype`);
    }
    visit((object as Record<string, unknown>)[key], at, ancestors, marks);
  }
}

// A built-in value with extra properties of its own would lose them.
function refuseOwnKeys(object: object, path: string, kind: string, allowed: readonly string[]): void {
  for (const key of Reflect.ownKeys(object)) {
    if (typeof key === "string" && allowed.includes(key)) continue;
    throw lostProperty(path, kind, key);
  }
}

function lostProperty(path: string, kind: string, key: string | symbol): SerializationError {
  return new SerializationError(
    typeof key === "string" ? childPath(path, key) : path,
    `is a property of ${/^[AEIO]/.test(kind) ? "an" : "a"} ${kind} (${String(key)}), which would be lost; pass an object holding the ${kind} and the property`,
  );
}

/**
 * Refuses own properties of bytes besides their items (`Object.assign(new Uint8Array(2), {
 * tag })`): the stored shape is the bytes alone. Listing the keys of a typed array lists
 * every index — 1 million keys took 116 ms (`Object.keys`) to 385 ms (`Reflect.ownKeys`)
 * on Node 20, against 1 ms to base64 the bytes — so the check asks
 * `util.isDeepStrictEqual` instead, whose documented comparison of two typed arrays is
 * their bytes, then their enumerable own keys, symbols included, skipping indices natively
 * (a copy and that comparison: 72 ms for 80 MB). A non-enumerable string key is not seen;
 * an assignment or `Object.assign` makes enumerable ones. An `ArrayBuffer` has no indices,
 * so its keys are listed.
 */
function refuseExtraByteKeys(bytes: ArrayBufferView | ArrayBuffer, path: string): void {
  const kind = byteClassName(bytes)!;
  if (!ArrayBuffer.isView(bytes)) return refuseOwnKeys(bytes, path, kind, []);
  const copy = Buffer.isBuffer(bytes) ? Buffer.from(bytes) : (bytes as unknown as { slice(): ArrayBufferView }).slice();
  if (isDeepStrictEqual(bytes, copy)) return;
  // Only now list the keys, to name the first one that is not an index.
  const length = (bytes as unknown as ArrayLike<unknown>).length;
  const extra = Reflect.ownKeys(bytes).find((key) => typeof key === "symbol" || !(ARRAY_INDEX.test(key) && Number(key) < length));
  throw lostProperty(path, kind, extra ?? "a property");
}

function typeName(value: object): string {
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return ctor?.name || "an object with a custom prototype";
}

function describeKey(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : String(key);
}
