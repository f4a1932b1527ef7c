// Conformance wiring for @errand/adapter-sqs, on the emulator the test setup starts: a queue
// prefix of its own per case, standard queues here and FIFO queues in a second run.
import { SqsAdapter } from "@errand/adapter-sqs";

import { closeCasesInBackground } from "./conformance/harness.js";
import { runConformance } from "./conformance/index.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
// A case's runtime closes while the next case runs: closing waits out the worker's 1 s long poll.
closeCasesInBackground();

for (const fifo of [false, true]) {
  runConformance({
    name: fifo ? "sqs fifo" : "sqs",
    // The default status store keeps statuses in this process (its feed too).
    capabilities: { ...(fifo ? SqsAdapter.fifoCapabilities : SqsAdapter.capabilities), localStatus: true },
    create: async () => new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), fifo }),
    // A raw body goes straight into the queue, bypassing the adapter's own encoding.
    insertRaw: async (adapter, body, queue) => {
      const sqs = adapter as SqsAdapter;
      const { url } = await sqs.queues.get(queue);
      const { SendMessageCommand } = await import("@aws-sdk/client-sqs");
      await sqs.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, ...(fifo ? { MessageGroupId: "raw", MessageDeduplicationId: String(Math.random()).slice(2) } : {}) }));
    },
  });
}
