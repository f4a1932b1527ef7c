/**
 * The fault suite's SQS wiring (the emulator the global setup starts, or SQS_ENDPOINT): a
 * queue prefix per case, so its queues (`<prefix>default` and `<prefix>default-dead`) are
 * touched by nothing else running at the same time; they are deleted after the file.
 *
 * SQS keeps no job state, and the status store a worker writes to (LocalStatusStore, the
 * default) lives in the worker process, gone when it is killed. So "what is stored" is read
 * from the queues themselves: the main queue's ApproximateNumberOfMessages / …NotVisible /
 * …Delayed attributes (a message still there is late, not lost; one gone is a job finished,
 * or lost unless its run was recorded), and every message in the dead-letter queue.
 *
 * The counts are compared exactly: the emulator's attributes are exact at once. AWS's are
 * approximate and lag by up to a minute, so against a real SQS_ENDPOINT these cases would
 * need slack they do not have. The emulator moves a message whose visibility timeout ran out
 * back only when someone receives, so after a kill the hidden count is exactly the messages
 * the dead worker held.
 *
 * `sqsFaults({ statusStore: "redis" })` wires SQS with a shared Redis status store (a key
 * prefix per case), which flow control and batches need: there a parked job has no message
 * (its body waits in the store), and a job let go (or a finished batch's callback) waits as
 * a pending send until SQS confirms it, so both count as ready; what finished is what the
 * store's statuses say succeeded, and a job in none of those places (no message, not parked,
 * not pending, not succeeded) is an anomaly: lost. The store also keeps each job's executions.
 */
import { DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter, type SqsQueue } from "@errand/adapter-sqs";
import { Redis } from "ioredis";

import { dropPrefixes, redisPrefix, redisUrl } from "../../support/redis.js";

import { sqsEndpoint, sqsPrefix, testSqsClient } from "../../support/sqs.js";
import { faultFixture, QUEUE, type CaseJobs, type FaultStore, type FaultWiring, type Stored } from "../harness.js";

/** What the store holds besides SQS's messages, for the shared-store wiring. */
interface StoreFacts {
  /** Jobs parked (their messages deleted, their bodies in the store). */
  parked: number;
  /** Bodies waiting to be sent or confirmed (parked jobs let go, claims), of jobs not finished. */
  pendingSends: number;
  /**
   * Pending sends of jobs that succeeded since: sent by a worker killed before its confirm,
   * run by another. The documented at-least-once window (adapter-sqs flow.ts): the upkeep
   * sends them again after `claimTimeoutMs`. Not work left, so not counted as ready.
   */
  sentUnconfirmed: number;
  /** Of the case's jobs, those whose status says succeeded, and their executions. */
  succeeded: number;
  executions: number;
  /** The case's jobs by the state of their status (`none`: no status), for failure messages. */
  states: Record<string, number>;
}

/**
 * The fault wiring of `@errand/adapter-sqs` (fixture config: 2 s lease, the visibility
 * timeout its receives use); `statusStore: "redis"` gives its adapters a shared Redis status
 * store (flow control, batches), see the module notes.
 */
