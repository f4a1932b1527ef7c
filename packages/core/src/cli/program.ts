/**
 * The `errand` command tree, built with commander, and {@link run}, which turns any
 * failure into one line on stderr and an exit code — never a stack trace, unless
 * `ERRAND_DEBUG=1` asks for one.
 *
 * @module
 */
import { Command, CommanderError } from "commander";

// Importing the package entry loads core's built-in jobs (the mail delivery job adds
// itself to them when loaded), exactly as an app importing Errand does.
import "../index.js";
import { registerBatch } from "./commands/batch.js";
import { registerDead } from "./commands/dead.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerEnqueue } from "./commands/enqueue.js";
import { registerGenerate } from "./commands/generate.js";
import { registerInit } from "./commands/init.js";
import { registerJobs } from "./commands/jobs.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerPerform } from "./commands/perform.js";
import { registerQueues } from "./commands/queues.js";
import { registerRecurring } from "./commands/recurring.js";
import { registerRelay } from "./commands/relay.js";
import { registerStatus } from "./commands/status.js";
import { registerWork } from "./commands/work.js";
import { registerWorkers } from "./commands/workers.js";
import { failureReport, oneLine } from "./output.js";
import { packageVersion } from "./version.js";

/** Builds the `errand` program. Settings given before the commands are added are inherited by them. */
export function createProgram(): Command {
  const program = new Command("errand")
    .description("Errand background jobs: run a worker, run or enqueue a job, inspect status, batches, queues, jobs, workers and the dead set")
    .version(packageVersion(), "-V, --version", "print the version")
    // Throw instead of exiting, so run() decides the exit code in one place.
    .exitOverride()
    .configureOutput({
      // Commander's "error: ...\n(Did you mean ...?)" becomes one line in our format.
      outputError: (text, write) => write(`errand: ${oneLine(text.replace(/^error:\s*/i, ""))}\n`),
    })
    .addHelpText(
      "after",
      `
Every command takes --config FILE (default: errand.config.{ts,mts,mjs,js} in the working
directory); the environment is ERRAND_ENV, else NODE_ENV, else development; ERRAND_URL
overrides the adapter. Set ERRAND_DEBUG=1 to see stack traces.`,
    );
  registerInit(program);
  registerGenerate(program);
  registerWork(program);
  registerPerform(program);
  registerEnqueue(program);
  registerStatus(program);
  registerBatch(program);
  registerDead(program);
  registerQueues(program);
  registerJobs(program);
  registerWorkers(program);
  registerMigrate(program);
  registerRecurring(program);
  registerRelay(program);
  registerDoctor(program);
  return program;
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code.
 * Errors are reported here, one line each.
 */
export async function run(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    // Commander has already printed its message (help, version, or a usage error).
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`${failureReport(error)}\n`);
    return 1;
  }
}
