/**
 * Receiving: `reserve` on SQS, and the lifecycle of its long polls.
 *
 * A reserve first receives without waiting: several receives side by side per queue, the
 * queues in the order given, until it has `max` messages. If it found some, or may not
 * wait, it hands them out. Otherwise it long-polls every queue at once.
 *
 * A long poll is never cut off: a request abandoned mid-poll may still take messages off
 * the queue and hide them for the whole visibility timeout. So each poll goes through
 * its states whatever becomes of the reserve that started it:
 *
 * - `polling`: the ReceiveMessage call waits (at most `MAX_WAIT_SECONDS`).
 * - `delivering`: it returned. Messages received before their `errand-run-at` hop (sent
 *   again with the rest of their delay, the early copy deleted). The others go to the
 *   reserve while it still waits, or else straight back to SQS (visible at once).
 * - `done`, or `failed` (the error goes to the reserve if it still waits).
 *
 * The reserve waits until the first poll that brought messages is done, or every poll
 * ended empty, or its signal or the adapter's close aborts it, or a poll failed. Then it
 * stops waiting: polls still running are `abandoned` and finish in the background, giving
 * back whatever they bring. The next reserve first waits for abandoned polls (at most one
 * poll's wait), so the messages they give back are found there and not mistaken for an
 * empty queue. `close()` aborts every waiting reserve and waits for every poll.
 *
 * Flow control (`flow.ts`, with a shared status store): received messages of jobs with a
 * concurrency or rate limit are decided by the store before they count as received; parked
 * and deferred ones never reach `delivering`'s hand-out. The store's upkeep is started from
 * here, in the background, as workers reserve.
 *
 * Statuses: a job is recorded running (`StatusStore.started`, with the receipt handle as
 * its lease) only as its reservation goes to core. With the store's operator side that is
 * `control.deliveries`, which also answers the copies an operator voided (a cancelled job, a
 * job run now's delayed copy): those are deleted there, unrun (`control.ts`). A message given back before that never
 * reached a worker and leaves its status as it was: a stopped worker's poll that takes
 * the jobs the worker has just handed back must not show them running.
 *
 * @module
 */
import { ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { ConfigError, groupBy, type FlowControl, type JobPayload, type Reservation, type ReserveOptions, type StatusStore, type StatusStoreControl } from "@errand/core/adapter";

import { ATTRIBUTES, RUN_AT, deliveriesOf, handleOf, leasesOf, peek, peekId, withExecutions, type Handle } from "./attributes.js";
import type { SqsFlow } from "./flow.js";
import { MAX_WAIT_SECONDS, visibilitySeconds } from "./limits.js";
import type { QueueMap, SqsQueue } from "./queues.js";
import type { Sender } from "./sending.js";

/** One ReceiveMessage call: up to ten messages, hidden for `visibility` s, waiting up to `waitSeconds`. */
export async function receiveMessages(sqs: SQSClient, url: string, count: number, visibility: number, waitSeconds: number): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: Math.min(10, count),
      VisibilityTimeout: visibility,
      WaitTimeSeconds: waitSeconds,
      MessageAttributeNames: ATTRIBUTES,
      MessageSystemAttributeNames: ["ApproximateReceiveCount"],
    }),
  );
  return Messages;
}

/** What the receiver needs of its adapter. */
export interface ReceiverOptions {
  sqs: SQSClient;
  queues: QueueMap;
  sender: Sender;
  status: StatusStore;
  fifo: boolean;
  /** Receive calls in flight at once to fill one reserve. */
  receivesInFlight: number;
  /** Aborted when the adapter closes. */
  closing: AbortSignal;
  /** Flow control, with a shared status store that has it. */
  flow?: SqsFlow;
  /** The status store's operator side, when it has one: deliveries go through it (void copies). */
  control?: StatusStoreControl;
}

/** Reserves by receiving; tracks long polls (see the module notes). */
export class Receiver {
  /** Long polls in flight. */
  private readonly polls = new Set<Promise<void>>();
  /** Long polls of reserves that returned before them (stopped, or cut short by `drained()`). */
  private readonly abandoned = new Set<Promise<void>>();

  constructor(private readonly options: ReceiverOptions) {}

