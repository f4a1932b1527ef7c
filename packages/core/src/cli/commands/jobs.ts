/**
 * `errand jobs list | show | cancel | run-now | abort | interrupt`: jobs in any state, for operators
 * (the operator API in `admin-control.ts`; backends with `capabilities.listJobs` and
 * `control`).
 *
 * @module
 */
import type { Command } from "commander";

import { jobs, type JobView } from "../../admin-control.js";
import type { JobState } from "../../adapter/contract.js";
import type { Runtime } from "../../runtime.js";
import { CliUsageError, requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
import { errorText, integerAtLeast, say, table, toJson } from "../output.js";

/** Options of the `jobs` subcommands. */
export interface JobsOptions extends CommonOptions {
  adapter?: string;
  state?: string;
  queue?: string;
  job?: string;
  limit?: number;
  cursor?: string;
  json?: boolean;
}

const STATES = ["queued", "scheduled", "running", "retrying", "succeeded", "failed", "dead"] as const;

async function withJobs(options: JobsOptions, command: string, action: (runtime: Runtime) => Promise<void>): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    requireSharedBackend(await runtime.adapterFor(options.adapter), command);
    await action(runtime);
  });
}

/** The time that matters for a job in its state, for the list. */
function when(job: JobView): string {
  const at = job.finishedAt ?? (job.state === "running" ? job.startedAt : job.scheduledAt);
  return (at ?? job.enqueuedAt).toISOString();
}

/** Prints one page of one state's jobs, and the cursor of the next. */
export async function listJobs(options: JobsOptions): Promise<void> {
  const state = options.state as JobState | undefined;
  if (state === undefined || !(STATES as readonly string[]).includes(state)) {
    throw new CliUsageError(`jobs list: --state must be one of ${STATES.join(", ")}${state === undefined ? "" : `, got ${JSON.stringify(state)}`}`);
  }
  await withJobs(options, "jobs list", async (runtime) => {
    const query = {
      state,
      limit: options.limit ?? 50,
      ...(options.queue === undefined ? {} : { queue: runtime.queueName(options.queue) }),
      ...(options.job === undefined ? {} : { job: options.job }),
      ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
    };
    const page = await jobs({ runtime, adapter: options.adapter }).list(query);
    if (options.json) return say(toJson({ jobs: page.jobs, next: page.next ?? null }, 2));
    if (page.jobs.length === 0) return say(`no ${state} jobs${query.queue === undefined ? "" : ` on ${query.queue}`}`);
    say(
      table(
        ["id", "job", "queue", "when", "runs", "error"],
        page.jobs.map((job) => [job.id, job.job, job.queue, when(job), job.executions, job.error ? errorText(job.error) : ""]),
      ),
    );
    if (page.next !== undefined) say(`next page: --cursor ${page.next}`);
  });
}

/** Prints one job: its status, arguments and earlier runs. */
export async function showJob(id: string, options: JobsOptions): Promise<void> {
  await withJobs(options, "jobs show", async (runtime) => {
    const job = await jobs({ runtime, adapter: options.adapter }).get(id);
    if (!job) {
      process.exitCode = 1;
      return say(`${id}: no such job (unknown, or its status has expired)`);
    }
    if (options.json) return say(toJson(job, 2));
    const lines = [
      `${job.id}  ${job.job}  ${job.state}  queue ${job.queue}  priority ${job.priority}  runs ${job.executions}`,
      `enqueued ${job.enqueuedAt.toISOString()}  due ${job.scheduledAt.toISOString()}` +
        (job.startedAt ? `  started ${job.startedAt.toISOString()}` : "") +
        (job.finishedAt ? `  finished ${job.finishedAt.toISOString()}` : ""),
    ];
    if (job.payload) lines.push(`arguments ${toJson(job.payload.args.json)}`);
    if (job.rawBody !== null) lines.push(`body (not a valid payload) ${job.rawBody}`);
    if (job.progress) lines.push(`progress ${Math.round(job.progress.fraction * 100)}%${job.progress.message ? ` ${job.progress.message}` : ""}`);
    if (job.error) lines.push(`error ${errorText(job.error)}`);
    for (const [index, attempt] of job.attempts.entries()) {
      lines.push(`run ${index + 1}: ${attempt.startedAt} → ${attempt.finishedAt}  ${attempt.error.name}: ${attempt.error.message}`);
    }
    for (const line of lines) say(line);
  });
}

