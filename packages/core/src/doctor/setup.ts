/**
 * The doctor's first check: the config is found and valid for the environment, and the job
 * modules its `jobs` globs name import. It builds the runtime every later check uses.
 *
 * The config is read leniently in one respect: its recurring tasks are compiled one by one
 * (a bad cron fails that task's own check, `recurring.ts`), where `loadConfig` would refuse
 * the whole file at the first bad task.
 *
 * @module
 */
import { relative } from "node:path";

import { findConfigFile, importConfigFile } from "../config/load.js";
import { validateConfig } from "../config/schema.js";
import { registeredMailers } from "../mailer/registry.js";
import { compileRecurring, type RecurringTaskSpec } from "../recurring/config.js";
import { Runtime } from "../runtime.js";
import { failed, passed, reason, type DoctorCheck } from "./report.js";

/** A recurring task of the config, compiled, or the reason it does not compile. */
export type RecurringEntry = { name: string; spec: RecurringTaskSpec } | { name: string; error: string };

/** What {@link checkSetup} built, for the later checks. */
export interface Setup {
  /** Absent when the config could not be loaded: every later check is skipped. */
  runtime?: Runtime;
  /** The config file (absolute), or null without one. */
  file: string | null;
  /** The environment the config is read for. */
  environment: string;
  /** Every recurring task of the config. */
  recurring: RecurringEntry[];
  /** The job modules imported (the `jobs` check passed). */
  jobsLoaded: boolean;
}

/** Options of {@link checkSetup}. */
export interface SetupOptions {
  /** `--config FILE`. */
  config?: string;
  /** The environment as the runtime would pick it (`ERRAND_ENV`, else `NODE_ENV`, else development). */
  environment: string;
}

/** Loads the config and the job modules; pushes the `config` and `jobs` checks. */
export async function checkSetup(options: SetupOptions, checks: DoctorCheck[]): Promise<Setup> {
  const cwd = process.cwd();
  const setup: Setup = { file: null, environment: options.environment, recurring: [], jobsLoaded: false };
  const fix = "fix the config file, then run errand doctor again";
  let file: string | undefined;
  try {
    file = findConfigFile(options.config === undefined ? {} : { path: options.config });
  } catch (error) {
    checks.push(failed("config", "config", reason(error), "give --config the path of your errand.config file, or run `errand init` to create one"));
    return setup;
  }
  if (!file && !process.env.ERRAND_URL) {
    checks.push(failed("config", "config", `no errand.config.{ts,mts,mjs,js} in ${cwd}, and no ERRAND_URL`, "run `errand init` to create one (or set ERRAND_URL)"));
    return setup;
  }
  setup.file = file ?? null;
  const shown = file ? relative(cwd, file) || file : "ERRAND_URL (no config file)";
  let runtime: Runtime;
  try {
    const config = file ? await importConfigFile(file) : { root: cwd };
    // Recurring tasks are checked one by one (`recurring.ts`); the rest as loadConfig does.
    validateConfig({ ...config, recurring: undefined }, file ?? "the Errand config");
    const valid: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries((config.recurring ?? {}) as Record<string, unknown>)) {
      try {
        setup.recurring.push({ name, spec: compileRecurring({ [name]: entry }, file ?? "the Errand config")[0]! });
        valid[name] = entry;
      } catch (error) {
        setup.recurring.push({ name, error: reason(error) });
      }
    }
    const withValid = config.recurring === undefined ? config : { ...config, recurring: valid as typeof config.recurring };
    // A doctor runs no jobs: an embedded pool (async) stays off. Not installed as the process's
    // runtime (`configure`): `runDoctor` called from an app leaves the app's own in place.
    runtime = new Runtime({ ...withValid, worker: { ...withValid.worker, embedded: false } });
  } catch (error) {
    checks.push(failed("config", `config ${shown}`, reason(error), fix));
    return setup;
  }
  setup.runtime = runtime;
  setup.environment = runtime.environment;
  checks.push(passed("config", `config ${shown}`, { detail: `valid for environment ${runtime.environment}` }));
  try {
    await runtime.loadJobs();
    const names = runtime.registry.list();
    setup.jobsLoaded = true;
    const listed = names.length > 6 ? `${names.slice(0, 6).join(", ")}, …` : names.join(", ");
    const mailers = registeredMailers();
    const mailerText = mailers.length > 0 ? `; ${mailers.length} mailer${mailers.length === 1 ? "" : "s"} (${mailers.join(", ")})` : "";
    checks.push(passed("jobs", "job classes", { detail: `${names.length} registered${names.length > 0 ? ` (${listed})` : ""}${mailerText}` }));
  } catch (error) {
    checks.push(failed("jobs", "job classes", `the job modules of config.jobs did not load: ${reason(error)}`, "fix the jobs globs or the module named (run it with node to see the error)"));
  }
  return setup;
}
