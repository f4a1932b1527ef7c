/**
 * The SQS adapter. SQS stores messages and hides received ones for a visibility timeout;
 * everything else a job library needs is made up here:
 *
 * - **Delays past 15 minutes** hop: a message is sent with the longest delay SQS allows and
 *   its real due time in the `errand-run-at` attribute; a worker that receives it early
 *   sends it again with the rest of the delay and deletes the early copy.
 * - **Leases** are visibility timeouts, extended in batches while a job runs (never past
 *   SQS's 12 hours); a job whose worker died becomes visible again when its timeout ends.
 * - **Retries** are sent again with the backoff as delay (the body carries the new
 *   `executions`), then the delivered copy is deleted: at-least-once, never zero times.
 * - **Dead jobs** go to the queue's dead-letter queue (`<queue>-dead`, also the target of
 *   its redrive policy) with the reason in message attributes; the dead set is read, retried
 *   and purged there.
 * - **Status** lives in a `StatusStore` (this process's memory by default, or the Redis or
 *   PostgreSQL stores of those packages), which also tells a current lease from a stale one.
 * - **FIFO** queues (`fifo: true`): `set({ group })` is the message group; the deduplication
 *   id is the job id and a random suffix per message sent. SQS FIFO queues have no per-message delay, so
 *   waits are refused (`maxDelayMs: 0`) and a retry keeps its message and waits out its
 *   backoff as visibility timeout (so its group stays in order); its execution count then
 *   comes from SQS's receive count.
 * - **Priorities**: SQS has none, and priority bands mapped to queues would only reorder
 *   what weighted queues already express; priorities are refused (`priorities: false`):
 *   put urgent jobs on their own queue and weight it (`errand work -q critical,3 -q default`).
 *
 * @module
 */
import { randomBytes } from "node:crypto";

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import {
  AdapterError,
  ConfigError,
  ConnectionError,
  LocalStatusStore,
  baseCapabilities,
  groupBy,
  type Adapter,
  type AdapterCapabilities,
  type DeadJob,
  type EnqueueOptions,
  type EnqueueResult,
  type ExtendLeaseOptions,
  type GetStatusOptions,
  type JobPayload,
  type ListDeadOptions,
  type PurgeDeadOptions,
  type QueueInfo,
  type Reservation,
  type ReserveOptions,
  type RetryDeadOptions,
  type SetProgressOptions,
  type Settlement,
  type SettleOptions,
  type StatusRecord,
  type StatusLease,
  type StatusStore,
  type StoredError,
} from "@errand/core/adapter";

import {
  ATTRIBUTE_ALLOWANCE_BYTES,
  MAX_DELAY_SECONDS,
  MAX_MESSAGE_BYTES,
  MAX_VISIBILITY_SECONDS,
  MAX_WAIT_SECONDS,
  batches,
  delaySeconds,
  errorName,
  visibilitySeconds,
} from "./limits.js";
import { QueueMap, type SqsQueue } from "./queues.js";

/** Options of the SQS adapter (`adapter: { use: "sqs", ... }`). */
export interface SqsAdapterOptions {
  /** The app's own `SQSClient`; Errand does not destroy it on close. */
  client?: SQSClient;
  /** `sqs://<region>` (AWS) or an `http(s)://host:port` endpoint (a local emulator, a VPC endpoint). */
  url?: string;
  /** AWS region. Default `AWS_REGION`, else `us-east-1`. */
  region?: string;
  /** Endpoint override (emulators, VPC endpoints). */
  endpoint?: string;
  /** Other `SQSClient` settings (credentials, retries, …). */
  clientConfig?: SQSClientConfig;
  /** Prefix of every SQS queue name. Default `"errand-"`. */
  queuePrefix?: string;
  /** Every queue of this adapter is a FIFO queue (`<name>.fifo`). Default false. */
  fifo?: boolean;
  /** Create missing queues (and their dead-letter queues) on first use. Default true. */
  createQueues?: boolean;
  /** Attributes for queues Errand creates (e.g. `KmsMasterKeyId`). */
  queueAttributes?: Record<string, string>;
  /** Receives after which SQS moves a message to the dead-letter queue by itself (workers that crash on it). Default 10. */
  maxReceiveCount?: number;
  /** Where statuses live. Default: this process's memory (`LocalStatusStore`). */
  status?: StatusStore;
  /** Receive calls in flight at once to fill one reserve. Default 10 (100 messages). */
  receivesInFlight?: number;
}

