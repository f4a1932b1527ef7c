// The `errand` CLI, spawned for real (`node packages/core/dist/cli/main.js`) against the
// fixture configs in test/fixtures/cli. The main fixture builds a TestAdapter and seeds
// it at config load from ERRAND_CLI_SEED / ERRAND_CLI_DEAD, since no shared backend
// exists yet; each spawn therefore sees exactly the jobs its test seeded.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { waitFor } from "@errand/core/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "packages/core/dist/cli/main.js");
const FIXTURES = join(ROOT, "test/fixtures/cli");
const CONFIG = join(FIXTURES, "errand.config.mjs");
/** The UUIDv7 job ids core makes. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STACK_LINE = /^ {4}at /m;
const TMP = mkdtempSync(join(tmpdir(), "errand-cli-"));

interface Seed {
  job: string;
  args?: unknown[];
  id?: string;
  queue?: string;
  priority?: number;
  waitMs?: number;
}

interface CliOptions {
  seed?: Seed[];
  dead?: Seed[];
  env?: Record<string, string>;
}

/** A running `errand` process with its output collected as it arrives. */
class Cli {
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly child: ChildProcess;

  constructor(args: readonly string[], options: CliOptions = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        ERRAND_DEBUG: "",
        ERRAND_URL: "",
        ERRAND_CLI_TMP: TMP,
        ERRAND_CLI_SEED: JSON.stringify(options.seed ?? []),
        ERRAND_CLI_DEAD: JSON.stringify(options.dead ?? []),
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
    running.add(this);
    void this.exited.then(() => running.delete(this));
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

  /** Resolves with the exit status; kills the process and fails after `timeoutMs`. */
  async exit(timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`errand did not exit within ${timeoutMs} ms\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`));
      }, timeoutMs);
    });
    try {
      const { code } = await Promise.race([this.exited, timeout]);
      return { code, stdout: this.stdout, stderr: this.stderr };
    } finally {
      clearTimeout(timer);
    }
  }
}

const running = new Set<Cli>();

/** Runs `errand ...args` to completion. */
function errand(args: readonly string[], options: CliOptions = {}) {
  return new Cli(args, options).exit();
}

/** Asserts the one-line error report: `errand: ...` on stderr, no stack, non-zero exit. */
function expectOneLineError(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  expect(result.stderr).not.toMatch(STACK_LINE);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^errand: /);
  expect(lines[0]).toMatch(pattern);
}

