// A worker on SQS whose statuses live only in its own memory (the default LocalStatusStore)
// says so at start: a web process asking Job.status(id) would never see them. The warning is
// a `worker:warning` event (the CLI prints it), or a process warning when nobody listens.
import { afterEach, describe, expect, it } from "vitest";

import { SqsAdapter } from "@errand/adapter-sqs";
import { configure, Worker, type ErrandEvents, type Runtime } from "@errand/core";
import { LocalStatusStore } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

/** A runtime on a fresh SQS adapter; `status` as given. */
function sqsRuntime(options: { status?: LocalStatusStore } = {}): Runtime {
  const adapter = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), ...options });
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

  it("does not warn when the adapter was given a status store (a LocalStatusStore given on purpose too)", async () => {
    const runtime = sqsRuntime({ status: new LocalStatusStore() });
    const warnings: unknown[] = [];
    runtime.events.on("worker:warning", (warning) => warnings.push(warning));
    const started = new Promise((resolve) => runtime.events.once("worker:start", resolve));
    const worker = new Worker({ runtime, queues: "default" });
    await worker.start();
    await started;
    await worker.stop();
    // The warning would come before worker:start, in the same boot.
    expect(warnings).toEqual([]);
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
