/**
 * Checking option objects against a schema, so nothing in configuration is silently
 * ignored. A schema maps each known key to a rule; {@link validateOptions} refuses an
 * unknown key (naming the nearest known one) and a value its rule does not accept (naming
 * key, expected kind and value). Core checks `ErrandConfig` with it; adapter packages check
 * their own options with the same function (`@errand/core/adapter`), so every message reads
 * alike. Values are described with secrets hidden: a URL's password, and anything under a
 * key that names a password, secret, token or credentials.
 *
 * @module
 */
import { toMs, type Duration } from "../duration.js";
import { ConfigError } from "../errors.js";

/** What one option's value must be. Every option is optional: `undefined` is never tested. */
export interface OptionRule {
  /** What the value must be, as the error says it: `"a positive integer"`. */
  readonly expected: string;
  /** True when the value is acceptable. */
  readonly test: (value: unknown) => boolean;
  /** Checks inside an accepted value (a nested object's keys); throws `ConfigError`. */
  readonly check?: (value: unknown, path: string, where: string) => void;
}

/**
 * A rule per known key. Given the options type `T`, every key of `T` must have a rule and
 * no other key may, so the schema cannot drift from the options interface.
 */
export type OptionSchema<T = Record<string, unknown>> = { readonly [K in keyof T]-?: OptionRule };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The building blocks of schemas. */
export const rules = {
  /** Any string. */
  string: { expected: "a string", test: (value) => typeof value === "string" },
  /** A string with at least one character. */
  nonEmptyString: { expected: "a non-empty string", test: (value) => typeof value === "string" && value.length > 0 },
  /** `true` or `false`. */
  boolean: { expected: "true or false", test: (value) => typeof value === "boolean" },
  /** A function (a class included). */
  function: { expected: "a function", test: (value) => typeof value === "function" },
  /** A duration: milliseconds, `"90s"`, `"10m"`, `{ minutes: 5 }`. */
  duration: {
    expected: 'a duration (milliseconds, "90s", "5m" or { minutes: 5 })',
    test: (value) => {
      try {
        toMs(value as Duration);
        return true;
      } catch {
        return false;
      }
    },
  },
  /** An integer of at least `min` (1: "a positive integer"). */
  integer(min: number): OptionRule {
    return {
      expected: min === 1 ? "a positive integer" : `an integer >= ${min}`,
      test: (value) => Number.isInteger(value) && (value as number) >= min,
    };
  },
  /** A finite number of at least `min`. */
  number(min: number): OptionRule {
    return { expected: `a number >= ${min}`, test: (value) => typeof value === "number" && Number.isFinite(value) && value >= min };
  },
  /** One of the given strings. */
  oneOf(...values: readonly string[]): OptionRule {
    return { expected: `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`, test: (value) => values.includes(value as string) };
  },
  /** A plain object; with a schema, its keys are checked too (unknown ones refused). */
  object(schema?: OptionSchema): OptionRule {
    return {
      expected: "an object",
      test: isObject,
      ...(schema ? { check: (value: unknown, path: string, where: string) => checkKeys(value as Record<string, unknown>, schema, where, path) } : {}),
    };
  },
  /** A plain object whose every value follows `rule` (keys free: environments, names). */
  record(rule: OptionRule): OptionRule {
    return {
      expected: `an object of ${rule.expected.replace(/^an? /, "")} values`,
      test: isObject,
      check: (value, path, where) => {
        for (const [key, item] of Object.entries(value as Record<string, unknown>)) checkValue(item, rule, `${path}.${key}`, where);
      },
    };
  },
  /** An array whose every item follows `rule`. */
  arrayOf(rule: OptionRule): OptionRule {
    return {
      expected: `an array of ${rule.expected.replace(/^an? /, "")} items`,
      test: Array.isArray,
      check: (value, path, where) => (value as unknown[]).forEach((item, index) => checkValue(item, rule, `${path}[${index}]`, where)),
    };
  },
  /** A value that follows one of the rules (the first that accepts it checks inside). */
  anyOf(...choices: readonly OptionRule[]): OptionRule {
    return {
      expected: choices.map((choice) => choice.expected).join(" or "),
      test: (value) => choices.some((choice) => choice.test(value)),
      check: (value, path, where) => choices.find((choice) => choice.test(value))?.check?.(value, path, where),
    };
  },
  /** An object with these methods (a client, a pool, a store): duck-typed, as JavaScript passes them. */
  withMethods(expected: string, ...methods: readonly string[]): OptionRule {
    return {
      expected,
      test: (value) => typeof value === "object" && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === "function"),
    };
  },
} satisfies Record<string, OptionRule | ((...args: never[]) => OptionRule)>;

