// Where the SQS for the tests comes from: SQS_ENDPOINT when set, else the fauxqs emulator
// (an npm dev dependency of the tests, pinned to 1.9.2: 2.x needs Node 22) started here on
// a free loopback port with its logger off, and stopped when the run ends.
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";

type Found = { endpoint: string; stop?: () => Promise<void> } | { error: string };

export const SQS_HOW_TO =
  "An SQS endpoint is needed: set SQS_ENDPOINT=http://host:port (an emulator or a VPC endpoint), or install the test " +
  "dependencies (npm install: they include the fauxqs emulator the tests start themselves)";

/** Whether an SQS endpoint answers ListQueues within three seconds. */
export async function sqsReachable(endpoint: string): Promise<boolean> {
  const sqs = testSqsClient(endpoint);
  try {
    await sqs.send(new ListQueuesCommand({}), { abortSignal: AbortSignal.timeout(3000) });
    return true;
  } catch {
    return false;
  } finally {
    sqs.destroy();
  }
}

/** An SQS client for a test endpoint (the emulator takes any credentials). */
export function testSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
}

/** The SQS endpoint the tests use, or why there is none. */
export async function findSqs(): Promise<Found> {
  const fromEnv = process.env.SQS_ENDPOINT;
  if (fromEnv) return (await sqsReachable(fromEnv)) ? { endpoint: fromEnv } : { error: `SQS_ENDPOINT=${fromEnv} is not reachable. ${SQS_HOW_TO}` };
  try {
    const { startFauxqs } = await import("fauxqs");
    const server = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
    return { endpoint: server.address, stop: () => server.stop() };
  } catch (error) {
    return { error: `${SQS_HOW_TO} (the fauxqs emulator could not be started: ${(error as Error).message})` };
  }
}
