/**
 * Flow control on SQS (`FlowControl`: unique, concurrency, rate limits, recurring ticks),
 * decided by a shared status store's `flow` (`StatusStoreFlow`) while SQS holds the messages.
 *
 * The store and SQS are two systems with no common transaction, so each move of a body
 * between them is recorded in the store first and confirmed after:
 *
 * - **enqueue** (unique / recurring): `claim` decides duplicates and keeps the body as a
 *   pending send → SendMessageBatch → `confirm`. A send SQS refused or that failed is
 *   `undo`ne (the job was not enqueued: the caller gets the error). A process that dies
 *   between the claim and the confirm leaves the pending send behind: after
 *   `claimTimeoutMs` (30 s by default) the upkeep of any adapter on the store takes it over
 *   and sends it. 30 s because a live sender must have finished by then: a SendMessageBatch
 *   answers in tens of ms, and the SDK's three attempts with backoff take a few seconds, so a
 *   takeover doubles a send only for a process stalled that long; a shorter bound doubles more,
 *   a longer one delays a crashed process's jobs more.
 * - **reserve** (concurrency / rate limit): received messages with either go to `acquire`.
 *   Leased: handed out. Parked: the store now keeps the body, and the message is deleted
 *   (a copy received again is deleted too); when a slot frees, the body comes back as a
 *   pending send, sent and confirmed like a claim. Deferred: the message is hidden until the
 *   allowed time (ChangeMessageVisibility), or, on a standard queue whose message is near
 *   its `maxReceiveCount`, sent again with that delay and the received copy deleted (each
 *   receive counts toward the redrive to the dead-letter queue).
 * - **extendLease** extends the slot with the visibility timeout; **settle** releases it (and
 *   lets one parked job of the key go), and lets a finished job's unique lock expire.
 * - **upkeep** (at most every `sweepEveryMs`, from `reserve`, in the background): `sweep`
 *   hands over pending sends older than the bound and lets parked jobs go where slots are
 *   free (a process that died holding slots).
 *
 * Where only at-least-once remains (a job may run twice, never zero times): a pending send
 * whose sender stalled past the bound, or whose confirm failed, is sent twice (FIFO queues
 * collapse the two: the deduplication id is `<id>-<token>`, stable per pending entry, within
 * SQS's 5-minute window); a send that failed in a way that leaves SQS's answer unknown (a
 * timeout) is undone though SQS may hold it, and then runs without its lock; a parked
 * message whose delete failed is recognised by its message id and deleted when seen again.
 *
 * @module
 */
import type { FlowDecision, FlowPending, JobPayload, Reservation, StatusStoreFlow } from "@errand/core/adapter";

import { handleOf, type Handle } from "./attributes.js";
import { MAX_DELAY_SECONDS, MAX_VISIBILITY_SECONDS } from "./limits.js";
import type { QueueMap, SqsQueue } from "./queues.js";
import type { OutgoingMessage, Sender } from "./sending.js";

/** Pending sends and parked keys handled per upkeep pass. */
const SWEEP_LIMIT = 100;

/** What the flow needs of its adapter. */
export interface SqsFlowOptions {
  flow: StatusStoreFlow;
  sender: Sender;
  queues: QueueMap;
  fifo: boolean;
  /** Receives after which SQS's redrive moves a message to the dead-letter queue. */
  maxReceiveCount: number;
  /** How long a pending send may stay unconfirmed before another process sends it. */
  claimTimeoutMs: number;
  /**
   * Of swept pending sends, those whose message evidently reached SQS already (a batch's
   * callback whose status shows it delivered: `batches.ts`): confirmed, not sent again.
   */
  delivered?: (pendings: readonly FlowPending[]) => Promise<Set<string>>;
}

/** A claimed enqueue as the adapter sends it. */
export interface ClaimedSend {
  message: OutgoingMessage;
  pending: FlowPending;
}

/** Flow control for one SQS adapter; see the module notes. */
export class SqsFlow {
  private lastSweep = 0;
  private sweeping: Promise<void> | undefined;
  /** The last upkeep pass's error, until a reserve reports it. */
  private failure: unknown;
  /** How often the upkeep runs: often enough that a pending send waits little past the bound. */
  readonly sweepEveryMs: number;

  constructor(private readonly options: SqsFlowOptions) {
    this.sweepEveryMs = Math.min(5_000, Math.max(50, Math.floor(options.claimTimeoutMs / 2)));
  }

  /** The store's flow. */
  get store(): StatusStoreFlow {
    return this.options.flow;
  }

