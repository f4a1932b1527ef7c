/**
 * `errand enqueue <JobName> '[<json args>]' [--wait 10m] [--queue q] [--priority N]`:
 * `JobClass.set({ wait, queue, priority }).performLater(...args)` from a shell, with the
 * job's enqueue callbacks, into the backend the config (or the class) names.
 *
 * @module
 */
import type { Command } from "commander";

import type { Duration } from "../../duration.js";
import type { SetOptions } from "../../job/enqueuing.js";
import { definitionOf } from "../../job/settings.js";
import { findJob, requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
import { integer, parseJsonArgs, say, toJson } from "../output.js";

/** Options of `errand enqueue`. */
export interface EnqueueCommandOptions extends CommonOptions {
  wait?: string;
  queue?: string;
  priority?: number;
  json?: boolean;
}

/** A shell has no numbers: `--wait 5000` means milliseconds, as `set({ wait: 5000 })` does. */
function toDuration(text: string): Duration {
  return /^\d+$/.test(text.trim()) ? Number(text) : text;
}

/** Enqueues `jobName` with `argsJson` and prints the job id. */
export async function enqueue(jobName: string, argsJson: string, options: EnqueueCommandOptions): Promise<void> {
  const args = parseJsonArgs(argsJson);
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    const JobClass = findJob(runtime, jobName);
    // A job enqueued into the async adapter from here would live and die in this process.
    requireSharedBackend(await runtime.adapterFor(definitionOf(JobClass).adapter), "enqueue");
    const set: SetOptions = {};
    if (options.wait !== undefined) set.wait = toDuration(options.wait);
    if (options.queue !== undefined) set.queue = options.queue;
    if (options.priority !== undefined) set.priority = options.priority;
    const result = await JobClass.set(set).performLater(...args);
    if (options.json) return say(toJson(result, 2));
    if (!result.enqueued) return say(`${result.job} was not enqueued: an aroundEnqueue callback did not call through`);
    const duplicate = result.duplicate ? " (duplicate: an existing job matched its uniqueness key)" : "";
    say(
      `${result.jobId} ${result.job} on ${result.queue}, runs at ${result.scheduledAt.toISOString()} ` +
        `(adapter ${result.adapter}, provider id ${result.providerJobId})${duplicate}`,
    );
  });
}

/** Adds `enqueue` to the program. */
export function registerEnqueue(program: Command): void {
  program
    .command("enqueue")
    .description("enqueue a job (performLater) and print its job id")
    .argument("<job>", "registered job class name")
    .argument("[args]", "perform's arguments as a JSON array", "[]")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .option("--wait <duration>", 'delay before it may run: ms, "90s", "10m", "2h", "1d", "1w"')
    .option("--queue <name>", "queue (default: the job class's queue)")
    .option("--priority <n>", "priority, lower runs first (default: the job class's)", integer)
    .option("--json", "print the enqueued job as JSON")
    .addHelpText("after", `\nExamples:\n  errand enqueue ReportJob '[42]'\n  errand enqueue ReportJob '[42]' --wait 10m --queue low`)
    .action((job: string, args: string, options: EnqueueCommandOptions) => enqueue(job, args, options));
}
