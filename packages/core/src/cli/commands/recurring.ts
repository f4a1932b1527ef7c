/**
 * `errand recurring list | run NAME`: the config's recurring tasks — their schedule, next
 * run, and the last tick the backend stored — and one run of a task now.
 *
 * @module
 */
import type { Command } from "commander";

import type { RecurringRecord } from "../../adapter/contract.js";
import type { AdapterClient } from "../../backends/client.js";
import { definitionOf } from "../../job/settings.js";
import { recurringTasks, UnknownRecurringTaskError, type RecurringTaskSpec } from "../../recurring/config.js";
import type { Runtime } from "../../runtime.js";
import { findJob, requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
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

/** The last stored tick of each task, asking each task's backend once for its tasks. */
async function lastTicks(runtime: Runtime, tasks: readonly RecurringTaskSpec[]): Promise<Map<string, RecurringRecord | null | string>> {
  const byAdapter = new Map<string | undefined, RecurringTaskSpec[]>();
  for (const task of tasks) {
    const adapter = definitionOf(task.jobClass).adapter;
    byAdapter.set(adapter, [...(byAdapter.get(adapter) ?? []), task]);
  }
  const found = new Map<string, RecurringRecord | null | string>();
  for (const [adapter, group] of byAdapter) {
    const client: AdapterClient = await runtime.adapterFor(adapter);
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

/** Prints every recurring task: schedule, time zone, next run, last run and its job id. */
export async function listRecurring(options: RecurringOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    const tasks = recurringTasks(runtime.config);
    if (tasks.length === 0 && !options.json) return say("no recurring tasks in the config");
    const last = await lastTicks(runtime, tasks);
    const now = Date.now();
    const rows: RecurringRow[] = tasks.map((task) => {
      const record = last.get(task.name);
      const next = task.schedule.next(now);
      const row: RecurringRow = {
        task: task.name,
        job: runtime.registry.ensure(task.jobClass),
        schedule: task.schedule.description,
        tz: task.schedule.tz ?? null,
        nextRun: next === null ? null : new Date(next).toISOString(),
        lastRun: typeof record === "object" && record !== null ? record.lastTick.toISOString() : null,
        jobId: typeof record === "object" && record !== null ? record.jobId : null,
      };
      if (typeof record === "string") row.stateUnknown = record;
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
    const tasks = recurringTasks(runtime.config);
    const task = tasks.find((candidate) => candidate.name === name);
    if (!task) throw new UnknownRecurringTaskError(name, tasks.map((candidate) => candidate.name));
    const JobClass = findJob(runtime, runtime.registry.ensure(task.jobClass));
    requireSharedBackend(await runtime.adapterFor(definitionOf(task.jobClass).adapter), "recurring run");
    const set: { queue?: string; priority?: number } = {};
    if (task.queue !== undefined) set.queue = task.queue;
    if (task.priority !== undefined) set.priority = task.priority;
    const result = await JobClass.set(set).performLater(...task.args);
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
