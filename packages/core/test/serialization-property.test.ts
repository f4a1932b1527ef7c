// Property-style check of issue 11 item 4 over many generated value shapes: each sample
// either comes back exactly (same types, prototypes, holes, -0/NaN, bytes, shared
// references) or is refused with SerializationError at the path of its one bad value.
// A seeded PRNG keeps runs repeatable; a failure prints its seed.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { SerializationError } from "../src/errors.js";
import "../src/index.js";
import { Job } from "../src/job/job.js";
import { configure, type Runtime } from "../src/runtime.js";
import { deserializeArguments, deserializeResult, serializeArguments, serializeResult } from "../src/serializers/arguments.js";
import { registerSerializer } from "../src/serializers/custom.js";
import { registerModel } from "../src/serializers/models.js";
import { clearJobs, performEnqueuedJobs } from "../src/testing/index.js";

class Author {
  constructor(readonly id: number) {}
}
const authors = [new Author(1), new Author(2)];
registerModel(Author, { find: (id) => authors.find((author) => author.id === id) });

class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
}
registerSerializer<Money, [string, string]>({
  name: "PropertyMoney",
  type: Money,
  serialize: (money) => [String(money.cents), money.currency],
  deserialize: ([cents, currency]) => new Money(BigInt(cents), currency),
});

