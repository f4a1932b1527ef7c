/**
 * Names for generated code: `GuestsCleanup`, `guests_cleanup` or `guests-cleanup-job` all
 * name the class `GuestsCleanupJob` in `guests-cleanup-job.ts`, as Rails' generators do.
 * A name that cannot be a class, a file or a mail method is refused with the reason.
 *
 * @module
 */
import { CliUsageError } from "../context.js";

/** What a generator derives from the name it was given. */
export interface ClassName {
  /** `GuestsCleanupJob`. */
  className: string;
  /** `guests-cleanup-job` (no extension). */
  fileBase: string;
}

/** Words JavaScript reserves, or that would shadow what generated code uses. */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function " +
    "if import in instanceof new null return super switch this throw true try typeof var void while with yield let static " +
    "implements interface package private protected public await async arguments eval undefined Job Mailer Object Promise Error"
  ).split(" "),
);

/** The words of a name: `GuestsCleanup`, `guests_cleanup`, `guests-cleanup` → [guests, cleanup]. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}

/**
 * The class and file names for `name`, with `suffix` (`Job`, `Mailer`) added once.
 * @param what - for messages: `"job"`, `"mailer"`.
 * @throws CliUsageError when the name is empty, starts with a digit, holds characters
 *   other than letters, digits, `_` and `-`, or is a reserved word.
 */
export function classNameOf(name: string, suffix: string, what: string): ClassName {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
    throw new CliUsageError(
      `${what} name ${JSON.stringify(name)} is not valid: use letters, digits, "_" and "-", starting with a letter (e.g. GuestsCleanup or guests_cleanup)`,
    );
  }
  const parts = words(name);
  if (parts.at(-1) === suffix.toLowerCase()) parts.pop();
  if (parts.length === 0) throw new CliUsageError(`${what} name ${JSON.stringify(name)} is only the suffix "${suffix}": name what it does (e.g. GuestsCleanup${suffix})`);
  const base = parts.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
  if (RESERVED.has(`${base}${suffix}`)) throw new CliUsageError(`${what} name ${JSON.stringify(name)} is a reserved word; choose another`);
  return { className: `${base}${suffix}`, fileBase: [...parts, suffix.toLowerCase()].join("-") };
}

/** Statics of a mailer class a mail method may not shadow (see `defineMailer`). */
const MAILER_STATICS = new Set(["mail", "defaults", "mailerName", "beforeDeliver", "afterDeliver", "name", "length", "prototype", "call", "apply", "bind", "toString", "constructor"]);

/**
 * Checks mail method names: identifiers in camelCase (`welcome`, `password_reset` becomes
 * `passwordReset`), unique, and not the name of a mailer static.
 * @throws CliUsageError naming the bad method.
 */
export function mailMethodsOf(names: readonly string[]): string[] {
  if (names.length === 0) throw new CliUsageError('give the mailer at least one mail method: errand generate mailer User welcome goodbye');
  const methods: string[] = [];
  for (const name of names) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
      throw new CliUsageError(`mail method ${JSON.stringify(name)} is not valid: use letters, digits, "_" and "-", starting with a letter`);
    }
    const [first, ...rest] = words(name);
    const method = first! + rest.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
    if (MAILER_STATICS.has(method) || RESERVED.has(method)) {
      throw new CliUsageError(`mail method ${JSON.stringify(name)} would shadow ${MAILER_STATICS.has(method) ? "a static of the mailer class" : "a reserved word"}; choose another name`);
    }
    if (methods.includes(method)) throw new CliUsageError(`mail method ${JSON.stringify(name)} is given twice`);
    methods.push(method);
  }
  return methods;
}

/**
 * Checks a queue name given with `--queue`.
 * @throws CliUsageError for a name some backend would refuse.
 */
export function queueNameOf(queue: string): string {
  // SQS queue names allow only these characters (80 at most, with the app's prefix), so a
  // generated job keeps working whichever backend production uses.
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$/.test(queue)) {
    throw new CliUsageError(`queue name ${JSON.stringify(queue)} is not valid: use letters, digits, "_" and "-" (what every backend accepts), at most 60 characters`);
  }
  return queue;
}
