// Closing the runtime while its first enqueue is still building the adapter (issue 11
// review): the async adapter's embedded worker must not start on a client that close()
// has already closed, where it would poll forever, reporting "the adapter is closed".
import { afterEach, describe, expect, it } from "vitest";

import { ConfigError, configure, Job, type Runtime } from "@errand/core";

class EchoJob extends Job<[n: number]> {
  perform(n: number) {
    return n;
  }
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("close() during the first enqueue", () => {
  it("leaves no embedded worker running and reports no worker error; the enqueue rejects saying why", async () => {
    runtime = configure({ adapter: "async" });
    const started: string[] = [];
    const stopped: string[] = [];
    const errors: unknown[] = [];
    runtime.events.on("worker:start", ({ workerId }) => started.push(workerId));
    runtime.events.on("worker:stop", ({ workerId }) => stopped.push(workerId));
    runtime.events.on("worker:error", ({ error }) => errors.push(error));

    // performLater starts building the adapter (it imports @errand/adapter-async) and
    // close() runs while that import is awaited.
    const enqueue = EchoJob.performLater(1).then(
      () => undefined,
      (error: unknown) => error,
    );
    await runtime.close();
    const error = await enqueue;

    // Every worker that started has stopped (none need have started at all).
    expect(stopped.length).toBe(started.length);
    expect(errors).toEqual([]);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe("this Errand runtime was closed while adapter was being built");
  });

  it("a runtime closed after its adapter was built stops the worker as before", async () => {
    runtime = configure({ adapter: "async" });
    const stopped: string[] = [];
    runtime.events.on("worker:stop", ({ workerId }) => stopped.push(workerId));
    await EchoJob.performLater(1);
    await runtime.close();
    expect(stopped).toEqual([`embedded:${process.pid}`]);
    await expect(runtime.adapterFor()).rejects.toThrow("this Errand runtime is closed");
  });
});
