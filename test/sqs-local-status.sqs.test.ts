// A worker on SQS whose statuses live only in its own memory (a LocalStatusStore, the default
// or given) says so at start: a web process asking Job.status(id) would never see them. The
// warning is a `worker:warning` event (the CLI prints it), or a process warning when nobody
// listens; a single-process app that means it listens and ignores the code. A shared store
// (`shared: true`: the Redis and PostgreSQL stores) makes no warning.
import { afterEach, describe, expect, it } from "vitest";

import { SqsAdapter } from "@errand/adapter-sqs";
import { configure, Worker, type ErrandEvents, type Runtime } from "@errand/core";
import { RedisStatusStore } from "@errand/adapter-redis";
import { LocalStatusStore, type StatusStore } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

/** A fresh SQS adapter; `status` as given. */
function sqsAdapter(options: { status?: StatusStore } = {}): SqsAdapter {
  return new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), ...options });
}

/** A runtime on `adapter`, closed after the test. */
function sqsRuntime(adapter = sqsAdapter()): Runtime {
  runtime = configure({ adapter, worker: { embedded: false } });
  return runtime;
}

describe("a worker on SQS with statuses in this process only", () => {
  it("warns at start that other processes cannot see them, and how to share them", async () => {
    const runtime = sqsRuntime();
    const warnings: ErrandEvents["worker:warning"][] = [];
    runtime.events.on("worker:warning", (warning) => warnings.push(warning));
    const worker = new Worker({ runtime, queues: "default" });
    await worker.start();
    await worker.stop();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ workerId: worker.id, code: "ERRAND_LOCAL_STATUS" });
    expect(warnings[0]!.message).toContain("the sqs adapter keeps job statuses in this process's memory: other processes");
    expect(warnings[0]!.message).toContain("new RedisStatusStore({ url })");
  });

  it("warns with a LocalStatusStore given on purpose too: its statuses are just as local", async () => {
    const adapter = sqsAdapter({ status: new LocalStatusStore() });
    expect(adapter.capabilities.localStatus).toBe(true);
    const runtime = sqsRuntime(adapter);
    const warnings: ErrandEvents["worker:warning"][] = [];
    runtime.events.on("worker:warning", (warning) => warnings.push(warning));
    const worker = new Worker({ runtime, queues: "default" });
    await worker.start();
    await worker.stop();
    expect(warnings.map((warning) => warning.code)).toEqual(["ERRAND_LOCAL_STATUS"]);
  });

  it("does not warn with a shared store (RedisStatusStore), nor with any store that says it is shared", async () => {
    const shared = new RedisStatusStore({ url: redisUrl(), prefix: `errand-local-status-${sqsPrefix()}` });
    const custom = Object.assign(new LocalStatusStore(), { shared: true });
    for (const status of [shared, custom]) {
      const adapter = sqsAdapter({ status });
      expect(adapter.capabilities.localStatus).toBe(false);
      const runtime = sqsRuntime(adapter);
      const warnings: unknown[] = [];
      runtime.events.on("worker:warning", (warning) => warnings.push(warning));
      const started = new Promise((resolve) => runtime.events.once("worker:start", resolve));
      const worker = new Worker({ runtime, queues: "default" });
      await worker.start();
      await started;
      await worker.stop();
      // The warning would come before worker:start, in the same boot.
      expect(warnings).toEqual([]);
      await runtime.close();
    }
  });

  it("without a listener, writes a process warning instead (stderr), once per process", async () => {
    const seen: Error[] = [];
    const onWarning = (warning: Error) => {
      if ((warning as { code?: string }).code === "ERRAND_LOCAL_STATUS") seen.push(warning);
    };
    process.on("warning", onWarning);
    try {
      const runtime = sqsRuntime();
      for (let i = 0; i < 2; i++) {
        const worker = new Worker({ runtime, queues: "default" });
        await worker.start();
        await worker.stop();
      }
      await waitFor(() => seen.length > 0, { timeoutMs: 5_000, message: "a process warning" });
      // Process warnings go out on the next tick after the worker's boot: both boots are long
      // done, so a second warning would be here by now.
      expect(seen).toHaveLength(1);
      expect(seen[0]!.message).toContain("other processes (a web process calling Job.status(id)) cannot see them");
    } finally {
      process.off("warning", onWarning);
    }
  });
});
