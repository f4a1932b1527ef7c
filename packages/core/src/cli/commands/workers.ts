/**
 * `errand workers`: the workers of the backend, live and gone, from their heartbeats
 * (backends with `capabilities.control`).
 *
 * @module
 */
import type { Command } from "commander";

import { listWorkers } from "../../admin-control.js";
import { requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
import { say, table, toJson } from "../output.js";

/** Options of `errand workers`. */
export interface WorkersOptions extends CommonOptions {
  adapter?: string;
  json?: boolean;
}

/** Prints each worker: id, host, pid, queues, concurrency, jobs running, last beat, live or gone. */
export async function workers(options: WorkersOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    requireSharedBackend(await runtime.adapterFor(options.adapter), "workers");
    const records = await listWorkers({ runtime, adapter: options.adapter });
    if (options.json) return say(toJson(records, 2));
    if (records.length === 0) return say("no workers have beaten in the last hour");
    say(
      table(
        ["worker", "host", "pid", "queues", "concurrency", "running", "last beat", "state"],
        records.map((record) => [
          record.id,
          record.host,
          record.pid,
          record.queues,
          record.concurrency,
          record.running.length,
          record.lastBeatAt.toISOString(),
          record.gone ? "gone" : "live",
        ]),
      ),
    );
  });
}

/** Adds `workers` to the program. */
export function registerWorkers(program: Command): void {
  program
    .command("workers")
    .description("list the workers of the backend from their heartbeats: live ones, and gone ones for an hour")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .option("--adapter <name>", "named adapter from config.adapters (default: the default adapter)")
    .option("--json", "print as JSON")
    .action((options: WorkersOptions) => workers(options));
}
