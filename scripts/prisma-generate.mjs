// Generates the Prisma clients of the tests before they are typechecked, offline, into each
// schema's ./generated (not committed): test/fixtures/prisma (PostgreSQL, for
// test/orm-prisma.pg.test.ts) and test/fixtures/prisma-mysql (MySQL/MariaDB, for
// test/orm-prisma.mysql.test.ts). Prisma 7's client runs on its TypeScript query compiler
// and a driver adapter (@prisma/adapter-pg, @prisma/adapter-mariadb), with no engine binary. `prisma generate`
// still insists on the schema engine binary being present (it downloads it from
// binaries.prisma.sh, unreachable here, and never runs it to generate), so it is pointed at
// a stand-in that fails loudly if anything ever does run it.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const standIn = fileURLToPath(new URL("../test/fixtures/prisma/no-schema-engine.mjs", import.meta.url));
for (const schema of ["test/fixtures/prisma/schema.prisma", "test/fixtures/prisma-mysql/schema.prisma"]) {
  const result = spawnSync("npx", ["--no-install", "prisma", "generate", "--schema", schema], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: standIn, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" },
  });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? "");
    console.error(`prisma generate ${schema} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}
