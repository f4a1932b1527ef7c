// Plain records as models (issue 16): registerModel by name, records marked with brandModel,
// stored as gids (wrapped, since superjson walks plain objects) and loaded again in one findMany.
import { describe, expect, it } from "vitest";

import { ConfigError, DeserializationError } from "../src/errors.js";
import { deserializeArguments, serializeArguments } from "../src/serializers/arguments.js";
import { brandModel, MODEL_NAME, registerModel } from "../src/serializers/models.js";

const rows = new Map([
  [1, { id: 1, email: "a@example.com" }],
  [2, { id: 2, email: "b@example.com" }],
]);
const loads: number[][] = [];
registerModel<{ id: number; email: string }, number>("Account", {
  find: (id) => rows.get(id),
  findMany: (ids) => {
    loads.push(ids);
    return ids.flatMap((id) => rows.get(id) ?? []);
  },
});
class Ledger {
  constructor(readonly id: number) {}
}
registerModel(Ledger, { find: (id: number) => new Ledger(id) });

const roundTrip = async (args: unknown[]) => deserializeArguments(JSON.parse(JSON.stringify(serializeArguments(args, "app"))));

describe("models by brand", () => {
  it("a branded plain record is stored as its gid and loaded again; references to one model load in one findMany", async () => {
    const one = brandModel({ id: 1, email: "stale" }, "Account");
    const two = brandModel({ id: 2, email: "stale" }, "Account");
    const stored = serializeArguments([one, { nested: [two, one] }], "app");
    expect(JSON.stringify(stored)).toContain("gid://app/Account/1");
    expect(JSON.stringify(stored)).not.toContain("stale");
    loads.length = 0;
    const [first, { nested }] = (await roundTrip([one, { nested: [two, one] }])) as [object, { nested: object[] }];
    expect(first).toBe(rows.get(1));
    expect(nested).toEqual([rows.get(2), rows.get(1)]);
    expect(loads).toEqual([[1, 2]]);
  });

  it("the brand is non-enumerable: keys, spreads and JSON do not carry it", () => {
    const record = brandModel({ id: 1 }, "Account");
    expect(record[MODEL_NAME as never]).toBe("Account");
    expect(Object.keys(record)).toEqual(["id"]);
    expect(JSON.stringify(record)).toBe('{"id":1}');
    expect(serializeArguments([{ ...record }], "app").json).toEqual([{ id: 1 }]);
  });

  it("a class model wins over a brand; a brand naming no registered model is an error naming it", () => {
    expect(serializeArguments([brandModel(new Ledger(5), "Account")], "app").json).toEqual(["gid://app/Ledger/5"]);
    expect(() => serializeArguments([{ list: [brandModel({ id: 3 }, "Nobody")] }], "app")).toThrow(
      'args[0].list[0]: is a record of model "Nobody", which is not registered in this process (registerModel("Nobody", …))',
    );
  });

  it("a branded record without an id cannot be stored, and a deleted one fails loading", async () => {
    expect(() => serializeArguments([brandModel({ email: "x" }, "Account")], "app")).toThrow("is a Account without an id (undefined)");
    await expect(roundTrip([brandModel({ id: 9 }, "Account")])).rejects.toThrow(DeserializationError);
  });

  it("refuses an empty name, a name a class holds, a mismatched options.name and bad brandModel input", () => {
    expect(() => registerModel("", { find: () => null })).toThrow(ConfigError);
    expect(() => registerModel("Ledger", { find: () => null })).toThrow('registerModel: a class is already registered as model "Ledger"');
    expect(() => registerModel("Other", { find: () => null, name: "Else" })).toThrow('registerModel: model "Other" is given a different name "Else"');
    class Account {}
    expect(() => registerModel(Account, { find: () => null })).toThrow('registerModel: another model is already registered as model "Account"');
    expect(() => brandModel(null as never, "Account")).toThrow("brandModel: null is not a record");
    expect(() => brandModel({}, "")).toThrow("brandModel: the model name must be a non-empty string");
  });
});
