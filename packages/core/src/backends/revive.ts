/**
 * Dead-set revival, decided in core: `retryDead` hands the adapter {@link revive}, which
 * answers each dead body with the payload to store and its encoded body, or `null` for a
 * body that would only die again. Adapters select, store and delete; none parses a body.
 *
 * @module
 */
import { MalformedPayloadError } from "../errors.js";
import { decodePayload, encodePayload } from "../wire-format.js";
import type { JobPayload, RevivedJob } from "../adapter/contract.js";

/**
 * Core's decision on a dead job: a body that is a valid payload comes back with fresh
 * attempts (`executions` 0, retry rules' counters dropped), due now, in the queue and
 * priority it names, a resumable job's progress kept with its resumptions counted afresh
 * (it resumes where it died, with its whole `maxResumptions` again); anything else
 * (not JSON, not wire format v1) would only die again and stays dead (`null`).
 */
export function revive(body: string): RevivedJob | null {
  let payload;
  try {
    payload = decodePayload(body);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return null;
    throw error;
  }
  const { exceptionExecutions: _counters, attempts: _attempts, ...rest } = payload;
  const revived: JobPayload = { ...rest, executions: 0, runAt: new Date().toISOString() };
  if (revived.continuation) revived.continuation = { ...revived.continuation, resumptions: 0 };
  return { payload: revived, body: encodePayload(revived) };
}