  async reserve({ queues, max, leaseMs, waitMs, signal }: ReserveOptions): Promise<Reservation[]> {
    if (queues === "*") throw new ConfigError("sqs adapter: name the queues to work (SQS has no cheap way to list every queue's messages)");
    const { closing } = this.options;
    const visibility = visibilitySeconds(leaseMs);
    this.options.flow?.upkeep();
    // A worker interrupted by `drained()` reserves again at once: without this wait, jobs a
    // cut-short poll took would look like an empty queue.
    if (this.abandoned.size > 0) await Promise.allSettled([...this.abandoned]);
    const reserved: Reservation[] = [];
    for (const name of queues) {
      const room = max - reserved.length;
      if (room <= 0) break;
      const queue = await this.options.queues.get(name);
      const calls = Math.min(this.options.receivesInFlight, Math.ceil(room / 10));
      const received = await Promise.all(
        Array.from({ length: calls }, (_, i) => receiveMessages(this.options.sqs, queue.url, Math.min(10, room - i * 10), visibility, 0)),
      );
      reserved.push(...(await this.accept(queue, received.flat(), visibility)));
    }
    if (reserved.length > 0 || waitMs <= 0 || signal?.aborted) return this.handOut(reserved);

    const waitSeconds = Math.min(MAX_WAIT_SECONDS, Math.max(1, Math.floor(waitMs / 1000)));
    const taken: Reservation[] = [];
    let waiting = true;
    const polls = queues.map((name) =>
      this.poll(name, Math.min(10, max), visibility, waitSeconds, async (got) => {
        if (waiting) taken.push(...got);
        else await this.giveBack(got);
      }),
    );
    let stopWaiting!: () => void;
    const aborted = new Promise<void>((resolve) => (stopWaiting = resolve));
    if (signal?.aborted) stopWaiting();
    signal?.addEventListener("abort", stopWaiting, { once: true });
    closing.addEventListener("abort", stopWaiting, { once: true });
    const first = Promise.race(polls.map((p) => p.then(() => (taken.length > 0 ? undefined : new Promise<void>(() => {})))));
    try {
      await Promise.race([Promise.all(polls), first, aborted]);
    } catch (error) {
      // A poll failed: give back what the others brought, and report the failure.
      waiting = false;
      await this.giveBack(taken.splice(0)).catch(() => undefined);
      throw error;
    } finally {
      // The adapter's own signal lives as long as it does: leave no listener per reserve on it.
      signal?.removeEventListener("abort", stopWaiting);
      closing.removeEventListener("abort", stopWaiting);
      waiting = false;
      for (const poll of polls) {
        this.abandoned.add(poll);
        // A failed poll was reported by the race (or is of no one's concern once abandoned).
        void poll.catch(() => undefined).finally(() => this.abandoned.delete(poll));
      }
    }
    const got = taken.splice(0);
    if (signal?.aborted || closing.aborted) {
      await this.giveBack(got);
      return [];
    }
    // Several queues may answer at once: hand out at most `max`, give the rest back.
    await this.giveBack(got.splice(max));
    return this.handOut(got);
  }

  /** Resolves when every long poll has ended and dealt with its messages. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.polls]);
  }

  /** One long poll and what is done with its messages, tracked so `close()` can wait for both. */
  private poll(name: string, count: number, visibility: number, waitSeconds: number, deliver: (got: Reservation[]) => Promise<void>): Promise<void> {
    const running = (async () => {
      const queue = await this.options.queues.get(name);
      await deliver(await this.accept(queue, await receiveMessages(this.options.sqs, queue.url, count, visibility, waitSeconds), visibility));
    })();
    this.polls.add(running);
    return running.finally(() => this.polls.delete(running));
  }

  /**
   * Turns received messages into reservations. A message received before its
   * `errand-run-at` hops. On FIFO queues, the body's `executions` is set from SQS's receive
   * count (a retry there keeps its message, so its body still counts the first delivery).
   * With flow control, jobs with a concurrency or rate limit are then decided by the store
   * (`SqsFlow.admit`): only leased ones come back.
   */
  private async accept(queue: SqsQueue, messages: Message[], visibility: number): Promise<Reservation[]> {
    const now = Date.now();
    let reservations: Reservation[] = [];
    const early: Message[] = [];
    const { flow } = this.options;
    const flows = new Map<Reservation, FlowControl>();
    for (const message of messages) {
      const runAt = Number(message.MessageAttributes?.[RUN_AT]?.StringValue);
      if (runAt > now + 1000) {
        early.push(message);
        continue;
      }
      let body = message.Body ?? "";
      const receives = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      if (this.options.fifo) body = withExecutions(body, receives - 1);
      const seen = peek(body);
      const handle: Handle = {
        queue,
        receipt: message.ReceiptHandle!,
        jobId: seen.id,
        receivedAt: now,
        runAt: seen.runAt ?? "",
        ...(seen.batch ? { batch: true as const } : {}),
        ...(seen.callback ? { callback: true as const } : {}),
      };
      const reservation: Reservation = { providerJobId: message.MessageId!, body, deliveries: receives, handle };
      // One field test for a job without flow control.
      if (flow && seen.flow && seen.id) {
        const { concurrency, unique } = seen.flow;
        if (concurrency || unique) handle.flow = { ...(concurrency ? { concurrency: concurrency.key } : {}), ...(unique ? { unique: unique.key } : {}) };
        flows.set(reservation, seen.flow);
      }
      reservations.push(reservation);
    }
    try {
      if (early.length > 0) await this.hop(queue, early);
      if (this.options.fifo && this.options.control) await this.latestBodies(this.options.control, reservations);
      if (flow && flows.size > 0) reservations = await flow.admit(queue, reservations, visibility * 1000, flows);
    } catch (error) {
      // The others never reach a worker: back to SQS at once, not hidden for the lease.
      await this.giveBack(reservations).catch(() => undefined);
      throw error;
    }
    return reservations;
  }

