/**
 * @errand/opentelemetry with no OpenTelemetry SDK in the process (the API's no-ops): jobs
 * run as before and their payloads carry nothing. Also the seam's edges: options and config
 * refused with a clear error, a throwing hook reported without disturbing the job.
 * (A file of its own: the other OpenTelemetry tests register the SDK's globals.)
 */
import { afterEach, describe, expect, it } from "vitest";

import { configure, ConfigError, Job, type Instrumentation, type Runtime } from "@errand/core";
import type { JobPayload } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import { errandInstrumentation } from "@errand/opentelemetry";

class EchoJob extends Job<[word: string], string> {
  static override jobName = "EchoJob";
  perform(word: string) {
    return word;
  }
}

/** Records the payloads its hooks see. */
function spy(): Instrumentation & { enqueued: JobPayload[]; performed: JobPayload[]; outcomes: string[] } {
  const enqueued: JobPayload[] = [];
  const performed: JobPayload[] = [];
  const outcomes: string[] = [];
  return {
    name: "spy",
    enqueued,
    performed,
    outcomes,
    enqueue: ({ payloads }) => ({ end: () => enqueued.push(...payloads) }),
    perform: ({ payload }) => {
      performed.push(payload);
      return { end: (ended) => outcomes.push(ended.outcome) };
    },
  };
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("@errand/opentelemetry without an SDK", () => {
  it("registered but with no SDK, jobs run and their payloads carry no headers", async () => {
    const seen = spy();
    runtime = configure({ adapter: "async", jobs: [EchoJob], instrumentation: [errandInstrumentation(), seen] });
    const { jobId } = await EchoJob.performLater("hi");
    await waitFor(async () => (await EchoJob.status(jobId))?.state === "succeeded", { message: "the job to succeed" });
    await waitFor(() => seen.outcomes.length === 1, { message: "the perform hook to end" });
    expect(seen.enqueued.map((payload) => payload.headers)).toEqual([undefined]);
    expect(seen.performed.map((payload) => payload.headers)).toEqual([undefined]);
    expect(seen.outcomes).toEqual(["succeeded"]);
  });

  it("refuses an unknown option and a bad parent mode, naming them", () => {
    expect(() => errandInstrumentation({ tracer: {} } as never)).toThrow(/unknown option "tracer" \(known: tracerProvider, meterProvider, parent\)/);
    expect(() => errandInstrumentation({ parent: "child" as never })).toThrow(/"parent" must be "producer" or "link", got "child"/);
  });
});

describe("the instrumentation seam", () => {
  it("refuses a config entry that is not an instrumentation", () => {
    expect(() => configure({ instrumentation: [{ enqueue: () => undefined } as never] })).toThrow(ConfigError);
    expect(() => configure({ instrumentation: [{ name: "x", perform: "yes" } as never] })).toThrow(/instrumentation\[0\]/);
  });

  it("a hook that throws is a process warning; the job is enqueued and runs", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === "ERRAND_INSTRUMENTATION") warnings.push(warning.message);
    };
    process.on("warning", onWarning);
    try {
      const broken: Instrumentation = {
        name: "broken",
        enqueue: () => {
          throw new Error("enqueue hook bug");
        },
        perform: () => ({
          end: () => {
            throw new Error("end hook bug");
          },
        }),
      };
      runtime = configure({ adapter: "async", jobs: [EchoJob], instrumentation: [broken] });
      const { jobId } = await EchoJob.performLater("still");
      await waitFor(async () => (await EchoJob.status(jobId))?.state === "succeeded", { message: "the job to succeed" });
      await waitFor(() => warnings.length === 2, { message: "two warnings" });
      expect(warnings).toEqual(['instrumentation "broken" threw: enqueue hook bug', 'instrumentation "broken" threw: end hook bug']);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("runtime.instrument registers for adapters already built, and its remover stops it", async () => {
    runtime = configure({ adapter: "async", jobs: [EchoJob] });
    await runtime.start();
    const seen = spy();
    const remove = runtime.instrument(seen);
    const first = await EchoJob.performLater("one");
    await waitFor(() => seen.outcomes.length === 1, { message: "the first run to be seen" });
    remove();
    const second = await EchoJob.performLater("two");
    await waitFor(async () => (await EchoJob.status(second.jobId))?.state === "succeeded", { message: "the second job to succeed" });
    expect(seen.performed.map((payload) => payload.id)).toEqual([first.jobId]);
  });
});
