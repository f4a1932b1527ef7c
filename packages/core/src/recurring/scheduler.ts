/**
 * The recurring scheduler a worker runs: it enqueues each due tick of the config's
 * recurring tasks. Every worker runs one and enqueues every tick; the backend stores one
 * job per (task, tick) and answers the others `duplicate: true` (`flow.recurring`, an
 * atomic compare-and-set on the task's last tick). There is no leader and no lock: a
 * worker killed mid-tick leaves the tick to the others, which enqueue it too.
 *
 * States:
 *
 * - `new` → `start()` → `running`. Each task gets a floor: the last tick it counts as
 *   handled. With `missed: "skip"` the floor is the start time, so only ticks after the
 *   start fire; with `"latest"` there is none, so the first check also fires the latest
 *   tick at or before the start (the backend drops it if it stored that tick or a later
 *   one already).
 * - `running`: a check, then a sleep, again and again. A check takes, per task, the ticks
 *   due (at or before now) above the floor and at most {@link CATCH_UP_MS} old, and
 *   enqueues them oldest first: a wake late by less than that (a GC pause, an overloaded
 *   machine) loses no tick. Older ticks — a process asleep, a long stall — are dropped;
 *   when none is left in the window (or there is no floor yet, with `missed: "latest"`)
 *   the latest due tick is enqueued alone. An enqueue
 *   that succeeds (stored or duplicate) raises the floor to its tick. One that fails is
 *   reported (`worker:error`), the floor stays and the task's later ticks wait: the next
 *   check tries again from the floor, within the same window. The sleep lasts
 *   until the earliest next tick, a failed task's retry (1 s, doubling, at most 60 s),
 *   or 60 s, whichever comes first: a setTimeout never longer than 60 s (far below its
 *   2^31-1 ms limit), so a wall-clock jump is seen within a minute.
 * - `running` → `stop()` → `stopped`: the sleep is cut short; a check in flight finishes
 *   its enqueues (or their failure) first, so `stop()` resolves once nothing is pending.
 *
 * Ticks are enqueued without the job's enqueue callbacks: every worker enqueues every
 * tick, so a callback would run once per worker per tick, duplicates included.
 *
 * @module
 */
import type { JobPayload } from "../adapter/contract.js";
import type { AdapterClient } from "../backends/client.js";
import { pause } from "../abort.js";
import { ErrandError } from "../errors.js";
import { payloadFor, type SetOptions } from "../job/enqueuing.js";
import type { Job } from "../job/job.js";
import type { Runtime } from "../runtime.js";
import type { RecurringTaskSpec } from "./config.js";
import type { Schedule } from "./schedule.js";

/** Longest sleep between two checks: a wall-clock jump (or a missed timer) is caught within it. */
export const MAX_CHECK_INTERVAL_MS = 60_000;

/**
 * How late a tick may be and still be enqueued on its own: ticks missed for less than this
 * are caught up one by one, older ones coalesce into the latest due tick. A minute covers the
 * stalls of a loaded machine (three workers each over a second late on a 2-core machine
 * running the test suite lost a 1 s tick before this existed) and bounds a catch-up to 60
 * enqueues for the shortest period (1 s); a machine that slept longer fires once.
 */
export const CATCH_UP_MS = 60_000;

/** First retry delay after a failed enqueue; it doubles per failure, up to {@link MAX_CHECK_INTERVAL_MS}. */
const FIRST_RETRY_MS = 1000;

/** A tick that could not be enqueued (the backend down, a payload that cannot be built). */
export class RecurringTickError extends ErrandError {
  constructor(
    /** The task's name. */
    readonly task: string,
    /** The tick that was not enqueued. */
    readonly tick: Date,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      "ERR_RECURRING_TICK",
      `recurring task ${JSON.stringify(task)}: tick ${tick.toISOString()} was not enqueued (tried again while it is the latest due tick): ${reason}`,
      { cause },
    );
  }
}

/** Options of {@link RecurringScheduler}. */
export interface RecurringSchedulerOptions {
  runtime: Runtime;
  /** The client ticks are enqueued through (its adapter has `capabilities.recurring`). */
  client: AdapterClient;
  tasks: readonly RecurringTaskSpec[];
  /** The worker running it, named in events. */
  workerId: string;
  /** Reports a failure; the scheduler goes on. */
  onError(error: unknown): void;
}

interface TaskState {
  readonly spec: RecurringTaskSpec;
  /** The last tick handled (enqueued, or stored by another worker); ticks at or below it never fire. */
  floor: number;
  /** Failed enqueues in a row. */
  failures: number;
  /** When to try again after a failure. */
  retryAt: number;
}

/** The scheduler's lifecycle state. */
export type SchedulerState = "new" | "running" | "stopped";

/** Enqueues the due ticks of recurring tasks until stopped (see the module's states). */
export class RecurringScheduler {
  private stateValue: SchedulerState = "new";
  private readonly tasks: TaskState[];
  private readonly controller = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();

  constructor(private readonly options: RecurringSchedulerOptions) {
    this.tasks = options.tasks.map((spec) => ({ spec, floor: -Infinity, failures: 0, retryAt: 0 }));
  }