  /** The message of a pending send: FIFO deduplication by entry, group from the body. */
  message(pending: FlowPending): OutgoingMessage {
    let payload: JobPayload;
    try {
      payload = JSON.parse(pending.body) as JobPayload;
    } catch {
      payload = { id: pending.id, job: "", executions: 0 } as JobPayload;
    }
    return { payload, body: pending.body, runAtMs: pending.runAtMs, deduplicationId: `${pending.id}-${pending.token}` };
  }

  /**
   * Sends pending sends (parked jobs let go, sends taken over) and confirms those SQS took.
   * A failure leaves the rest pending: the upkeep sends them after the bound. Never throws.
   */
  async send(pendings: readonly FlowPending[]): Promise<void> {
    if (pendings.length === 0) return;
    const byQueue = new Map<string, FlowPending[]>();
    for (const pending of pendings) byQueue.set(pending.queue, [...(byQueue.get(pending.queue) ?? []), pending]);
    await Promise.all(
      [...byQueue].map(async ([name, group]) => {
        let sent = group;
        try {
          const queue = await this.options.queues.get(name);
          await this.options.sender.send(queue.url, group.map((pending) => this.message(pending)));
        } catch (error) {
          const refused = new Set((error as { refusedIds?: string[] }).refusedIds ?? group.map((pending) => pending.id));
          sent = group.filter((pending) => !refused.has(pending.id));
        }
        await this.options.flow.confirm(sent.map(({ id, token }) => ({ id, token }))).catch(() => undefined);
      }),
    );
  }

  /**
   * Asks the store about received deliveries with concurrency or rate flow; returns those
   * to hand out (the others are leased as they came). Parked messages are deleted, deferred
   * ones hidden until their time. A delivery whose message could not be dealt with is
   * given back (hidden for the lease, then received again and decided again).
   */
  async admit(queue: SqsQueue, reservations: Reservation[], leaseMs: number, flows: Map<Reservation, NonNullable<JobPayload["flow"]>>): Promise<Reservation[]> {
    const asked = reservations.filter((r) => {
      const flow = flows.get(r);
      return flow !== undefined && (flow.concurrency !== undefined || flow.rateLimit !== undefined);
    });
    if (asked.length === 0) return reservations;
    const decisions = await this.options.flow.acquire(
      asked.map((r) => {
        const flow = flows.get(r)!;
        const { jobId, receipt } = handleOf(r);
        return {
          id: jobId!,
          lease: receipt,
          leaseMs,
          message: r.providerJobId,
          queue: queue.name,
          body: r.body,
          ...(flow.concurrency ? { concurrency: flow.concurrency } : {}),
          ...(flow.rateLimit ? { rateLimit: flow.rateLimit } : {}),
        };
      }),
    );
    const decided = new Map<Reservation, FlowDecision>(asked.map((r, i) => [r, decisions[i]!]));
    const parked: Reservation[] = [];
    const deferred: { reservation: Reservation; untilMs: number }[] = [];
    const out: Reservation[] = [];
    for (const reservation of reservations) {
      const decision = decided.get(reservation);
      if (!decision || decision.outcome === "leased") out.push(reservation);
      else if (decision.outcome === "parked") parked.push(reservation);
      else deferred.push({ reservation, untilMs: decision.untilMs });
    }
    await Promise.all([this.dropParked(queue, parked), this.defer(queue, deferred)]);
    return out;
  }

  /** Deletes the messages of parked jobs (their bodies are in the store now). */
  private async dropParked(queue: SqsQueue, parked: readonly Reservation[]): Promise<void> {
    if (parked.length === 0) return;
    // A message not deleted now is received again later, recognised, and deleted then.
    await this.options.sender
      .delete(queue.url, parked.map((r) => ({ receipt: handleOf(r).receipt, jobId: handleOf(r).jobId ?? r.providerJobId })))
      .catch(() => undefined);
  }

