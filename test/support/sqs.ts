// For test files that need SQS: the endpoint found by the global setup (or a failure that
// says how to get one), and a queue prefix of their own so files run in parallel.
import { randomBytes } from "node:crypto";

import { inject } from "vitest";

export { testSqsClient } from "./sqs-server.js";

/** The test SQS endpoint; throws with instructions when there is none. */
export function sqsEndpoint(): string {
  const found = inject("sqs");
  if ("error" in found) throw new Error(found.error);
  return found.endpoint;
}

/** A new unique SQS queue-name prefix. */
export function sqsPrefix(name = "t"): string {
  return `${name}-${randomBytes(5).toString("hex")}-`;
}

/** Credentials and region for the test endpoint (the emulator takes any). */
export const TEST_SQS_CONFIG = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
