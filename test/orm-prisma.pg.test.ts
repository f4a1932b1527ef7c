// @errand/orm/prisma against the real PostgreSQL, with Prisma 7's TypeScript query compiler
// and @prisma/adapter-pg (no engine binary; the client is generated from
// test/fixtures/prisma/schema.prisma by `npm run typecheck:tests`'s pre-step): a job
// enqueued with an interactive transaction's tx exists only if it commits; records branded
// by the errandModels() extension travel to jobs as references, loaded with one query
// (counted from Prisma's own query events).
import { PrismaPg } from "@prisma/adapter-pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { MODEL_NAME, registerModel } from "@errand/core";
import { errandModels, prismaConnection, prismaModel } from "@errand/orm/prisma";

import { PrismaClient } from "./fixtures/prisma/generated/client.js";
import { modelCases, ormHarness, transactionalEnqueueCases } from "./support/orm.js";

const h = ormHarness(`
  CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
  CREATE TABLE posts (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users, title text NOT NULL);
`);
let selects = 0;
const makeClient = () =>
  new PrismaClient({ adapter: new PrismaPg({ connectionString: h.appUrl, max: 2 }, { schema: h.appSchema }), log: [{ emit: "event", level: "query" }] });
const extend = (client: ReturnType<typeof makeClient>) => client.$extends(errandModels());
let base: ReturnType<typeof makeClient>;
let prisma: ReturnType<typeof extend>;
beforeAll(() => {
  base = makeClient();
  base.$on("query", (event) => {
    if (/^SELECT\b.*\bFROM "[^"]+"\."users"/i.test(event.query)) selects++;
  });
  prisma = extend(base);
  registerModel("User", prismaModel(prisma.user));
});
afterAll(() => base?.$disconnect());

describe("@errand/orm/prisma", () => {
  transactionalEnqueueCases("prisma", h, async (outcome, body) => {
    const rollback = new Error("roll back");
    await prisma
      .$transaction(async (tx) => {
        await tx.user.create({ data: { email: "pr@example.com" } });
        await body(prismaConnection(tx));
        if (outcome === "rollback") throw rollback;
      })
      .catch((error: unknown) => {
        if (error !== rollback) throw error;
      });
  });

  modelCases("prisma", h, {
    create: (emails) => prisma.user.createManyAndReturn({ data: emails.map((email) => ({ email })) }),
    remove: async (record) => {
      await prisma.user.delete({ where: { id: (record as { id: number }).id } });
    },
    selects: () => selects,
    resetSelects: () => (selects = 0),
  });

  it("the extension brands records of model operations only: not counts, not included relations", async () => {
    const user = await prisma.user.create({ data: { email: "brand@example.com", posts: { create: { title: "t" } } } });
    const brand = (row: unknown) => (row as { [MODEL_NAME]?: string } | null)?.[MODEL_NAME];
    expect(brand(user)).toBe("User");
    expect(Object.keys(user)).toEqual(["id", "email"]);
    const withPosts = await prisma.user.findUniqueOrThrow({ where: { id: user.id }, include: { posts: true } });
    expect(brand(withPosts)).toBe("User");
    expect(brand(withPosts.posts[0])).toBeUndefined();
    expect(brand(await prisma.post.findFirst())).toBe("Post");
    expect(await prisma.user.count()).toBeGreaterThan(0);
    expect(brand(await prisma.user.aggregate({ _count: true }))).toBeUndefined();
  });

  it("raw answers come as pg gives them: int8 and numeric as text", async () => {
    await prisma.$transaction(async (tx) => {
      const { rows } = await prismaConnection(tx).query!("SELECT count(*) AS n, 1.50::numeric AS d, $1::text AS t, $2::int AS i", ["x", 7]);
      expect(rows).toEqual([{ n: expect.stringMatching(/^\d+$/), d: "1.5", t: "x", i: 7 }]);
    });
  });

  it("refuses what is not a Prisma client", () => {
    expect(() => prismaConnection({} as never)).toThrow("prismaConnection: expected the tx of prisma.$transaction(async (tx) => …) (it has no $queryRawUnsafe)");
  });
});
