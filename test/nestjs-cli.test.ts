// `errand work --nest <module>` (issue 16, part 5), spawned for real: the CLI boots the
// example app's module (examples/nestjs, built by `tsc -b`) in a Nest application context
// through @errand/nestjs and runs its worker there, so Nest builds each job with its
// services; on SIGTERM the worker stops first, then Nest's app.close() runs the app's
// shutdown hooks, and the process exits 0. Then the entries it must refuse, one line each.
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import type { DynamicModule, INestApplicationContext } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { waitFor } from "@errand/core/testing";
import { ERRAND_CLI_WORKER, ErrandLifecycle, ErrandModule } from "@errand/nestjs";
import { afterEach, describe, expect, it } from "vitest";

import { Cli, ROOT, TMP, cliHooks, errand, expectOneLineError } from "./support/cli.js";
import { AppModule, SignupService, SlowJob, WelcomeJob, enqueuingApp, nestBackends } from "./support/nest.js";

cliHooks();

/** The example's module file, relative to the CLI's working directory (ROOT). */
const MODULE = "examples/dist/nestjs/app.module.js";
const FIXTURE = "test/fixtures/nest/modules.mjs";

let app: INestApplicationContext | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Lines of `text` in order, so a test can say which came first. */
const position = (text: string, line: string) => {
  const index = text.split("\n").indexOf(line);
  expect(index, `"${line}" in:\n${text}`).toBeGreaterThan(-1);
  return index;
};

describe.each(nestBackends("nestcli"))("errand work --nest on %s", (name, makeAdapter) => {
  it("runs a job enqueued by a Nest service, built by Nest's DI in the CLI process, and SIGTERM ends with Nest's hooks and exit 0", async () => {
    const adapter = makeAdapter();
    const cli = new Cli(["work", "--nest", MODULE, "-c", "2", "-q", "default"], { env: { ERRAND_ADAPTER: JSON.stringify(adapter) } });
    await cli.line(new RegExp(`^\\S+Z worker \\S+ started: adapter ${name}, queues default, concurrency 2$`), 20_000);
    app = await enqueuingApp(adapter);
    const { jobId } = await app.get(SignupService).signUp("Ada");
    // The outcome line comes at the run's end, the stored status once the settle is written
    // behind it: wait for the status.
    const status = await waitFor(
      async () => {
        const current = await WelcomeJob.status(jobId);
        return current?.state === "succeeded" ? current : undefined;
      },
      { timeoutMs: 20_000, message: `WelcomeJob ${jobId} to succeed\n${cli.stdout}\n${cli.stderr}` },
    );
    // The CLI process's GreeterService (a Nest singleton there) greeted twice: mailer, then job.
    expect(status.result).toBe(`Welcome, Ada! (greeting #2 of worker ${cli.child.pid})`);
    await cli.line(new RegExp(`^\\S+Z WelcomeJob ${jobId} completed in \\d+ ms$`));

    cli.child.kill("SIGTERM");
    const { code, stdout, stderr } = await cli.exit(15_000);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const stopped = stdout.split("\n").findIndex((line) => / worker \S+ stopped: 1 job\(s\) processed, 0 released back to the backend$/.test(line));
    expect(stopped, stdout).toBeGreaterThan(-1);
    // The worker stops before Nest closes; Nest's hooks get the signal.
    expect(position(stdout, "nest shutdown started")).toBeGreaterThan(stopped);
    expect(position(stdout, "nest shutdown hooks called (SIGTERM)")).toBeGreaterThan(position(stdout, "nest shutdown started"));
  });

  it("SIGTERM lets the running job finish with its injected service before Nest shuts down", async () => {
    const adapter = makeAdapter();
    const cli = new Cli(["work", "--nest", `${MODULE}#default`, "-c", "1"], { env: { ERRAND_ADAPTER: JSON.stringify(adapter) } });
    await cli.line(/ worker \S+ started: /, 20_000);
    app = await enqueuingApp(adapter);
    const release = join(TMP, `release-${randomUUID()}`);
    const { jobId } = await SlowJob.performLater(release);
    await waitFor(async () => (await SlowJob.status(jobId))?.state === "running", { timeoutMs: 20_000, message: `SlowJob to be running\n${cli.stdout}\n${cli.stderr}` });

    cli.child.kill("SIGTERM");
    await cli.line(/ SIGTERM: stopping; 1 running job\(s\) get up to 25s to finish/);
    writeFileSync(release, "go");
    const { code, stdout, stderr } = await cli.exit(15_000);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(position(stdout, "slow job finished")).toBeLessThan(position(stdout, "nest shutdown started"));
    expect(stdout).toMatch(/ stopped: 1 job\(s\) processed, 0 released back to the backend\n/);
    const status = await SlowJob.status(jobId);
    expect(status?.state).toBe("succeeded");
    expect(status?.result).toBe("Welcome, patient worker!");
  });

  it("a second signal while the running job holds the stop exits 130 at once", async () => {
    const adapter = makeAdapter();
    const cli = new Cli(["work", "--nest", MODULE, "-c", "1"], { env: { ERRAND_ADAPTER: JSON.stringify(adapter) } });
    await cli.line(/ worker \S+ started: /, 20_000);
    app = await enqueuingApp(adapter);
    // Never released: only the second signal ends this process.
    const { jobId } = await SlowJob.performLater(join(TMP, `never-${randomUUID()}`));
    await waitFor(async () => (await SlowJob.status(jobId))?.state === "running", { timeoutMs: 20_000, message: `SlowJob to be running\n${cli.stdout}\n${cli.stderr}` });

    cli.child.kill("SIGTERM");
    await cli.line(/ SIGTERM: stopping; 1 running job\(s\) get up to 25s to finish/);
    cli.child.kill("SIGINT");
    // Well inside the 25 s grace period the first signal granted.
    const { code, stdout, stderr } = await cli.exit(10_000);
    expect(code).toBe(130);
    expect(stderr).toMatch(/^errand: SIGINT again: exiting at once; 1 running job\(s\) were not handed back/);
    expect(stdout).not.toContain("nest shutdown started");
  });
});

