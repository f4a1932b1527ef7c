/**
 * `errand perform <JobName> '[<json args>]'`: runs one job now, in this process, as
 * `performNow` does (perform callbacks and rescue/discard rules, no adapter, no retries),
 * and prints its result as JSON. For trying a job from a shell or a one-off fix-up.
 *
 * @module
 */
import type { Command } from "commander";

import { findJob, withRuntime, type CommonOptions } from "../context.js";
import { failureReport, parseJsonArgs, say, toJson } from "../output.js";

/** Options of `errand perform`. */
export interface PerformOptions extends CommonOptions {
  /** Print the result on one line instead of indented. */
  compact?: boolean;
}

/** Runs `jobName` with `argsJson` and prints the result. */
export async function perform(jobName: string, argsJson: string, options: PerformOptions): Promise<void> {
  // Parse before loading anything: a typo in the JSON should not wait for the config.
  const args = parseJsonArgs(argsJson);
  await withRuntime(options, async (runtime) => {
    const JobClass = findJob(runtime, jobName);
    let result: unknown;
    try {
      // The class's performNow: with the config's resolve hook, the container builds the job.
      result = await JobClass.performNow(...args);
    } catch (error) {
      // The job's own failure, not the command's: say which job failed, keep its error's name.
      process.stderr.write(`${failureReport(error, { prefix: `${jobName} failed: ` })}\n`);
      process.exitCode = 1;
      return;
    }
    say(toJson(result, options.compact ? undefined : 2));
  });
}

/** Adds `perform` to the program. */
export function registerPerform(program: Command): void {
  program
    .command("perform")
    .description("run a job now, in this process (performNow), and print its result as JSON")
    .argument("<job>", "registered job class name")
    .argument("[args]", "perform's arguments as a JSON array", "[]")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .option("--compact", "print the result on one line")
    .addHelpText("after", `\nExample:\n  errand perform ReportJob '[42, "2024-05"]'`)
    .action((job: string, args: string, options: PerformOptions) => perform(job, args, options));
}
