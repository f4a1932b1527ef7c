// The `errand` CLI spawned for real: `work` (outcomes, SIGTERM, a second signal) and the admin
// commands (queues, status, dead list/retry/purge), against the seeded TestAdapter fixture
// (see cli.test.ts).
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { CONFIG, Cli, FIXTURES, TMP, cliHooks, errand, expectOneLineError, type Seed } from "./support/cli.js";

cliHooks();

describe("errand work", () => {
  it("runs the seeded jobs and logs one line per outcome", async () => {
    const ids = { a: randomUUID(), b: randomUUID(), critical: randomUUID(), fail: randomUUID(), ghost: randomUUID() };
    const cli = new Cli(["work", "-q", "critical,2", "-q", "default,1", "-c", "2", "--config", CONFIG], {
      seed: [
        { job: "EchoJob", args: ["a"], id: ids.a },
        { job: "CriticalJob", args: ["c"], id: ids.critical, queue: "critical" },
        { job: "FailJob", id: ids.fail },
        { job: "GhostJob", id: ids.ghost },
        { job: "EchoJob", args: ["b"], id: ids.b },
        // Another queue: this worker must leave it alone.
        { job: "EchoJob", args: ["elsewhere"], queue: "other" },
      ],
    });
    await cli.line(/ worker \S+ started: adapter test, queues critical,2 default,1, concurrency 2$/);
    await cli.line(new RegExp(`^\\S+Z EchoJob ${ids.a} completed in \\d+ ms$`));
    await cli.line(new RegExp(`^\\S+Z EchoJob ${ids.b} completed in \\d+ ms$`));
    await cli.line(new RegExp(`^\\S+Z CriticalJob ${ids.critical} completed in \\d+ ms$`));
    await cli.line(new RegExp(`^\\S+Z FailJob ${ids.fail} failed \\(attempt 1\\), retry at \\S+Z: boom from FailJob$`));
    await cli.line(new RegExp(`^\\S+Z GhostJob ${ids.ghost} dead: UnknownJobError: unknown job class "GhostJob"`));
    expect(cli.stdout).toContain('echo ["a"]\n');
    expect(cli.stdout).toContain('echo ["b"]\n');
    expect(cli.stdout).toContain("critical c\n");

    cli.child.kill("SIGTERM");
    const { code, stdout, stderr } = await cli.exit();
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/ worker \S+ stopped: 5 job\(s\) processed, 0 released back to the backend\n$/);
    expect(stdout).not.toContain("elsewhere");
  });

  it("on SIGTERM lets the running job finish, hands buffered jobs back and exits 0", async () => {
    const gate = `gate-${randomUUID()}`;
    const gatedId = randomUUID();
    // Concurrency 1, prefetch 1: the gated job runs, the first echo waits in the local
    // buffer (handed back at shutdown), the second stays in the backend.
    const cli = new Cli(["work", "-q", "default", "-c", "1", "--prefetch", "1", "--config", CONFIG], {
      seed: [
        { job: "GatedJob", args: [gate], id: gatedId },
        { job: "EchoJob", args: ["after-1"] },
        { job: "EchoJob", args: ["after-2"] },
      ],
    });
    await cli.line(new RegExp(`^gated ${gate} started$`));
    cli.child.kill("SIGTERM");
    await cli.line(/ SIGTERM: stopping; 1 running job\(s\) get up to 20s to finish/);
    writeFileSync(join(TMP, gate), "");
    const { code, stdout, stderr } = await cli.exit();
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(`gated ${gate} finished\n`);
    expect(stdout).toMatch(new RegExp(`GatedJob ${gatedId} completed in \\d+ ms\\n`));
    expect(stdout).toMatch(/ stopped: 1 job\(s\) processed, 1 released back to the backend\n$/);
    expect(stdout).not.toContain("after-");
  });

  it("exits at once, non-zero, on a second signal while stopping", async () => {
    const gate = `never-${randomUUID()}`;
    const cli = new Cli(["work", "-c", "1", "--config", CONFIG], { seed: [{ job: "GatedJob", args: [gate] }] });
    await cli.line(new RegExp(`^gated ${gate} started$`));
    cli.child.kill("SIGTERM");
    await cli.line(/ SIGTERM: stopping;/);
    cli.child.kill("SIGINT");
    // Well inside the 20 s grace period the first signal granted.
    const { code, stdout, stderr } = await cli.exit(5_000);
    expect(code).toBe(130);
    expect(stderr).toMatch(/^errand: SIGINT again: exiting at once; 1 running job\(s\) were not handed back/);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stdout).not.toContain("finished");
    expect(stdout).not.toContain("stopped:");
  });

  it("refuses the async adapter, which runs jobs inside the app process", async () => {
    const result = await errand(["work", "--config", join(FIXTURES, "async.config.mjs")]);
    expectOneLineError(result, /the async adapter runs jobs inside the app process.*needs a shared backend \(redis, postgres, sqs\)/);
    expect(result.stdout).toBe("");
  });

  it("refuses a bad --queues entry in one line", async () => {
    expectOneLineError(await errand(["work", "-q", "critical,x", "--config", CONFIG]), /queues: "critical,x" is not "name" or "name,weight"/);
  });
});

