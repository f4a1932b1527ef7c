// The `errand` CLI spawned for real (`node packages/core/dist/cli/main.js`) against the
// fixture configs in test/fixtures/cli, with its output collected as it arrives. Shared by
// the CLI test files; `cliHooks()` kills what a test left running and removes the scratch dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { waitFor } from "@errand/core/testing";
import { afterAll, afterEach, expect } from "vitest";

import { CLI, ErrandProcess, ROOT } from "./errand-process.js";

export { CLI, ROOT };
export const FIXTURES = join(ROOT, "test/fixtures/cli");
export const CONFIG = join(FIXTURES, "errand.config.mjs");
/** The UUIDv7 job ids core makes. */
export const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const STACK_LINE = /^ {4}at /m;
export const TMP = mkdtempSync(join(tmpdir(), "errand-cli-"));

export interface Seed {
  job: string;
  args?: unknown[];
  id?: string;
  queue?: string;
  priority?: number;
  waitMs?: number;
}

export interface CliOptions {
  seed?: Seed[];
  dead?: Seed[];
  env?: Record<string, string>;
}

/** A running `errand` process on the CLI fixtures, its output collected as it arrives. */
export class Cli extends ErrandProcess {
  constructor(args: readonly string[], options: CliOptions = {}) {
    super(
      args,
      {
        ERRAND_CLI_TMP: TMP,
        ERRAND_CLI_SEED: JSON.stringify(options.seed ?? []),
        ERRAND_CLI_DEAD: JSON.stringify(options.dead ?? []),
        ...options.env,
      },
      "errand",
    );
  }

  /** Resolves when stdout has a line matching `pattern`; fails after `timeoutMs` showing the output so far. */
  async line(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    try {
      return await waitFor(() => this.stdout.split("\n").find((line) => pattern.test(line)), {
        timeoutMs,
        message: `a stdout line matching ${pattern}`,
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`);
    }
  }
}

/** Runs `errand ...args` to completion. */
export function errand(args: readonly string[], options: CliOptions = {}) {
  return new Cli(args, options).exit();
}

/** Asserts the one-line error report: `errand: ...` on stderr, no stack, non-zero exit. */
export function expectOneLineError(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  expect(result.stderr).not.toMatch(STACK_LINE);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^errand: /);
  expect(lines[0]).toMatch(pattern);
}

/** Installs the file's hooks: kill what a test left running, remove the scratch dir at the end. */
export function cliHooks(): void {
  afterEach(() => Cli.killAll());
  afterAll(() => rmSync(TMP, { recursive: true, force: true }));
}
