// @errand/orm/knex on MariaDB (Knex with mysql2), jobs on Redis: the cases of
// support/orm-mysql.ts (after commit; the PostgreSQL routes refuse a MySQL transaction).
import { mysqlUrl, mysqlUsersTable } from "./support/mysql.js";
import { mysqlOrmCases } from "./support/orm-mysql.js";
import { knexOnMysql } from "./support/orm-mysql-fixtures.js";

const table = mysqlUsersTable("knex_users");
mysqlOrmCases(knexOnMysql(mysqlUrl(), table), table);