  /** Hides deferred messages until their time (or re-sends them delayed, near the redrive count). */
  private async defer(queue: SqsQueue, deferred: readonly { reservation: Reservation; untilMs: number }[]): Promise<void> {
    if (deferred.length === 0) return;
    const now = Date.now();
    const hide: { receipt: string; seconds: number }[] = [];
    const resend: { reservation: Reservation; untilMs: number }[] = [];
    for (const item of deferred) {
      const seconds = Math.max(1, Math.ceil((item.untilMs - now) / 1000));
      const nearRedrive = (item.reservation.deliveries ?? 1) >= this.options.maxReceiveCount - 1;
      if (nearRedrive && !this.options.fifo && seconds <= MAX_DELAY_SECONDS) resend.push(item);
      else hide.push({ receipt: handleOf(item.reservation).receipt, seconds: Math.min(MAX_VISIBILITY_SECONDS - 60, seconds) });
    }
    const jobOf = (r: Reservation) => ({ id: handleOf(r).jobId ?? r.providerJobId, job: "", executions: 0 }) as JobPayload;
    await Promise.all([
      this.options.sender.changeVisibility(queue.url, hide).catch(() => undefined),
      resend.length === 0
        ? undefined
        : this.options.sender
            .send(queue.url, resend.map(({ reservation, untilMs }) => ({ payload: jobOf(reservation), body: reservation.body, runAtMs: untilMs })))
            .then(() => this.options.sender.delete(queue.url, resend.map(({ reservation }) => ({ receipt: handleOf(reservation).receipt, jobId: jobOf(reservation).id }))))
            .catch(() => undefined),
    ]);
  }

  /**
   * Extends the slots of these reservations (those holding one) to `leaseMs` from now.
   * Returns the reservations whose slot was lost (it ended: another job may hold it now), for
   * the adapter to report their leases lost and leave their visibility alone. Without
   * concurrency slots it asks nothing and returns none.
   */
  async extend<R extends Reservation>(reservations: readonly R[], leaseMs: number): Promise<R[]> {
    const held = reservations.flatMap((r) => {
      const { jobId, flow } = handleOf(r);
      return jobId && flow?.concurrency ? [{ reservation: r, id: jobId, concurrencyKey: flow.concurrency }] : [];
    });
    if (held.length === 0) return [];
    const lost = new Set(await this.options.flow.extend(held.map(({ id, concurrencyKey }) => ({ id, concurrencyKey })), leaseMs));
    return held.filter((h) => lost.has(h.id)).map((h) => h.reservation);
  }

  /**
   * Current settled deliveries: frees their slots, lets a finished job's unique lock expire,
   * and sends the parked jobs let go. Deliveries without flow cost nothing.
   */
  async release(settled: readonly { reservation: Reservation; outcome: string }[]): Promise<void> {
    const items = settled.flatMap(({ reservation, outcome }) => {
      const { jobId, flow }: Handle = handleOf(reservation);
      if (!jobId || !flow) return [];
      const finished = outcome === "succeeded" || outcome === "failed" || outcome === "dead";
      const item = { id: jobId, ...(flow.concurrency ? { concurrencyKey: flow.concurrency } : {}), ...(finished && flow.unique ? { uniqueKey: flow.unique } : {}) };
      return item.concurrencyKey || "uniqueKey" in item ? [item] : [];
    });
    if (items.length === 0) return;
    await this.send(await this.options.flow.release(items));
  }

  /**
   * Runs the upkeep in the background when it is due; one pass at a time. A pass that
   * failed (the store unreachable, its data damaged) is tried again at the next one, and
   * its error is thrown here once, so the reserve calling this fails and the worker reports
   * it (`worker:error`) and goes on: a sweep that keeps failing must not go unseen, since
   * it is what sends the jobs of a process that died between the store and SQS.
   */
  upkeep(): void {
    const failure = this.failure;
    if (failure !== undefined) {
      this.failure = undefined;
      throw new Error(`sqs adapter: the flow-control upkeep (the status store's sweep) failed: ${(failure as Error)?.message ?? String(failure)}`, { cause: failure });
    }
    const now = Date.now();
    if (this.sweeping || now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    this.sweeping = this.sweepOnce()
      .catch((error: unknown) => {
        this.failure = error;
      })
      .finally(() => (this.sweeping = undefined));
  }

  /** One upkeep pass, awaited. */
  async sweepOnce(): Promise<void> {
    const swept = await this.options.flow.sweep({ claimTimeoutMs: this.options.claimTimeoutMs, limit: SWEEP_LIMIT });
    const delivered = this.options.delivered && swept.length > 0 ? await this.options.delivered(swept) : new Set<string>();
    if (delivered.size > 0) {
      await this.options.flow.confirm(swept.filter((p) => delivered.has(p.id)).map(({ id, token }) => ({ id, token })));
    }
    await this.send(swept.filter((p) => !delivered.has(p.id)));
  }

  /** Resolves when a running upkeep pass has ended. */
  async idle(): Promise<void> {
    await this.sweeping;
  }
}

