// @errand/orm/prisma on MariaDB (provider "mysql", @prisma/adapter-mariadb, the client of
// test/fixtures/prisma-mysql generated offline), jobs on Redis: the cases of
// support/orm-mysql.ts (after commit; the PostgreSQL routes refuse a MySQL transaction).
// The Prisma schema names its table, so this file's is fixed (no other file uses it).
import { mysqlUrl, mysqlUsersTable } from "./support/mysql.js";
import { mysqlOrmCases } from "./support/orm-mysql.js";
import { PRISMA_MYSQL_TABLE, prismaOnMysql } from "./support/orm-mysql-fixtures.js";

const table = mysqlUsersTable(PRISMA_MYSQL_TABLE, { fixed: true });
mysqlOrmCases(prismaOnMysql(mysqlUrl()), table);
