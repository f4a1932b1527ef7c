/**
 * The schema of `ErrandConfig`, checked by `defineConfig`, `configure` (every `Runtime`)
 * and `loadConfig`. An adapter's own options (`{ use: "redis", url, prefix }`) are checked
 * by its package when the adapter is built, against that package's schema.
 *
 * @module
 */
import type { RetryPolicy } from "../job/exceptions.js";
import type { MailSettings } from "../mailer/transport.js";
import type { ErrandConfig, WorkerSettings } from "./define.js";
import { isAdapter } from "./environment.js";
import { rules, validateOptions, type OptionRule, type OptionSchema } from "./validate.js";

/** A kind name, `{ use, ...options }` or an adapter instance. */
const adapterSetting: OptionRule = {
  expected: 'an adapter setting ("redis", { use: "redis", ...options } or an adapter instance)',
  test: (value) =>
    (typeof value === "string" && value.length > 0) ||
    isAdapter(value) ||
    (typeof value === "object" && value !== null && typeof (value as { use?: unknown }).use === "string"),
};

/** A setting, or a map of environment name → setting (`{ test: "test", production: {...} }`). */
const adapterOrPerEnvironment: OptionRule = {
  ...rules.anyOf(adapterSetting, rules.record(adapterSetting)),
  expected: `${adapterSetting.expected}, or one per environment ({ test: "test", production: {...} })`,
};

const WORKER_SCHEMA: OptionSchema<WorkerSettings> = {
  concurrency: rules.integer(1),
  queues: rules.anyOf(rules.string, rules.arrayOf(rules.string)),
  prefetch: rules.integer(0),
  lease: rules.duration,
  pollInterval: rules.duration,
  shutdownGrace: rules.duration,
  embedded: rules.boolean,
};

const CONFIG_SCHEMA: OptionSchema<ErrandConfig> = {
  app: rules.nonEmptyString,
  adapter: adapterOrPerEnvironment,
  adapters: rules.record(adapterOrPerEnvironment),
  jobs: rules.arrayOf(rules.anyOf(rules.function, rules.nonEmptyString)),
  mailers: rules.arrayOf(rules.function),
  mail: rules.object({ transport: rules.anyOf(rules.nonEmptyString, rules.object()) } satisfies OptionSchema<MailSettings>),
  queueNamePrefix: rules.string,
  queueNameDelimiter: rules.string,
  retry: rules.object({
    attempts: { expected: "a positive integer or Infinity", test: (value) => value === Infinity || (Number.isInteger(value) && (value as number) >= 1) },
    wait: {
      ...rules.anyOf(rules.oneOf("polynomial", "exponential"), rules.function, rules.duration),
      expected: '"polynomial", "exponential", a function or a duration (milliseconds, "90s", { minutes: 5 })',
    },
    jitter: rules.number(0),
  } satisfies OptionSchema<RetryPolicy>),
  worker: rules.object(WORKER_SCHEMA),
  environment: rules.nonEmptyString,
  root: rules.nonEmptyString,
};

/**
 * Checks a configuration: unknown keys (at any depth) and values of the wrong kind are a
 * `ConfigError` naming the key; see `validate.ts`.
 * @param where - names the configuration in errors (`"the Errand config"`, a file path).
 */
export function validateConfig(config: unknown, where = "the Errand config"): void {
  validateOptions(config, CONFIG_SCHEMA, where);
}
