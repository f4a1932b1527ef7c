// MariaDB (or MySQL) for the tests of the ORM helpers on MySQL: MYSQL_URL when set, else the
// local server (root, empty password, database test). When it cannot be reached, the test
// file fails with the reason and how to start it; it is never skipped. Each file makes tables
// of its own (a random suffix) and drops them after.
import { randomBytes } from "node:crypto";

import mysql from "mysql2/promise";
import { afterAll, beforeAll, beforeEach } from "vitest";

const HOW_TO =
  "MariaDB (or MySQL) is needed for the *.mysql.test.ts files: set MYSQL_URL=mysql://user:password@host:3306/db, " +
  "or start the local server (start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd), " +
  "or install it (apt-get install mariadb-server)";

/** The URL of the test MariaDB/MySQL: MYSQL_URL, else root@127.0.0.1:3306/test. */
export function mysqlUrl(): string {
  return process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";
}

/** A new table name of this file's own: `errand_<name>_<random>`. */
export function mysqlTableName(name: string): string {
  return `errand_${name}_${randomBytes(4).toString("hex")}`;
}

/** Runs statements on a connection of its own (DDL, and reads outside any transaction). */
export async function mysqlQuery<R = unknown>(sql: string, values: unknown[] = []): Promise<R[]> {
  const connection = await connect();
  try {
    const [rows] = await connection.query(sql, values);
    return rows as R[];
  } finally {
    await connection.end();
  }
}

async function connect(): Promise<mysql.Connection> {
  const url = mysqlUrl();
  try {
    return await mysql.createConnection({ uri: url, connectTimeout: 2_000 });
  } catch (error) {
    throw new Error(`${HOW_TO} (${url.replace(/\/\/[^@/]*@/, "//…@")}: ${(error as Error).message || (error as { code?: string }).code})`, { cause: error });
  }
}

/**
 * One test file's users table on MariaDB (`id` auto-increment, `email` unique), created
 * before its tests and dropped after; `name` is its base name (a fixed one for Prisma, whose
 * schema names the table: pass `{ fixed: true }`).
 */
export function mysqlUsersTable(name: string, options: { fixed?: boolean } = {}): string {
  const table = options.fixed ? name : mysqlTableName(name);
  let unreachable: unknown;
  beforeAll(async () => {
    try {
      await mysqlQuery(`DROP TABLE IF EXISTS \`${table}\``);
      await mysqlQuery(`CREATE TABLE \`${table}\` (id int AUTO_INCREMENT PRIMARY KEY, email varchar(191) NOT NULL UNIQUE) ENGINE=InnoDB`);
    } catch (error) {
      unreachable = error;
    }
  });
  // Every test fails with the reason (a beforeAll that throws leaves them reported as skipped).
  beforeEach(() => {
    if (unreachable !== undefined) throw unreachable;
  });
  afterAll(async () => {
    if (unreachable === undefined) await mysqlQuery(`DROP TABLE IF EXISTS \`${table}\``);
  });
  return table;
}

/** The rows of `table` with this email, read outside any transaction. */
export async function mysqlUsersWith(table: string, email: string): Promise<number> {
  const rows = await mysqlQuery<{ n: number }>(`SELECT count(*) AS n FROM \`${table}\` WHERE email = ?`, [email]);
  return Number(rows[0]!.n);
}
