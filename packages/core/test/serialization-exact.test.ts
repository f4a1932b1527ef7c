// Issue 11 item 4: every argument arrives exactly as sent, or performLater refuses it with
// SerializationError naming the path. One case per shape that used to arrive changed or
// to fail with the wrong error; serialization-property.test.ts covers combinations.
import { describe, expect, it } from "vitest";

import { SerializationError } from "../src/errors.js";
import { deserializeArguments, deserializeResult, serializeArguments, serializeResult } from "../src/serializers/arguments.js";
import { registerSerializer } from "../src/serializers/custom.js";
import { registerModel } from "../src/serializers/models.js";

const roundTrip = async (args: unknown[]) => deserializeArguments(JSON.parse(JSON.stringify(serializeArguments(args, "app"))));

function refusal(args: unknown[]): SerializationError {
  try {
    serializeArguments(args, "app");
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError);
    return error as SerializationError;
  }
  return expect.unreachable("serializeArguments should have thrown");
}

class Draft {
  constructor(readonly id: number | undefined) {}
}
registerModel(Draft, { find: (id) => new Draft(id as number) });

class GoneError extends Error {
  constructor(readonly sku: string) {
    super(`${sku} is gone`);
  }
}
registerSerializer<GoneError, string>({ name: "GoneError", type: GoneError, serialize: (error) => error.sku, deserialize: (sku) => new GoneError(sku) });

describe("values that used to arrive changed now arrive exactly", () => {
  it("keeps a sparse array's holes (not null), its length and its undefined items apart", async () => {
    const sparse: unknown[] = [1, , undefined, , { a: 1 }]; // eslint-disable-line no-sparse-arrays
    sparse.length = 8;
    const [back] = (await roundTrip([sparse])) as [unknown[]];
    expect(back).toHaveLength(8);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((index) => index in back)).toEqual([true, false, true, false, true, false, false, false]);
    expect(back[2]).toBeUndefined();
    expect(back[4]).toEqual({ a: 1 });
  });

  it("keeps an invalid Date a Date", async () => {
    const [back] = await roundTrip([new Date(Number.NaN)]);
    expect(back).toBeInstanceOf(Date);
    expect(Number.isNaN((back as Date).getTime())).toBe(true);
  });

  it("keeps a null-prototype object's prototype", async () => {
    const bare = Object.assign(Object.create(null) as object, { a: 1, nested: Object.create(null) as object });
    const [back] = (await roundTrip([bare])) as [Record<string, unknown>];
    expect(Object.getPrototypeOf(back)).toBeNull();
    expect(Object.getPrototypeOf(back.nested)).toBeNull();
    expect({ ...back }).toEqual({ a: 1, nested: {} });
  });

  it("keeps typed arrays' class and exact contents, NaN and -0 in floats included", async () => {
    const floats = new Float64Array([Number.NaN, -0, Infinity, -Infinity, 1.5]);
    const [f, b, big, raw, view] = (await roundTrip([floats, Buffer.from("héllo"), new BigInt64Array([-(2n ** 63n)]), new Uint8Array([1, 2, 3]).buffer, new Int16Array(new ArrayBuffer(8), 2, 2)])) as [Float64Array, Buffer, BigInt64Array, ArrayBuffer, Int16Array];
    expect(f).toBeInstanceOf(Float64Array);
    expect([...f].map((n) => Object.is(n, -0) ? "-0" : String(n))).toEqual(["NaN", "-0", "Infinity", "-Infinity", "1.5"]);
    expect(Buffer.isBuffer(b) && b.toString()).toBe("héllo");
    expect(big).toBeInstanceOf(BigInt64Array);
    expect(big[0]).toBe(-(2n ** 63n));
    expect(raw).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(raw)]).toEqual([1, 2, 3]);
    expect(view).toBeInstanceOf(Int16Array);
    expect(view).toHaveLength(2);
  });

  it("keeps a built-in error's class, message, stack, cause and own properties", async () => {
    const cause = new RangeError("too far");
    const error = Object.assign(new TypeError("bad input", { cause }), { code: "E_BAD", at: new Date(3) });
    const [back] = (await roundTrip([error])) as [TypeError & { code: string; at: Date }];
    expect(back).toBeInstanceOf(TypeError);
    expect(back.message).toBe("bad input");
    expect(back.stack).toBe(error.stack);
    expect(back.cause).toBeInstanceOf(RangeError);
    expect((back.cause as Error).stack).toBe(cause.stack);
    expect(back.code).toBe("E_BAD");
    expect(back.at).toEqual(new Date(3));
    expect(Object.keys(back)).toEqual(["code", "at"]);
    const aggregate = (await roundTrip([new AggregateError([new Error("one")], "many")]))[0] as AggregateError;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.errors[0]).toBeInstanceOf(Error);
    expect((aggregate.errors[0] as Error).message).toBe("one");
  });

  it("keeps a shared object shared, inside errors too, and a registered Error subclass via its serializer", async () => {
    const shared = { n: 1 };
    const error = new Error("e", { cause: shared });
    const [a, b, e1, e2, gone] = (await roundTrip([shared, { again: shared }, error, error, new GoneError("a-1")])) as [object, { again: object }, Error, Error, GoneError];
    expect(b.again).toBe(a);
    expect(e1).toBe(e2);
    expect(e1.cause).toBe(a);
    expect(gone).toBeInstanceOf(GoneError);
    expect(gone.sku).toBe("a-1");
  });

  it("keeps Sets and Maps in their order when they hold a shared object", async () => {
    const shared = { n: 1 };
    const [first, set, map] = (await roundTrip([shared, new Set([shared, "x"]), new Map<unknown, unknown>([[shared, 1], ["k", shared], ["z", 2]])])) as [object, Set<unknown>, Map<unknown, unknown>];
    expect([...set][0]).toBe(first);
    expect([...set][1]).toBe("x");
    expect([...map.keys()][0]).toBe(first);
    expect([...map.keys()].slice(1)).toEqual(["k", "z"]);
    expect(map.get("k")).toBe(first);
  });

  it("results keep the same shapes", () => {
    const value = { holes: [, 1], at: new Date(Number.NaN), error: new SyntaxError("x") }; // eslint-disable-line no-sparse-arrays
    const back = deserializeResult(serializeResult(value, "app")) as typeof value;
    expect(0 in back.holes).toBe(false);
    expect(back.at).toBeInstanceOf(Date);
    expect(back.error).toBeInstanceOf(SyntaxError);
  });
});

