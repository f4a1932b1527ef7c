/**
 * `errandInstrumentation()`: Errand's enqueues and performs as OpenTelemetry spans and
 * metrics, through `@errand/core`'s instrumentation seam and `@opentelemetry/api` only (the
 * app installs and starts the SDK; without one, the API's no-ops make this nearly free).
 *
 * Spans follow the messaging semantic conventions:
 *
 * - one job enqueued: a PRODUCER span `send <queue>`, its context injected into the
 *   payload's `headers` (W3C `traceparent`, with the propagator the app set up);
 * - several jobs in one call (`performAllLater`): a PRODUCER `create <queue>` span per job,
 *   ended at once, whose context each payload carries, and one CLIENT `send` span for the
 *   call, linked to each of them;
 * - each run of a job: a CONSUMER span `process <queue>`, whose parent is the context the
 *   payload carries (one request → enqueue → perform is one trace) and which also links to
 *   it, as the conventions require of process spans. `parent: "link"` leaves the parent out
 *   (each run its own trace, linked), for apps whose jobs outlive their requests by days.
 *
 * Through the outbox (docs/transactions-outbox.md) a job is made at the write, in the app's
 * transaction (core calls the hook with `outbox: true`): its PRODUCER span (`send`, or a
 * `create` each in a batch) is made there, in the request's trace, marked
 * `errand.job.outbox`, and its context stored with the row. The relay's enqueue, later and
 * elsewhere, gets payloads that carry a `traceparent` already: they keep it (a value never
 * changes on its way through a queue), no creation span is made again, and the relay's
 * CLIENT `send` span links to each job's creation (one job: its child as well). The sent
 * counter counts a job there, when the backend has it; not at the write, which a rollback
 * undoes.
 *
 * @module
 */
import {
  context as contextApi,
  createNoopMeter,
  INVALID_TRACEID,
  metrics,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type MeterProvider,
  type Span,
  type SpanContext,
  type TracerProvider,
} from "@opentelemetry/api";
// The module binding, not the global: Node's `globalThis.performance` is a getter that ran
// on every read (~350 ns each, two per run: a micro-benchmark on a loaded 2-core machine).
import { performance } from "node:perf_hooks";

import type { EnqueueContext, EnqueueScope, Instrumentation, PerformContext, PerformOutcome, PerformScope } from "@errand/core";
import type { JobPayload } from "@errand/core/adapter";

import { createMetrics, type ErrandMetrics } from "./metrics.js";
import * as names from "./names.js";

/** Options of {@link errandInstrumentation}. */
export interface ErrandInstrumentationOptions {
  /** Where spans go. Default: the global provider (`trace.setGlobalTracerProvider`, or the NodeSDK's). */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global provider in force when this is called (register the SDK first). */
  meterProvider?: MeterProvider;
  /**
   * The process span's parent: `"producer"` (default), the context the job carries, so a
   * request and its jobs are one trace; `"link"`, none (a new trace per run), linked to it.
   */
  parent?: "producer" | "link";
}

const OPTION_KEYS = new Set(["tracerProvider", "meterProvider", "parent"]);
const SCOPE_NAME = "@errand/opentelemetry";

/**
 * Whether a span has a real context (an SDK made it, or it continues a carried one). The
 * API's `isSpanContextValid` runs two regular expressions (~320 ns); a span context is
 * either made by the SDK, valid by construction, or the no-op's all-zero one.
 */
function hasContext(span: Span): boolean {
  return span.spanContext().traceId !== INVALID_TRACEID;
}

// The last `runAt` parsed and its time: jobs enqueued together share it, and `Date.parse`
// of an ISO string took ~1.3 µs per run (a micro-benchmark on a loaded 2-core machine).
let lastRunAt = "";
let lastRunAtMs = Number.NaN;

function runAtMs(runAt: string): number {
  if (runAt !== lastRunAt) {
    lastRunAt = runAt;
    lastRunAtMs = Date.parse(runAt);
  }
  return lastRunAtMs;
}

