// `errand batch <id>` spawned for real against a TestAdapter holding a running batch (one job
// succeeded, one dead, one queued) and a finished one (its callbacks enqueued): the record as
// lines and as JSON, and an unknown id refused in one line with exit code 1.
import { randomUUID } from "node:crypto";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { FIXTURES, JOB_ID, cliHooks, errand, expectOneLineError } from "./support/cli.js";

cliHooks();

const CONFIG = join(FIXTURES, "batches.config.mjs");

describe("errand batch", () => {
  it("prints a running batch's record, its counts and callbacks not yet enqueued", async () => {
    const id = randomUUID();
    const { code, stdout, stderr } = await errand(["batch", id, "--config", CONFIG], { env: { ERRAND_CLI_RUNNING: id } });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^id +${id}$`, "m"));
    expect(stdout).toMatch(/^description +import <users>\.csv$/m);
    expect(stdout).toMatch(/^state +running$/m);
    for (const [label, value] of [["total", 3], ["pending", 1], ["succeeded", 1], ["discarded", 0], ["dead", 1], ["failed runs", 0]] as const) {
      expect(stdout).toMatch(new RegExp(`^${label} +${value}$`, "m"));
    }
    expect(stdout).toMatch(/^callbacks +success \(not yet enqueued\), complete \(not yet enqueued\)$/m);
    expect(stdout).toMatch(/^created +\d{4}-\d\d-\d\dT/m);
    expect(stdout).toMatch(/^finished +-$/m);
  });

  it("prints a finished batch with the job ids of its callbacks, and as JSON", async () => {
    const id = randomUUID();
    const env = { ERRAND_CLI_FINISHED: id };
    const [lines, json] = await Promise.all([errand(["batch", id, "--config", CONFIG], { env }), errand(["batch", id, "--json", "--config", CONFIG], { env })]);
    expect(lines.code).toBe(0);
    expect(lines.stdout).toMatch(/^state +finished$/m);
    expect(lines.stdout).toMatch(/^description +-$/m);
    const callbacks = /^callbacks +success (\S+), complete (\S+)$/m.exec(lines.stdout);
    expect(callbacks?.[1]).toMatch(JOB_ID);
    expect(callbacks?.[2]).toMatch(JOB_ID);
    expect(json.code).toBe(0);
    const record = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(record).toMatchObject({ id, description: null, state: "finished", total: 1, pending: 0, succeeded: 1, discarded: 0, dead: 0, failed: 0, callbacks: { success: true, complete: true } });
    expect(record.enqueuedCallbacks).toEqual({ success: expect.stringMatching(JOB_ID), complete: expect.stringMatching(JOB_ID) });
    expect(record.finishedAt).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
  });

  it("refuses an unknown id in one line, exit code 1", async () => {
    const unknownId = randomUUID();
    const result = await errand(["batch", unknownId, "--config", CONFIG], { env: { ERRAND_CLI_RUNNING: randomUUID() } });
    expectOneLineError(result, new RegExp(`no batch with id ${unknownId} \\(unknown, or its record has expired\\)`));
    expect(result.code).toBe(1);
  });

  it("has --help, with --config and --json", async () => {
    const { code, stdout } = await errand(["batch", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: errand batch [options] <batchId>");
    expect(stdout).toContain("--config <file>");
    expect(stdout).toContain("--json");
  });
});
