/**
 * The context `errand work` runs its worker in (see `worker/context.ts`): by default the
 * runtime of the config file; with `--nest <file>[#export]`, the runtime of a Nest
 * application context that `@errand/nestjs` boots from the app's module, so Nest's
 * container builds the jobs. Core never depends on Nest: the package is imported here, on
 * demand, and a missing one is an error that says what to install.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

import { missingPackage } from "../backends/resolve.js";
import { importFile } from "../config/load.js";
import { ConfigError } from "../errors.js";
import type { WorkerContext, WorkerContextFactory } from "../worker/context.js";
import { CliUsageError, loadRuntime, type CommonOptions } from "./context.js";

/** Options that choose the context. */
export interface WorkerContextCliOptions extends CommonOptions {
  /** `--nest <file>[#export]`: the Nest module whose application context the worker runs in. */
  nest?: string;
}

/** An app framework whose container can host `errand work`: the package that knows it and what to install. */
interface Integration {
  /** The option, for messages. */
  flag: string;
  /** The package imported on demand. */
  packageName: string;
  /** Its export, a {@link WorkerContextFactory}. */
  factory: string;
  /** The packages a user installs for it (its peers may be missing too: the message names the missing one). */
  install: readonly string[];
  /** Exports tried, in order, when the user names none. */
  defaultExports: readonly string[];
}

const NEST: Integration = {
  flag: "--nest",
  packageName: "@errand/nestjs",
  factory: "nestWorkerContext",
  install: ["@errand/nestjs", "@nestjs/core"],
  defaultExports: ["default", "AppModule"],
};

/**
 * Opens the context for `errand work`. `--nest` and `--config` both say where the Errand
 * config comes from (the module's `ErrandModule`, or a file), so giving both is refused
 * rather than one silently winning. The job globs of the config are loaded either way.
 * `close()` is safe to call more than once.
 */
export async function openWorkerContext(options: WorkerContextCliOptions): Promise<WorkerContext> {
  let context: WorkerContext;
  if (options.nest === undefined) {
    // embedded: false — an async adapter would otherwise start its own pool before `work` refuses it.
    const runtime = await loadRuntime({ ...options, embedded: false });
    context = { runtime, close: () => runtime.close() };
  } else {
    if (options.config !== undefined) {
      throw new CliUsageError(
        `--nest and --config both name the Errand config: with --nest it is the options of the module's ErrandModule, and no config file is read; drop one of them`,
      );
    }
    context = await frameworkContext(NEST, options.nest);
  }
  let closing: Promise<void> | undefined;
  const once: WorkerContext = { runtime: context.runtime, close: (signal) => (closing ??= context.close(signal)) };
  try {
    await once.runtime.loadJobs();
  } catch (error) {
    await once.close();
    throw error;
  }
  return once;
}

/** `dist/app.module.js#AppModule` → file and export name (undefined without `#`). */
function splitEntry(spec: string, flag: string): { file: string; exportName: string | undefined } {
  const hash = spec.lastIndexOf("#");
  const file = hash === -1 ? spec : spec.slice(0, hash);
  const exportName = hash === -1 ? undefined : spec.slice(hash + 1);
  if (!file) throw new CliUsageError(`${flag} ${spec}: the module file is missing before "#"`);
  if (exportName === "") throw new CliUsageError(`${flag} ${spec}: the export name is missing after "#"; leave out "#" for the default export`);
  return { file, exportName };
}

/** Imports the integration's package and returns its factory. */
async function importFactory(integration: Integration): Promise<WorkerContextFactory> {
  let module: Record<string, unknown>;
  try {
    module = (await import(integration.packageName)) as Record<string, unknown>;
  } catch (error) {
    const missing = missingPackage(error);
    if (!missing) throw error;
    const install = integration.install.includes(missing) ? integration.install.join(" ") : missing;
    throw new ConfigError(
      `errand work ${integration.flag} needs ${integration.packageName} and its peers, but ${missing} is not installed: run \`npm install ${install}\``,
    );
  }
  const factory = module[integration.factory];
  if (typeof factory !== "function") {
    throw new ConfigError(
      `${integration.packageName} does not export ${integration.factory}: it is older than this errand CLI; update it to the version of @errand/core`,
    );
  }
  return factory as WorkerContextFactory;
}

/** Loads the user's module file, picks the entry, and lets the integration build the context. */
async function frameworkContext(integration: Integration, spec: string): Promise<WorkerContext> {
  const { flag } = integration;
  const { file, exportName } = splitEntry(spec, flag);
  const path = resolve(file);
  if (!existsSync(path)) throw new CliUsageError(`${flag} ${spec}: module file ${file} not found (looked at ${path})`);
  // The package first: it loads the framework (and reflect-metadata) before the app's
  // decorators run, as an app's own entry would.
  const factory = await importFactory(integration);
  const module = await importFile(path);
  const exported = Object.keys(module).sort();
  const listed = exported.length > 0 ? `its exports: ${exported.join(", ")}` : "it exports nothing";
  let name: string;
  if (exportName !== undefined) {
    if (module[exportName] === undefined) throw new CliUsageError(`${flag} ${spec}: ${file} has no export named ${exportName} (${listed})`);
    name = exportName;
  } else {
    const found = integration.defaultExports.find((candidate) => module[candidate] !== undefined);
    if (found === undefined) {
      const tried = integration.defaultExports.map((candidate) => (candidate === "default" ? "a default export" : candidate)).join(" nor ");
      throw new CliUsageError(`${flag} ${spec}: ${file} has neither ${tried} (${listed}); name one as ${file}#<export>`);
    }
    name = found;
  }
  return factory(module[name], { name: `${file}#${name}` });
}