/** What core hands back with each reservation. */
interface Handle {
  queue: SqsQueue;
  receipt: string;
  /** The job id in the body (for the status store), when the body could be read. */
  jobId: string | undefined;
  /** When the message was received: the visibility timeout cannot reach past 12 h from it. */
  receivedAt: number;
}

const RUN_AT = "errand-run-at";
const ERROR = "errand-error";
const DIED_AT = "errand-died-at";
/** A dead message's id as workers and `errand dead` name it: the job id, or for a body without one the original message id. */
const DEAD_ID = "errand-id";
/** Attributes requested by name: AWS returns only those asked for (the emulator returns all). */
const ATTRIBUTES = [RUN_AT, ERROR, DIED_AT, DEAD_ID];

function handleOf(reservation: Reservation): Handle {
  return reservation.handle as Handle;
}

function peekId(body: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(body ?? "") as { id?: unknown }).id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The status-store leases of reservations whose body named a job (see `StatusStore`). */
function leasesOf(reservations: readonly Reservation[]): StatusLease[] {
  return reservations.flatMap((reservation) => {
    const { jobId, receipt } = handleOf(reservation);
    return jobId ? [{ id: jobId, lease: receipt }] : [];
  });
}

function numberAttribute(value: number): MessageAttributeValue {
  return { DataType: "Number", StringValue: String(value) };
}

/** Jobs in AWS SQS. */
export class SqsAdapter implements Adapter {
  /** Standard queues. */
  static readonly capabilities: AdapterCapabilities = Object.freeze({
    ...baseCapabilities,
    priorities: false,
    maxPriority: 0,
    durable: true,
    blockingReserve: true,
    // Larger batches are cut into SendMessageBatch calls of ten here, sent side by side.
    maxBatchSize: 1000,
    maxPayloadBytes: MAX_MESSAGE_BYTES - ATTRIBUTE_ALLOWANCE_BYTES,
  });
  /** FIFO queues: ordering groups, no per-message delay. */
  static readonly fifoCapabilities: AdapterCapabilities = Object.freeze({ ...SqsAdapter.capabilities, maxDelayMs: 0, groups: true });

  readonly name = "sqs";
  readonly capabilities: AdapterCapabilities;
  /** The SQS client in use. */
  readonly sqs: SQSClient;
  /** Queue names and URLs. */
  readonly queues: QueueMap;
  /** Where statuses live. */
  readonly status: StatusStore;
  private readonly ownsClient: boolean;
  private readonly fifo: boolean;
  private readonly receivesInFlight: number;
  private readonly closing = new AbortController();
  /** Long polls in flight (see `reserve`). */
  private readonly polls = new Set<Promise<void>>();
  /** Long polls of reserves that returned before them (stopped, or cut short by `drained()`). */
  private readonly abandoned = new Set<Promise<void>>();