/** The class name of what was thrown (`error.type`): a subclass that keeps the name `Error` still reads as itself. */
function errorType(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const constructorName = (error.constructor as { name?: string } | undefined)?.name;
  return error.name === "Error" && constructorName ? constructorName : error.name;
}

function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  else span.recordException(String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  span.setAttribute(names.ATTR_ERROR_TYPE, errorType(error));
}

function messageAttributes(operation: string, payload: JobPayload, adapter: string): Attributes {
  return {
    [names.ATTR_MESSAGING_SYSTEM]: names.MESSAGING_SYSTEM,
    [names.ATTR_OPERATION_TYPE]: operation,
    [names.ATTR_OPERATION_NAME]: operation,
    [names.ATTR_DESTINATION]: payload.queue,
    [names.ATTR_MESSAGE_ID]: payload.id,
    [names.ATTR_JOB_CLASS]: payload.job,
    [names.ATTR_ADAPTER]: adapter,
  };
}

/** Metric attributes: bounded values only (no job id). */
function metricAttributes(operation: string, payload: JobPayload, adapter: string): Attributes {
  return {
    [names.ATTR_MESSAGING_SYSTEM]: names.MESSAGING_SYSTEM,
    [names.ATTR_OPERATION_NAME]: operation,
    [names.ATTR_DESTINATION]: payload.queue,
    [names.ATTR_JOB_CLASS]: payload.job,
    [names.ATTR_ADAPTER]: adapter,
  };
}

/** The metric attributes of one (adapter, queue, job class): made once, shared by every job of it. */
interface AttributeSet {
  sent: Attributes;
  process: Attributes;
  /** By outcome, without `error.type`. */
  finished: Record<PerformOutcome["outcome"], Attributes>;
}

/**
 * Attribute objects by adapter, queue and job class. Built per job they were five objects
 * and two spreads of garbage for every run, SDK or not; cached, a run that succeeds
 * allocates none for its metrics. The number of (adapter, queue, class) triples is the
 * metrics' own cardinality, so the cache grows no further than the series do.
 */
class AttributeCache {
  // adapter → queue → job class: nested maps, so a lookup builds no key string.
  private readonly sets = new Map<string, Map<string, Map<string, AttributeSet>>>();

  get(payload: JobPayload, adapter: string): AttributeSet {
    let byQueue = this.sets.get(adapter);
    if (byQueue === undefined) this.sets.set(adapter, (byQueue = new Map()));
    let byClass = byQueue.get(payload.queue);
    if (byClass === undefined) byQueue.set(payload.queue, (byClass = new Map()));
    let set = byClass.get(payload.job);
    if (set === undefined) {
      const process = metricAttributes("process", payload, adapter);
      const finished = (outcome: string) => ({ ...process, [names.ATTR_OUTCOME]: outcome });
      set = {
        sent: metricAttributes("send", payload, adapter),
        process,
        finished: { succeeded: finished("succeeded"), retry: finished("retry"), discarded: finished("discarded"), dead: finished("dead") },
      };
      byClass.set(payload.job, set);
    }
    return set;
  }
}

/**
 * Writes the context of `span` (a child of `active`) into the payload's headers, unless the
 * payload carries a trace context already. With no SDK (an invalid span context) and no
 * baggage there is nothing to carry, and no context is built for it.
 */
function carry(payload: JobPayload, active: Context, span: Span): void {
  if (payload.headers?.traceparent !== undefined) return;
  if (!hasContext(span) && propagation.getBaggage(active) === undefined) return;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(active, span), carrier);
  // A propagator may still write nothing (none registered), and the payload stays as it was.
  for (const key in carrier) {
    payload.headers = { ...payload.headers, ...carrier };
    return;
  }
}

/**
 * The creation context a payload carries already (a job relayed from the outbox, made in
 * another context), or `undefined`. Checked first by the header, so a payload made here
 * pays one property read.
 */
