/**
 * What a worker does with its heartbeat's answers (`heartbeat.ts`): the queues of the next
 * reserve with the paused ones left out, buffered jobs of paused queues handed back, running
 * jobs aborted at an operator's request, and the running jobs the beat reports. Pure
 * functions over the worker's state; the worker calls them.
 *
 * @module
 */
import type { Reservation, RunningJobInfo, Settlement } from "../adapter/contract.js";
import { wallClockAt } from "../clock.js";
import { JobAbortedError } from "../errors.js";
import { queueOrder, type QueueSelection } from "./queues.js";
import type { RunningJob } from "./slots.js";

/** The queues of one reserve. */
export interface ReserveQueues {
  queues: readonly string[] | "*";
  /** With `"*"`: the paused queues. */
  except?: readonly string[];
}

/**
 * The queues of the next reserve, in weighted order, paused ones left out (as `except` with
 * `"*"`); `undefined` when every queue of the worker is paused.
 */
export function reserveQueues(selection: QueueSelection, paused: ReadonlySet<string> | undefined): ReserveQueues | undefined {
  const order = queueOrder(selection);
  if (!paused || paused.size === 0) return { queues: order };
  if (order === "*") return { queues: order, except: [...paused] };
  const open = order.filter((name) => !paused.has(name));
  return open.length === 0 ? undefined : { queues: open };
}

/**
 * Takes the buffered reservations of paused queues out of `buffer` (in place) and hands each
 * to `settle` as released: they were reserved but not started.
 */
export function releasePaused(buffer: Reservation[], paused: ReadonlySet<string>, settle: (settlement: Settlement) => void): void {
  if (paused.size === 0 || buffer.length === 0) return;
  const kept = buffer.filter((reservation) => {
    if (!paused.has(queueOf(reservation))) return true;
    settle({ reservation, outcome: "released" });
    return false;
  });
  buffer.splice(0, buffer.length, ...kept);
}

/** Aborts the running jobs whose ids are given, with `JobAbortedError` as the signal's reason. */
export function abortRunning(running: readonly RunningJob[], ids: readonly string[]): void {
  const wanted = new Set(ids);
  for (const job of running) {
    if (!job.payload || !wanted.has(job.payload.id) || job.abandoned) continue;
    const controller = (job.controller ??= new AbortController());
    if (!controller.signal.aborted) controller.abort(new JobAbortedError());
  }
}

/** The running jobs whose payload was read, as a beat reports them. */
export function runningInfo(running: readonly RunningJob[]): RunningJobInfo[] {
  return running.flatMap((job) =>
    job.payload ? [{ id: job.payload.id, job: job.payload.job, queue: job.payload.queue, startedAt: wallClockAt(job.startedAt) }] : [],
  );
}

/** The queue a reservation's payload names; "" when its body is not readable (it stays buffered and dies when run). */
function queueOf(reservation: Reservation): string {
  try {
    const queue = (JSON.parse(reservation.body) as { queue?: unknown }).queue;
    return typeof queue === "string" ? queue : "";
  } catch {
    return "";
  }
}
