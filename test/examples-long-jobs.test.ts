/**
 * Runs examples/long-jobs (docs/long-jobs.md) as users run it, built by `tsc -b`, in its own
 * Node process: a worker stopped half-way hands the import back at its cursor, a second
 * resumes it there, and every row is saved exactly once.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { beforeAll, describe, expect, it } from "vitest";

import { runNode, type ChildResult } from "./support/run-node.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("examples/long-jobs", () => {
  let run: ChildResult;

  beforeAll(async () => {
    run = await runNode([join("examples", "dist", "long-jobs", "main.js")], { cwd: root, deadlineMs: 20_000 });
  }, 25_000);

  it("exits 0 by itself, printing nothing to stderr", () => {
    expect(run.timedOut, run.stderr).toBe(false);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
  });

  it("resumes the import where the first worker stopped; no row saved twice", () => {
    const handedBack = /^first worker stopped; the job was handed back at row (\d+)$/m.exec(run.stdout);
    expect(handedBack, run.stdout).not.toBeNull();
    const row = Number(handedBack![1]);
    expect(row).toBeGreaterThanOrEqual(300);
    expect(row).toBeLessThan(1000);
    expect(run.stdout).toContain("imported 1000 rows\nsucceeded: 1000 rows saved, 0 twice\n");
  });
});
