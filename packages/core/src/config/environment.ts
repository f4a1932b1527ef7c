/**
 * Which environment this is, and which adapter setting applies in it.
 *
 * @module
 */
import type { Adapter } from "../adapter/contract.js";
import { ConfigError } from "../errors.js";
import type { AdapterSetting, AdapterOptionsSetting, PerEnvironment } from "./define.js";

/** `ERRAND_ENV`, else `NODE_ENV`, else `"development"`. */
export function currentEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  return env.ERRAND_ENV || env.NODE_ENV || "development";
}

/** True for an adapter instance (as opposed to a setting naming one). */
export function isAdapter(value: unknown): value is Adapter {
  return typeof value === "object" && value !== null && typeof (value as Adapter).enqueue === "function";
}

function isSetting(value: unknown): value is AdapterSetting {
  return typeof value === "string" || isAdapter(value) || (typeof value === "object" && value !== null && "use" in value);
}

/**
 * Picks the setting for `environment` from a setting or a per-environment map.
 * @param what - names the config key in errors (`adapter`, `adapters.sqs`).
 */
export function settingFor(
  value: AdapterSetting | PerEnvironment<AdapterSetting>,
  environment: string,
  what: string,
): AdapterSetting {
  if (isSetting(value)) return value;
  if (typeof value !== "object" || value === null) throw new ConfigError(`${what}: expected an adapter setting, got ${String(value)}`);
  const chosen = value[environment] ?? value.default;
  if (chosen === undefined) {
    throw new ConfigError(
      `${what}: no adapter for environment "${environment}" (configured: ${Object.keys(value).join(", ") || "none"}); add one or set ERRAND_ENV`,
    );
  }
  if (!isSetting(chosen)) throw new ConfigError(`${what}.${environment}: expected an adapter setting`);
  return chosen;
}

/**
 * The adapter named by an `ERRAND_URL`: `redis://`, `rediss://`, `postgres://`,
 * `postgresql://`, `sqs://` or an https SQS queue URL, `async:`, `inline:`, `test:`.
 */
export function settingFromUrl(url: string): AdapterOptionsSetting {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case "redis":
    case "rediss":
      return { use: "redis", url };
    case "postgres":
    case "postgresql":
      return { use: "postgres", url };
    case "sqs":
      return { use: "sqs", url };
    case "https":
      if (/^https:\/\/sqs[.-]/i.test(url) || /amazonaws\.com/i.test(url)) return { use: "sqs", url };
      break;
    case "async":
    case "inline":
    case "test":
      return { use: scheme };
  }
  throw new ConfigError(
    `ERRAND_URL ${JSON.stringify(url)} has no known scheme; use redis://, rediss://, postgres://, postgresql://, sqs://, an https SQS queue URL, async:, inline: or test:`,
  );
}
