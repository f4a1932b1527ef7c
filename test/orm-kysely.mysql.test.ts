// @errand/orm/kysely on MariaDB (MysqlDialect over a mysql2 pool), jobs on Redis: the cases
// of support/orm-mysql.ts (after commit; the PostgreSQL routes refuse a MySQL transaction),
// and a third-party dialect whose adapter extends Kysely's MysqlAdapter is "mysql" too (its
// class name once made it "mariadb").
import { Kysely, MysqlAdapter, MysqlDriver, MysqlIntrospector, MysqlQueryCompiler } from "kysely";
import { createPool } from "mysql2";
import { describe, expect, it } from "vitest";

import { kyselyConnection } from "@errand/orm/kysely";

import { mysqlUrl, mysqlUsersTable } from "./support/mysql.js";
import { mysqlOrmCases } from "./support/orm-mysql.js";
import { kyselyOnMysql } from "./support/orm-mysql-fixtures.js";

const table = mysqlUsersTable("kysely_users");
mysqlOrmCases(kyselyOnMysql(mysqlUrl(), table), table);

class MariaDbAdapter extends MysqlAdapter {}

describe("kysely on MariaDB, a dialect of its own", () => {
  it("an adapter extending MysqlAdapter is dialect mysql", async () => {
    const db = new Kysely<Record<string, never>>({
      dialect: {
        createAdapter: () => new MariaDbAdapter(),
        createDriver: () => new MysqlDriver({ pool: createPool({ uri: mysqlUrl(), connectionLimit: 1 }) }),
        createIntrospector: (kysely) => new MysqlIntrospector(kysely),
        createQueryCompiler: () => new MysqlQueryCompiler(),
      },
    });
    try {
      await db.transaction().execute(async (trx) => {
        expect(kyselyConnection(trx)).toEqual({ dialect: "mysql", library: "kysely" });
      });
    } finally {
      await db.destroy();
    }
  });
});
