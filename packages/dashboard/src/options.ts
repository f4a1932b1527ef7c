/**
 * The options of `dashboard()`, each checked at construction: an unknown option or a value
 * of the wrong kind is a `ConfigError` naming it, and a dashboard without `authorize` is
 * refused — it is closed by default, and opening it is a decision the app writes down.
 *
 * @module
 */
import { ConfigError, toMs, type Duration, type Runtime } from "@errand/core";
import { rules, validateOptions, type OptionSchema } from "@errand/core/adapter";

import type { Authorize } from "./auth.js";
import { compileFilters, type ArgumentFilter, type Redactor } from "./redact.js";

/** Options of `dashboard()`. */
export interface DashboardOptions {
  /** Where the dashboard is mounted: `"/errand"` serves `/errand/`, `/errand/jobs`… Default `""` (the root). */
  basePath?: string;
  /**
   * Required. Decides every request (pages, assets, live streams, actions): `true` serves
   * it, `false` answers 403, a `Response` is sent as it is (a 401 challenge, a redirect to
   * the app's login). May be async. `basicAuth({ username, password })` is one; opening
   * the dashboard to anyone who can reach it is `authorize: () => true`, said out loud.
   */
  authorize: Authorize;
  /** Shows everything, offers no action, and refuses every POST with 403. Default false. */
  readOnly?: boolean;
  /**
   * Argument values to hide (`[FILTERED]`) wherever arguments are shown: key-name fragments
   * (`"passw"`, any depth, case-insensitive), dotted paths from the argument list
   * (`"0.card.number"`, `"*.token"`), RegExps over key names, or `(path, value) => boolean`.
   * Default: Rails' list (`passw`, `secret`, `token`, `_key`, `crypt`, `salt`,
   * `certificate`, `otp`, `ssn`, `cvv`, `cvc`); `[]` shows everything.
   */
  filterArguments?: ArgumentFilter | readonly ArgumentFilter[];
  /**
   * Origins besides the dashboard's own from which actions are accepted, for a proxy that
   * changes the host the app sees (`["https://ops.example.com"]`). Default none.
   */
  trustedOrigins?: readonly string[];
  /** The name in the header and the tab title; default `"Errand"`. */
  title?: string;
  /** Jobs per page of a jobs list, 1 to 500; default 50. */
  pageSize?: number;
  /** How often the queue counts of open pages are read, once for all of them; default `"2s"`, at least 500 ms. */
  liveInterval?: Duration;
  /** Named adapter (`adapters.<name>`); default: the default adapter. */
  adapter?: string;
  /** The runtime to use; default: the current one at each request. */
  runtime?: Runtime;
}

const FILTER_RULE = {
  expected: "a string, a RegExp, a function, or an array of them",
  test: (value: unknown) => {
    const one = (item: unknown) => typeof item === "string" || item instanceof RegExp || typeof item === "function";
    return one(value) || (Array.isArray(value) && value.every(one));
  },
};

const SCHEMA: OptionSchema<DashboardOptions> = {
  basePath: rules.string,
  authorize: rules.function,
  readOnly: rules.boolean,
  filterArguments: FILTER_RULE,
  trustedOrigins: rules.arrayOf(rules.nonEmptyString),
  title: rules.nonEmptyString,
  pageSize: rules.integer(1),
  liveInterval: rules.duration,
  adapter: rules.nonEmptyString,
  runtime: rules.withMethods("a Runtime", "adapterFor"),
};

/** The options, checked and with their defaults. */
export interface ResolvedOptions {
  basePath: string;
  authorize: Authorize;
  readOnly: boolean;
  redact: Redactor;
  trustedOrigins: readonly string[];
  title: string;
  pageSize: number;
  liveIntervalMs: number;
  scope: { adapter?: string; runtime?: Runtime };
}

/**
 * Checks the options and fills in defaults.
 * @throws ConfigError for an unknown option, a value of the wrong kind, or no `authorize`.
 */
export function resolveOptions(options: DashboardOptions): ResolvedOptions {
  if (options === undefined || options === null || typeof options !== "object") {
    throw new ConfigError("dashboard needs options: dashboard({ basePath: \"/errand\", authorize: (request) => … })");
  }
  validateOptions(options, SCHEMA, "the dashboard options");
  if (options.authorize === undefined) {
    throw new ConfigError(
      "dashboard needs authorize: it serves no page without an access rule. Pass authorize: basicAuth({ username, password }), your own (request) => boolean | Response (a session check), or, to open it to anyone who can reach it, authorize: () => true",
    );
  }
  const pageSize = options.pageSize ?? 50;
  if (pageSize > 500) throw new ConfigError(`option "pageSize" in the dashboard options must be at most 500, got ${pageSize}`);
  const liveIntervalMs = toMs(options.liveInterval ?? "2s", "dashboard liveInterval");
  if (liveIntervalMs < 500) throw new ConfigError(`option "liveInterval" in the dashboard options must be at least 500 ms, got ${liveIntervalMs} ms`);
  const scope: { adapter?: string; runtime?: Runtime } = {};
  if (options.adapter !== undefined) scope.adapter = options.adapter;
  if (options.runtime !== undefined) scope.runtime = options.runtime;
  return {
    basePath: normalizeBasePath(options.basePath ?? ""),
    authorize: options.authorize,
    readOnly: options.readOnly ?? false,
    redact: compileFilters(options.filterArguments),
    trustedOrigins: options.trustedOrigins ?? [],
    title: options.title ?? "Errand",
    pageSize,
    liveIntervalMs,
    scope,
  };
}

function normalizeBasePath(basePath: string): string {
  if (basePath === "" || basePath === "/") return "";
  if (!basePath.startsWith("/") || /[?#\s\\]/.test(basePath) || basePath.includes("//")) {
    throw new ConfigError(`dashboard: basePath must be a path starting with "/" (like "/errand"), got ${JSON.stringify(basePath)}`);
  }
  return basePath.replace(/\/+$/, "");
}
