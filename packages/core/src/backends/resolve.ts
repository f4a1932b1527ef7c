/**
 * Turning an adapter setting into an adapter. Core never imports a backend client:
 * `redis`, `postgres`, `sqs` and `async` live in their own packages, imported only when
 * configured. A configured package that is not installed is `AdapterNotInstalledError`,
 * which says what to install.
 *
 * @module
 */
import type { Adapter } from "../adapter/contract.js";
import { InlineAdapter } from "./inline.js";
import { TestAdapter } from "./test-adapter.js";
import { AdapterNotInstalledError, ConfigError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import type { AdapterSetting } from "../config/define.js";
import { isAdapter } from "../config/environment.js";
import { validateOptions } from "../config/validate.js";

/** npm package of each adapter kind that lives outside core. */
export const ADAPTER_PACKAGES: Readonly<Record<string, string>> = {
  async: "@errand/adapter-async",
  redis: "@errand/adapter-redis",
  postgres: "@errand/adapter-postgres",
  sqs: "@errand/adapter-sqs",
};

/** The package a kind (or third-party package name) loads from. */
export function adapterPackage(use: string): string {
  return ADAPTER_PACKAGES[use] ?? use;
}

/** The package an `import()` failed to find (`ERR_MODULE_NOT_FOUND`), if that is why it failed. */
export function missingPackage(error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code !== "ERR_MODULE_NOT_FOUND" || typeof message !== "string") return undefined;
  return /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
}

/** Creates the adapter a setting describes. */
export async function createAdapter(setting: AdapterSetting, runtime: Runtime, what: string): Promise<Adapter> {
  if (isAdapter(setting)) return setting;
  const { use, ...options } = typeof setting === "string" ? { use: setting } : setting;
  if (typeof use !== "string" || !use) throw new ConfigError(`${what}: { use } must name an adapter`);
  if (use === "inline" || use === "test") {
    validateOptions(options, {}, `the ${use} adapter options (${what})`);
    return use === "inline" ? new InlineAdapter(runtime) : new TestAdapter(runtime);
  }
  const packageName = adapterPackage(use);
  let module: { createAdapter?: unknown };
  try {
    module = (await import(packageName)) as { createAdapter?: unknown };
  } catch (error) {
    const missing = missingPackage(error);
    if (missing) throw new AdapterNotInstalledError(missing.startsWith(packageName) ? packageName : missing, use);
    throw error;
  }
  if (typeof module.createAdapter !== "function") {
    throw new ConfigError(`${packageName} does not export createAdapter(options, context); is it an Errand adapter?`);
  }
  const adapter = await (module.createAdapter as (o: unknown, c: unknown) => unknown)(options, {
    app: runtime.app,
    environment: runtime.environment,
  });
  if (!isAdapter(adapter)) throw new ConfigError(`${packageName}: createAdapter did not return an adapter`);
  return adapter;
}