  constructor(options: SqsAdapterOptions = {}) {
    this.fifo = options.fifo ?? false;
    this.capabilities = this.fifo ? SqsAdapter.fifoCapabilities : SqsAdapter.capabilities;
    let { region, endpoint } = options;
    if (options.url) {
      const url = new URL(options.url);
      if (url.protocol === "sqs:") region ??= url.hostname || undefined;
      else if (url.protocol === "http:" || url.protocol === "https:") endpoint ??= `${url.protocol}//${url.host}`;
      else throw new ConfigError(`sqs adapter: url ${JSON.stringify(options.url)} must be sqs://<region> or an http(s) endpoint`);
    }
    this.ownsClient = !options.client;
    this.sqs =
      options.client ??
      new SQSClient({
        region: region ?? process.env.AWS_REGION ?? "us-east-1",
        ...(endpoint ? { endpoint } : {}),
        ...options.clientConfig,
      });
    this.queues = new QueueMap(this.sqs, {
      prefix: options.queuePrefix ?? "errand-",
      fifo: this.fifo,
      create: options.createQueues ?? true,
      maxReceiveCount: options.maxReceiveCount ?? 10,
      attributes: options.queueAttributes ?? {},
    });
    this.status = options.status ?? new LocalStatusStore();
    this.receivesInFlight = Math.max(1, options.receivesInFlight ?? 10);
  }

  // ---- sending ------------------------------------------------------------------------

  /** The batch entry of a payload due at `runAtMs`; `index` is its id within the batch. */
  private entry(payload: JobPayload, body: string, index: number, runAtMs: number, now: number): SendMessageBatchRequestEntry {
    const entry: SendMessageBatchRequestEntry = { Id: String(index), MessageBody: body };
    if (this.fifo) {
      // Jobs without a group get one of their own: no ordering between them.
      entry.MessageGroupId = payload.group ?? payload.id;
      // Unique per message sent: SDK retries of the same request resend the same entry (and
      // are deduplicated), while a job sent again on purpose (a revived dead job) is not.
      entry.MessageDeduplicationId = `${payload.id}-${randomBytes(6).toString("hex")}`;
    } else {
      entry.DelaySeconds = delaySeconds(runAtMs, now);
      if (runAtMs - now > MAX_DELAY_SECONDS * 1000) entry.MessageAttributes = { [RUN_AT]: numberAttribute(runAtMs) };
    }
    return entry;
  }

