/**
 * `errand doctor`'s look at SQS (`Diagnosis`, core's `adapter/diagnosis.ts`): one ListQueues
 * round trip; for each queue the workers serve, whether it and its dead-letter queue exist
 * and whether it redrives there (GetQueueUrl, GetQueueAttributes — never CreateQueue, even
 * with `createQueues`); and the status store, with its own diagnosis when it has one.
 *
 * Every request carries one abort signal that fires after `timeoutMs`: the SDK retries a
 * refused connection three times with backoff, and an endpoint that does not answer at all
 * would otherwise hold the doctor for the SDK's own timeouts.
 *
 * @module
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DiagnoseOptions, Diagnosis, QueueDiagnosis, StatusStore, StatusStoreDiagnosis } from "@errand/core/adapter";

import { isMissingQueue } from "./limits.js";
import type { QueueMap } from "./queues.js";

/** What the diagnosis reads of the adapter. */
export interface SqsDiagnoseContext {
  sqs: SQSClient;
  queues: QueueMap;
  status: StatusStore;
}

/** Reads the SQS side of the adapter and its status store (see the module notes). */
export async function diagnoseSqs({ sqs, queues, status }: SqsDiagnoseContext, { timeoutMs, queues: names }: DiagnoseOptions): Promise<Diagnosis> {
  const abortSignal = AbortSignal.timeout(timeoutMs);
  const bounded = async <T>(request: Promise<T>): Promise<T> => {
    try {
      return await request;
    } catch (error) {
      if (!abortSignal.aborted) throw error;
      throw Object.assign(new Error(`no answer from SQS (region ${await sqs.config.region()}) within ${timeoutMs} ms`), { code: "ETIMEDOUT", cause: error });
    }
  };
  const urlOf = async (name: string): Promise<string | undefined> => {
    try {
      return (await bounded(sqs.send(new GetQueueUrlCommand({ QueueName: name }), { abortSignal }))).QueueUrl;
    } catch (error) {
      if (isMissingQueue(error)) return undefined;
      throw error;
    }
  };
  const started = performance.now();
  await bounded(sqs.send(new ListQueuesCommand({ QueueNamePrefix: queues.options.prefix, MaxResults: 1 }), { abortSignal }));
  const latencyMs = Math.round(performance.now() - started);
  const found = await Promise.all(
    [...new Set(names)].map(async (queue): Promise<QueueDiagnosis> => {
      const name = queues.sqsName(queue);
      const deadName = queues.sqsName(queue, true);
      const [url, deadUrl] = await Promise.all([urlOf(name), urlOf(deadName)]);
      let redrive = false;
      if (url) {
        const { Attributes } = await bounded(sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["RedrivePolicy"] }), { abortSignal }));
        const target = (JSON.parse(Attributes?.RedrivePolicy ?? "{}") as { deadLetterTargetArn?: string }).deadLetterTargetArn;
        redrive = typeof target === "string" && target.endsWith(`:${deadName}`);
      }
      return { queue, name, exists: url !== undefined, deadLetter: { name: deadName, exists: deadUrl !== undefined }, redrive, createdOnUse: queues.options.create };
    }),
  );
  return { latencyMs, target: `region ${await sqs.config.region()}`, queues: found, statusStore: await diagnoseStore(status, timeoutMs) };
}

/** The status store's kind, and its own diagnosis when it has one. */
async function diagnoseStore(store: StatusStore, timeoutMs: number): Promise<StatusStoreDiagnosis> {
  const result: StatusStoreDiagnosis = { name: store.constructor.name, shared: store.shared === true };
  if (!store.diagnose) return result;
  try {
    result.diagnosis = await store.diagnose({ timeoutMs });
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  }
  return result;
}
