/**
 * A hash of status fields (the status store's hashes, and the adapter's job records as
 * `job-read.lua` spells them out, share them: `state`, `job`, `queue`, `priority`, `exe`,
 * `enq`, `run`, `upd`, `sta`, `fin`, `prog`, `res`, `err`) as a `StatusRecord`.
 *
 * @module
 */
import type { JobState, StatusRecord, StoredError } from "@errand/core/adapter";

const STATES = new Set<JobState>(["scheduled", "queued", "running", "succeeded", "retrying", "failed", "dead"]);

/** A status hash as a record; `null` when there is none (or only a lease, for a job never recorded). */
export function toRecord(id: string, f: Record<string, string>, now: number, queue = ""): StatusRecord | null {
  if (f.state === undefined) return null;
  let state = STATES.has(f.state as JobState) ? (f.state as JobState) : "queued";
  // Promotion happens when a worker looks (reserve.lua), or SQS makes the message visible:
  // a scheduled job whose time has come reads as queued though no write happened then.
  if (state === "scheduled" && Number(f.run) <= now) state = "queued";
  const record: StatusRecord = {
    id,
    job: f.job ?? "",
    queue: f.queue ?? queue,
    priority: Number(f.priority ?? 0),
    state,
    executions: Number(f.exe ?? 0),
    enqueuedAt: new Date(Number(f.enq)),
    runAt: new Date(Number(f.run)),
    updatedAt: new Date(Number(f.upd)),
  };
  if (f.prog) record.progress = JSON.parse(f.prog) as NonNullable<StatusRecord["progress"]>;
  if (f.res !== undefined) record.result = f.res;
  if (f.err) record.error = JSON.parse(f.err) as StoredError;
  if (f.sta !== undefined) record.startedAt = new Date(Number(f.sta));
  if (f.fin !== undefined) record.finishedAt = new Date(Number(f.fin));
  return record;
}