describe("admin commands", () => {
  it("queues prints counts per queue", async () => {
    const { code, stdout, stderr } = await errand(["queues", "--config", CONFIG], {
      seed: [
        { job: "EchoJob" },
        { job: "EchoJob" },
        { job: "EchoJob", waitMs: 3_600_000 },
        { job: "CriticalJob", queue: "critical" },
      ],
      dead: [{ job: "FailJob", queue: "critical" }],
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const rows = stdout.trimEnd().split("\n").map((line) => line.split(/\s+/));
    expect(rows.map((row) => row.slice(0, 6))).toEqual([
      ["queue", "queued", "scheduled", "running", "retrying", "dead"],
      ["critical", "1", "0", "0", "0", "1"],
      ["default", "2", "1", "0", "0", "0"],
    ]);
    // Succeeded, failed, the age of the oldest queued job, paused: from the operator's counts.
    expect(rows[0]!.slice(6)).toEqual(["succeeded", "failed", "latency(ms)", "paused"]);
    for (const row of rows.slice(1)) {
      expect(row.slice(6, 8)).toEqual(["0", "0"]);
      expect(Number(row[8])).toBeGreaterThanOrEqual(0);
      expect(row[9]).toBe("no");
    }
  });

  it("queues says so when there are none", async () => {
    const { code, stdout } = await errand(["queues", "--config", CONFIG]);
    expect(code).toBe(0);
    expect(stdout).toBe("no queues\n");
  });

  it("status prints a known job and refuses an unknown id", async () => {
    const id = randomUUID();
    const unknownId = randomUUID();
    const [known, json, unknown] = await Promise.all([
      errand(["status", id, "--config", CONFIG], { seed: [{ job: "EchoJob", id, queue: "reports", priority: 4 }] }),
      errand(["status", id, "--json", "--config", CONFIG], { seed: [{ job: "EchoJob", id }] }),
      errand(["status", unknownId, "--config", CONFIG]),
    ]);
    expect(known.code).toBe(0);
    expect(known.stdout).toMatch(new RegExp(`^id +${id}$`, "m"));
    expect(known.stdout).toMatch(/^job +EchoJob$/m);
    expect(known.stdout).toMatch(/^state +queued$/m);
    expect(known.stdout).toMatch(/^queue +reports$/m);
    expect(known.stdout).toMatch(/^priority +4$/m);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, job: "EchoJob", state: "queued", executions: 0, startedAt: null });
    expectOneLineError(unknown, new RegExp(`no job with id ${unknownId}`));
    expect(unknown.code).toBe(1);
  });

  it("dead list on an empty dead set", async () => {
    const { code, stdout, stderr } = await errand(["dead", "list", "--config", CONFIG], { seed: [{ job: "EchoJob" }] });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toBe("the dead set is empty\n");
  });

  it("dead list, retry and purge act on the dead set", async () => {
    const ids = [randomUUID(), randomUUID()];
    const dead: Seed[] = [
      { job: "FailJob", id: ids[0], queue: "critical" },
      { job: "EchoJob", id: ids[1] },
    ];
    const [list, critical, retryAll, purgeOne, purgeMissing, noSelection] = await Promise.all([
      errand(["dead", "list", "--config", CONFIG], { dead }),
      errand(["dead", "list", "--queue", "critical", "--json", "--config", CONFIG], { dead }),
      errand(["dead", "retry", "--all", "--config", CONFIG], { dead }),
      errand(["dead", "purge", ids[1]!, "--config", CONFIG], { dead }),
      errand(["dead", "purge", ids[1]!, randomUUID(), "--config", CONFIG], { dead }),
      errand(["dead", "retry", "--config", CONFIG], { dead }),
    ]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    // Newest first.
    expect(lines[0]).toMatch(new RegExp(`^\\S+Z  ${ids[1]}  default  EchoJob  boom$`));
    expect(lines[1]).toMatch(new RegExp(`^\\S+Z  ${ids[0]}  critical  FailJob  boom$`));
    expect((JSON.parse(critical.stdout) as { id: string }[]).map((job) => job.id)).toEqual([ids[0]]);
    expect(retryAll).toMatchObject({ code: 0, stdout: "2 dead job(s) moved back to their queues\n" });
    expect(purgeOne).toMatchObject({ code: 0, stdout: "1 dead job(s) deleted\n" });
    expect(purgeMissing).toMatchObject({ code: 1, stdout: "1 of 2 dead job(s) deleted; the others are not in the dead set\n" });
    expectOneLineError(noSelection, /dead retry: give one or more job ids, or --all/);
  });
});
