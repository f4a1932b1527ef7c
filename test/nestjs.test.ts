// @errand/nestjs against real backends (issue 16, part 5): the example app of
// examples/nestjs (compiled by `tsc -b` with experimentalDecorators + emitDecoratorMetadata,
// as Nest apps are) enqueues from a Nest service in this process; a worker process runs
// the app's module in a Nest application context and builds each job with Nest's DI; on
// SIGTERM that worker lets its running job finish and goes through Nest's shutdown hooks.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import type { INestApplicationContext } from "@nestjs/common";
import type { AdapterSetting } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { ROOT } from "./support/cli.js";
import { EXAMPLE, SignupService, SlowJob, WelcomeJob, enqueuingApp, nestBackends } from "./support/nest.js";

const TMP = mkdtempSync(join(tmpdir(), "errand-nestjs-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** A worker process running examples/nestjs/worker.ts, its output collected. */
class NestWorker {
  stdout = "";
  stderr = "";
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(adapter: AdapterSetting) {
    const env: NodeJS.ProcessEnv = { ...process.env, ERRAND_ADAPTER: JSON.stringify(adapter), NODE_ENV: "test" };
    delete env.ERRAND_URL;
    delete env.ERRAND_ENV;
    this.child = spawn(process.execPath, [join(EXAMPLE, "worker.js")], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
  }

  ready(): Promise<unknown> {
    return waitFor(() => this.stdout.includes(`nest worker ${this.child.pid} ready`), { timeoutMs: 20_000, message: `the Nest worker to start (stderr: ${this.stderr})` });
  }
}

let worker: NestWorker | undefined;
let app: INestApplicationContext | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill("SIGKILL");
    await worker.exited;
  }
  worker = undefined;
});

describe.each(nestBackends("nest"))("the NestJS example on %s", (_name, makeAdapter) => {
  it("a job enqueued from a Nest service runs in a Nest worker process with its injected service", async () => {
    const adapter = makeAdapter();
    app = await enqueuingApp(adapter);
    worker = new NestWorker(adapter);
    await worker.ready();
    const { jobId } = await app.get(SignupService).signUp("Ada");
    const status = await waitFor(
      async () => {
        const current = await WelcomeJob.status(jobId);
        return current?.state === "succeeded" ? current : undefined;
      },
      { timeoutMs: 20_000, message: `WelcomeJob ${jobId} to succeed (worker stderr: ${worker.stderr})` },
    );
    // The greeter (a Nest singleton of the worker) greeted twice: the mailer, then the job.
    expect(status.result).toBe(`Welcome, Ada! (greeting #2 of worker ${worker.child.pid})`);
  });

  it("SIGTERM lets the running job finish, then Nest's shutdown hooks run and the process exits", async () => {
    const adapter = makeAdapter();
    app = await enqueuingApp(adapter);
    worker = new NestWorker(adapter);
    await worker.ready();
    const release = join(TMP, `release-${worker.child.pid}`);
    const { jobId } = await SlowJob.performLater(release);
    await waitFor(async () => (await SlowJob.status(jobId))?.state === "running", { timeoutMs: 20_000, message: "SlowJob to be running" });

    worker.child.kill("SIGTERM");
    await waitFor(() => worker!.stdout.includes("nest shutdown started"), { timeoutMs: 10_000, message: "Nest's shutdown to start" });
    writeFileSync(release, "go");
    const exit = await worker.exited;

    // Nest re-raises the signal once its hooks have run: the process ends by SIGTERM, quietly.
    expect(exit).toEqual({ code: null, signal: "SIGTERM" });
    expect(worker.stderr).toBe("");
    const lines = worker.stdout.split("\n");
    const finished = lines.indexOf("slow job finished");
    expect(finished).toBeGreaterThan(lines.indexOf("nest shutdown started"));
    expect(lines.indexOf("nest shutdown hooks called (SIGTERM)")).toBeGreaterThan(finished);
    const status = await SlowJob.status(jobId);
    expect(status?.state).toBe("succeeded");
    expect(status?.result).toBe("Welcome, patient worker!");
  });
});
