/**
 * What a worker does with its heartbeat's answers (`heartbeat.ts`): the queues of the next
 * reserve with the paused ones left out, buffered jobs of paused queues handed back, running
 * jobs aborted or interrupted at an operator's request, and the running jobs the beat reports. Pure
 * functions over the worker's state; the worker calls them.
 *
 * @module
 */
import type { Reservation, RunningJobInfo, Settlement } from "../adapter/contract.js";
import { wallClockAt } from "../clock.js";
import { JobAbortedError, JobInterruptRequestedError } from "../errors.js";
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

/**
 * Aborts the running jobs whose ids are given, with `JobAbortedError` as the signal's reason.
 * A job interrupted before is marked aborted too: if its signal already fired for the
 * interrupt, the executor reads the mark and discards it all the same (abort wins).
 * @param listedAt - when the beat listed the running jobs (`performance.now()`): a run of
 *   the same job that started since (an interrupted job re-run at once by this worker, while
 *   the beat was on its way) is not the one the mark was made for, and is left alone.
 */
export function abortRunning(running: readonly RunningJob[], ids: readonly string[], listedAt = Infinity): void {
  const wanted = new Set(ids);
  for (const job of running) {
    if (!job.payload || !wanted.has(job.payload.id) || job.abandoned || job.startedAt > listedAt) continue;
    job.operator = "abort";
    const controller = (job.controller ??= new AbortController());
    if (!controller.signal.aborted) controller.abort(new JobAbortedError());
  }
}

/**
 * Interrupts the running jobs whose ids are given, as a shutdown would one job: a job that
 * runs steps (`this.step` called) is told to stop at its next checkpoint, its signal left
 * alone (an aborted signal could break the work in flight before it reaches one); any other
 * job's signal aborts with `JobInterruptRequestedError` (a resumable job that has not begun
 * a step yet then stops at its first checkpoint). A job aborted before stays aborted. Beats
 * repeat the ids until the job settles: a second call changes nothing. `listedAt` as for
 * {@link abortRunning}.
 */
export function interruptRunning(running: readonly RunningJob[], ids: readonly string[], listedAt = Infinity): void {
  const wanted = new Set(ids);
  for (const job of running) {
    if (!job.payload || !wanted.has(job.payload.id) || job.abandoned || job.operator !== undefined || job.startedAt > listedAt) continue;
    job.operator = "interrupt";
    const run = job.job?.continuationRun;
    if (run !== undefined) {
      run.interruptRequested = true;
      continue;
    }
    const controller = (job.controller ??= new AbortController());
    if (!controller.signal.aborted) controller.abort(new JobInterruptRequestedError());
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
