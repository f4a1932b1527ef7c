import { defineConfig } from "vitest/config";

import { LongestFirstSequencer } from "./test/support/sequencer.js";

// One run covers two projects: "unit", the unit tests of packages/*/test (against their
// sources), and "cross", the cross-package tests in test/ (against the built packages, as
// users import them).
export default defineConfig({
  test: {
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
    // Longest files first, so the workers finish together, and the unit files last, one
    // after another (test/support/sequencer.ts). With both projects and those weights the
    // run took 439 s (2,725 tests, load 1–8, median 5.5; 2026-12-04), against 982 s before
    // them at load 8–19 (median 12) and 595.6 s on a quiet machine.
    sequence: { sequencer: LongestFirstSequencer },
    env: { NODE_ENV: "test" },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts"],
          // The 37 unit files (360 tests, 22 s of tests) share worker processes instead of
          // a fresh one each: alone on 3 workers they took 56 s isolated, 9.5 s shared, the
          // rest being each file's start and imports (2026-12-04, load 7–8). They install
          // runtimes with configure() and register mailers, models and serializers
          // process-wide by name, as an app does: a name is each file's own, and the setup
          // file below fails a file that leaves a runtime, a process listener or fake
          // timers behind. Checked: 12 shuffled orders on one worker.
          isolate: false,
          setupFiles: ["packages/core/test/support/unit-isolation.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "cross",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          // Built workspace packages load through Node itself, exactly as an app loads
          // them (vite would otherwise inline them and stub their optional peer imports).
          server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
        },
      },
    ],
  },
});
