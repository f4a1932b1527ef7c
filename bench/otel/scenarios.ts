/**
 * The child side of the OpenTelemetry bench: a bulk enqueue or a drain of no-op jobs on the
 * async adapter, in one of three setups:
 *
 * - `none`: no instrumentation registered (core pays one length check per enqueue call and
 *   per job run);
 * - `noop`: `errandInstrumentation()` registered, no OpenTelemetry SDK (the API's no-ops:
 *   what an app pays for the package installed but tracing off);
 * - `sdk`: the SDK's tracer (every span sampled, a batch processor handing spans to an
 *   exporter that drops them), its meter (no reader exports), the AsyncLocalStorage context
 *   manager and the W3C propagator: the cost of tracing itself, not of shipping spans.
 *
 * `@errand/opentelemetry` and the SDK are imported only by the setups that use them, so the
 * `none` setup also runs against a build of core from before the seam (the README's
 * before/after).
 */
import { configure, Job, performAllLater, Worker, type Instrumentation, type Runtime } from "@errand/core";

import { TimedProfile, type ProfileParams } from "../lib/profile.js";
import { collect } from "../lib/stats.js";

/** The three setups compared. */
export type Setup = "none" | "noop" | "sdk";

export interface OtelParams extends ProfileParams {
  setup: Setup;
  scenario: "enqueue" | "drain";
  jobs: number;
  concurrency: number;
}

export interface OtelResult {
  rate: number;
  ms: number;
}

/** One small argument, an empty perform. */
class NoopJob extends Job<[n: number], void> {
  async perform(_n: number): Promise<void> {}
}

async function instrumentationFor(setup: Setup): Promise<Instrumentation[]> {
  if (setup === "none") return [];
  const { errandInstrumentation } = await import("@errand/opentelemetry");
  if (setup === "sdk") {
    const { context, metrics, propagation, trace } = await import("@opentelemetry/api");
    const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
    const { W3CTraceContextPropagator, ExportResultCode } = await import("@opentelemetry/core");
    const { BasicTracerProvider, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
    const { MeterProvider } = await import("@opentelemetry/sdk-metrics");
    const dropAll = { export: (_spans: unknown[], done: (result: { code: number }) => void) => done({ code: ExportResultCode.SUCCESS }), shutdown: async () => {} };
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropAll, { maxQueueSize: 4096, scheduledDelayMillis: 200 })] }));
    metrics.setGlobalMeterProvider(new MeterProvider());
  }
  return [errandInstrumentation()];
}

function runtimeFor(instrumentation: Instrumentation[]): Runtime {
  // An empty list is left out: the `none` setup then runs on a core from before the seam too.
  return configure({ app: "bench", adapter: "async", worker: { embedded: false }, ...(instrumentation.length > 0 ? { instrumentation } : {}) } as Parameters<typeof configure>[0]);
}

async function enqueueBulk(total: number): Promise<void> {
  for (let start = 0; start < total; start += 1000) {
    const jobs: NoopJob[] = [];
    for (let i = start; i < Math.min(total, start + 1000); i++) jobs.push(new NoopJob(i));
    await performAllLater(jobs);
  }
}

async function drain(runtime: Runtime, jobs: number, concurrency: number, profiler?: TimedProfile): Promise<number> {
  await enqueueBulk(jobs);
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const off = runtime.events.on("job:complete", () => {
    if (++done === jobs) finished();
  });
  collect();
  await profiler?.start();
  const started = performance.now();
  const worker = new Worker({ runtime, concurrency });
  await worker.start();
  await all;
  const ms = performance.now() - started;
  await profiler?.stop();
  off();
  await worker.stop();
  return ms;
}

/** Runs one measurement: a warm-up on a throwaway runtime, then the timed part on a fresh one. */
export async function runScenario(params: OtelParams): Promise<OtelResult> {
  const instrumentation = await instrumentationFor(params.setup);
  const warm = runtimeFor(instrumentation);
  if (params.scenario === "enqueue") await enqueueBulk(Math.min(10_000, params.jobs));
  else await drain(warm, Math.min(10_000, params.jobs), params.concurrency);
  await warm.close();
  const runtime = runtimeFor(instrumentation);
  await runtime.adapterFor();
  const profiler = new TimedProfile(params);
  let ms: number;
  if (params.scenario === "enqueue") {
    collect();
    await profiler.start();
    const started = performance.now();
    await enqueueBulk(params.jobs);
    ms = performance.now() - started;
    await profiler.stop();
  } else {
    ms = await drain(runtime, params.jobs, params.concurrency, profiler);
  }
  await runtime.close();
  return { rate: (params.jobs / ms) * 1000, ms };
}