describe("ErrandModule booted by errand work --nest", () => {
  // In this process, as nestWorkerContext boots it: a global root that provides the token.
  const rootWith = (providesToken: boolean): DynamicModule => ({
    module: class CliRoot {},
    global: true,
    imports: [AppModule.register({ work: true })],
    providers: providesToken ? [{ provide: ERRAND_CLI_WORKER, useValue: true }] : [],
    exports: providesToken ? [ERRAND_CLI_WORKER] : [],
  });

  it.each([
    ["starts no worker of its own where ERRAND_CLI_WORKER is provided", true],
    ["(the control: without the token, work: true starts one)", false],
  ])("%s", async (_title, providesToken) => {
    app = await NestFactory.createApplicationContext(rootWith(providesToken), { logger: ["error", "warn"] });
    expect(app.get(ErrandLifecycle).appWorker === undefined).toBe(providesToken);
  });
});

describe("ErrandModule.forRootAsync", () => {
  it("refuses an option it does not read (Nest's useClass), naming it", () => {
    expect(() => ErrandModule.forRootAsync({ useFactory: () => ({}), useClass: class Options {} } as never)).toThrow(
      'ErrandModule.forRootAsync: unknown option "useClass" (known: imports, inject, useFactory)',
    );
  });
});

describe("errand work --nest refuses, in one line", () => {
  it("--config beside --nest: both would name the config", async () => {
    expectOneLineError(await errand(["work", "--nest", MODULE, "--config", "errand.config.mjs"]), /--nest and --config both name the Errand config.*drop one/);
  });

  it("a module file that does not exist", async () => {
    expectOneLineError(await errand(["work", "--nest", "dist/nope.module.js"]), /--nest dist\/nope\.module\.js: module file dist\/nope\.module\.js not found \(looked at \/\S+\)/);
  });

  it("an export the file does not have, listing those it has", async () => {
    expectOneLineError(await errand(["work", "--nest", `${MODULE}#WorkerModule`]), /has no export named WorkerModule \(its exports: AppModule, default\)/);
  });

  it("a file with neither a default export nor AppModule", async () => {
    expectOneLineError(
      await errand(["work", "--nest", "examples/dist/nestjs/greeter.service.js"]),
      /has neither a default export nor AppModule \(its exports: GreeterService\); name one as examples\/dist\/nestjs\/greeter\.service\.js#<export>/,
    );
  });

  it("an export that is no Nest module", async () => {
    expectOneLineError(await errand(["work", "--nest", `${FIXTURE}#NotAModule`]), /#NotAModule is not a Nest module: .*got an object with keys hello/);
  });

  it("a module without ErrandModule", async () => {
    // The example's AppModule class itself: `register()` is what adds ErrandModule.
    expectOneLineError(await errand(["work", "--nest", `${MODULE}#AppModule`]), /app\.module\.js#AppModule does not import ErrandModule/);
  });

  it("a module whose ErrandModule starts a worker of its own", async () => {
    const result = await errand(["work", "--nest", `${FIXTURE}#WithWorker`]);
    expectOneLineError(result, /#WithWorker: its ErrandModule starts a worker of its own \(work: \{"concurrency":2,"shutdownGrace":"20s"\}\).*set work: false/);
    // Refused before any worker ran: not the CLI's, and not the module's (app closed cleanly).
    expect(result.stdout).not.toContain(" started: ");
    expect(result.stdout).toContain("nest shutdown hooks called (close)");
  });

  it("@errand/nestjs not installed, saying what to install", async () => {
    const hide = pathToFileURL(join(ROOT, "test/fixtures/nest/hide-nestjs.mjs")).href;
    const result = await errand(["work", "--nest", MODULE], { env: { NODE_OPTIONS: `--import=${hide}` } });
    expectOneLineError(result, /errand work --nest needs @errand\/nestjs and its peers, but @errand\/nestjs is not installed: run `npm install @errand\/nestjs @nestjs\/core`/);
  });
});
