/**
 * `errand queues`: counts per queue and state, as a table (or JSON).
 *
 * @module
 */
import type { Command } from "commander";

import { listQueues } from "../../admin.js";
import { requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
import { say, table, toJson } from "../output.js";

/** Options of `errand queues`. */
export interface QueuesOptions extends CommonOptions {
  adapter?: string;
  json?: boolean;
}

/** Prints every queue the backend knows with its counts. */
export async function queues(options: QueuesOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    requireSharedBackend(await runtime.adapterFor(options.adapter), "queues");
    const infos = await listQueues({ runtime, adapter: options.adapter });
    if (options.json) return say(toJson(infos, 2));
    if (infos.length === 0) return say("no queues");
    say(
      table(
        ["queue", "queued", "scheduled", "running", "retrying", "dead"],
        infos.map((info) => [info.name, info.queued, info.scheduled, info.running, info.retrying, info.dead]),
      ),
    );
  });
}

/** Adds `queues` to the program. */
export function registerQueues(program: Command): void {
  program
    .command("queues")
    .description("list queues with their queued, scheduled, running, retrying and dead counts")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .option("--adapter <name>", "named adapter from config.adapters (default: the default adapter)")
    .option("--json", "print the counts as JSON")
    .action((options: QueuesOptions) => queues(options));
}