type Action = "cancel" | "runNow" | "abort" | "interrupt";

const DONE: Record<Action, { verb: string; others: string }> = {
  cancel: { verb: "cancelled", others: "not waiting to run (running, finished or unknown)" },
  runNow: { verb: "made due now", others: "not scheduled or retrying" },
  abort: { verb: "asked to abort", others: "not running" },
  interrupt: { verb: "asked to interrupt", others: "not running" },
};

/** Cancels, runs now, aborts or interrupts jobs; exit code 1 when some ids were left alone. */
export async function changeJobs(action: Action, ids: string[], options: JobsOptions): Promise<void> {
  const name = action === "runNow" ? "run-now" : action;
  if (ids.length === 0) throw new CliUsageError(`jobs ${name}: give one or more job ids`);
  await withJobs(options, `jobs ${name}`, async (runtime) => {
    const api = jobs({ runtime, adapter: options.adapter });
    const changed = await api[action](ids);
    if (options.json) return say(toJson({ [action]: changed }, 2));
    const { verb, others } = DONE[action];
    if (changed.length === ids.length) return say(`${changed.length} job(s) ${verb}`);
    const left = ids.filter((id) => !changed.includes(id));
    say(`${changed.length} of ${ids.length} job(s) ${verb}; ${others}: ${left.join(" ")}`);
    process.exitCode = 1;
  });
}

/** Adds the `jobs` subcommands to the program. */
export function registerJobs(program: Command): void {
  const command = program.command("jobs").description("list jobs in any state, show one, cancel, run now, abort or interrupt them");
  const common = (sub: Command) =>
    sub
      .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
      .option("--adapter <name>", "named adapter from config.adapters (default: the default adapter)")
      .option("--json", "print as JSON");

  common(command.command("list").description("one page of one state's jobs (order: queued by queue and run order, scheduled and retrying soonest first, finished newest first)"))
    .requiredOption("--state <state>", STATES.join(" | "))
    .option("--queue <name>", "only this queue")
    .option("--job <class>", "only this job class")
    .option("--limit <n>", "at most this many, up to 500 (default 50)", integerAtLeast(1))
    .option("--cursor <cursor>", "the next page, as the previous page printed it")
    .action((options: JobsOptions) => listJobs(options));

  common(command.command("show").description("one job: status, arguments, error, earlier runs"))
    .argument("<jobId>", "the job's id")
    .action((id: string, options: JobsOptions) => showJob(id, options));

  common(command.command("cancel").description("take jobs that have not started out of their queues for good (status failed)"))
    .argument("<jobIds...>", "job ids")
    .action((ids: string[], options: JobsOptions) => changeJobs("cancel", ids, options));

  common(command.command("run-now").description("make scheduled or retrying jobs due now"))
    .argument("<jobIds...>", "job ids")
    .action((ids: string[], options: JobsOptions) => changeJobs("runNow", ids, options));

  common(command.command("abort").description("abort running jobs: their signal fires within about a second; they end failed"))
    .argument("<jobIds...>", "job ids")
    .action((ids: string[], options: JobsOptions) => changeJobs("abort", ids, options));

  common(
    command
      .command("interrupt")
      .description("hand running jobs back within about a second, as a deploy would: a resumable job resumes from its progress, another runs again from the start"),
  )
    .argument("<jobIds...>", "job ids")
    .action((ids: string[], options: JobsOptions) => changeJobs("interrupt", ids, options));
}
