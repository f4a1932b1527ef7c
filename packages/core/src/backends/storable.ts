/**
 * What an adapter can store, decided before anything is sent: a transaction, a delay past
 * `maxDelayMs`, a priority without `priorities` or past `maxPriority`, headers an
 * instrumentation wrote, a batch, an ordering group, flow control and the payload's size are each
 * checked against the adapter's `capabilities` and refused with an `UnsupportedError`
 * naming the job and the capability it lacks (with the adapter's note on why that
 * capability is off, when it gives one).
 *
 * @module
 */
import { UnsupportedError } from "../errors.js";
import { checkBatchMembership, checkHeaders } from "../wire-format.js";
import type { Adapter, AdapterCapabilities, JobPayload } from "../adapter/contract.js";

/** The adapter whose capabilities are checked, as `AdapterClient` holds it. */
export interface StorableTarget {
  /** The adapter's name, for messages. */
  readonly name: string;
  /** Its capabilities, read once. */
  readonly capabilities: AdapterCapabilities;
  /** The adapter itself, for its notes on capabilities it lacks. */
  readonly adapter: Pick<Adapter, "capabilityNotes">;
}

/**
 * The capability an adapter lacks to store `priority`: `"priorities"` (it has none, and the
 * priority is not 0), `"maxPriority"` (beyond ±maxPriority), or `undefined` when it fits.
 * One decision for the priority a job is enqueued at and the one its retry rules name.
 */
export function unstorablePriority(priority: number, capabilities: AdapterCapabilities): "priorities" | "maxPriority" | undefined {
  if (priority !== 0 && !capabilities.priorities) return "priorities";
  if (Math.abs(priority) > capabilities.maxPriority) return "maxPriority";
  return undefined;
}

/**
 * Why something `capability` would allow is refused: "the <name> adapter <what>
 * (capability <capability>)", with the adapter's note on that capability when it has one.
 */
export function lacksCapability(target: StorableTarget, capability: keyof AdapterCapabilities, what: string): string {
  const note = target.adapter.capabilityNotes?.[capability];
  return `the ${target.name} adapter ${what} (capability ${capability})${note ? `: ${note}` : ""}`;
}

/**
 * Refuses what the adapter cannot store: `payloads` enqueued inside `transaction`
 * (`undefined` for none).
 * @throws UnsupportedError naming the job and the capability it lacks.
 */
export function checkStorable(target: StorableTarget, payloads: readonly JobPayload[], transaction: unknown): void {
  const { name, capabilities: caps } = target;
  if (transaction !== undefined && !caps.transactionalEnqueue) {
    const note = target.adapter.capabilityNotes?.transactionalEnqueue;
    throw new UnsupportedError(
      `the ${name} adapter cannot enqueue inside your transaction (capability transactionalEnqueue${note ? `: ${note}` : ""}); enqueue after commit instead`,
    );
  }
  const now = Date.now();
  for (const payload of payloads) {
    if (caps.maxDelayMs !== Infinity) {
      const delay = Date.parse(payload.runAt) - now;
      if (delay > caps.maxDelayMs) {
        throw new UnsupportedError(`${payload.job}: a wait of ${delay} ms is longer than the ${name} adapter allows (maxDelayMs ${caps.maxDelayMs})`);
      }
    }
    const lacking = unstorablePriority(payload.priority, caps);
    if (lacking === "priorities") {
      throw new UnsupportedError(`${payload.job}: the ${name} adapter does not support priorities (capability priorities)`);
    }
    if (lacking === "maxPriority") {
      throw new UnsupportedError(
        `${payload.job}: priority ${payload.priority} is outside what the ${name} adapter stores (capability maxPriority: -${caps.maxPriority} to ${caps.maxPriority})`,
      );
    }
    // Written by an instrumentation's enqueue hook: refused here rather than dead at reserve.
    if (payload.headers !== undefined) checkHeaders(payload.headers);
    if (payload.batch !== undefined) {
      if (!caps.batches) throw new UnsupportedError(`${payload.job}: ${lacksCapability(target, "batches", "does not support batches")}`);
      checkBatchMembership(payload.batch);
    }
    if (payload.group !== undefined && !caps.groups) {
      throw new UnsupportedError(`${payload.job}: the ${name} adapter does not support ordering groups (capability groups); set({ group }) needs SQS FIFO queues`);
    }
    const flow = payload.flow;
    if (flow) {
      const lacks = (what: string, capability: keyof AdapterCapabilities) =>
        new UnsupportedError(`${payload.job}: ${lacksCapability(target, capability, `does not support ${what}`)}`);
      if (flow.unique && !caps.unique) throw lacks("unique jobs", "unique");
      if (flow.concurrency && !caps.concurrencyLimits) throw lacks("concurrency limits", "concurrencyLimits");
      if (flow.rateLimit && !caps.rateLimits) throw lacks("rate limits", "rateLimits");
      if (flow.recurring && !caps.recurring) throw lacks("recurring tasks", "recurring");
    }
    if (caps.maxPayloadBytes !== Infinity) {
      const size = Buffer.byteLength(JSON.stringify(payload));
      if (size > caps.maxPayloadBytes) {
        throw new UnsupportedError(
          `${payload.job}: the payload is ${size} bytes, over the ${name} adapter's limit of ${caps.maxPayloadBytes}; pass references (models, ids) instead of data`,
        );
      }
    }
  }
}
