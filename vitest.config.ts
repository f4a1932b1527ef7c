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
    // Three test files at a time, whatever the core count. The files wait on Redis,
    // PostgreSQL, the SQS emulator (whole-second delays) and child processes far more than
    // they compute: on 2 cores one at a time took 563 s, two 320 s (2026-12-03); by
    // 2026-12-04 two took 567–647 s for 2,448 tests with node using ~0.9 core on average, so
    // a third file fits beside them. PostgreSQL connections held by the whole run peaked at
    // 25 with three (pg_stat_activity sampled each second; max_connections is 100). Each
    // file works in schemas, key prefixes and queue prefixes of its own; a test that looks
    // at server-wide state (pg_stat_activity, CLIENT LIST) must filter to its own.
    maxWorkers: 3,
    // Longest files first, so the workers finish together (test/support/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
    globalSetup: ["test/support/global-setup.ts"],
    env: { NODE_ENV: "test" },
    // Built workspace packages load through Node itself, exactly as an app loads them
    // (vite would otherwise inline them and stub their optional peer imports).
    server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
  },
});
