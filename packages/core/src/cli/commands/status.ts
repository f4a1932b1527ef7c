/**
 * `errand status <jobId>`: a job's state, progress, result and times, read from the
 * backend by Errand job id.
 *
 * @module
 */
import type { Command } from "commander";

import { getStatus } from "../../admin.js";
import { statusToJSON, type JobStatus } from "../../status.js";
import { CliUsageError, requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
import { errorText, say, toJson } from "../output.js";

/** Options of `errand status`. */
export interface StatusOptions extends CommonOptions {
  adapter?: string;
  json?: boolean;
}

/** The status as aligned `label  value` lines. */
export function formatStatus(status: JobStatus): string {
  const iso = (date: Date | null) => (date ? date.toISOString() : "-");
  const progress = status.progress
    ? `${Math.round(status.progress.fraction * 100)}%${status.progress.message ? ` ${status.progress.message}` : ""}`
    : "-";
  const lines: [string, string][] = [
    ["id", status.id],
    ["job", status.job],
    ["state", status.state],
    ["queue", status.queue],
    ["priority", String(status.priority)],
    ["executions", String(status.executions)],
    ["progress", progress],
    ["result", status.result === undefined ? "-" : toJson(status.result)],
    ["error", status.error ? errorText(status.error) : "-"],
    ["enqueued", iso(status.enqueuedAt)],
    ["scheduled", iso(status.scheduledAt)],
    ["started", iso(status.startedAt)],
    ["finished", iso(status.finishedAt)],
    ["updated", iso(status.updatedAt)],
  ];
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}

/** Prints the status of `jobId`; an unknown id is an error. */
export async function status(jobId: string, options: StatusOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    requireSharedBackend(await runtime.adapterFor(options.adapter), "status");
    const found = await getStatus(jobId, { runtime, adapter: options.adapter });
    if (!found) throw new CliUsageError(`no job with id ${jobId} (unknown, or its status has expired)`);
    say(options.json ? toJson(statusToJSON(found), 2) : formatStatus(found));
  });
}

/** Adds `status` to the program. */
export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("show a job's state, progress, result and times")
    .argument("<jobId>", "Errand job id (what enqueue and performLater return)")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .option("--adapter <name>", "named adapter from config.adapters (default: the default adapter)")
    .option("--json", "print the status as JSON")
    .action((jobId: string, options: StatusOptions) => status(jobId, options));
}
