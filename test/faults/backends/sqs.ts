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
 */
import { DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { SqsAdapter, type SqsQueue } from "@errand/adapter-sqs";

import { sqsEndpoint, sqsPrefix, testSqsClient } from "../../support/sqs.js";
import { faultFixture, QUEUE, type CaseJobs, type FaultStore, type FaultWiring, type Stored } from "../harness.js";

/** The fault wiring of `@errand/adapter-sqs` (fixture config: 2 s lease, the visibility timeout its receives use). */
export function sqsFaults(): FaultWiring {
  const endpoint = sqsEndpoint();
  /** The test's own SQS client, shared by its adapters (`client`: closing them leaves it open). */
  const sqs = testSqsClient(endpoint);
  const queues: Promise<SqsQueue>[] = [];

  function open(): FaultStore {
    const prefix = sqsPrefix("errand-faults");
    const adapter = () => new SqsAdapter({ client: sqs, queuePrefix: prefix });
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
    const count = async (jobs: CaseJobs): Promise<Stored> => {
      const f = await facts();
      return {
        ready: f.visible,
        leased: f.hidden,
        dead: f.dead,
        // SQS deletes a finished job's message: what is not in a queue any more has finished.
        succeeded: jobs.ids.length + jobs.rawIds.length - f.visible - f.hidden - f.delayed - f.dead,
        // No case delays a job.
        anomalies: f.delayed === 0 ? {} : { delayed: f.delayed },
        raw: `queues: ${JSON.stringify(f)}`,
      };
    };

    return {
      env: { SQS_ENDPOINT_FOR_TEST: endpoint, ERRAND_TEST_QUEUE_PREFIX: prefix },
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
    name: "sqs",
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
    },
  };
}
