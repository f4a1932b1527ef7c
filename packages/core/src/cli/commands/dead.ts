/**
 * `errand dead list | retry | purge`: the dead set — jobs that exhausted their attempts,
 * or whose payload could not be read or named an unknown class.
 *
 * @module
 */
import type { Command } from "commander";

import type { DeadJob } from "../../adapter/contract.js";
import { deadSet, type DeadSetApi } from "../../admin.js";
import type { Runtime } from "../../runtime.js";
import { CliUsageError, requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
import { errorText, integerAtLeast, say, toJson } from "../output.js";

/** Options of the `dead` subcommands. */
export interface DeadOptions extends CommonOptions {
  adapter?: string;
  queue?: string;
  limit?: number;
  offset?: number;
  all?: boolean;
  json?: boolean;
}

/** The job class named in a dead job's body, or `?` when the body is not a payload. */
function jobNameOf(dead: DeadJob): string {
  try {
    const parsed = JSON.parse(dead.body) as { job?: unknown };
    return typeof parsed.job === "string" ? parsed.job : "?";
  } catch {
    return "?";
  }
}

/** One line per dead job: when, id, queue, class, why. */
export function formatDead(dead: DeadJob): string {
  return `${dead.diedAt.toISOString()}  ${dead.id}  ${dead.queue}  ${jobNameOf(dead)}  ${errorText(dead.error)}`;
}

async function openDeadSet(options: DeadOptions, command: string, action: (dead: DeadSetApi, runtime: Runtime) => Promise<void>) {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    requireSharedBackend(await runtime.adapterFor(options.adapter), command);
    await action(deadSet({ runtime, adapter: options.adapter }), runtime);
  });
}

/** Prints dead jobs, newest first. */
export async function listDead(options: DeadOptions): Promise<void> {
  await openDeadSet(options, "dead list", async (dead, runtime) => {
    const queue = options.queue === undefined ? undefined : runtime.queueName(options.queue);
    const jobs = await dead.list({ queue, limit: options.limit ?? 100, offset: options.offset ?? 0 });
    if (options.json) return say(toJson(jobs.map((job) => ({ ...job, diedAt: job.diedAt.toISOString() })), 2));
    if (jobs.length === 0) return say(queue === undefined ? "the dead set is empty" : `no dead jobs on ${queue}`);
    for (const job of jobs) say(formatDead(job));
  });
}

/** `ids` or `--all`, exactly one of them. */
function selection(ids: string[], options: DeadOptions, verb: string): void {
  if (ids.length > 0 && options.all) throw new CliUsageError(`dead ${verb}: give job ids or --all, not both`);
  if (ids.length === 0 && !options.all) throw new CliUsageError(`dead ${verb}: give one or more job ids, or --all`);
  if (options.queue !== undefined && !options.all) throw new CliUsageError(`dead ${verb}: --queue only applies with --all`);
}

/**
 * Retries or purges dead jobs. When some of the given ids were not in the dead set the
 * exit code is 1, so a script notices.
 */
async function change(verb: "retry" | "purge", ids: string[], options: DeadOptions): Promise<void> {
  selection(ids, options, verb);
  await openDeadSet(options, `dead ${verb}`, async (dead, runtime) => {
    const queue = options.queue === undefined ? undefined : runtime.queueName(options.queue);
    const count = options.all
      ? await (verb === "retry" ? dead.retryAll(queue) : dead.purgeAll(queue))
      : await (verb === "retry" ? dead.retry(ids) : dead.purge(ids));
    const done = verb === "retry" ? "moved back to their queues" : "deleted";
    if (options.all || count === ids.length) return say(`${count} dead job(s) ${done}`);
    say(`${count} of ${ids.length} dead job(s) ${done}; the others are not in the dead set`);
    process.exitCode = 1;
  });
}

/** Adds `dead list`, `dead retry` and `dead purge` to the program. */
export function registerDead(program: Command): void {
  const dead = program.command("dead").description("list, retry or purge dead jobs");
  const common = (command: Command) =>
    command
      .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
      .option("--adapter <name>", "named adapter from config.adapters (default: the default adapter)");

  common(dead.command("list").description("list dead jobs, newest first"))
    .option("--queue <name>", "only this queue")
    .option("--limit <n>", "at most this many (default 100)", integerAtLeast(1))
    .option("--offset <n>", "skip this many, newest first (default 0)", integerAtLeast(0))
    .option("--json", "print the dead jobs as JSON")
    .action((options: DeadOptions) => listDead(options));

  common(dead.command("retry").description("move dead jobs back to their queues with fresh attempts"))
    .argument("[jobIds...]", "job ids (or provider ids) to retry")
    .option("--all", "every dead job (of --queue, if given)")
    .option("--queue <name>", "with --all: only this queue")
    .action((ids: string[], options: DeadOptions) => change("retry", ids, options));

  common(dead.command("purge").description("delete dead jobs for good"))
    .argument("[jobIds...]", "job ids (or provider ids) to delete")
    .option("--all", "every dead job (of --queue, if given)")
    .option("--queue <name>", "with --all: only this queue")
    .action((ids: string[], options: DeadOptions) => change("purge", ids, options));
}
