// @errand/orm/typeorm on MariaDB (type "mysql", the mysql2 driver), jobs on Redis: the cases
// of support/orm-mysql.ts (after commit; the PostgreSQL routes refuse a MySQL transaction),
// and a data source of type "mariadb" (the same driver) is dialect "mysql" too.
import { describe, expect, it } from "vitest";

import { mysqlUrl, mysqlUsersTable } from "./support/mysql.js";
import { mysqlOrmCases } from "./support/orm-mysql.js";
import { typeormOnMysql } from "./support/orm-mysql-fixtures.js";

const table = mysqlUsersTable("typeorm_users");
mysqlOrmCases(typeormOnMysql(mysqlUrl(), table), table);

describe("typeorm on MariaDB, type mariadb", () => {
  it("the connection is dialect mysql, without query", async () => {
    const orm = typeormOnMysql(mysqlUrl(), table, "mariadb");
    try {
      await orm.transaction(async (manager) => {
        expect(orm.dataSource.options.type).toBe("mariadb");
        expect(orm.connection(manager)).toEqual({ dialect: "mysql", library: "typeorm" });
      });
    } finally {
      await orm.close();
    }
  });
});