afterEach(() => {
  for (const cli of running) cli.child.kill("SIGKILL");
  running.clear();
});

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe("errand --help", () => {
  it("lists every command", async () => {
    const { code, stdout } = await errand(["--help"]);
    expect(code).toBe(0);
    for (const command of ["work", "perform", "enqueue", "status", "dead", "queues"]) {
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
  });

  it("documents each command, each with --config", async () => {
    const commands = [["work"], ["perform"], ["enqueue"], ["status"], ["dead", "list"], ["dead", "retry"], ["dead", "purge"], ["queues"]];
    const results = await Promise.all(commands.map((command) => errand([...command, "--help"])));
    results.forEach(({ code, stdout }, index) => {
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: errand ${commands[index]!.join(" ")} `);
      expect(stdout).toContain("--config <file>");
    });
    expect(results[0]!.stdout).toContain("-q, --queues <queues...>");
    expect(results[0]!.stdout).toContain("-c, --concurrency <n>");
    expect(results[2]!.stdout).toContain("--wait <duration>");
    const dead = await errand(["dead", "--help"]);
    expect(dead.code).toBe(0);
    expect(dead.stdout).toMatch(/^  list\b/m);
    expect(dead.stdout).toMatch(/^  retry\b/m);
    expect(dead.stdout).toMatch(/^  purge\b/m);
  });
});

describe("usage errors", () => {
  it("reports an unknown option in one line", async () => {
    expectOneLineError(await errand(["work", "--bogus"]), /unknown option '--bogus'/);
  });

  it("reports a missing argument, a bad number and an unknown command in one line each", async () => {
    const [missing, badNumber, unknown] = await Promise.all([
      errand(["perform"]),
      errand(["work", "-c", "zero", "--config", CONFIG]),
      errand(["wrk"]),
    ]);
    expectOneLineError(missing, /missing required argument 'job'/);
    expectOneLineError(badNumber, /'zero' is invalid.*integer >= 1/);
    expectOneLineError(unknown, /unknown command 'wrk'.*work/);
  });

  it("reports a missing config file and a config that throws, without a stack", async () => {
    const [missing, broken] = await Promise.all([
      errand(["queues", "--config", "nope.config.mjs"]),
      errand(["queues", "--config", join(FIXTURES, "broken.config.mjs")]),
    ]);
    expectOneLineError(missing, /config file nope\.config\.mjs not found/);
    expectOneLineError(broken, /TypeError: config exploded \(set ERRAND_DEBUG=1 for the stack\)/);
  });

  it("shows the stack with ERRAND_DEBUG=1", async () => {
    const { code, stderr } = await errand(["queues", "--config", join(FIXTURES, "broken.config.mjs")], { env: { ERRAND_DEBUG: "1" } });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^errand: TypeError: config exploded\n/);
    expect(stderr).toMatch(STACK_LINE);
  });
});

describe("errand perform", () => {
  it("runs the job in this process and prints its result as JSON", async () => {
    const { code, stdout, stderr } = await errand(["perform", "AddJob", "[2, 3]", "--config", CONFIG]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    // BigInt and Set survive as JSON.
    expect(JSON.parse(stdout)).toEqual({ sum: 5, big: "18446744073709551616", tags: ["x"] });
  });

  it("names the registered jobs when the job is unknown", async () => {
    const result = await errand(["perform", "NopeJob", "[]", "--config", CONFIG]);
    expectOneLineError(result, /unknown job class "NopeJob" \(registered: AddJob, CriticalJob, EchoJob, FailJob, GatedJob\)/);
    expect(result.code).toBe(1);
  });

  it("refuses arguments that are not a JSON array, naming the problem", async () => {
    const [notJson, notArray] = await Promise.all([
      errand(["perform", "AddJob", "[1,", "--config", CONFIG]),
      errand(["perform", "AddJob", '{"a":1}', "--config", CONFIG]),
    ]);
    expectOneLineError(notJson, /arguments "\[1," are not valid JSON/);
    expectOneLineError(notArray, /arguments must be a JSON array/);
  });

  it("reports a failing job in one line, naming the job", async () => {
    const result = await errand(["perform", "FailJob", "--config", CONFIG]);
    expectOneLineError(result, /^errand: FailJob failed: boom from FailJob \(set ERRAND_DEBUG=1 for the stack\)$/);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
  });

  it("loads a TypeScript config and TypeScript job modules", async () => {
    const { code, stdout, stderr } = await errand(["perform", "GreetJob", '["ts"]', "--config", join(FIXTURES, "errand.config.ts")]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toBe("hello ts");
  });
});

describe("errand enqueue", () => {
  it("enqueues with --wait, --queue and --priority and prints the job id", async () => {
    const { code, stdout, stderr } = await errand(
      ["enqueue", "EchoJob", '["x"]', "--wait", "10m", "--queue", "low", "--priority", "-3", "--json", "--config", CONFIG],
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const job = JSON.parse(stdout) as Record<string, string | number>;
    expect(job.jobId).toMatch(JOB_ID);
    expect(job.providerJobId).toMatch(/^\S+$/); // the adapter's own id: the in-memory store counts
    expect(job).toMatchObject({ job: "EchoJob", adapter: "test", queue: "low", priority: -3, enqueued: true });
    expect(Date.parse(job.scheduledAt as string) - Date.parse(job.enqueuedAt as string)).toBe(600_000);
  });

  it("prints one readable line by default", async () => {
    const { code, stdout } = await errand(["enqueue", "CriticalJob", '["c"]', "--wait", "90s", "--config", CONFIG]);
    expect(code).toBe(0);
    const [jobId, rest] = [stdout.split(" ")[0]!, stdout.slice(stdout.indexOf(" ") + 1)];
    expect(jobId).toMatch(JOB_ID);
    expect(rest).toMatch(/^CriticalJob on critical, runs at \S+Z \(adapter test, provider id \S+\)\n$/);
  });

  it("reports an unknown job and a bad --wait in one line", async () => {
    const [unknown, badWait] = await Promise.all([
      errand(["enqueue", "NopeJob", "[]", "--config", CONFIG]),
      errand(["enqueue", "EchoJob", "[]", "--wait", "tenminutes", "--config", CONFIG]),
    ]);
    expectOneLineError(unknown, /unknown job class "NopeJob" \(registered: .*EchoJob/);
    expect(unknown.code).toBe(1);
    expectOneLineError(badWait, /"tenminutes" is not a duration/);
    expect(badWait.code).toBe(1);
  });
});

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
    expect(rows).toEqual([
      ["queue", "queued", "scheduled", "running", "retrying", "dead"],
      ["critical", "1", "0", "0", "0", "1"],
      ["default", "2", "1", "0", "0", "0"],
    ]);
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
