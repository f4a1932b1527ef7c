import { defineConfig } from "vitest/config";

// One run covers core's unit tests (against its sources) and the cross-package tests in
// test/ (against the built packages, as users import them).
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "test/fixtures/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"],
    env: { NODE_ENV: "test" },
    // Built workspace packages load through Node itself, exactly as an app loads them
    // (vite would otherwise inline them and stub their optional peer imports).
    server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
  },
});