  /**
   * Sends messages to one queue in batches of ten (and 1 MiB), side by side. Entries SQS
   * failed on its side are sent again, up to three times; entries it refused are reported,
   * naming each job, after the others were sent.
   */
  private async send(url: string, items: readonly { payload: JobPayload; body: string; runAtMs: number; attributes?: Record<string, MessageAttributeValue> }[]): Promise<void> {
    const now = Date.now();
    const entries = items.map((item, index) => {
      const entry = this.entry(item.payload, item.body, index, item.runAtMs, now);
      if (item.attributes) entry.MessageAttributes = { ...entry.MessageAttributes, ...item.attributes };
      return entry;
    });
    const refused: string[] = [];
    const refusedIds: string[] = [];
    await Promise.all(
      batches(entries, (entry) => Buffer.byteLength(entry.MessageBody!) + ATTRIBUTE_ALLOWANCE_BYTES).map(async (batch) => {
        let pending = batch;
        for (let attempt = 1; pending.length > 0; attempt++) {
          const { Failed = [] } = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }));
          const retry = new Set(Failed.filter((f) => !f.SenderFault && attempt < 3).map((f) => f.Id));
          for (const failure of Failed) {
            if (retry.has(failure.Id)) continue;
            const payload = items[Number(failure.Id)]!.payload;
            refused.push(`${payload.job} ${payload.id}: ${failure.Code ?? "error"} ${failure.Message ?? ""}`.trim());
            refusedIds.push(payload.id);
          }
          pending = pending.filter((entry) => retry.has(entry.Id));
          if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        }
      }),
    );
    if (refused.length > 0) {
      const error = new AdapterError(this.name, "enqueue", `SQS refused ${refused.length} of ${items.length} messages (the others were sent): ${refused.join("; ")}`);
      throw Object.assign(error, { refusedIds });
    }
  }

  async enqueue({ jobs }: EnqueueOptions): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    // Statuses first: a worker may take a message, run it and record it finished before a
    // status written after the send would land and turn it back into `queued`.
    await this.status.enqueued(jobs);
    const byQueue = groupBy(jobs, (job) => job.queue);
    const results = await Promise.allSettled(
      [...byQueue].map(async ([name, group]) => {
        const queue = await this.queues.get(name);
        await this.send(
          queue.url,
          group.map((payload) => ({ payload, body: JSON.stringify(payload), runAtMs: Date.parse(payload.runAt) })),
        );
      }),
    );
    const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed) {
      // Forget the statuses of jobs SQS did not take: those it refused, or a whole group whose call failed.
      const groups = [...byQueue.values()];
      const notSent = results.flatMap((result, i) =>
        result.status === "rejected" ? ((result.reason as { refusedIds?: string[] }).refusedIds ?? groups[i]!.map((job) => job.id)) : [],
      );
      await this.status.delete(notSent).catch(() => undefined);
      throw failed.reason;
    }
    return jobs.map((job) => ({ jobId: job.id, providerJobId: job.id }));
  }

  // ---- receiving ----------------------------------------------------------------------

  private async receive(queue: SqsQueue, count: number, visibility: number, waitSeconds: number): Promise<Message[]> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.min(10, count),
        VisibilityTimeout: visibility,
        WaitTimeSeconds: waitSeconds,
        MessageAttributeNames: ATTRIBUTES,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    return Messages;
  }

  /**
   * Turns received messages into reservations. A message received before its
   * `errand-run-at` is sent again with the rest of its delay, and the early copy deleted.
   * On FIFO queues, the body's `executions` is set from SQS's receive count (a retry there
   * keeps its message, so its body still counts the first delivery).
   */
  private async accept(queue: SqsQueue, messages: Message[]): Promise<Reservation[]> {
    const now = Date.now();
    const reservations: Reservation[] = [];
    const early: Message[] = [];
    for (const message of messages) {
      const runAt = Number(message.MessageAttributes?.[RUN_AT]?.StringValue);
      if (runAt > now + 1000) {
        early.push(message);
        continue;
      }
      let body = message.Body ?? "";
      const receives = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      if (this.fifo) body = withExecutions(body, receives - 1);
      reservations.push({
        providerJobId: message.MessageId!,
        body,
        deliveries: receives,
        handle: { queue, receipt: message.ReceiptHandle!, jobId: peekId(body), receivedAt: now } satisfies Handle,
      });
    }
    if (early.length > 0) await this.hop(queue, early);
    const leases = leasesOf(reservations);
    if (leases.length > 0) await this.status.started(leases);
    return reservations;
  }

  /** Sends early messages again with the rest of their delay, then deletes the early copies. */
  private async hop(queue: SqsQueue, messages: Message[]): Promise<void> {
    const items = messages.map((message) => {
      const payload = { id: peekId(message.Body) ?? message.MessageId!, job: "", executions: 0 } as JobPayload;
      return { payload, body: message.Body ?? "", runAtMs: Number(message.MessageAttributes![RUN_AT]!.StringValue) };
    });
    await this.send(queue.url, items);
    await this.delete(queue, messages.map((message) => message.ReceiptHandle!));
  }

  async reserve({ queues, max, leaseMs, waitMs, signal }: ReserveOptions): Promise<Reservation[]> {
    if (queues === "*") throw new ConfigError("sqs adapter: name the queues to work (SQS has no cheap way to list every queue's messages)");
    const visibility = visibilitySeconds(leaseMs);
    // Polls of an earlier reserve that returned before them hand their messages back when
    // they end; wait for that (at most one poll's wait), so those messages are found here.
    // A worker interrupted by `drained()` reserves again at once: without this wait, jobs a
    // cut-short poll took would look like an empty queue.
    if (this.abandoned.size > 0) await Promise.allSettled([...this.abandoned]);
    const reserved: Reservation[] = [];
    // Each queue in the order given, several receives side by side, no waiting.
    for (const name of queues) {
      const room = max - reserved.length;
      if (room <= 0) break;
      const queue = await this.queues.get(name);
      const calls = Math.min(this.receivesInFlight, Math.ceil(room / 10));
      const received = (await Promise.all(Array.from({ length: calls }, (_, i) => this.receive(queue, Math.min(10, room - i * 10), visibility, 0)))).flat();
      reserved.push(...(await this.accept(queue, received)));
    }
    if (reserved.length > 0 || waitMs <= 0 || signal?.aborted) return reserved;
    // Nothing ready: long-poll every queue at once. A long poll is never cut off: a request
    // abandoned mid-poll may still take messages off the queue and hide them for the whole
    // visibility timeout. So the reserve returns at once when its signal aborts, and polls
    // left running hand back whatever they bring when they end.
    const waitSeconds = Math.min(MAX_WAIT_SECONDS, Math.max(1, Math.floor(waitMs / 1000)));
    const taken: Reservation[] = [];
    let done = false;
    const polls = queues.map((name) =>
      this.poll(name, Math.min(10, max), visibility, waitSeconds, async (got) => {
        if (done) await this.release(got);
        else taken.push(...got);
      }),
    );
    let stopWaiting!: () => void;
    const aborted = new Promise<void>((resolve) => (stopWaiting = resolve));
    if (signal?.aborted) stopWaiting();
    signal?.addEventListener("abort", stopWaiting, { once: true });
    this.closing.signal.addEventListener("abort", stopWaiting, { once: true });
    const first = Promise.race(polls.map((p) => p.then(() => (taken.length > 0 ? undefined : new Promise<void>(() => {})))));
    try {
      await Promise.race([Promise.all(polls), first, aborted]);
    } catch (error) {
      // A poll failed: hand back what the others brought, and report the failure.
      done = true;
      await this.release(taken.splice(0)).catch(() => undefined);
      throw error;
    } finally {
      // The adapter's own signal lives as long as it does: leave no listener per reserve on it.
      signal?.removeEventListener("abort", stopWaiting);
      this.closing.signal.removeEventListener("abort", stopWaiting);
      done = true;
      for (const poll of polls) {
        this.abandoned.add(poll);
        // A failed poll was reported by the race (or is of no one's concern once abandoned).
        void poll.catch(() => undefined).finally(() => this.abandoned.delete(poll));
      }
    }
    const got = taken.splice(0);
    if (signal?.aborted || this.closing.signal.aborted) {
      await this.release(got);
      return [];
    }
    // Several queues may answer at once: hand back at most `max`, make the rest visible again.
    await this.release(got.splice(max));
    return got;
  }

  /** One long poll and what is done with its messages, tracked so `close()` can wait for both. */
  private poll(name: string, count: number, visibility: number, waitSeconds: number, deliver: (got: Reservation[]) => Promise<void>): Promise<void> {
    const running = (async () => {
      const queue = await this.queues.get(name);
      await deliver(await this.accept(queue, await this.receive(queue, count, visibility, waitSeconds)));
    })();
    this.polls.add(running);
    return running.finally(() => this.polls.delete(running));
  }

  /** Makes reserved messages visible again at once, uncounted in their status. */
  private async release(reservations: readonly Reservation[]): Promise<void> {
    if (reservations.length === 0) return;
    await this.settle({ settlements: reservations.map((reservation) => ({ reservation, outcome: "released" as const })) });
  }

  // ---- settling -----------------------------------------------------------------------

  private async delete(queue: SqsQueue, receipts: readonly string[]): Promise<void> {
    await Promise.all(
      batches(receipts, () => 0).map((batch) =>
        this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: batch.map((receipt, i) => ({ Id: String(i), ReceiptHandle: receipt })) })),
      ),
    );
  }

  /** Changes visibility timeouts; returns the receipts SQS refused (the message is no longer held under them). */
  private async changeVisibility(queue: SqsQueue, changes: readonly { receipt: string; seconds: number }[]): Promise<Set<string>> {
    const refused = new Set<string>();
    await Promise.all(
      batches(changes, () => 0).map(async (batch) => {
        const { Failed = [] } = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queue.url,
            Entries: batch.map((change, i) => ({ Id: String(i), ReceiptHandle: change.receipt, VisibilityTimeout: change.seconds })),
          }),
        );
        for (const failure of Failed) refused.add(batch[Number(failure.Id)]!.receipt);
      }),
    );
    return refused;
  }

  async settle({ settlements }: SettleOptions): Promise<void> {
    if (settlements.length === 0) return;
    const leases = leasesOf(settlements.map((s) => s.reservation));
    const stale = await this.status.stale(leases);
    // A stale holder (its lease expired and the job was delivered again) changes nothing.
    const current = settlements.filter((s) => !stale.has(handleOf(s.reservation).jobId ?? ""));
    const byQueue = groupBy(current, (s) => handleOf(s.reservation).queue);
    await Promise.all([...byQueue].map(([queue, group]) => this.settleQueue(queue, group)));
    await this.status.settled(
      current.flatMap((settlement) => {
        const { jobId, receipt } = handleOf(settlement.reservation);
        return jobId ? [{ id: jobId, lease: receipt, settlement }] : [];
      }),
    );
  }

  private async settleQueue(queue: SqsQueue, settlements: readonly Settlement[]): Promise<void> {
    const remove: string[] = [];
    const visible: { receipt: string; seconds: number }[] = [];
    const sends: Promise<void>[] = [];
    const dead: { payload: JobPayload; body: string; runAtMs: number; attributes: Record<string, MessageAttributeValue> }[] = [];
    const now = Date.now();
    for (const s of settlements) {
      const { receipt } = handleOf(s.reservation);
      switch (s.outcome) {
        case "succeeded":
        case "failed":
          remove.push(receipt);
          break;
        case "released":
          visible.push({ receipt, seconds: 0 });
          break;
        case "dead": {
          const body = s.payload ? JSON.stringify(s.payload) : s.reservation.body;
          const payload = s.payload ?? ({ id: peekId(body) ?? s.reservation.providerJobId, job: "", executions: 0 } as JobPayload);
          dead.push({
            payload,
            body,
            runAtMs: now,
            attributes: {
              [ERROR]: { DataType: "String", StringValue: JSON.stringify(s.error) },
              [DIED_AT]: numberAttribute(now),
              // The copy in the dead-letter queue gets a new message id; keep the one the worker reported.
              [DEAD_ID]: { DataType: "String", StringValue: payload.id },
            },
          });
          remove.push(receipt);
          break;
        }
        case "retry":
          if (this.fifo) {
            // Keep the message, so its group stays in order; it waits out the backoff hidden.
            visible.push({ receipt, seconds: Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil((s.runAt.getTime() - now) / 1000))) });
          } else {
            sends.push(
              this.queues.get(s.payload.queue).then((target) => this.send(target.url, [{ payload: s.payload, body: JSON.stringify(s.payload), runAtMs: s.runAt.getTime() }])),
            );
            remove.push(receipt);
          }
          break;
      }
    }
    if (dead.length > 0) sends.push(this.send(queue.deadUrl, dead));
    // New copies first, then the delivered ones go: a crash in between runs a job twice, never zero times.
    await Promise.all(sends);
    await Promise.all([this.delete(queue, remove), visible.length > 0 ? this.changeVisibility(queue, visible) : undefined]);
  }

  async extendLease({ reservations, leaseMs }: ExtendLeaseOptions): Promise<string[]> {
    if (reservations.length === 0) return [];
    const leases = leasesOf(reservations);
    const stale = await this.status.stale(leases);
    const lost = reservations.filter((r) => stale.has(handleOf(r).jobId ?? "")).map((r) => r.providerJobId);
    const now = Date.now();
    const byQueue = groupBy(
      reservations.filter((r) => !stale.has(handleOf(r).jobId ?? "")),
      (r) => handleOf(r).queue,
    );
    await Promise.all(
      [...byQueue].map(async ([queue, group]) => {
        // SQS keeps a message hidden at most 12 h after it was received; past that it is visible again.
        const changes = group.map((r) => ({
          receipt: handleOf(r).receipt,
          seconds: Math.min(visibilitySeconds(leaseMs), MAX_VISIBILITY_SECONDS - Math.ceil((now - handleOf(r).receivedAt) / 1000)),
        }));
        const refused = await this.changeVisibility(queue, changes.filter((c) => c.seconds > 0));
        group.forEach((r, i) => {
          if (changes[i]!.seconds <= 0 || refused.has(changes[i]!.receipt)) lost.push(r.providerJobId);
        });
      }),
    );
    return lost;
  }

  async setProgress({ updates }: SetProgressOptions): Promise<void> {
    await this.status.progress(updates.map((u) => (u.message === undefined ? { id: u.jobId, fraction: u.fraction } : { id: u.jobId, fraction: u.fraction, message: u.message })));
  }

  async getStatus({ ids }: GetStatusOptions): Promise<(StatusRecord | null)[]> {
    return this.status.get(ids);
  }

  async listQueues(): Promise<QueueInfo[]> {
    const names = await this.queues.list();
    return Promise.all(
      names.map(async (name) => {
        const queue = await this.queues.get(name);
        const attributes = (url: string) =>
          this.sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible"],
            }),
          );
        const [main, dead] = await Promise.all([attributes(queue.url), attributes(queue.deadUrl)]);
        const count = (value: string | undefined) => Number(value ?? 0);
        return {
          name,
          queued: count(main.Attributes?.ApproximateNumberOfMessages),
          scheduled: count(main.Attributes?.ApproximateNumberOfMessagesDelayed),
          running: count(main.Attributes?.ApproximateNumberOfMessagesNotVisible),
          // Retries wait as delayed messages: SQS cannot tell them from scheduled jobs.
          retrying: 0,
          // Dead messages being read or acted on are hidden for a moment: they are still dead.
          dead: count(dead.Attributes?.ApproximateNumberOfMessages) + count(dead.Attributes?.ApproximateNumberOfMessagesNotVisible),
        };
      }),
    );
  }

  // ---- dead set -----------------------------------------------------------------------

  /**
   * Every message of a queue's dead-letter queue, read by receiving them under a short
   * visibility timeout (SQS cannot list without receiving). `hold` keeps them hidden long
   * enough to act on (retry, purge); listing lets them show again at once.
   */
  private async readDead(queue: SqsQueue, hold: number): Promise<Message[]> {
    const seen = new Map<string, Message>();
    for (let empty = 0; empty < 2; ) {
      const messages = await this.receive({ ...queue, url: queue.deadUrl }, 10, hold, 0);
      const fresh = messages.filter((m) => !seen.has(m.MessageId!));
      for (const message of messages) seen.set(message.MessageId!, message);
      empty = fresh.length === 0 ? empty + 1 : 0;
    }
    return [...seen.values()];
  }

  /** The id a dead message is known by (see `DEAD_ID`). */
  private deadId(message: Message): string {
    return message.MessageAttributes?.[DEAD_ID]?.StringValue ?? peekId(message.Body) ?? message.MessageId!;
  }

  private deadJob(queue: string, message: Message): DeadJob {
    const error = message.MessageAttributes?.[ERROR]?.StringValue;
    const diedAt = Number(message.MessageAttributes?.[DIED_AT]?.StringValue ?? message.Attributes?.SentTimestamp ?? Date.now());
    return {
      id: this.deadId(message),
      providerJobId: message.MessageId!,
      queue,
      body: message.Body ?? "",
      // A message SQS moved itself (maxReceiveCount) carries no reason of ours.
      error: error ? (JSON.parse(error) as StoredError) : { name: "MaxReceiveCountExceeded", message: "moved to the dead-letter queue by SQS's redrive policy" },
      diedAt: new Date(diedAt),
    };
  }

  async listDead({ queue, limit = 100, offset = 0 }: ListDeadOptions): Promise<DeadJob[]> {
    const names = queue === undefined ? await this.queues.list() : [queue];
    const all = await Promise.all(
      names.map(async (name) => {
        const sqsQueue = await this.queues.get(name);
        return (await this.readDead(sqsQueue, 0)).map((message) => this.deadJob(name, message));
      }),
    );
    return all
      .flat()
      // Same millisecond: newer ids (UUIDv7) first.
      .sort((a, b) => b.diedAt.getTime() - a.diedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(offset, offset + limit);
  }

  /** Dead messages chosen by `select`, held hidden for a minute while they are acted on. */
  private async selectDead(select: RetryDeadOptions["select"]): Promise<{ queue: SqsQueue; message: Message }[]> {
    const names = "all" in select && select.queue !== undefined ? [select.queue] : await this.queues.list();
    const ids = "ids" in select ? new Set(select.ids) : undefined;
    const chosen: { queue: SqsQueue; message: Message }[] = [];
    for (const name of names) {
      const queue = await this.queues.get(name);
      for (const message of await this.readDead(queue, 60)) {
        const id = this.deadId(message);
        if (!ids || ids.has(id) || ids.has(message.MessageId!)) chosen.push({ queue, message });
        else await this.changeVisibility({ ...queue, url: queue.deadUrl }, [{ receipt: message.ReceiptHandle!, seconds: 0 }]);
      }
    }
    return chosen;
  }

  async retryDead({ select, revive }: RetryDeadOptions): Promise<number> {
    let moved = 0;
    for (const { queue, message } of await this.selectDead(select)) {
      const revived = revive(message.Body ?? "");
      if (!revived) {
        // Core keeps it dead (it would only die again): visible in the dead-letter queue at once.
        await this.changeVisibility({ ...queue, url: queue.deadUrl }, [{ receipt: message.ReceiptHandle!, seconds: 0 }]);
        continue;
      }
      const { payload, body } = revived;
      const target = await this.queues.get(payload.queue);
      await this.send(target.url, [{ payload, body, runAtMs: Date.now() }]);
      await this.delete({ ...queue, url: queue.deadUrl }, [message.ReceiptHandle!]);
      await this.status.enqueued([payload]);
      moved++;
    }
    return moved;
  }

  async purgeDead({ select }: PurgeDeadOptions): Promise<number> {
    const chosen = await this.selectDead(select);
    for (const [queue, group] of groupBy(chosen, (c) => c.queue)) {
      await this.delete({ ...queue, url: queue.deadUrl }, group.map((c) => c.message.ReceiptHandle!));
    }
    await this.status.delete(chosen.map((c) => this.deadId(c.message)));
    return chosen.length;
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    // Long polls end within their wait (at most 20 s); what they brought is handed back.
    await Promise.allSettled([...this.polls]);
    await this.status.close();
    if (this.ownsClient) this.sqs.destroy();
  }

  mapError(error: unknown, operation: string): Error | undefined {
    const name = errorName(error);
    // Node's socket codes are mapped by core's adapter client; these are the SDK's own.
    if (name === "TimeoutError" || name === "NetworkingError") {
      return new ConnectionError(this.name, operation, error);
    }
    return undefined;
  }
}

/** The body with `executions` set to `count` when it parses (FIFO retries keep their first body). */
function withExecutions(body: string, count: number): string {
  try {
    const payload = JSON.parse(body) as { executions?: unknown };
    if (payload && typeof payload === "object" && typeof payload.executions === "number" && payload.executions < count) {
      return JSON.stringify({ ...payload, executions: count });
    }
  } catch {
    // Malformed: core buries it with the reason.
  }
  return body;
}
