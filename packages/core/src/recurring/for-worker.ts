/**
 * Which recurring tasks a worker schedules: those whose job class lives on the worker's
 * adapter (a class pinned to another adapter is scheduled by that adapter's workers).
 * Every task's class is registered either way, so the worker runs ticks others enqueued.
 *
 * @module
 */
import type { AdapterClient } from "../backends/client.js";
import { ConfigError } from "../errors.js";
import { definitionOf } from "../job/settings.js";
import type { Runtime } from "../runtime.js";
import { recurringTasks } from "./config.js";
import { RecurringScheduler } from "./scheduler.js";

export { RecurringScheduler } from "./scheduler.js";

/** What {@link schedulerFor} needs of a worker. */
export interface WorkerSchedulerOptions {
  runtime: Runtime;
  client: AdapterClient;
  /** The worker's adapter name from config (undefined: the default adapter). */
  adapter: string | undefined;
  /** False for `recurring: false` (`errand work --no-recurring`). */
  enabled: boolean;
  workerId: string;
  onError(error: unknown): void;
}

/**
 * The scheduler of the recurring tasks the worker is to schedule, or none.
 * @throws ConfigError when there are such tasks and the adapter cannot store ticks.
 */
export function schedulerFor(options: WorkerSchedulerOptions): RecurringScheduler | undefined {
  const { runtime, client } = options;
  const tasks = recurringTasks(runtime.config);
  for (const task of tasks) runtime.registry.ensure(task.jobClass);
  const mine = tasks.filter((task) => definitionOf(task.jobClass).adapter === options.adapter);
  if (!options.enabled || mine.length === 0) return undefined;
  if (!client.capabilities.recurring) {
    const note = client.adapter.capabilityNotes?.recurring;
    throw new ConfigError(
      `the ${client.name} adapter cannot run recurring tasks (capability recurring)${note ? `: ${note}` : ""}, and the config has ${mine.length}: ` +
        `${mine.map((task) => task.name).join(", ")}; use an adapter that can (async, redis, postgres, or sqs with a shared status store), ` +
        `or start this worker with recurring: false (errand work --no-recurring)`,
    );
  }
  return new RecurringScheduler({ runtime, client, tasks: mine, workerId: options.workerId, onError: options.onError });
}
