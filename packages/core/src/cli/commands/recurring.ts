/**
 * `errand recurring list | run NAME`: the config's recurring tasks — their schedule, next
 * run, and the last tick the backend stored — and one run of a task now.
 *
 * @module
 */
import type { Command } from "commander";

import { findRecurringTask, recurring } from "../../admin-recurring.js";
import { definitionOf } from "../../job/settings.js";
import { recurringTasks } from "../../recurring/config.js";
import { requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
import { say, table, toJson } from "../output.js";

/** Options of the `recurring` subcommands. */
export interface RecurringOptions extends CommonOptions {
  json?: boolean;
}

/** One row of `errand recurring list`. */
export interface RecurringRow {
  task: string;
  job: string;
  schedule: string;
  tz: string | null;
  /** The next tick after now, ISO; null for a cron that fires no more. */
  nextRun: string | null;
  /** The last tick the backend stored, ISO; null for none. */
  lastRun: string | null;
  /** Errand id of the last tick's job. */
  jobId: string | null;
  /** Why the backend cannot tell the last run (it keeps no recurring state, or only in the app's process). */
  stateUnknown?: string;
}

/** Prints every recurring task: schedule, time zone, next run, last run and its job id. */
export async function listRecurring(options: RecurringOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    const tasks = recurringTasks(runtime.config);
    if (tasks.length === 0 && !options.json) return say("no recurring tasks in the config");
    const rows: RecurringRow[] = (await recurring({ runtime }).list()).map((task) => {
      const row: RecurringRow = {
        task: task.name,
        job: task.job,
        schedule: task.schedule,
        tz: task.timezone,
        nextRun: task.nextRunAt?.toISOString() ?? null,
        lastRun: task.lastRunAt?.toISOString() ?? null,
        jobId: task.lastJobId,
      };
      if (task.lastUnknown !== null) row.stateUnknown = task.lastUnknown;
      return row;
    });
    if (options.json) return say(toJson(rows, 2));
    say(
      table(
        ["task", "job", "schedule", "tz", "next run", "last run", "job id"],
        rows.map((row) => [row.task, row.job, row.schedule, row.tz ?? "-", row.nextRun ?? "never", row.stateUnknown ? "unknown" : (row.lastRun ?? "never"), row.jobId ?? "-"]),
      ),
    );
    for (const reason of new Set(rows.flatMap((row) => (row.stateUnknown ? [row.stateUnknown] : [])))) say(`last run unknown: ${reason}`);
  });
}

/**
 * Enqueues one job of task `name` now, with the task's args, queue and priority, through
 * `performLater` (its enqueue callbacks run). It is not a tick: it carries no
 * `flow.recurring` and leaves the task's last tick as it is.
 */
export async function runRecurring(name: string, options: RecurringOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    const task = findRecurringTask(runtime, name);
    requireSharedBackend(await runtime.adapterFor(definitionOf(task.jobClass).adapter), "recurring run");
    const result = await recurring({ runtime }).run(name);
    if (options.json) return say(toJson({ task: name, ...result }, 2));
    if (!result.enqueued) return say(`${task.name}: ${result.job} was not enqueued: an aroundEnqueue callback did not call through`);
    const duplicate = result.duplicate ? " (duplicate: an existing job matched its uniqueness key)" : "";
    say(`${result.jobId} ${result.job} on ${result.queue} for recurring task ${task.name} (adapter ${result.adapter})${duplicate}`);
  });
}

/** Adds `recurring list` and `recurring run` to the program. */
export function registerRecurring(program: Command): void {
  const recurring = program.command("recurring").description("list the config's recurring tasks, or run one now");
  const common = (command: Command) =>
    command.option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)").option("--json", "print as JSON");

  common(recurring.command("list").description("each recurring task: schedule, tz, next run, last run (the last tick stored) and its job id")).action(
    (options: RecurringOptions) => listRecurring(options),
  );

  common(recurring.command("run").description("enqueue one job of a recurring task now (a plain job, not a tick: the schedule is unchanged)"))
    .argument("<name>", "the task's name in config.recurring")
    .action((name: string, options: RecurringOptions) => runRecurring(name, options));
}
