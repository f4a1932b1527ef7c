/**
 * Errand's own superjson shapes for values superjson would change on the way through:
 *
 * - a sparse array (superjson writes its holes as `null`) → `{ length, "<index>": item… }`;
 * - an invalid `Date` (JSON writes `null`) → `"invalid"`;
 * - a null-prototype object (read back with `Object.prototype`) → a plain copy of its keys;
 * - bytes — typed arrays, `Buffer`, `ArrayBuffer` (superjson writes numbers, so NaN and -0
 *   in a `Float64Array` become 0, and it cannot read a `Buffer` back) → `"<Class>:<base64>"`
 *   of the raw bytes in the machine's byte order (little-endian on every platform Node
 *   ships for but s390x, so a payload does not cross to s390x);
 * - a built-in error — `Error`, `TypeError`… (superjson keeps name, message and cause only,
 *   as a plain `Error`) → `{ class, props, hidden }` with every own property, stack included.
 *
 * Only values the walk (`walk.ts`) marked get these shapes, so a value a registered custom
 * serializer claims is never taken from it. The stored shapes keep the keys the values
 * have (an index, a property name), so superjson's shared-reference paths still lead to the
 * same place on the way back; errors are rebuilt only after those references are restored
 * (see `deserializeArguments`), because superjson cannot follow a path into an `Error`.
 *
 * @module
 */
import type { SuperJSON } from "superjson";

/** Which of Errand's own shapes a value is stored with. */
export type Shape = "sparse-array" | "invalid-date" | "null-prototype" | "bytes" | "error";

type ByteClass = { new (buffer: ArrayBuffer): ArrayBufferView } | ArrayBufferConstructor;

// Buffer first: Buffer.prototype inherits from Uint8Array.prototype, and the match is exact.
const BYTE_CLASSES = new Map<string, ByteClass>(
  [
    Buffer,
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    ArrayBuffer,
  ].map((ctor) => [ctor.name, ctor as ByteClass]),
);
const BYTE_CLASS_BY_PROTOTYPE = new Map<unknown, string>([...BYTE_CLASSES].map(([name, ctor]) => [ctor.prototype, name]));

const ERROR_CLASSES = new Map<string, ErrorConstructor | AggregateErrorConstructor>(
  [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError].map((ctor) => [ctor.name, ctor]),
);
const ERROR_CLASS_BY_PROTOTYPE = new Map<unknown, string>([...ERROR_CLASSES].map(([name, ctor]) => [ctor.prototype, name]));

/** The class name of a typed array, `Buffer` or `ArrayBuffer` (exact class), else `undefined`. */
export function byteClassName(value: object): string | undefined {
  return BYTE_CLASS_BY_PROTOTYPE.get(Object.getPrototypeOf(value));
}

/** The class name of a built-in error (exact class: `TypeError`, not a subclass of it), else `undefined`. */
export function errorClassName(value: object): string | undefined {
  return ERROR_CLASS_BY_PROTOTYPE.get(Object.getPrototypeOf(value));
}

/** An error as stored, until {@link buildError} turns it back into one. */
export interface StoredError {
  class: string;
  /** Every own property: message, stack, cause, errors, code… */
  props: Record<string, unknown>;
  /** The properties that were not enumerable (message, stack and cause usually). */
  hidden: string[];
}

/** What the shapes read while superjson runs. */
export interface ShapeHooks {
  /** The walk's marks for the value being serialized, or `null` outside a serialize call. */
  marks(): Map<object, Shape> | null;
  /** Told of every error read back; it is rebuilt later with {@link buildError}. */
  errorRead(stored: StoredError): void;
}

/** Registers the shapes on `serializer`. */
export function installShapes(serializer: SuperJSON, hooks: ShapeHooks): void {
  const register = <T, Stored>(shape: Shape, serialize: (value: T) => Stored, deserialize: (stored: Stored) => unknown): void => {
    serializer.registerCustom<T, never>(
      {
        isApplicable: (value): value is T => {
          const marks = hooks.marks();
          return marks !== null && marks.size > 0 && marks.get(value as object) === shape;
        },
        serialize: serialize as (value: T) => never,
        deserialize: deserialize as (stored: never) => T,
      },
      `errand:${shape}`,
    );
  };
  register("sparse-array", storeSparse, readSparse);
  register("invalid-date", () => "invalid", () => new Date(Number.NaN));
  register("null-prototype", (value: object) => ({ ...value }), (stored: object) => Object.assign(Object.create(null) as object, stored));
  register("bytes", storeBytes, readBytes);
  register("error", storeError, (stored: StoredError) => {
    if (!ERROR_CLASSES.has(stored.class)) throw new Error(`unknown error class "${stored.class}"`);
    hooks.errorRead(stored);
    return stored;
  });
}

function storeSparse(array: unknown[]): Record<string, unknown> {
  const stored: Record<string, unknown> = { length: array.length };
  for (const key of Object.keys(array)) stored[key] = array[Number(key)];
  return stored;
}

function readSparse(stored: Record<string, unknown>): unknown[] {
  const { length } = stored;
  if (typeof length !== "number" || !Number.isInteger(length) || length < 0) throw new Error("a sparse array without a valid length");
  const array = new Array<unknown>(length);
  for (const key of Object.keys(stored)) if (key !== "length") array[Number(key)] = stored[key];
  return array;
}

function storeBytes(value: ArrayBufferView | ArrayBuffer): string {
  const bytes = ArrayBuffer.isView(value)
    ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    : Buffer.from(value);
  return `${byteClassName(value)}:${bytes.toString("base64")}`;
}

function readBytes(stored: string): unknown {
  const colon = stored.indexOf(":");
  const name = stored.slice(0, colon);
  const ctor = BYTE_CLASSES.get(name);
  if (colon < 0 || !ctor) throw new Error(`unknown byte array class "${name}"`);
  const bytes = Buffer.from(stored.slice(colon + 1), "base64");
  if (ctor === Buffer) return bytes;
  // A copy into a buffer of its own: Buffer.from may hand out a slice of a shared pool,
  // and a Float64Array needs its offset aligned to 8.
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return ctor === ArrayBuffer ? buffer : new (ctor as new (buffer: ArrayBuffer) => ArrayBufferView)(buffer);
}

function storeError(error: Error): StoredError {
  const props: Record<string, unknown> = {};
  const hidden: string[] = [];
  // The walk refused symbol keys, so every own key is a string.
  for (const key of Object.getOwnPropertyNames(error)) {
    props[key] = (error as unknown as Record<string, unknown>)[key];
    if (!Object.prototype.propertyIsEnumerable.call(error, key)) hidden.push(key);
  }
  return { class: errorClassName(error)!, props, hidden };
}

/**
 * Rebuilds a stored error: a real instance of its class, with exactly the stored own
 * properties (enumerable as they were), whose values `resolve` may replace.
 */
export function buildError(stored: StoredError, resolve: (value: unknown) => unknown): Error {
  const ctor = ERROR_CLASSES.get(stored.class)!;
  // The constructor gives the error its internal error slot (inspect and isNativeError see a
  // real error); the own properties it adds (a fresh stack) go, and the stored ones are
  // defined in their stored order.
  const error = ctor === AggregateError ? new AggregateError([]) : new (ctor as ErrorConstructor)();
  for (const key of Object.getOwnPropertyNames(error)) delete (error as unknown as Record<string, unknown>)[key];
  for (const key of Object.keys(stored.props)) {
    Object.defineProperty(error, key, {
      value: resolve(stored.props[key]),
      writable: true,
      enumerable: !stored.hidden.includes(key),
      configurable: true,
    });
  }
  return error;
}
