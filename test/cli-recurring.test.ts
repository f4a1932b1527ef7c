// `errand recurring list | run NAME` and `errand work [--no-recurring]`, spawned for real
// against test/fixtures/cli/recurring.config.mjs (a TestAdapter: each process has its own
// in-memory store, so a listing's last run is what that process stored).
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { Cli, FIXTURES, JOB_ID, cliHooks, errand, expectOneLineError } from "./support/cli.js";

cliHooks();

const CONFIG = join(FIXTURES, "recurring.config.mjs");
const NO_CAPABILITY = { ERRAND_CLI_NO_RECURRING_CAPABILITY: "1" };

describe("errand recurring", () => {
  it("list prints each task's schedule, tz, next run, and never-run state", async () => {
    const { code, stdout, stderr } = await errand(["recurring", "list", "--config", CONFIG]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split("\n");
    expect(header!.split(/\s{2,}/)).toEqual(["task", "job", "schedule", "tz", "next run", "last run", "job id"]);
    expect(rows[0]).toMatch(/^echo-every-second\s+EchoJob\s+every 1s\s+-\s+\S+\.000Z\s+never\s+-$/);
    expect(rows[1]).toMatch(/^nightly-critical\s+CriticalJob\s+cron "0 3 \* \* \*" \(Europe\/Berlin\)\s+Europe\/Berlin\s+\S+T0[12]:00:00\.000Z\s+never\s+-$/);
  });

  it("list --json gives the same as objects", async () => {
    const { code, stdout } = await errand(["recurring", "list", "--json", "--config", CONFIG]);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as Record<string, unknown>[];
    expect(rows.map((row) => [row.task, row.job, row.schedule, row.tz, row.lastRun, row.jobId])).toEqual([
      ["echo-every-second", "EchoJob", "every 1s", null, null, null],
      ["nightly-critical", "CriticalJob", 'cron "0 3 * * *" (Europe/Berlin)', "Europe/Berlin", null, null],
    ]);
    const next = Date.parse(rows[0]!.nextRun as string);
    expect(next % 1000).toBe(0);
  });

  it("list says when the backend keeps no recurring state", async () => {
    const { code, stdout } = await errand(["recurring", "list", "--config", CONFIG], { env: NO_CAPABILITY });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^echo-every-second\s.*\sunknown\s+-$/m);
    expect(stdout).toMatch(/^last run unknown: the test adapter keeps no recurring state$/m);
  });

  it("run enqueues one job of the task now, with its args, queue and priority", async () => {
    const { code, stdout, stderr } = await errand(["recurring", "run", "nightly-critical", "--json", "--config", CONFIG]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ task: "nightly-critical", enqueued: true, job: "CriticalJob", queue: "reports", priority: 5, duplicate: false });
    expect(result.jobId).toMatch(JOB_ID);
    const plain = await errand(["recurring", "run", "echo-every-second", "--config", CONFIG]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^\S+ EchoJob on default for recurring task echo-every-second \(adapter test\)\n$/);
  });

  it("run refuses an unknown name, listing the known ones", async () => {
    expectOneLineError(
      await errand(["recurring", "run", "nightly", "--config", CONFIG]),
      /^errand: unknown recurring task "nightly"; known tasks: echo-every-second, nightly-critical$/,
    );
  });
});

describe("errand work and recurring tasks", () => {
  it("runs the scheduler: says which tasks, logs each tick it stored, runs the jobs", async () => {
    const cli = new Cli(["work", "--config", CONFIG]);
    await cli.line(/ worker \S+ started: adapter test, queues \*, concurrency 10, recurring echo-every-second, nightly-critical$/);
    const first = await cli.line(/Z recurring echo-every-second: tick \S+\.000Z enqueued as \S+$/);
    const jobId = first.split(" ").at(-1)!;
    await cli.line(new RegExp(`EchoJob ${jobId} completed in \\d+ ms$`));
    expect(cli.stdout).toContain('echo ["tick"]\n');
    cli.child.kill("SIGTERM");
    const { code, stderr } = await cli.exit();
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("refuses to start on an adapter without capability recurring, and starts with --no-recurring", async () => {
    expectOneLineError(
      await errand(["work", "--config", CONFIG], { env: NO_CAPABILITY }),
      /^errand: the test adapter cannot run recurring tasks \(capability recurring\), and the config has 2: echo-every-second, nightly-critical; .*errand work --no-recurring\)$/,
    );
    const cli = new Cli(["work", "--no-recurring", "--config", CONFIG], { env: NO_CAPABILITY, seed: [{ job: "EchoJob", args: ["seeded"] }] });
    await cli.line(/ worker \S+ started: adapter test, queues \*, concurrency 10$/);
    await cli.line(/EchoJob \S+ completed in \d+ ms$/);
    cli.child.kill("SIGTERM");
    const { code, stdout } = await cli.exit();
    expect(code).toBe(0);
    expect(stdout).not.toContain("recurring");
  });
});