export function sqsFaults(options: { statusStore?: "redis" } = {}): FaultWiring {
  const endpoint = sqsEndpoint();
  /** The test's own SQS client, shared by its adapters (`client`: closing them leaves it open). */
  const sqs = testSqsClient(endpoint);
  const queues: Promise<SqsQueue>[] = [];
  const shared = options.statusStore === "redis";
  /** The test's own Redis connection, shared by its stores (`client`: closing them leaves it open). */
  const redis = shared ? new Redis(redisUrl()) : undefined;
  const statusPrefixes: string[] = [];

  function open(): FaultStore {
    const prefix = sqsPrefix("errand-faults");
    const statusPrefix = shared ? redisPrefix("errand-faults-status") : undefined;
    if (statusPrefix) statusPrefixes.push(`{${statusPrefix}}`);
    /** The test's reads of the case's store. */
    const readStore = statusPrefix ? new RedisStatusStore({ client: redis!, prefix: statusPrefix }) : undefined;
    const adapter = () =>
      new SqsAdapter({ client: sqs, queuePrefix: prefix, ...(redis ? { status: new RedisStatusStore({ client: redis, prefix: statusPrefix }) } : {}) });
    let resolved: Promise<SqsQueue> | undefined;
    /** The case's queue and dead-letter queue (created, with the redrive policy, on first use). */
    const queue = () => {
      if (!resolved) {
        const creating = adapter();
        resolved = creating.queues.get(QUEUE).finally(() => creating.close());
        queues.push(resolved);
      }
      return resolved;
    };
    const facts = async () => {
      const { url, deadUrl } = await queue();
      const read = async (queueUrl: string) => {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
          }),
        );
        return {
          visible: Number(Attributes.ApproximateNumberOfMessages ?? NaN),
          hidden: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? NaN),
          delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? NaN),
        };
      };
      const [main, dead] = await Promise.all([read(url), read(deadUrl)]);
      return { ...main, dead: dead.visible + dead.hidden + dead.delayed };
    };
    /** The shared store's part: parked jobs and pending sends (raw keys), and the statuses of the case's jobs. */
    const storeFacts = async (jobs: CaseJobs): Promise<StoreFacts> => {
      // The pending sends' hash (see lua/status-flow-lib.lua in @errand/adapter-redis).
      const [counts, pendingIds, statuses] = await Promise.all([
        readStore!.flow!.counts([QUEUE]),
        redis!.hkeys(`{${statusPrefix}}:f:o`),
        jobs.ids.length === 0 ? [] : readStore!.get(jobs.ids),
      ]);
      const succeeded = new Set(statuses.flatMap((status) => (status?.state === "succeeded" ? [status.id] : [])));
      const sentUnconfirmed = pendingIds.filter((id) => succeeded.has(id)).length;
      return {
        parked: counts[0]!.parked,
        pendingSends: pendingIds.length - sentUnconfirmed,
        sentUnconfirmed,
        succeeded: succeeded.size,
        executions: statuses.reduce((sum, status) => sum + (status?.executions ?? 0), 0),
        states: statuses.reduce<Record<string, number>>((states, status) => {
          const state = status?.state ?? "none";
          states[state] = (states[state] ?? 0) + 1;
          return states;
        }, {}),
      };
    };
    const count = async (jobs: CaseJobs): Promise<Stored> => {
      const [f, store] = await Promise.all([facts(), shared ? storeFacts(jobs) : undefined]);
      const all = jobs.ids.length + jobs.rawIds.length;
      const anomalies: Record<string, number> = {};
      // No case delays a job.
      if (f.delayed !== 0) anomalies.delayed = f.delayed;
      if (!store) {
        return {
          ready: f.visible,
          leased: f.hidden,
          dead: f.dead,
          // SQS deletes a finished job's message: what is not in a queue any more has finished.
          succeeded: all - f.visible - f.hidden - f.delayed - f.dead,
          anomalies,
          raw: `queues: ${JSON.stringify(f)}`,
        };
      }
      // Every job is somewhere: a message, parked or pending in the store, or succeeded.
      const accounted = f.visible + f.hidden + f.delayed + f.dead + store.parked + store.pendingSends + store.succeeded;
      if (accounted < all) anomalies["in no queue, not parked, not pending, not succeeded"] = all - accounted;
      return {
        ready: f.visible + store.parked + store.pendingSends,
        leased: f.hidden,
        dead: f.dead,
        succeeded: store.succeeded,
        executions: store.executions,
        anomalies,
        raw: `queues: ${JSON.stringify(f)}; store: ${JSON.stringify(store)}`,
      };
    };

    return {
      env: { SQS_ENDPOINT_FOR_TEST: endpoint, ERRAND_TEST_QUEUE_PREFIX: prefix, ...(statusPrefix ? { REDIS_URL_FOR_TEST: redisUrl(), ERRAND_TEST_STATUS_PREFIX: statusPrefix } : {}) },
      adapter,
      // Sent with the raw SQS API; a message has no id of its own but the one SQS gives it.
      async insertRaw({ body }) {
        const { url } = await queue();
        const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
        return sent.MessageId!;
      },
      async progress(jobs) {
        const stored = await count(jobs);
        return { succeeded: stored.succeeded, dead: stored.dead, pending: stored.ready + stored.leased + (stored.anomalies.delayed ?? 0) };
      },
      count,
    };
  }

  return {
    name: shared ? "sqs + redis status store" : "sqs",
    config: faultFixture("sqs.config.mjs"),
    leaseMs: 2_000,
    // Ten minutes: the SIGTERM case's messages can then be visible again within its 40 s
    // only by being handed back (the fixture config reads ERRAND_TEST_LEASE).
    longLeaseEnv: { ERRAND_TEST_LEASE: "10m" },
    // Fewer than on Postgres and Redis: the emulator is the slow part (the kill case took
    // 3.1 s for 2,000 jobs here, Postgres 3.6 s for 10,000).
    killJobs: 2_000,
    noConnections: "every SQS call is its own HTTP request, redialled and retried by the SDK",
    open,
    async close() {
      // Drop every case's queues (an SQS_ENDPOINT may be shared, unlike the emulator of one run).
      for (const queue of await Promise.all(queues.map((pending) => pending.catch(() => undefined)))) {
        if (!queue) continue;
        await Promise.all([queue.url, queue.deadUrl].map((url) => sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined)));
      }
      sqs.destroy();
      if (redis) {
        await dropPrefixes(redisUrl(), statusPrefixes);
        redis.disconnect();
      }
    },
  };
}
