/**
 * The doctor's backlog check: a queue with jobs waiting and no live worker serving it is a
 * queue whose jobs will not run — the mistake of a deploy that forgot a `-q mailers`. Read
 * from the backend's queue counts and worker heartbeats (`capabilities.control`), so only
 * once the adapter answered and its schema is known up to date: the reads then go through
 * the adapter's ordinary calls, and with nothing pending those cannot migrate anything.
 *
 * A worker serves a queue when its `queues` (as `errand work` configured them, prefix
 * applied: `"critical,2 default,1"`) name it, or when it serves `*`. A paused queue is not
 * expected to be served: it is reported in the passing line instead.
 *
 * @module
 */
import type { QueueInfo, WorkerRecord } from "../adapter/contract.js";
import { parseQueues } from "../worker/queues.js";
import { failed, passed, reason, skipped, type DoctorCheck } from "./report.js";
import type { CheckedAdapter } from "./adapters.js";

/** The queue names a worker's `queues` field names (what `describeQueues` wrote), or `"*"`. */
function workerQueues(queues: string): string[] | "*" {
  const selection = parseQueues(queues);
  return selection === "*" ? "*" : selection.queues.map((queue) => queue.name);
}

/** Pushes the backlog checks of one adapter: one failure per waiting queue no live worker serves, or one pass. */
export async function checkBacklog(adapter: CheckedAdapter, checks: DoctorCheck[], now = Date.now()): Promise<void> {
  const { client, key } = adapter;
  const id = `backlog:${key}`;
  const title = `${adapter.label}${client ? ` ${client.name}` : ""} workers`;
  if (!client || !adapter.reachable) return void checks.push(skipped(id, title, `unknown: the ${adapter.label} ${client ? "could not be diagnosed" : "did not resolve"}`));
  if (!adapter.schemaReady) return void checks.push(skipped(id, title, "unknown: a schema is not up to date, and reading the queues would migrate it"));
  if (client.capabilities.embeddedWorker) {
    return void checks.push(passed(id, title, { detail: `the ${client.name} adapter runs jobs on a worker inside the app's process, which serves every queue` }));
  }
  if (!client.capabilities.control) {
    const note = client.adapter.capabilityNotes?.control;
    return void checks.push(skipped(id, title, `the ${client.name} adapter keeps no worker heartbeats${note ? ` (${note})` : ""}: waiting jobs cannot be matched to workers`));
  }
  let infos: QueueInfo[];
  let workers: WorkerRecord[];
  try {
    [infos, workers] = await Promise.all([client.listQueues({}), client.listWorkers()]);
  } catch (error) {
    return void checks.push(failed(id, title, `could not read queues and workers: ${reason(error)}`, "check the backend, then run errand doctor again"));
  }
  const live = workers.filter((worker) => worker.lastBeatAt.getTime() + worker.ttlMs > now);
  const served = (queue: string) => live.some((worker) => {
    const names = workerQueues(worker.queues);
    return names === "*" || names.includes(queue);
  });
  const waiting = infos.filter((info) => info.queued > 0);
  const unserved = waiting.filter((info) => !info.paused && !served(info.name));
  for (const info of unserved) {
    const jobs = info.queued === 1 ? "1 job" : `${info.queued} jobs`;
    checks.push(failed(`${id}:${info.name}`, `queue ${info.name}`, `${jobs} waiting, no live worker serves it`, `run \`errand work -q ${info.name}${adapter.name === undefined ? "" : ` --adapter ${adapter.name}`}\``));
  }
  if (unserved.length > 0) return;
  const paused = waiting.filter((info) => info.paused).map((info) => info.name);
  const workersText = `${live.length} live worker${live.length === 1 ? "" : "s"}`;
  const detail =
    waiting.length === 0
      ? `no jobs waiting; ${workersText}`
      : `jobs waiting in ${waiting.map((info) => info.name).join(", ")}, every one served by a live worker or paused${paused.length > 0 ? ` (paused: ${paused.join(", ")})` : ""}; ${workersText}`;
  checks.push(passed(id, title, { detail }));
}