// mulberry32: small, fast and good enough to pick shapes.
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const key = (path: string, name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`);

/** One generated argument list: the value, and where the walk must stop if it holds a bad value. */
interface Sample {
  args: unknown[];
  badPath?: string;
  hasModel: boolean;
}

function generate(seed: number): Sample {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const allowBad = random() < 0.35;
  const sample: Sample = { args: [], hasModel: false };
  const finished: object[] = []; // complete objects, reused to make shared references (never cycles)

  const leaf = (path: string): unknown =>
    pick<() => unknown>([
      () => pick(["", "plain", "ünïcødé ✓", "\ud800 lone surrogate", "quote \" and \\ and \n"]),
      () => pick([0, -0, Number.NaN, Infinity, -Infinity, 1.5, Number.MAX_VALUE, Number.MIN_VALUE, -1e-300, 2 ** 53]),
      () => pick([2n ** 200n, -(3n ** 100n), 0n, -1n]),
      () => pick([true, false, null, undefined]),
      () => pick([new Date(0), new Date(8.64e15), new Date(Number.NaN), new Date(-1)]),
      () => pick([/a+b/gi, /[\u{1F600}]/u, new RegExp("x/y", "m")]),
      () => new URL(pick(["https://example.com/a?b=1#c", "file:///tmp/x y"])),
      () => pick([new Float64Array([Number.NaN, -0, Infinity]), new Float32Array([-0, 1.25]), new Uint8ClampedArray([0, 255])]),
      () => pick([new Int8Array([-128, 127]), new Uint16Array([65535]), new Int32Array([-1]), new Uint32Array([2 ** 32 - 1])]),
      () => pick([new BigInt64Array([-(2n ** 63n)]), new BigUint64Array([2n ** 64n - 1n]), Buffer.from([0, 1, 254, 255]), new Uint8Array(0).buffer]),
      () => new Int16Array(new ArrayBuffer(16), 4, 3),
      () => {
        sample.hasModel = true;
        return pick(authors);
      },
      () => new Money(-(10n ** 30n), pick(["EUR", "JPY"])),
    ])();

  // One bad value and the path (from `path`) where the walk must name it.
  const bad = (path: string): [unknown, string] => {
    const [value, suffix] = pick<() => [unknown, string]>([
      () => [() => 1, ""],
      () => [Symbol("s"), ""],
      () => [new (class Widget {})(), ""],
      () => [new (class ApiError extends Error {})("x"), ""],
      () => [new (class Registry extends Map {})(), ""],
      () => [new WeakMap(), ""],
      () => [Promise.resolve(1), ""],
      () => [new Author(undefined as unknown as number), ""],
      () => [JSON.parse('{"a": 1, "__proto__": {"polluted": true}}'), ".__proto__"],
      () => [{ ok: 1, constructor: "x" }, ".constructor"],
      () => [Object.assign([1, 2], { extra: 3 }), ".extra"],
      () => [Object.assign(/a/g, { lastIndex: 1 }), ".lastIndex"],
      () => {
        const node: Record<string, unknown> = { n: 1 };
        node.self = node;
        return [node, ".self"];
      },
    ])();
    return [value, path + suffix];
  };

  const value = (path: string, depth: number): unknown => {
    if (allowBad && sample.badPath === undefined && random() < 0.08) {
      const [v, at] = bad(path);
      sample.badPath = at;
      return v;
    }
    if (finished.length > 0 && random() < 0.06) return pick(finished);
    if (depth <= 0 || random() < 0.4) return leaf(path);
    const made = container(path, depth - 1);
    // A container holding the bad value is never reused: the walk must meet it only once.
    if (sample.badPath === undefined) finished.push(made);
    return made;
  };

  const names = ["a", "b_2", "$c", "with space", "x-y", "0", "42", "ключ"];
  const container = (path: string, depth: number): object =>
    pick<() => object>([
      () => {
        const object: Record<string, unknown> = {};
        for (let i = Math.floor(random() * 4); i > 0; i--) {
          const name = pick(names);
          if (!(name in object)) object[name] = value(key(path, name), depth);
        }
        return object;
      },
      () => {
        const object = Object.create(null) as Record<string, unknown>;
        for (const name of names.slice(0, 1 + Math.floor(random() * 3))) object[name] = value(key(path, name), depth);
        return object;
      },
      () => Array.from({ length: Math.floor(random() * 4) }, (_, i) => value(`${path}[${i}]`, depth)),
      () => {
        const array: unknown[] = [];
        array.length = 2 + Math.floor(random() * 6);
        for (let i = 0; i < array.length; i++) if (random() < 0.4) array[i] = value(`${path}[${i}]`, depth);
        return array;
      },
      () => {
        const map = new Map<unknown, unknown>();
        for (const name of names.slice(0, Math.floor(random() * 3))) map.set(name, value(`${path}.get(${JSON.stringify(name)})`, depth));
        if (random() < 0.3) map.set(pick([1, Number.NaN, 10n]), "by a non-string key");
        return map;
      },
      () => {
        const set = new Set<unknown>();
        for (let i = 0; i < 3; i++) set.add(value(`${path}<item ${set.size}>`, depth));
        return set;
      },
      () => {
        const Class = pick([Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]);
        const error = random() < 0.5 ? new Class("failed") : new Class("with cause", { cause: value(key(path, "cause"), depth) });
        if (random() < 0.5) Object.assign(error, { code: pick(["E_X", 7]) });
        return error;
      },
      () => new AggregateError([new Error("one"), new RangeError("two")], "many"),
    ])();

  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) sample.args.push(value(`args[${i}]`, 4));
  return sample;
}

/** The first difference between `actual` and `expected` (exact types, prototypes, identity), or `undefined`. */
function difference(actual: unknown, expected: unknown, path = "", pairs = new Map<object, unknown>()): string | undefined {
  if (typeof expected !== "object" || expected === null) {
    return Object.is(actual, expected) ? undefined : `${path}: ${String(actual)} instead of ${String(expected)}`;
  }
  if (typeof actual !== "object" || actual === null) return `${path}: ${String(actual)} instead of an object`;
  if (pairs.has(expected)) return pairs.get(expected) === actual ? undefined : `${path}: a shared reference arrived as a copy`;
  pairs.set(expected, actual);
  if (Object.getPrototypeOf(actual) !== Object.getPrototypeOf(expected)) return `${path}: another prototype`;
  if (expected instanceof Author) return actual === expected ? undefined : `${path}: not the stored record`;
  const children = (a: unknown, e: unknown, at: string) => difference(a, e, at, pairs);
  if (expected instanceof Date) return Object.is((actual as Date).getTime(), expected.getTime()) ? undefined : `${path}: another time`;
  if (expected instanceof RegExp || expected instanceof URL) return String(actual) === String(expected) ? undefined : `${path}: ${String(actual)}`;
  if (expected instanceof ArrayBuffer || ArrayBuffer.isView(expected)) {
    const bytes = (v: ArrayBuffer | ArrayBufferView) => (ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(v));
    return bytes(actual as ArrayBuffer).equals(bytes(expected)) ? undefined : `${path}: other bytes`;
  }
  if (expected instanceof Map || expected instanceof Set) {
    const a = [...(actual as Map<unknown, unknown>)];
    const e = [...expected];
    if (a.length !== e.length) return `${path}: ${a.length} entries instead of ${e.length}`;
    for (let i = 0; i < e.length; i++) {
      const diff = children(a[i], e[i], `${path}<entry ${i}>`);
      if (diff) return diff;
    }
    return undefined;
  }
  if (Array.isArray(expected) && (actual as unknown[]).length !== expected.length) return `${path}: length ${(actual as unknown[]).length}`;
  // Plain, null-prototype and array objects, and errors: the same own keys, enumerable alike.
  const ownKeys = (v: object) => Object.getOwnPropertyNames(v).map((k) => `${k}${Object.prototype.propertyIsEnumerable.call(v, k) ? "" : " (hidden)"}`);
  const [a, e] = [ownKeys(actual), ownKeys(expected)];
  if (a.join() !== e.join()) return `${path}: keys ${a.join()} instead of ${e.join()}`;
  for (const name of Object.getOwnPropertyNames(expected)) {
    if (Array.isArray(expected) && name === "length") continue;
    const diff = children((actual as Record<string, unknown>)[name], (expected as Record<string, unknown>)[name], `${path}.${name}`);
    if (diff) return diff;
  }
  return undefined;
}

const SAMPLES = 600;

describe("every generated value arrives exactly or is refused at its path", () => {
  it(`holds for ${SAMPLES} seeded samples`, async () => {
    let refused = 0;
    for (let seed = 1; seed <= SAMPLES; seed++) {
      const sample = generate(seed);
      if (sample.badPath !== undefined) {
        let error: unknown;
        try {
          serializeArguments(sample.args, "app");
        } catch (caught) {
          error = caught;
        }
        expect(error, `seed ${seed}`).toBeInstanceOf(SerializationError);
        expect((error as SerializationError).path, `seed ${seed}: ${(error as Error).message}`).toBe(sample.badPath);
        refused++;
        continue;
      }
      const back = await deserializeArguments(JSON.parse(JSON.stringify(serializeArguments(sample.args, "app"))));
      expect(difference(back, sample.args), `seed ${seed}`).toBeUndefined();
      if (!sample.hasModel) {
        expect(difference(deserializeResult(serializeResult(sample.args, "app")), sample.args), `seed ${seed} as a result`).toBeUndefined();
      }
    }
    // The generator must exercise both outcomes, or the property says little.
    expect(refused).toBeGreaterThan(SAMPLES / 10);
    expect(SAMPLES - refused).toBeGreaterThan(SAMPLES / 2);
  });

  it("the comparison itself catches each kind of change", () => {
    const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
    expect(difference([1, null, 3], holes)).toBeDefined();
    expect(difference(0, -0)).toBeDefined();
    expect(difference(new Float64Array([0]), new Float64Array([-0]))).toBeDefined();
    expect(difference({}, Object.create(null))).toBeDefined();
    expect(difference(new Error("x"), new TypeError("x"))).toBeDefined();
    const shared = { n: 1 };
    expect(difference([{ n: 1 }, { n: 1 }], [shared, shared])).toBeDefined();
    expect(difference(new Uint8Array([1]), Buffer.from([1]))).toBeDefined();
  });
});

describe("tricky shapes through a real queue", () => {
  let runtime: Runtime;
  const received: unknown[][] = [];
  class EchoJob extends Job<unknown[]> {
    perform(...args: unknown[]): void {
      received.push(args);
    }
  }

  beforeEach(async () => {
    runtime = configure({ adapter: "test" });
    await clearJobs();
    received.length = 0;
  });
  afterEach(() => runtime.close());

  it("performLater → perform keeps holes, -0, NaN, invalid dates, bytes, errors, null prototypes and shared references", async () => {
    const shared = { tag: "shared" };
    const args = [
      [1, , shared], // eslint-disable-line no-sparse-arrays
      -0,
      Number.NaN,
      new Date(Number.NaN),
      Buffer.from("bytes"),
      new Float64Array([-0, Number.NaN]),
      Object.assign(new TypeError("bad", { cause: shared }), { code: "E_BAD" }),
      Object.assign(Object.create(null) as object, { big: 2n ** 100n }),
      shared,
    ];
    await EchoJob.performLater(...args);
    expect(await performEnqueuedJobs()).toBe(1);
    expect(received).toHaveLength(1);
    expect(difference(received[0], args)).toBeUndefined();
  });

  it("performLater refuses a bad value and enqueues nothing", async () => {
    await expect(EchoJob.performLater({ ok: 1 }, { nested: [JSON.parse('{"__proto__": {}}')] })).rejects.toThrow(
      'args[1].nested[0].__proto__: the key "__proto__" cannot be stored',
    );
    expect(await performEnqueuedJobs()).toBe(0);
  });
});
