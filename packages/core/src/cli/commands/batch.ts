/**
 * `errand batch <batchId>`: a batch's record — state, counts, its callbacks and the ids of
 * those enqueued, times — read from the backend (`capabilities.batches`) by batch id.
 *
 * @module
 */
import type { Command } from "commander";

import type { BatchCallbackKind, BatchRecord } from "../../adapter/batch.js";
import { CliUsageError, requireSharedBackend, withRuntime, type CommonOptions } from "../context.js";
import { say, toJson } from "../output.js";

/** Options of `errand batch`. */
export interface BatchCommandOptions extends CommonOptions {
  adapter?: string;
  json?: boolean;
}

/** The order callbacks are listed in. */
const KINDS: readonly BatchCallbackKind[] = ["success", "complete", "failure"];

/** Each callback given, with the job id it was enqueued as, or why not yet. */
function callbacksText(record: BatchRecord): string {
  const given = KINDS.filter((kind) => record.callbacks[kind]);
  if (given.length === 0) return "-";
  return given
    .map((kind) => {
      const jobId = record.enqueuedCallbacks[kind];
      if (jobId) return `${kind} ${jobId}`;
      return `${kind} ${record.state === "finished" ? "(not enqueued: it does not apply)" : "(not yet enqueued)"}`;
    })
    .join(", ");
}

/** The record as aligned `label  value` lines. */
export function formatBatch(record: BatchRecord): string {
  const lines: [string, string][] = [
    ["id", record.id],
    ["description", record.description ?? "-"],
    ["state", record.state],
    ["total", String(record.total)],
    ["pending", String(record.pending)],
    ["succeeded", String(record.succeeded)],
    ["discarded", String(record.discarded)],
    ["dead", String(record.dead)],
    ["failed runs", String(record.failed)],
    ["callbacks", callbacksText(record)],
    ["created", record.createdAt],
    ["finished", record.finishedAt ?? "-"],
  ];
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}

/** The record for `--json`: every key present (`null` when absent), so scripts need no guards. */
export function batchToJSON(record: BatchRecord): Record<string, unknown> {
  return { ...record, description: record.description ?? null, finishedAt: record.finishedAt ?? null };
}

/** Prints the record of batch `id`; an unknown id is an error. */
export async function showBatch(id: string, options: BatchCommandOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    const client = await runtime.adapterFor(options.adapter);
    requireSharedBackend(client, "batch");
    // The client refuses an adapter without capabilities.batches, naming it (one line).
    const [record] = await client.getBatches([id]);
    if (!record) throw new CliUsageError(`no batch with id ${id} (unknown, or its record has expired)`);
    say(options.json ? toJson(batchToJSON(record), 2) : formatBatch(record));
  });
}

/** Adds `batch` to the program. */
export function registerBatch(program: Command): void {
  program
    .command("batch")
    .description("show a batch's state, counts and callbacks")
    .argument("<batchId>", "batch id (what batch() returns)")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .option("--adapter <name>", "named adapter from config.adapters (default: the default adapter)")
    .option("--json", "print the record as JSON")
    .action((id: string, options: BatchCommandOptions) => showBatch(id, options));
}