  /**
   * FIFO queues, with the store's operator side: a redelivered message (a retry keeps its
   * message there) carries its first body, while the store keeps the one core wrote at the
   * retry, with the runs before (`attempts`) and the retry rules' counters. The redelivered
   * get that body (its `executions` still raised to the receive count). One read per batch
   * that holds redeliveries; first deliveries cost nothing.
   */
  private async latestBodies(control: StatusStoreControl, reservations: readonly Reservation[]): Promise<void> {
    const again = reservations.filter((r) => (r.deliveries ?? 1) > 1 && handleOf(r).jobId !== undefined);
    if (again.length === 0) return;
    const { jobs } = await control.list({ ids: again.map((r) => handleOf(r).jobId!) });
    const bodies = new Map(jobs.map((job) => [job.id, job.body]));
    for (const reservation of again) {
      const stored = bodies.get(handleOf(reservation).jobId!);
      if (stored !== undefined && peekId(stored) === handleOf(reservation).jobId) reservation.body = withExecutions(stored, (reservation.deliveries ?? 1) - 1);
    }
  }

  /** Sends early messages again with the rest of their delay, then deletes the early copies. */
  private async hop(queue: SqsQueue, messages: Message[]): Promise<void> {
    const items = messages.map((message) => {
      const payload = { id: peekId(message.Body) ?? message.MessageId!, job: "", executions: 0 } as JobPayload;
      return { payload, body: message.Body ?? "", runAtMs: Number(message.MessageAttributes![RUN_AT]!.StringValue) };
    });
    await this.options.sender.send(queue.url, items);
    await this.options.sender.delete(
      queue.url,
      messages.map((message, i) => ({ receipt: message.ReceiptHandle!, jobId: items[i]!.payload.id })),
    );
  }

  /**
   * Records reservations as running, just before they go to core (see the module notes).
   * When the store fails, no worker gets them: they go back to SQS at once, not hidden for
   * the lease, and the error is reported. With the store's operator side, copies an operator
   * voided (a cancelled job, the delayed copy of a job run now) are deleted instead
   * (`control.ts`).
   */
  private async handOut(reservations: Reservation[]): Promise<Reservation[]> {
    const { control } = this.options;
    // Two copies of one batch callback in one hand-out (its message was sent twice: its sender
    // died before confirming, and the sweep sent it again) are not two deliveries of one
    // message: the later copies are deleted, so the callback runs once (`batches.ts`).
    const copies = laterCallbackCopies(reservations);
    if (copies.size > 0) {
      await this.dropVoided([...copies]);
      reservations = reservations.filter((r) => !copies.has(r));
    }
    let voided: Set<string> | undefined;
    try {
      if (control) {
        const deliveries = deliveriesOf(reservations);
        if (deliveries.length > 0) voided = new Set(await control.deliveries(deliveries));
      } else {
        const leases = leasesOf(reservations);
        if (leases.length > 0) await this.options.status.started(leases);
      }
    } catch (error) {
      await this.giveBack(reservations).catch(() => undefined);
      throw error;
    }
    if (!voided || voided.size === 0) return reservations;
    await this.dropVoided(reservations.filter((r) => voided.has(handleOf(r).jobId!)));
    return reservations.filter((r) => !voided.has(handleOf(r).jobId!));
  }

  /**
   * Deletes copies that must not run (voided by an operator; a callback's later copy) unrun, and frees the concurrency slots flow control gave
   * them. A delete that fails leaves the copy to come again, and be voided again.
   */
  private async dropVoided(voided: readonly Reservation[]): Promise<void> {
    await Promise.all(
      [...groupBy(voided, (r) => handleOf(r).queue)].map(([queue, group]) =>
        this.options.sender.delete(queue.url, group.map((r) => ({ receipt: handleOf(r).receipt, jobId: handleOf(r).jobId ?? r.providerJobId }))).catch(() => undefined),
      ),
    );
    const held = voided.filter((r) => handleOf(r).flow);
    if (held.length > 0) await this.options.flow?.release(held.map((reservation) => ({ reservation, outcome: "released" as const }))).catch(() => undefined);
  }

  /** Makes messages that never reached a worker visible again at once, their statuses untouched. */
  private async giveBack(reservations: readonly Reservation[]): Promise<void> {
    const byQueue = groupBy(reservations, (r) => handleOf(r).queue);
    await Promise.all(
      [...byQueue].map(([queue, group]) => this.options.sender.changeVisibility(queue.url, group.map((r) => ({ receipt: handleOf(r).receipt, seconds: 0 })))),
    );
  }
}

/** The reservations of a batch callback whose job id came earlier in the same list. */
function laterCallbackCopies(reservations: readonly Reservation[]): Set<Reservation> {
  const copies = new Set<Reservation>();
  let seen: Set<string> | undefined;
  for (const reservation of reservations) {
    const { callback, jobId } = handleOf(reservation);
    if (!callback || jobId === undefined) continue;
    seen ??= new Set();
    if (seen.has(jobId)) copies.add(reservation);
    else seen.add(jobId);
  }
  return copies;
}
