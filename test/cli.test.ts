// The `errand` CLI spawned for real against the fixture configs in test/fixtures/cli: help,
// usage errors, `perform` and `enqueue`. The main fixture builds a TestAdapter and seeds it at
// config load from ERRAND_CLI_SEED / ERRAND_CLI_DEAD, so each spawn sees exactly the jobs its
// test seeded. `work` and the admin commands: cli-work.test.ts.
import { join } from "node:path";

import { createProgram } from "@errand/core/cli";
import { describe, expect, it } from "vitest";

import { CONFIG, FIXTURES, JOB_ID, STACK_LINE, cliHooks, errand, expectOneLineError } from "./support/cli.js";

cliHooks();

describe("errand --help", () => {
  it("lists every command", async () => {
    const { code, stdout } = await errand(["--help"]);
    expect(code).toBe(0);
    for (const command of ["init", "generate\\|g", "doctor", "work", "perform", "enqueue", "status", "batch", "dead", "queues", "relay"]) {
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
  });

  it("documents each command, each with --config", () => {
    // The program's own help text, read in this process: ten CLI processes started at once
    // took over 10 s each on a machine running two suites side by side.
    const program = createProgram();
    const commands = [["work"], ["perform"], ["enqueue"], ["status"], ["dead", "list"], ["dead", "retry"], ["dead", "purge"], ["queues"], ["relay"], ["doctor"]];
    const help = commands.map((path) => path.reduce((command, name) => command.commands.find((sub) => sub.name() === name)!, program).helpInformation());
    help.forEach((text, index) => {
      expect(text).toContain(`Usage: errand ${commands[index]!.join(" ")} `);
      expect(text).toContain("--config <file>");
    });
    expect(help[0]).toContain("-q, --queues <queues...>");
    expect(help[0]).toContain("-c, --concurrency <n>");
    expect(help[2]).toContain("--wait <duration>");
  });

  it("prints a command group's help with its subcommands", async () => {
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

describe("errand relay", () => {
  it("a relay stopped by an error ends the command, exit 1, instead of waiting for a signal with nothing running", async () => {
    const { code, stdout, stderr } = await errand(["relay", "--config", join(FIXTURES, "relay-fails.config.mjs")]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/relay started: outbox postgres/);
    expect(stderr).toMatch(/relay stopped by an error: .*relation errand\.outbox does not exist/);
    expect(stderr).toMatch(/^errand: .*the outbox relay stopped by itself/m);
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
