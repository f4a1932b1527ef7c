import { describe, expect, it } from "vitest";

import { DeserializationError, SerializationError } from "../src/errors.js";
import { deserializeArguments, deserializeResult, serializeArguments, serializeResult } from "../src/serializers/arguments.js";
import { registerSerializer } from "../src/serializers/custom.js";
import { registerModel } from "../src/serializers/models.js";

const roundTrip = async (args: unknown[]) => deserializeArguments(JSON.parse(JSON.stringify(serializeArguments(args, "app"))));

class User {
  constructor(
    readonly id: number,
    readonly name: string,
  ) {}
}
class Admin extends User {}
const users = new Map([1, 2, 3].map((id) => [id, new User(id, `user ${id}`)]));
const findManyCalls: unknown[][] = [];
registerModel(User, {
  find: (id) => users.get(id as number),
  findMany: (ids) => {
    findManyCalls.push(ids);
    return ids.map((id) => users.get(id as number)).filter((user): user is User => user !== undefined);
  },
});

class Sku {
  constructor(readonly code: string) {}
}
const skus = new Map([["a-1", new Sku("a-1")]]);
registerModel(Sku, { find: (code) => skus.get(code as string), id: (sku) => sku.code });

class Money {
  constructor(
    readonly cents: number,
    readonly currency: string,
  ) {}
}
registerSerializer<Money, [number, string]>({
  name: "Money",
  type: Money,
  serialize: (money) => [money.cents, money.currency],
  deserialize: ([cents, currency]) => new Money(cents, currency),
});

describe("argument serialization", () => {
  it("round-trips superjson types", async () => {
    const args = [new Date(5), 12n, new Map([["k", new Set([1, 2])]]), new Set(["x"]), undefined, /a+b/gi, new URL("https://example.com/x?y=1"), { nested: [null, true, 1.5, "s"] }];
    expect(await roundTrip(args)).toEqual(args);
  });

  it("stores plain primitives as they are, and numbers JSON would change through superjson", async () => {
    expect(serializeArguments([1, "a", true, null], "app")).toEqual({ json: [1, "a", true, null] });
    const odd = [Number.NaN, -0, Infinity];
    expect(serializeArguments(odd, "app").meta).toBeDefined();
    expect(await roundTrip(odd)).toEqual(odd);
  });

  it("reads plain JSON arguments (no meta) as a copy, a stored null meta too", async () => {
    const stored = { json: [1, { tags: ["a"] }, null] };
    const args = await deserializeArguments(stored);
    expect(args).toEqual([1, { tags: ["a"] }, null]);
    (args[1] as { tags: string[] }).tags.push("b");
    expect(stored.json).toEqual([1, { tags: ["a"] }, null]);
    expect(await deserializeArguments({ json: ["x"], meta: null })).toEqual(["x"]);
    // A plain object shaped like a stored error stays a plain object without meta saying otherwise.
    const lookalike = { name: "Error", message: "m", stack: "s" };
    const [read] = await deserializeArguments({ json: [lookalike] });
    expect(read).toEqual(lookalike);
    expect(read).not.toBeInstanceOf(Error);
    await expect(deserializeArguments({ json: { not: "an array" } as never })).rejects.toThrow("arguments are not an array");
  });

  it("round-trips a registered custom serializer's values", async () => {
    const [money] = await roundTrip([new Money(1250, "EUR")]);
    expect(money).toBeInstanceOf(Money);
    expect(money).toEqual(new Money(1250, "EUR"));
  });

  it("stores models as gids, not state", () => {
    const stored = serializeArguments([users.get(2), new Sku("a-1")], "shop");
    expect(stored.json).toEqual(["gid://shop/User/2", "gid://shop/Sku/a-1"]);
    expect(JSON.stringify(stored)).not.toContain("user 2");
  });

  it("loads several references of one model class with one findMany call", async () => {
    findManyCalls.length = 0;
    const [a, b, nested] = (await roundTrip([users.get(1), users.get(2), { owner: users.get(1), list: [users.get(3)] }])) as [User, User, { owner: User; list: User[] }];
    expect(findManyCalls).toEqual([[1, 2, 3]]);
    expect(a).toBe(users.get(1));
    expect(b).toBe(users.get(2));
    expect(nested.owner).toBe(users.get(1));
    expect(nested.list[0]).toBe(users.get(3));
  });

  it("a subclass instance of a registered model is stored as the registered model", () => {
    expect(serializeArguments([new Admin(3, "boss")], "app").json).toEqual(["gid://app/User/3"]);
  });

  it("uses find per id when the model has no findMany, keeping string ids as strings", async () => {
    const [sku] = await roundTrip([new Sku("a-1")]);
    expect(sku).toBe(skus.get("a-1"));
  });

  it("a record gone by perform time raises DeserializationError naming it", async () => {
    const stored = JSON.parse(JSON.stringify(serializeArguments([new User(99, "ghost")], "app")));
    await expect(deserializeArguments(stored)).rejects.toThrow(DeserializationError);
    await expect(deserializeArguments(stored)).rejects.toThrow("User 99 (gid://app/User/99) no longer exists");
  });

  it.each([
    ["a function", [() => 1], "args[0]", /function \(anonymous\) cannot be stored/],
    ["an unregistered class instance", [1, { owner: { avatar: new (class Avatar {})() } }], "args[1].owner.avatar", /is an instance of Avatar/],
    ["a symbol", [Symbol("s")], "args[0]", /Symbol\(s\) is a symbol/],
    ["a nested function", [{ "a key": [0, { fn: function named() {} }] }], 'args[0]["a key"][1].fn', /function named cannot be stored/],
    ["a function in a Map", [new Map([["k", () => 1]])], 'args[0].get("k")', /function/],
    ["symbol keys", [{ [Symbol("k")]: 1 }], "args[0]", /symbol keys/],
  ])("refuses %s at the right path", (_label, args, path, reason) => {
    try {
      serializeArguments(args as unknown[], "app");
      expect.unreachable("serializeArguments should have thrown");
    } catch (error) {
      expect(error).toBeInstanceOf(SerializationError);
      expect((error as SerializationError).path).toBe(path);
      expect((error as Error).message).toMatch(reason);
      expect((error as SerializationError).code).toBe("ERR_SERIALIZATION");
    }
  });

  it("refuses a cycle, naming where it closes", () => {
    const node: Record<string, unknown> = { name: "a" };
    node.child = { parent: node };
    expect(() => serializeArguments([node], "app")).toThrow("args[0].child.parent: is a circular reference");
  });

  it("accepts the same object twice when it is not a cycle", async () => {
    const shared = { n: 1 };
    expect(await roundTrip([shared, { again: shared }])).toEqual([{ n: 1 }, { again: { n: 1 } }]);
  });

  it("serializes results with superjson and reads them back", () => {
    expect(deserializeResult(serializeResult({ at: new Date(1), n: 2n }, "app"))).toEqual({ at: new Date(1), n: 2n });
    expect(serializeResult(undefined, "app")).toBeUndefined();
    expect(() => serializeResult({ f: () => 1 }, "app")).toThrow("result.f: function f cannot be stored");
  });
});
