// @errand/orm/knex against the real PostgreSQL: a job enqueued with a Knex transaction exists
// only if it commits (NOTIFY at commit), and Errand's `$n` statements survive Knex's `?`
// bindings (a `$n` used twice, a literal `?` and `$1` inside quotes).
import knexFactory from "knex";
import { afterAll, describe, expect, it } from "vitest";

import { knexConnection, toKnexBindings } from "@errand/orm/knex";

import { ormHarness, transactionalEnqueueCases } from "./support/orm.js";

const h = ormHarness(`CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)`);
const knex = knexFactory({ client: "pg", connection: h.appUrl, pool: { min: 0, max: 2 } });
afterAll(() => knex.destroy());

describe("@errand/orm/knex", () => {
  transactionalEnqueueCases("knex", h, async (outcome, body) => {
    const rollback = new Error("roll back");
    await knex
      .transaction(async (trx) => {
        await trx("users").insert({ email: "k@example.com" });
        await body(knexConnection(trx));
        if (outcome === "rollback") throw rollback;
      })
      .catch((error: unknown) => {
        if (error !== rollback) throw error;
      });
  });

  it("rewrites $n to ? outside quotes, repeats a value used twice and escapes a literal ?", async () => {
    const text = `SELECT $1::text AS a, $2::int + $2::int AS b, '$1 ?' AS quoted, $tag$ $2 ? $tag$ AS dollar, '{"k":1}'::jsonb ? 'k' AS has -- $9 ?\n`;
    expect(toKnexBindings(text, ["x", 2])).toEqual({
      sql: `SELECT ?::text AS a, ?::int + ?::int AS b, '$1 \\?' AS quoted, $tag$ $2 \\? $tag$ AS dollar, '{"k":1}'::jsonb \\? 'k' AS has -- $9 \\?\n`,
      bindings: ["x", 2, 2],
    });
    await knex.transaction(async (trx) => {
      const { rows } = await knexConnection(trx).query!(text, ["x", 2]);
      expect(rows).toEqual([{ a: "x", b: 4, quoted: "$1 ?", dollar: " $2 ? ", has: true }]);
    });
  });

  it("reads E'…' literals with backslash escapes", () => {
    expect(toKnexBindings(String.raw`SELECT E'it\'s $1 ?', $1`, ["v"])).toEqual({ sql: String.raw`SELECT E'it\'s $1 \?', ?`, bindings: ["v"] });
  });

  it("a statement naming a parameter it was not given is an error naming it", async () => {
    await knex.transaction(async (trx) => {
      await expect(knexConnection(trx).query!("SELECT $2::int", [1])).rejects.toThrow("the statement refers to $2 but 1 value was given");
    });
  });

  it("refuses a Knex instance outside a transaction, and anything that is not Knex", () => {
    expect(() => knexConnection(knex as never)).toThrow("knexConnection: expected a Knex transaction, got a Knex instance outside one");
    expect(() => knexConnection({} as never)).toThrow("knexConnection: expected a Knex transaction (it has no raw)");
  });
});
