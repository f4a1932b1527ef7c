/**
 * `errand queues [list] | pause NAME… | resume NAME…`: counts per queue and state, as a
 * table (or JSON); pausing and resuming queues for every worker (backends with
 * `capabilities.control`).
 *
 * @module
 */
import type { Command } from "commander";

import { queues as queuesApi } from "../../admin-control.js";
import type { QueueInfo } from "../../adapter/contract.js";
import { requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
import { say, table, toJson } from "../output.js";

/** Options of `errand queues`. */
export interface QueuesOptions extends CommonOptions {
  adapter?: string;
  json?: boolean;
}

/** A count the backend may not keep: "-" when absent. */
const optional = (value: number | undefined) => (value === undefined ? "-" : value);

/** Prints every queue the backend knows with its counts. */
export async function queues(options: QueuesOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    requireSharedBackend(await runtime.adapterFor(options.adapter), "queues");
    const infos: QueueInfo[] = await queuesApi({ runtime, adapter: options.adapter }).list();
    if (options.json) return say(toJson(infos, 2));
    if (infos.length === 0) return say("no queues");
    say(
      table(
        ["queue", "queued", "scheduled", "running", "retrying", "dead", "succeeded", "failed", "latency(ms)", "paused"],
        infos.map((info) => [
          info.name,
          info.queued,
          info.scheduled,
          info.running,
          info.retrying,
          info.dead,
          optional(info.succeeded),
          optional(info.failed),
          optional(info.latencyMs),
          info.paused === undefined ? "-" : info.paused ? "yes" : "no",
        ]),
      ),
    );
  });
}

/** Pauses or resumes queues (names as given to `errand work --queues`: the config's prefix is applied). */
export async function pauseQueues(names: string[], paused: boolean, options: QueuesOptions): Promise<void> {
  const verb = paused ? "pause" : "resume";
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    requireSharedBackend(await runtime.adapterFor(options.adapter), `queues ${verb}`);
    const stored = names.map((name) => runtime.queueName(name));
    const api = queuesApi({ runtime, adapter: options.adapter });
    await (paused ? api.pause(...stored) : api.resume(...stored));
    if (options.json) return say(toJson({ [paused ? "paused" : "resumed"]: stored }, 2));
    say(paused ? `paused ${stored.join(", ")}: workers stop taking their jobs within about a second` : `resumed ${stored.join(", ")}`);
  });
}

/** Adds `queues`, `queues pause` and `queues resume` to the program. */
export function registerQueues(program: Command): void {
  const common = (command: Command) =>
    command
      .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
      .option("--adapter <name>", "named adapter from config.adapters (default: the default adapter)")
      .option("--json", "print as JSON");
  const command = common(program.command("queues").description("list queues with their counts per state; pause or resume queues"));
  command.action((options: QueuesOptions) => queues(options));
  // `queues` has options of its own (for the list), so commander hands it the ones written
  // after a subcommand too: the subcommand reads both.
  const withParent = (options: QueuesOptions, sub: Command) => ({ ...(sub.parent?.opts() as QueuesOptions), ...options });
  common(command.command("pause").description("workers everywhere stop taking jobs from these queues (running jobs go on)"))
    .argument("<names...>", "queue names")
    .action((names: string[], options: QueuesOptions, sub: Command) => pauseQueues(names, true, withParent(options, sub)));
  common(command.command("resume").description("workers take jobs from these queues again"))
    .argument("<names...>", "queue names")
    .action((names: string[], options: QueuesOptions, sub: Command) => pauseQueues(names, false, withParent(options, sub)));
}