describe("values that cannot arrive exactly are refused with the path", () => {
  it.each(["__proto__", "constructor", "prototype"])("refuses the key %s (prototype pollution), naming it", (key) => {
    const error = refusal([1, { user: JSON.parse(`{"ok": 1, "${key}": {"admin": true}}`) as object }]);
    expect(error.path).toBe(`args[1].user.${key}`);
    expect(error.message).toMatch(`the key "${key}" cannot be stored`);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it("refuses a model without an id with SerializationError naming the path and the model", () => {
    const error = refusal([{ post: new Draft(undefined) }]);
    expect(error.path).toBe("args[0].post");
    expect(error.message).toMatch(/is a Draft without an id \(undefined\); save the record/);
  });

  it.each([
    ["an Error subclass without a serializer", [new (class ApiError extends Error {})("x")], "args[0]", /ApiError, an Error subclass/],
    ["a Map subclass", [{ m: new (class Registry extends Map {})() }], "args[0].m", /instance of Registry/],
    ["an array's extra property", [Object.assign([1, 2], { total: 3 })], "args[0].total", /a property of an array besides its items/],
    ["a regex match's extra properties", ["abc".match(/b/)], "args[0].index", /a property of an array/],
    ["a Date's own property", [Object.assign(new Date(0), { tz: "UTC" })], "args[0].tz", /a property of a Date/],
    ["a RegExp mid-match", [Object.assign(/a/g, { lastIndex: 2 })], "args[0].lastIndex", /is 2, mid-match state/],
    ["a WeakMap", [new WeakMap()], "args[0]", /instance of WeakMap/],
    ["a boxed number", [Object(1) as object], "args[0]", /instance of Number/],
    ["a DataView", [new DataView(new ArrayBuffer(2))], "args[0]", /instance of DataView/],
    ["a typed array's own property", [{ b: Object.assign(new Uint8Array(2), { tag: "x" }) }], "args[0].b.tag", /a property of a Uint8Array \(tag\)/],
    ["a Buffer's own property", [Object.assign(Buffer.from("hi"), { encoding: "utf8" })], "args[0].encoding", /a property of a Buffer/],
    ["a Float64Array's symbol key", [Object.assign(new Float64Array([Number.NaN]), { [Symbol("unit")]: "m" })], "args[0]", /a property of a Float64Array \(Symbol\(unit\)\)/],
    ["a view's own property", [Object.assign(new Int16Array(new ArrayBuffer(8), 2, 2), { "01": 1 })], 'args[0]["01"]', /a property of an Int16Array/],
    ["an ArrayBuffer's own property", [Object.assign(new ArrayBuffer(4), { label: "raw" })], "args[0].label", /a property of an ArrayBuffer/],
    ["a function in an error's properties", [Object.assign(new Error("x"), { retry: () => 1 })], "args[0].retry", /function retry/],
  ])("refuses %s", (_label, args, path, reason) => {
    const error = refusal(args as unknown[]);
    expect(error.path).toBe(path);
    expect(error.message).toMatch(reason);
  });
});