/**
 * Checks `options` against `schema`.
 * @param where - names the options in errors: `"the redis adapter options"`, `"the Errand config"`.
 * @throws ConfigError naming an unknown key (and the nearest known one) or a bad value (key, expected kind, value).
 */
export function validateOptions<T>(options: unknown, schema: OptionSchema<T>, where: string): void {
  if (options === undefined) return;
  if (!isObject(options)) throw new ConfigError(`${where} must be an object, got ${describeOption(options)}`);
  checkKeys(options, schema as OptionSchema, where, "");
}

function checkKeys(options: Record<string, unknown>, schema: OptionSchema, where: string, prefix: string): void {
  const path = (key: string) => (prefix ? `${prefix}.${key}` : key);
  for (const [key, value] of Object.entries(options)) {
    // Own keys only: `toString` or `constructor` must not find Object.prototype's, and a
    // JSON-parsed `"__proto__"` key (an own property there) is unknown like any other.
    const rule = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!rule) {
      const near = nearestKey(key, value, schema);
      const known = Object.keys(schema);
      const hint = near ? `did you mean "${path(near)}"?` : known.length ? `valid options: ${known.join(", ")}` : "it takes none";
      throw new ConfigError(`unknown option "${path(key)}" in ${where}; ${hint}`);
    }
    checkValue(value, rule, path(key), where);
  }
}

/**
 * Checks one value against its rule (then inside it), for rules that check their items.
 * @param path - the value's full key path (`adapters.mail.production`), which errors name.
 */
export function checkValue(value: unknown, rule: OptionRule, path: string, where: string): void {
  if (value === undefined) return;
  if (!rule.test(value)) throw new ConfigError(`option "${path}" in ${where} must be ${rule.expected}, got ${describeOption(value, path)}`);
  rule.check?.(value, path, where);
}

/** Levenshtein distance, case-insensitive. */
export function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[y.length]!;
}

/**
 * The known key the writer most likely meant: close by edit distance (at most a third of
 * the key, at least 1) or one a prefix of the other (`statusStore` → `status`). Among
 * those, a key whose rule accepts the value wins (`mailer: { transport }` → `mail`, not
 * `mailers`), then the closest.
 */
function nearestKey(key: string, value: unknown, schema: OptionSchema): string | undefined {
  const lower = key.toLowerCase();
  const candidates = Object.keys(schema)
    .map((known) => {
      const other = known.toLowerCase();
      const prefix = Math.min(lower.length, other.length) >= 3 && (lower.startsWith(other) || other.startsWith(lower));
      return { known, d: distance(key, known), prefix, fits: schema[known]!.test(value) };
    })
    .filter(({ d, prefix }) => prefix || d <= Math.max(1, Math.floor(key.length / 3)));
  candidates.sort((a, b) => Number(b.fits) - Number(a.fits) || a.d - b.d);
  return candidates[0]?.known;
}

const SECRET_KEY = /pass|secret|token|credential|auth|private/i;

/**
 * Hides a URL's password: `redis://user:pw@host` → `redis://user:***@host`. The user
 * information runs to the last `@` of the authority (which ends at the first `/`, `?` or
 * `#`), so an unencoded `@` in a password (`user:p@ss@host`) is hidden with the rest.
 */
function redactUrl(text: string): string {
  return text.replace(/\/\/([^/?#\s]*)@/g, (whole, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return colon < 0 ? whole : `//${userinfo.slice(0, colon)}:***@`;
  });
}

/** `"a string"`, `"an array"`…: what a hidden value is, without any of it. */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

/**
 * A value for an error message: quoted strings, short JSON, secrets hidden — a URL's
 * password, the values under a key naming a password, secret, token or credentials, and
 * the whole value when `path` (the key it was given under, `mail.transport.auth.pass`)
 * names one: then only its kind is told (`a string (hidden: the key names a secret)`).
 */
export function describeOption(value: unknown, path?: string): string {
  if (path !== undefined && path.split(/[.[\]]/).some((segment) => SECRET_KEY.test(segment))) {
    return `${kindOf(value)} (hidden: the key names a secret)`;
  }
  if (typeof value === "string") return JSON.stringify(redactUrl(value));
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (value === null || typeof value !== "object") return String(value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (key, item: unknown) => (key && SECRET_KEY.test(key) ? "***" : typeof item === "string" ? redactUrl(item) : item));
  } catch {
    text = undefined;
  }
  if (text === undefined) return Object.prototype.toString.call(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
