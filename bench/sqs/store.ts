/**
 * The SQS the SQS bench runs against, seen from a client of the bench's own (not a
 * library's): the endpoint (SQS_ENDPOINT, or a fauxqs emulator the parent starts), fresh
 * queue-name prefixes, how many messages a queue still holds, deleting one prefix's
 * queues, and the CPU time of the emulator's process.
 *
 * Every measurement creates its queues under a prefix of its own and deletes exactly the
 * queues under that prefix when it ends, so one emulator serves the whole run and an
 * endpoint shared with other work (SQS_ENDPOINT) is never purged.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

import { DeleteQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";

/** The fauxqs version the bench starts (2.x needs Node 22); kept equal to the tests' pin. */
export const FAUXQS_VERSION = "1.9.2";

/** Region and credentials for the endpoint: emulators take any credentials. */
export const CLIENT_CONFIG = { region: "us-east-1", credentials: { accessKeyId: "bench", secretAccessKey: "bench" } } satisfies SQSClientConfig;

/** A client for `endpoint`, for the bench's own calls and for the peer library. */
export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, ...CLIENT_CONFIG });
}

/** Where the SQS of a run is, and how to stop it when the bench started it. */
export interface SqsEndpoint {
  endpoint: string;
  /** What the JSON says about the server. */
  description: string;
  /** The emulator's process, when it runs in the bench's parent (for its CPU per job). */
  emulatorPid?: number;
  stop(): Promise<void>;
}

/**
 * SQS_ENDPOINT when set (checked with a ListQueues), else a fauxqs emulator started in
 * this process on a free loopback port with its logger off. The parent only waits for its
 * children, so the emulator has this process to itself.
 */
export async function openSqs(): Promise<SqsEndpoint> {
  const fromEnv = process.env.SQS_ENDPOINT;
  if (fromEnv) {
    const sqs = sqsClient(fromEnv);
    try {
      await sqs.send(new ListQueuesCommand({ MaxResults: 1 }), { abortSignal: AbortSignal.timeout(3000) });
    } catch (error) {
      throw new Error(`SQS_ENDPOINT=${fromEnv} does not answer ListQueues: ${(error as Error).message}`);
    } finally {
      sqs.destroy();
    }
    return { endpoint: fromEnv, description: `SQS_ENDPOINT ${fromEnv}`, stop: async () => {} };
  }
  const { startFauxqs } = await import("fauxqs");
  const server = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
  return {
    endpoint: server.address,
    description: `fauxqs ${FAUXQS_VERSION}, in the bench's parent process`,
    emulatorPid: process.pid,
    stop: () => server.stop(),
  };
}

/**
 * A queue-name prefix no earlier measurement used: `eb-<library>-<12 hex digits>-`. Letters,
 * digits and dashes only, short enough for SQS's 80 characters with Errand's `-dead` suffix.
 */
export function freshPrefix(library: string): string {
  return `eb-${library.replace(/[^a-z0-9]/gi, "").slice(0, 12)}-${randomBytes(6).toString("hex")}-`;
}

/** Deletes every queue whose name starts with `prefix` (ListQueues by prefix, then DeleteQueue each); returns how many went. */
export async function deleteQueues(sqs: SQSClient, prefix: string): Promise<number> {
  // Only the bench's own prefixes: a mistake here must not delete someone else's queues.
  if (!/^eb-[a-z0-9]+-[0-9a-f]{12}-$/i.test(prefix)) throw new Error(`refusing to delete queues of prefix ${JSON.stringify(prefix)}`);
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, NextToken: token, MaxResults: 1000 }));
    urls.push(...(page.QueueUrls ?? []));
    token = page.NextToken;
  } while (token);
  await Promise.all(urls.map((url) => sqs.send(new DeleteQueueCommand({ QueueUrl: url }))));
  return urls.length;
}

/** The URL of the queue named `name`. */
export async function queueUrl(sqs: SQSClient, name: string): Promise<string> {
  return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
}

/** Messages the queue still holds: ready, in flight (received, not deleted) and delayed. */
export async function messagesLeft(sqs: SQSClient, url: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
}

/** CPU time (user + system) of process `pid` so far, µs, from /proc; undefined where /proc does not show it. */
export function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}
