/**
 * `errand migrate`: creates or upgrades the backend's schema (PostgreSQL's tables, for
 * example). Safe to run from several processes at once; backends without a schema report
 * that there is nothing to do.
 *
 * @module
 */
import type { Command } from "commander";

import { withRuntime, type CommonOptions } from "../context.js";
import { say } from "../output.js";

/** Options of `errand migrate`. */
export interface MigrateCommandOptions extends CommonOptions {
  adapter?: string;
}

/** Applies pending migrations and prints what was applied. */
export async function migrate(options: MigrateCommandOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    const client = await runtime.adapterFor(options.adapter);
    const { applied } = await client.migrate();
    if (applied.length === 0) say(`${client.name}: schema up to date`);
    else for (const name of applied) say(`${client.name}: applied ${name}`);
  });
}

/** Adds `migrate` to the program. */
export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("create or upgrade the backend's schema (safe to run concurrently)")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .option("--adapter <name>", "named adapter from config.adapters (default: the default adapter)")
    .action((options: MigrateCommandOptions) => migrate(options));
}
