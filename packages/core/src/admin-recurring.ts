/**
 * The config's recurring tasks for operators: schedule, next run, the last tick the backend
 * stored, and one run of a task now. What `errand recurring list | run` and the dashboard's
 * recurring page use.
 *
 * @module
 */
import type { RecurringRecord } from "./adapter/contract.js";
import type { AdminOptions } from "./admin.js";
import { definitionOf } from "./job/settings.js";
import { recurringTasks, UnknownRecurringTaskError, type RecurringTaskSpec } from "./recurring/config.js";
import { currentRuntime, type Runtime } from "./runtime.js";
import type { EnqueuedJob } from "./job/enqueuing.js";
import type { Job } from "./job/job.js";

/** A recurring task as operators see it. */
export interface RecurringTaskView {
  /** The task's name (its key in `config.recurring`). */
  name: string;
  /** Registered name of the job class each tick enqueues. */
  job: string;
  /** `cron 0 3 * * *` or `every 10m`. */
  schedule: string;
  /** The cron's time zone; `null` for UTC or an `every` task. */
  timezone: string | null;
  /** The next tick after now; `null` for a cron that fires no more. */
  nextRunAt: Date | null;
  /** The last tick the backend stored; `null` for none (or unknown). */
  lastRunAt: Date | null;
  /** Errand id of the last tick's job. */
  lastJobId: string | null;
  /** Why the last run is unknown (the backend keeps no recurring state, or only inside the app's process); `null` when known. */
  lastUnknown: string | null;
}

/** The config's recurring tasks, for operators. */
export interface RecurringApi {
  /** Every task, in config order. */
  list(): Promise<RecurringTaskView[]>;
  /**
   * Enqueues one job of task `name` now, with the task's args, queue and priority, through
   * `performLater` (its enqueue callbacks run). Not a tick: the task's last tick is unchanged.
   * @throws UnknownRecurringTaskError naming the tasks there are.
   */
  run(name: string): Promise<EnqueuedJob>;
}

/** The last stored tick of each task (or why it is unknown), asking each task's backend once. */
async function lastTicks(runtime: Runtime, tasks: readonly RecurringTaskSpec[]): Promise<Map<string, RecurringRecord | null | string>> {
  const byAdapter = new Map<string | undefined, RecurringTaskSpec[]>();
  for (const task of tasks) {
    const adapter = definitionOf(task.jobClass).adapter;
    byAdapter.set(adapter, [...(byAdapter.get(adapter) ?? []), task]);
  }
  const found = new Map<string, RecurringRecord | null | string>();
  for (const [adapter, group] of byAdapter) {
    const client = await runtime.adapterFor(adapter);
    let unknown: string | undefined;
    if (client.capabilities.embeddedWorker) unknown = `the ${client.name} adapter keeps its state inside the app process`;
    else if (!client.capabilities.recurring) unknown = `the ${client.name} adapter keeps no recurring state`;
    if (unknown !== undefined) {
      for (const task of group) found.set(task.name, unknown);
      continue;
    }
    const records = await client.recurringState(group.map((task) => task.name));
    group.forEach((task, index) => found.set(task.name, records[index] ?? null));
  }
  return found;
}

/** Finds task `name` in the runtime's config. */
export function findRecurringTask(runtime: Runtime, name: string): RecurringTaskSpec {
  const tasks = recurringTasks(runtime.config);
  const task = tasks.find((candidate) => candidate.name === name);
  if (!task) throw new UnknownRecurringTaskError(name, tasks.map((candidate) => candidate.name));
  return task;
}

/**
 * The recurring tasks of the current (or given) runtime's config. `options.adapter` is not
 * used: each task's job class says its adapter.
 * @example
 * for (const task of await recurring().list()) console.log(task.name, task.nextRunAt);
 * await recurring().run("nightly-cleanup");
 */
export function recurring(options: Pick<AdminOptions, "runtime"> = {}): RecurringApi {
  const runtimeOf = () => options.runtime ?? currentRuntime();
  return {
    list: async () => {
      const runtime = runtimeOf();
      const tasks = recurringTasks(runtime.config);
      const last = await lastTicks(runtime, tasks);
      const now = Date.now();
      return tasks.map((task): RecurringTaskView => {
        const record = last.get(task.name);
        const known = typeof record === "object" && record !== null ? record : null;
        const next = task.schedule.next(now);
        return {
          name: task.name,
          job: runtime.registry.ensure(task.jobClass),
          schedule: task.schedule.description,
          timezone: task.schedule.tz ?? null,
          nextRunAt: next === null ? null : new Date(next),
          lastRunAt: known ? known.lastTick : null,
          lastJobId: known ? known.jobId : null,
          lastUnknown: typeof record === "string" ? record : null,
        };
      });
    },
    run: async (name) => {
      const runtime = runtimeOf();
      const task = findRecurringTask(runtime, name);
      const JobClass = task.jobClass as (new (...args: unknown[]) => Job<unknown[], unknown>) & Pick<typeof Job, "set">;
      const set: { queue?: string; priority?: number } = {};
      if (task.queue !== undefined) set.queue = task.queue;
      if (task.priority !== undefined) set.priority = task.priority;
      return JobClass.set(set).performLater(...(task.args as unknown[]));
    },
  };
}