  /** The scheduler's state. */
  get state(): SchedulerState {
    return this.stateValue;
  }

  /** The names of the tasks it schedules. */
  get taskNames(): string[] {
    return this.tasks.map((task) => task.spec.name);
  }

  /** Starts the loop; the first check runs at once. */
  start(): void {
    if (this.stateValue !== "new") return;
    this.stateValue = "running";
    const startedAt = Date.now();
    for (const task of this.tasks) task.floor = task.spec.missed === "skip" ? startedAt : -Infinity;
    this.loopDone = this.loop();
  }

  /** Stops the loop; resolves once a check in flight has finished. */
  async stop(): Promise<void> {
    if (this.stateValue === "new") this.stateValue = "stopped";
    if (this.stateValue === "stopped") return this.loopDone;
    this.stateValue = "stopped";
    this.controller.abort();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const signal = this.controller.signal;
    while (this.stateValue === "running") {
      await this.check(Date.now());
      if (this.stateValue !== "running") break;
      await pause(this.delay(Date.now()), signal);
    }
  }

  /** Enqueues, for each task, its due ticks above its floor ({@link dueTicks}), oldest first. */
  private async check(now: number): Promise<void> {
    const due: { task: TaskState; ticks: number[] }[] = [];
    for (const task of this.tasks) {
      if (task.failures > 0 && now < task.retryAt) continue;
      const ticks = dueTicks(task.spec.schedule, task.floor, now);
      if (ticks.length > 0) due.push({ task, ticks });
    }
    // Tasks side by side: a durable backend's client merges their enqueues into one call,
    // and a payload one task cannot build does not hold back the others. A task's own
    // ticks go in order, each once the one before it is handled.
    await Promise.all(
      due.map(async ({ task, ticks }) => {
        for (const tick of ticks) if (!(await this.fire(task, tick))) return;
      }),
    );
  }

  /** Enqueues one tick; false when that failed (reported, retried by a later check). */
  private async fire(task: TaskState, tick: number): Promise<boolean> {
    const { spec } = task;
    const tickDate = new Date(tick);
    try {
      const [result] = await this.options.client.enqueue([this.payload(spec, tickDate)]);
      task.floor = Math.max(task.floor, tick);
      task.failures = 0;
      this.options.runtime.events.emit("recurring:tick", {
        workerId: this.options.workerId,
        task: spec.name,
        tick: tickDate,
        jobId: result!.jobId,
        duplicate: result!.duplicate === true,
      });
      return true;
    } catch (error) {
      task.failures++;
      task.retryAt = Date.now() + Math.min(MAX_CHECK_INTERVAL_MS, FIRST_RETRY_MS * 2 ** (task.failures - 1));
      this.options.onError(new RecurringTickError(spec.name, tickDate, error));
      return false;
    }
  }

  /** The payload `performLater` would store (queue and priority from the task, else the class), with the tick. */
  private payload(spec: RecurringTaskSpec, tick: Date): JobPayload {
    const payload = recurringPayload(spec, this.options.runtime);
    payload.flow = { ...payload.flow, recurring: { task: spec.name, tick: tick.toISOString() } };
    return payload;
  }

  /** Milliseconds until the next check. */
  private delay(now: number): number {
    let wake = now + MAX_CHECK_INTERVAL_MS;
    for (const task of this.tasks) {
      const next = task.spec.schedule.next(now);
      if (next !== null) wake = Math.min(wake, next);
      if (task.failures > 0) wake = Math.min(wake, task.retryAt);
    }
    return Math.max(1, wake - now);
  }
}

/**
 * The ticks a check at `now` enqueues for a task whose floor is `floor`, oldest first: every
 * tick above the floor due within the last {@link CATCH_UP_MS}; when there is none but a tick
 * above the floor is due (missed for longer, or no floor yet), the latest due tick alone.
 */
export function dueTicks(schedule: Schedule, floor: number, now: number): number[] {
  const latest = schedule.latest(now);
  if (latest === null || latest <= floor) return [];
  if (floor === -Infinity) return [latest];
  const ticks: number[] = [];
  for (let tick = schedule.next(Math.max(floor, now - CATCH_UP_MS)); tick !== null && tick <= now; tick = schedule.next(tick)) {
    ticks.push(tick);
  }
  return ticks.length > 0 ? ticks : [latest];
}

/**
 * A task's job as `performLater` would build it, without `flow.recurring`: queue and
 * priority from the task, else from the class; the class's own settings (timeout, flow
 * control) apply. `errand recurring run` enqueues this; a tick adds its `flow.recurring`.
 */
export function recurringPayload(spec: RecurringTaskSpec, runtime: Runtime): JobPayload {
  const options: SetOptions = {};
  if (spec.queue !== undefined) options.queue = spec.queue;
  if (spec.priority !== undefined) options.priority = spec.priority;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const job = new (spec.jobClass as new (...args: unknown[]) => Job<any, any>)(...spec.args);
  return payloadFor(job, options, runtime);
}
