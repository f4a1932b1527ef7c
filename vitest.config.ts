import { defineConfig } from "vitest/config";

import { LongestFirstSequencer } from "./test/support/sequencer.js";

// One run covers core's unit tests (against its sources) and the cross-package tests in
// test/ (against the built packages, as users import them).
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "test/fixtures/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Two test files at a time, whatever the core count. The files wait on Redis, PostgreSQL,
    // the SQS emulator and child processes far more than they compute: on 2 cores one at a
    // time (vitest's default there) took 563 s, two 320 s, every test passing (2026-12-03).
    // Not more: every file opens its own pools and worker processes, and PostgreSQL's
    // default max_connections is 100. Each file works in schemas, key prefixes and queue
    // prefixes of its own; a test that looks at server-wide state (pg_stat_activity, CLIENT
    // LIST) must filter to its own.
    maxWorkers: 2,
    // Longest files first, so both workers finish together (test/support/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
    globalSetup: ["test/support/global-setup.ts"],
    env: { NODE_ENV: "test" },
    // Built workspace packages load through Node itself, exactly as an app loads them
    // (vite would otherwise inline them and stub their optional peer imports).
    server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
  },
});