function carriedSpanContext(payload: JobPayload): SpanContext | undefined {
  if (payload.headers?.traceparent === undefined) return undefined;
  return trace.getSpanContext(propagation.extract(ROOT_CONTEXT, payload.headers));
}

/**
 * Errand's OpenTelemetry instrumentation: register it in the config
 * (`instrumentation: [errandInstrumentation()]`) or on a runtime
 * (`runtime.instrument(errandInstrumentation())`), after the OpenTelemetry SDK is set up.
 * @throws TypeError for an unknown option or a `parent` other than `"producer"` or `"link"`.
 */
export function errandInstrumentation(options: ErrandInstrumentationOptions = {}): Instrumentation {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError(`errandInstrumentation(): unknown option "${key}" (known: ${[...OPTION_KEYS].join(", ")})`);
  }
  const parentMode = options.parent ?? "producer";
  if (parentMode !== "producer" && parentMode !== "link") {
    throw new TypeError(`errandInstrumentation(): option "parent" must be "producer" or "link", got ${JSON.stringify(parentMode)}`);
  }
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE_NAME);
  const meters: ErrandMetrics = createMetrics((options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME));
  const cache = new AttributeCache();
  // The API's no-op meter hands out one shared instrument of each kind: with it (no metrics
  // SDK when this was called), a run or enqueue whose span has no context either has nothing
  // to record, and the hooks return no scope, so core skips them.
  const noMetrics = meters.sent === createNoopMeter().createCounter(names.METRIC_SENT);

  /** A span, its attributes set only when it records (no SDK, or sampled out: nothing built). */
  function startSpan(name: string, kind: SpanKind, parent: Context, attributes: () => Attributes, links?: Link[]): Span {
    const span = tracer.startSpan(name, links === undefined ? { kind } : { kind, links }, parent);
    if (span.isRecording()) span.setAttributes(attributes());
    return span;
  }

  function enqueue({ adapter, payloads, outbox }: EnqueueContext): EnqueueScope | undefined {
    const active = contextApi.active();
    const marked = outbox === true ? (attributes: Attributes) => ({ ...attributes, [names.ATTR_OUTBOX]: true }) : (attributes: Attributes) => attributes;
    const single = payloads.length === 1 ? payloads[0]! : undefined;
    const singleCarried = single === undefined ? undefined : carriedSpanContext(single);
    let span: Span;
    if (single !== undefined && singleCarried === undefined) {
      span = startSpan(`send ${single.queue}`, SpanKind.PRODUCER, active, () => marked(messageAttributes("send", single, adapter)));
      carry(single, active, span);
    } else {
      // A batch, or a job made elsewhere (relayed from the outbox): a creation span for each
      // job made here, and a CLIENT send linked to every job's creation, made here or not.
      const links: Link[] = [];
      for (const payload of payloads) {
        const carried = payload === single ? singleCarried : carriedSpanContext(payload);
        if (carried !== undefined) {
          links.push({ context: carried });
          continue;
        }
        const create = startSpan(`create ${payload.queue}`, SpanKind.PRODUCER, active, () => marked(messageAttributes("create", payload, adapter)));
        carry(payload, active, create);
        if (hasContext(create)) links.push({ context: create.spanContext() });
        create.end();
      }
      const queue = payloads[0]?.queue;
      const oneQueue = queue !== undefined && payloads.every((payload) => payload.queue === queue);
      // One relayed job: its send is also the child of its creation, in its trace.
      const parent = singleCarried === undefined ? active : trace.setSpanContext(active, singleCarried);
      span = startSpan(oneQueue ? `send ${queue}` : "send", SpanKind.CLIENT, parent, () => marked({
        [names.ATTR_MESSAGING_SYSTEM]: names.MESSAGING_SYSTEM,
        [names.ATTR_OPERATION_TYPE]: "send",
        [names.ATTR_OPERATION_NAME]: "send",
        [names.ATTR_BATCH_COUNT]: payloads.length,
        [names.ATTR_ADAPTER]: adapter,
        ...(oneQueue ? { [names.ATTR_DESTINATION]: queue } : {}),
        ...(single !== undefined ? { [names.ATTR_MESSAGE_ID]: single.id, [names.ATTR_JOB_CLASS]: single.job } : {}),
      }), links);
    }
    if (noMetrics && !hasContext(span)) return undefined;
    if (outbox === true) {
      // Written to the outbox: counted as sent when the relay has stored it in the backend.
      return {
        end(outcome) {
          if (outcome.results === undefined) failSpan(span, outcome.error);
          span.end();
        },
      };
    }
    return {
      end(outcome) {
        if (outcome.results === undefined) {
          failSpan(span, outcome.error);
          const type = errorType(outcome.error);
          for (const payload of payloads) meters.sent.add(1, { ...cache.get(payload, adapter).sent, [names.ATTR_ERROR_TYPE]: type });
        } else {
          const { results } = outcome;
          if (payloads.length === 1) span.setAttribute(names.ATTR_DUPLICATE, results[0]?.duplicate === true);
          payloads.forEach((payload, index) => {
            if (results[index]?.duplicate !== true) meters.sent.add(1, cache.get(payload, adapter).sent);
          });
        }
        span.end();
      },
    };
  }

  function perform({ adapter, payload, attempt, workerId }: PerformContext): PerformScope | undefined {
    const carried = payload.headers === undefined ? undefined : propagation.extract(ROOT_CONTEXT, payload.headers);
    const creation = carried === undefined ? undefined : trace.getSpanContext(carried);
    // Without a carried context the run belongs to whatever is active (the inline adapter: the request).
    const parent = creation === undefined ? contextApi.active() : parentMode === "producer" ? carried! : ROOT_CONTEXT;
    const span = startSpan(
      `process ${payload.queue}`,
      SpanKind.CONSUMER,
      parent,
      () => ({ ...messageAttributes("process", payload, adapter), [names.ATTR_ATTEMPT]: attempt, [names.ATTR_WORKER]: workerId }),
      creation === undefined ? undefined : [{ context: creation }],
    );
    // Nothing records this run (no SDK): no scope, and core runs the job as if unhooked.
    if (noMetrics && !hasContext(span)) return undefined;
    const attributes = cache.get(payload, adapter);
    const startedAt = performance.now();
    meters.consumed.add(1, attributes.process);
    const runAt = runAtMs(payload.runAt);
    if (!Number.isNaN(runAt)) meters.queueLatency.record(Math.max(0, Date.now() - runAt) / 1000, attributes.process);
    // Nothing to make active when no SDK traces (an invalid context): the run then pays no context switch.
    const active = hasContext(span) ? trace.setSpan(parent, span) : undefined;
    return {
      run: active === undefined ? undefined : (fn) => contextApi.with(active, fn),
      end(ended: PerformOutcome) {
        const seconds = (performance.now() - startedAt) / 1000;
        const finished = attributes.finished[ended.outcome];
        if (ended.outcome === "succeeded") {
          if (span.isRecording()) span.setAttribute(names.ATTR_OUTCOME, "succeeded");
          meters.duration.record(seconds, finished);
        } else {
          span.setAttribute(names.ATTR_OUTCOME, ended.outcome);
          failSpan(span, ended.error);
          const failed = { ...finished, [names.ATTR_ERROR_TYPE]: errorType(ended.error) };
          if (ended.outcome === "retry") {
            span.addEvent(names.EVENT_RETRY, { [names.ATTR_RETRY_AT]: ended.runAt.toISOString(), [names.ATTR_ATTEMPT]: attempt + 1 });
          } else {
            span.addEvent(ended.outcome === "dead" ? names.EVENT_DEAD : names.EVENT_DISCARD);
          }
          meters.duration.record(seconds, failed);
          meters.failed.add(1, failed);
        }
        meters.finished.add(1, finished);
        span.end();
      },
    };
  }

  return { name: SCOPE_NAME, enqueue, perform };
}
