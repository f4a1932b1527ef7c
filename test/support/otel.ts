/**
 * The OpenTelemetry SDK as a test sets it up: spans in an InMemorySpanExporter (exported as
 * each ends), metrics collected on demand, the AsyncLocalStorage context manager and the
 * W3C propagator registered globally (the API's globals: one setup per test file).
 */
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A reader that collects when asked. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The SDK of one test file. */
export interface TestTelemetry {
  exporter: InMemorySpanExporter;
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  /** Finished spans so far. */
  spans(): ReadableSpan[];
  /** Sum of a counter's points whose attributes include `match`. */
  count(name: string, match?: Record<string, unknown>): Promise<number>;
  /** Number of values a histogram recorded under attributes including `match`. */
  recorded(name: string, match?: Record<string, unknown>): Promise<number>;
  shutdown(): Promise<void>;
}

function matches(attributes: Record<string, unknown>, match: Record<string, unknown>): boolean {
  return Object.entries(match).every(([key, value]) => attributes[key] === value);
}

/** Sets up the SDK and registers its globals. */
export function setupTelemetry(): TestTelemetry {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  const points = async (name: string): Promise<DataPoint<unknown>[]> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw errors[0];
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).filter((metric) => metric.descriptor.name === name).flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]);
  };
  return {
    exporter,
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    async count(name, match = {}) {
      return (await points(name)).filter((point) => matches(point.attributes, match)).reduce((sum, point) => sum + (point.value as number), 0);
    },
    async recorded(name, match = {}) {
      return (await points(name))
        .filter((point) => matches(point.attributes, match))
        .reduce((sum, point) => sum + (point.value as Histogram).count, 0);
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The span's parent span id, if any. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
