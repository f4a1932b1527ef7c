// The `errand` CLI spawned for real: the operator's commands (issue 15) — `jobs list | show |
// cancel | run-now | abort`, `queues pause | resume`, `workers` — against the seeded
// TestAdapter fixture (see cli.test.ts: each run is a fresh process with the seeded jobs).
// What the commands do on every backend is the conformance suite's business
// (test/conformance/list-jobs.ts, control*.ts); here: arguments, output, exit codes.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { CONFIG, cliHooks, errand, expectOneLineError } from "./support/cli.js";

cliHooks();

describe("errand jobs", () => {
  it("list prints one state's jobs of a queue, and the cursor of the next page", async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const { code, stdout, stderr } = await errand(["jobs", "list", "--state", "queued", "--queue", "mail", "--limit", "2", "--config", CONFIG], {
      seed: [
        { job: "EchoJob", id: ids[0], queue: "mail" },
        { job: "EchoJob", id: ids[1], queue: "mail" },
        { job: "EchoJob", id: ids[2], queue: "mail" },
        { job: "EchoJob", queue: "other" },
      ],
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual(["id", "job", "queue", "when", "runs", "error"]);
    expect(lines.slice(1, 3).map((line) => line.split(/\s+/)[0])).toEqual(ids.slice(0, 2));
    expect(lines[3]).toMatch(/^next page: --cursor \S+$/);
  });

  it("list --json prints the page and its cursor, refuses a cursor it did not make, and says when a state is empty", async () => {
    // Soonest first: the one due in an hour, then the one due in two.
    const ids = [randomUUID(), randomUUID()];
    const seed = [
      { job: "EchoJob", id: ids[1], waitMs: 7_200_000 },
      { job: "EchoJob", id: ids[0], waitMs: 3_600_000 },
    ];
    const first = await errand(["jobs", "list", "--state", "scheduled", "--limit", "1", "--json", "--config", CONFIG], { seed });
    const page = JSON.parse(first.stdout) as { jobs: { id: string; state: string; payload: { job: string } }[]; next: string | null };
    expect(page.jobs.map((job) => [job.id, job.state, job.payload.job])).toEqual([[ids[0], "scheduled", "EchoJob"]]);
    expect(page.next).toEqual(expect.any(String));
    expectOneLineError(await errand(["jobs", "list", "--state", "scheduled", "--cursor", "not-a-cursor", "--config", CONFIG]), /cursor/);
    const empty = await errand(["jobs", "list", "--state", "dead", "--config", CONFIG]);
    expect(empty.stdout).toBe("no dead jobs\n");
  });

  it("list refuses a missing or unknown state, naming the states", async () => {
    expectOneLineError(await errand(["jobs", "list", "--config", CONFIG]), /--state/);
    expectOneLineError(await errand(["jobs", "list", "--state", "done", "--config", CONFIG]), /--state must be one of queued, scheduled, running, retrying, succeeded, failed, dead, got "done"/);
  });

  it("show prints a dead job with its arguments and each run; an unknown id exits 1", async () => {
    const id = randomUUID();
    const { code, stdout } = await errand(["jobs", "show", id, "--config", CONFIG], { dead: [{ job: "FailJob", id, args: ["x", 2] }] });
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${id}  FailJob  dead  queue default`));
    expect(stdout).toContain('arguments ["x",2]');
    expect(stdout).toContain("error boom");
    const unknown = await errand(["jobs", "show", randomUUID(), "--config", CONFIG]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/no such job/);
  });

  it("cancel cancels a queued job and exits 1 naming the ids it left alone", async () => {
    const [queued, ghost] = [randomUUID(), randomUUID()];
    const all = await errand(["jobs", "cancel", queued, "--config", CONFIG], { seed: [{ job: "EchoJob", id: queued }] });
    expect([all.code, all.stdout]).toEqual([0, "1 job(s) cancelled\n"]);
    const some = await errand(["jobs", "cancel", queued, ghost, "--config", CONFIG], { seed: [{ job: "EchoJob", id: queued }] });
    expect(some.code).toBe(1);
    expect(some.stdout).toBe(`1 of 2 job(s) cancelled; not waiting to run (running, finished or unknown): ${ghost}\n`);
  });

  it("run-now makes a scheduled job due; abort or interrupt of a job not running changes nothing", async () => {
    const id = randomUUID();
    const seed = [{ job: "EchoJob", id, waitMs: 3_600_000 }];
    const due = await errand(["jobs", "run-now", id, "--json", "--config", CONFIG], { seed });
    expect(JSON.parse(due.stdout)).toEqual({ runNow: [id] });
    const abort = await errand(["jobs", "abort", id, "--config", CONFIG], { seed });
    expect(abort.code).toBe(1);
    expect(abort.stdout).toBe(`0 of 1 job(s) asked to abort; not running: ${id}\n`);
    const interrupt = await errand(["jobs", "interrupt", id, "--config", CONFIG], { seed });
    expect([interrupt.code, interrupt.stdout]).toEqual([1, `0 of 1 job(s) asked to interrupt; not running: ${id}\n`]);
    expectOneLineError(await errand(["jobs", "cancel", "--config", CONFIG]), /missing required argument|job ids/);
  });
});

describe("errand queues pause | resume, errand workers", () => {
  it("pause and resume say what they did, with --config written after the subcommand", async () => {
    const paused = await errand(["queues", "pause", "mail", "--config", CONFIG]);
    expect([paused.code, paused.stderr]).toEqual([0, ""]);
    expect(paused.stdout).toBe("paused mail: workers stop taking their jobs within about a second\n");
    const resumed = await errand(["queues", "resume", "mail", "other", "--json", "--config", CONFIG]);
    expect(JSON.parse(resumed.stdout)).toEqual({ resumed: ["mail", "other"] });
  });

  it("workers says none have beaten when none has", async () => {
    const { code, stdout } = await errand(["workers", "--config", CONFIG]);
    expect([code, stdout]).toEqual([0, "no workers have beaten in the last hour\n"]);
  });
});
