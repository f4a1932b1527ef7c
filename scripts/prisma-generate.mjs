// Generates the Prisma client of test/orm-prisma.pg.test.ts (test/fixtures/prisma/generated,
// not committed) before the tests are typechecked, offline: Prisma 7's client runs on its
// TypeScript query compiler and @prisma/adapter-pg, with no engine binary. `prisma generate`
// still insists on the schema engine binary being present (it downloads it from
// binaries.prisma.sh, unreachable here, and never runs it to generate), so it is pointed at
// a stand-in that fails loudly if anything ever does run it.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const standIn = fileURLToPath(new URL("../test/fixtures/prisma/no-schema-engine.mjs", import.meta.url));
const result = spawnSync("npx", ["--no-install", "prisma", "generate", "--schema", "test/fixtures/prisma/schema.prisma"], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: standIn, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" },
});
if (result.status !== 0) {
  process.stdout.write(result.stdout ?? "");
  console.error(`prisma generate failed (exit ${result.status ?? result.signal})`);
  process.exit(1);
}
