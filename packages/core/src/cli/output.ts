/**
 * Parsing and printing shared by the commands: argument parsers for commander, JSON
 * output that survives the types superjson restores, aligned tables, and the one-line
 * error report.
 *
 * @module
 */
import { InvalidArgumentError } from "commander";

import { ErrandError } from "../errors.js";
import { CliUsageError } from "./context.js";

/** Writes one line to stdout. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Commander parser for `-c 20`, `--limit 50`: an integer of at least `min`. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}`);
    }
    return number;
  };
}

/** Commander parser for `--priority -5`: any integer. */
export function integer(value: string): number {
  const number = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) throw new InvalidArgumentError("expected an integer");
  return number;
}

/**
 * Parses the `'[<json args>]'` argument of `perform` and `enqueue`.
 * @throws CliUsageError naming what is wrong (not JSON, or JSON but not an array).
 */
export function parseJsonArgs(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliUsageError(`arguments ${clip(text)} are not valid JSON (${reason}); give a JSON array, e.g. '[42, "two"]'`);
  }
  if (!Array.isArray(value)) {
    throw new CliUsageError(`arguments must be a JSON array of perform's parameters, e.g. '[42, "two"]'; got ${clip(text)}`);
  }
  return value;
}

/**
 * JSON for people and scripts. Results come back through superjson, so they may hold a
 * BigInt (which `JSON.stringify` throws on), a Map or a Set (which it prints as `{}`).
 */
export function toJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(
    value === undefined ? null : value,
    (_key, item: unknown) => {
      if (typeof item === "bigint") return item.toString();
      if (item instanceof Map) return Object.fromEntries([...item].map(([key, entry]) => [String(key), entry]));
      if (item instanceof Set) return [...item];
      if (item instanceof RegExp || item instanceof URL) return item.toString();
      return item;
    },
    indent,
  );
  return text ?? "null";
}

/** Left-aligned first column, right-aligned numbers: `errand queues`. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** An error as a short phrase for log lines: `TypeError: x is undefined`. */
export function errorText(error: unknown): string {
  if (error instanceof Error || (typeof error === "object" && error !== null && "message" in error)) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    const label = typeof name === "string" && name && name !== "Error" ? `${name}: ` : "";
    return oneLine(`${label}${String(message)}`);
  }
  return oneLine(String(error));
}

/**
 * The report for an error that ends a command: one line, `errand: <message>`. Errand's own
 * errors are messages for users, so their stack is noise; anything else is unexpected,
 * and the line says how to see where it came from. `ERRAND_DEBUG=1` adds the stack.
 */
export function failureReport(error: unknown, options: { prefix?: string; debug?: boolean } = {}): string {
  const { prefix = "", debug = Boolean(process.env.ERRAND_DEBUG) } = options;
  const stack = error instanceof Error && error.stack ? `\n${error.stack}` : "";
  if (error instanceof ErrandError) return `errand: ${prefix}${oneLine(error.message)}${debug ? stack : ""}`;
  if (debug) return `errand: ${prefix}${errorText(error)}${stack}`;
  return `errand: ${prefix}${errorText(error)} (set ERRAND_DEBUG=1 for the stack)`;
}

/** Folds a multi-line message onto one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function clip(text: string): string {
  return text.length > 60 ? `${JSON.stringify(text.slice(0, 57))}...` : JSON.stringify(text);
}
