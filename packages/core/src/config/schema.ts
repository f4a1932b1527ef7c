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
import { ConfigError } from "../errors.js";
import { RECURRING_RULE } from "../recurring/config.js";
import { isAdapter } from "./environment.js";
import { checkValue, distance, rules, validateOptions, type OptionRule, type OptionSchema } from "./validate.js";

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A key one edit from `use` (`usr`, `Use`, `uses`): a setting whose `use` is misspelt. */
const misspeltUse = (object: Record<string, unknown>): string | undefined =>
  Object.keys(object).find((key) => key !== "use" && distance(key, "use") <= 1);

const USE_RULE: OptionRule = {
  expected: 'an adapter kind ("redis", "postgres", …) or the package name of an adapter',
  test: (value) => typeof value === "string" && value.length > 0,
};

/**
 * A kind or package name, `{ use, ...options }` or an adapter instance. An object with an
 * own `use` is a setting whatever else it holds, so a bad `use` is reported as `….use`;
 * the adapter package checks the other options when it builds the adapter.
 */
const adapterSetting: OptionRule = {
  expected: 'an adapter setting ("redis", { use: "redis", ...options } or an adapter instance)',
  test: (value) => (typeof value === "string" && value.length > 0 && !value.includes("://")) || isAdapter(value) || (isObject(value) && Object.hasOwn(value, "use")),
  check: (value, path, where) => {
    if (typeof value === "string" || isAdapter(value)) return;
    const { use } = value as Record<string, unknown>;
    // checkValue passes undefined (an option left out), but `use` is what makes a setting.
    if (use === undefined) throw new ConfigError(`option "${path}.use" in ${where} must be ${USE_RULE.expected}, got undefined`);
    checkValue(use, USE_RULE, `${path}.use`, where);
  },
};

/**
 * A setting, or a map of environment name → setting (`{ test: "test", production: {...} }`).
 * An object without `use` is such a map, and each of its values must be a setting; one
 * with a key a letter away from `use` (`{ usr: "postgres", url }`) is a setting with a typo,
 * refused as such (as a map, `usr` and `url` would pass for two environments).
 */
const adapterOrPerEnvironment: OptionRule = {
  expected: `${adapterSetting.expected}, or one per environment ({ test: "test", production: {...} })`,
  test: (value) => adapterSetting.test(value) || isObject(value),
  check: (value, path, where) => {
    if (adapterSetting.test(value)) return adapterSetting.check!(value, path, where);
    const environments = value as Record<string, unknown>;
    const typo = misspeltUse(environments);
    if (typo !== undefined) {
      throw new ConfigError(
        `option "${path}" in ${where} has no "use" but has "${typo}": did you mean "${path}.use"? (an adapter setting names its adapter with use; without it, ${path} reads as one setting per environment)`,
      );
    }
    for (const [environment, setting] of Object.entries(environments)) {
      const at = `${path}.${environment}`;
      const inner = isObject(setting) && !isAdapter(setting) ? misspeltUse(setting) : undefined;
      if (inner !== undefined && !Object.hasOwn(setting as object, "use")) {
        throw new ConfigError(`option "${at}" in ${where} has no "use" but has "${inner}": did you mean "${at}.use"?`);
      }
      checkValue(setting, adapterSetting, at, where);
    }
  },
};

/** The config's `worker` settings; `new Worker(options)` checks the same keys with these rules. */
export const WORKER_SCHEMA: OptionSchema<WorkerSettings> = {
  concurrency: rules.integer(1),
  queues: rules.anyOf(rules.string, rules.arrayOf(rules.string)),
  prefetch: rules.integer(0),
  lease: rules.duration,
  pollInterval: rules.duration,
  shutdownGrace: rules.duration,
  recurring: rules.boolean,
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
  recurring: RECURRING_RULE,
  outbox: {
    expected: "an outbox (an object with a dialect, and write, relay and close, such as new PostgresOutbox({ url }))",
    test: (value) =>
      typeof value === "object" &&
      value !== null &&
      typeof (value as Record<string, unknown>).dialect === "string" &&
      ["write", "relay", "close"].every((key) => typeof (value as Record<string, unknown>)[key] === "function"),
  },
  resolve: rules.function,
  instrumentation: rules.arrayOf({
    expected: "an instrumentation (an object with a name and enqueue and/or perform hooks, such as errandInstrumentation() from @errand/opentelemetry)",
    test: (value) =>
      typeof value === "object" &&
      value !== null &&
      typeof (value as Record<string, unknown>).name === "string" &&
      ["enqueue", "perform"].every((key) => ["undefined", "function"].includes(typeof (value as Record<string, unknown>)[key])),
  }),
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
