/**
 * Runs examples/batches (docs/batches.md) as users run it, built by `tsc -b`, in its own
 * Node process: 20 chunks and one job added from inside the batch, two workers, and each
 * callback once, after the last job.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { beforeAll, describe, expect, it } from "vitest";

import { runNode, type ChildResult } from "./support/run-node.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("examples/batches", () => {
  let run: ChildResult;

  beforeAll(async () => {
    run = await runNode([join("examples", "dist", "batches", "main.js")], { cwd: root, deadlineMs: 20_000 });
  }, 25_000);

  it("exits 0 by itself, printing nothing to stderr", () => {
    expect(run.timedOut, run.stderr).toBe(false);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
  });

  it("runs onSuccess and onComplete once each, after every job (the one added included)", () => {
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe("batch created: 20 jobs");
    expect(lines[1]).toBe("cleaned up after users.csv");
    expect(lines.slice(2, 4).sort()).toEqual([
      "complete: users.csv, 21 of 21 jobs succeeded, 1000 rows",
      "success: users.csv, 21 of 21 jobs succeeded, 1000 rows",
    ]);
    expect(lines[4]).toBe("finished: 21 jobs, 0 pending, callbacks complete and success");
    expect(lines).toHaveLength(5);
  });
});
