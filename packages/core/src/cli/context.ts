/**
 * What every `errand` command does first: load the config file, install it with
 * `configure`, and import the job modules its `jobs` globs name, so the registry knows
 * every class a payload may name.
 *
 * @module
 */
import type { AdapterClient } from "../backends/client.js";
import { loadConfig } from "../config/load.js";
import { ErrandError } from "../errors.js";
import type { Job } from "../job/job.js";
import { configure, type Runtime } from "../runtime.js";

/** Options every command accepts. */
export interface CommonOptions {
  /** `--config FILE`; default: `errand.config.{ts,mts,mjs,js}` in the working directory. */
  config?: string;
}

/** Options of {@link withRuntime}. */
export interface RuntimeOptions extends CommonOptions {
  /**
   * Let an embedded-worker adapter (async) start its in-process pool. Only `perform` wants
   * it (a job it runs may enqueue more); every other command either runs its own worker
   * or only reads, and a pool started there would run nothing the app can see.
   */
  embedded?: boolean;
}

/** A mistake in how the command was called that commander cannot see (bad JSON arguments, conflicting flags). */
export class CliUsageError extends ErrandError {
  constructor(message: string) {
    super("ERR_CLI_USAGE", message);
  }
}

/** Loads the config and job modules and installs the runtime for this process. */
export async function loadRuntime(options: RuntimeOptions): Promise<Runtime> {
  const config = await loadConfig(options.config === undefined ? {} : { path: options.config });
  const runtime = configure(
    options.embedded === false ? { ...config, worker: { ...config.worker, embedded: false } } : config,
  );
  await runtime.loadJobs();
  return runtime;
}

/**
 * Runs `action` with a loaded runtime and closes the runtime afterwards, whatever
 * happened, so adapters release their connections and the process can exit by itself.
 */
export async function withRuntime<T>(options: RuntimeOptions, action: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await loadRuntime(options);
  try {
    return await action(runtime);
  } finally {
    await runtime.close();
  }
}

/**
 * Refuses an adapter whose jobs live inside the app's own process (async): a separate
 * `errand` process cannot see, run or manage them.
 * @param command - the command, for the message (`work`, `queues`).
 */
export function requireSharedBackend(client: AdapterClient, command: string): void {
  if (!client.capabilities.embeddedWorker) return;
  throw new CliUsageError(
    `the ${client.name} adapter runs jobs inside the app process, so \`errand ${command}\` cannot reach them; ` +
      "it needs a shared backend (redis, postgres, sqs): set adapter for this environment, or ERRAND_URL",
  );
}

/** A constructible job class, as the registry holds it. */
export type RegisteredJobClass = (new (...args: unknown[]) => Job<unknown[], unknown>) & Pick<typeof Job, "set" | "performLater" | "performNow">;

/**
 * The registered job class named `name`.
 * @throws UnknownJobError listing the registered names.
 */
export function findJob(runtime: Runtime, name: string): RegisteredJobClass {
  const jobClass = runtime.registry.get(name);
  if (!jobClass) throw runtime.registry.unknown(name);
  return jobClass as RegisteredJobClass;
}
