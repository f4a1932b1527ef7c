/**
 * Redaction of job arguments (`filterArguments`): a value a filter matches is shown as
 * `[FILTERED]` wherever the dashboard shows arguments — job lists, the job page, a
 * malformed job's raw body. Redaction happens on the server, before any markup is built,
 * so a hidden value never reaches a browser.
 *
 * Arguments are walked in their stored JSON form (superjson's `json`: models as `gid://`
 * strings, dates as ISO strings); the dashboard never rebuilds them as objects, so no model
 * is loaded and no custom class is constructed to show a page.
 *
 * A path starts at the argument list: `[0, "user", "password"]` is the first argument's
 * `user.password`. Four kinds of filter, any number of each:
 *
 * - `"passw"` (no dot): a key-name fragment, case-insensitive, at any depth, as Rails'
 *   `filter_parameters`: hides `password`, `Passwd`, `user.passwordHash`…
 * - `"0.card.number"`, `"*.token"` (dotted): a path from the argument list, each segment a
 *   key or an index compared exactly (keys case-insensitively); `*` matches any one segment.
 * - `/^(pin|cvv)$/i` (RegExp): tested against every key name, at any depth.
 * - `(path, value) => boolean` (function): called for every value below the list (objects,
 *   arrays and leaves); `true` hides it.
 *
 * A hidden object or array is hidden whole. Matching a key hides its value, whatever it is.
 *
 * @module
 */
import { ConfigError } from "@errand/core";

/** A path into the arguments: the argument's position, then keys and indexes. */
export type ArgumentPath = readonly (string | number)[];

/** A function filter: `true` hides the value at `path`. */
export type ArgumentFilterFunction = (path: ArgumentPath, value: unknown) => boolean;

/** One filter: a key-name fragment, a dotted path, a RegExp over key names, or a function. */
export type ArgumentFilter = string | RegExp | ArgumentFilterFunction;

/** What a hidden value is shown as. */
export const FILTERED = "[FILTERED]";

/**
 * The filters used when `filterArguments` is not given: the key-name fragments Rails
 * generates for new apps. Pass `filterArguments: []` to show every argument as stored.
 */
export const DEFAULT_ARGUMENT_FILTERS: readonly string[] = Object.freeze(["passw", "secret", "token", "_key", "crypt", "salt", "certificate", "otp", "ssn", "cvv", "cvc"]);

/** Returns a redacted copy of an argument list (JSON form); the input is not changed. */
export type Redactor = ((args: unknown) => unknown) & {
  /** False when no filter is set (`filterArguments: []`): everything is shown. */
  readonly active: boolean;
};

/**
 * Compiles `filterArguments` once, at construction.
 * @throws ConfigError naming the filter that is neither a non-empty string, a RegExp nor a function.
 */
export function compileFilters(filters: ArgumentFilter | readonly ArgumentFilter[] | undefined): Redactor {
  const list = filters === undefined ? DEFAULT_ARGUMENT_FILTERS : Array.isArray(filters) ? (filters as readonly ArgumentFilter[]) : [filters as ArgumentFilter];
  const fragments: string[] = [];
  const patterns: RegExp[] = [];
  const paths: string[][] = [];
  const functions: ArgumentFilterFunction[] = [];
  list.forEach((filter, index) => {
    const where = `dashboard filterArguments[${index}]`;
    if (typeof filter === "function") functions.push(filter);
    else if (filter instanceof RegExp) patterns.push(new RegExp(filter.source, filter.flags.replace(/[gy]/g, ""))); // no lastIndex state between tests
    else if (typeof filter === "string" && filter.includes(".")) {
      const segments = filter.split(".");
      if (segments.some((segment) => segment === "")) throw new ConfigError(`${where}: the path ${JSON.stringify(filter)} has an empty segment`);
      paths.push(segments.map((segment) => segment.toLowerCase()));
    } else if (typeof filter === "string" && filter !== "") fragments.push(filter.toLowerCase());
    else {
      throw new ConfigError(`${where} must be a key-name fragment ("passw"), a dotted path ("0.card.number"), a RegExp or a function (path, value) => boolean, got ${describe(filter)}`);
    }
  });
  if (list.length === 0) return Object.assign((args: unknown) => args, { active: false });

  const keyHidden = (key: string): boolean => {
    const lower = key.toLowerCase();
    return fragments.some((fragment) => lower.includes(fragment)) || patterns.some((pattern) => pattern.test(key));
  };
  const pathHidden = (path: ArgumentPath): boolean =>
    paths.some((segments) => segments.length === path.length && segments.every((segment, index) => segment === "*" || segment === String(path[index]).toLowerCase()));

  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (path.length > 0) {
      const last = path[path.length - 1]!;
      if ((typeof last === "string" && keyHidden(last)) || pathHidden(path) || functions.some((filter) => filter(path, value) === true)) return FILTERED;
    }
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (value !== null && typeof value === "object") {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) copy[key] = walk(item, [...path, key]);
      return copy;
    }
    return value;
  };
  return Object.assign((args: unknown) => walk(args, []), { active: true });
}

function describe(value: unknown): string {
  if (value === "") return "an empty string";
  if (value === null) return "null";
  return typeof value === "object" ? (Array.isArray(value) ? "an array" : "an object") : `${typeof value} ${String(value)}`;
}
