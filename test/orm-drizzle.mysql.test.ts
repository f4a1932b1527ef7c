// @errand/orm/drizzle on MariaDB (drizzle-orm/mysql2), jobs on Redis: the cases of
// support/orm-mysql.ts (after commit; the PostgreSQL routes refuse a MySQL transaction).
// The dialect is read from the transaction's dialect class (MySqlDialect).
import { mysqlUrl, mysqlUsersTable } from "./support/mysql.js";
import { mysqlOrmCases } from "./support/orm-mysql.js";
import { drizzleOnMysql } from "./support/orm-mysql-fixtures.js";

const table = mysqlUsersTable("drizzle_users");
mysqlOrmCases(drizzleOnMysql(mysqlUrl(), table), table);
