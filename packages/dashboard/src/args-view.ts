/**
 * A job's arguments as pages show them, always through `filterArguments`: the stored JSON
 * form of a valid payload's arguments, redacted; a malformed body (a dead job whose payload
 * is not wire format) with its arguments redacted when it parses as JSON, and hidden whole
 * when it does not and a filter is set (a filter cannot be applied to text it cannot read).
 *
 * @module
 */
import type { JobView } from "@errand/core";

import type { Redactor } from "./redact.js";

/** What to show for a job's arguments. */
export type ArgumentsView =
  | { kind: "args"; value: unknown }
  | { kind: "raw"; text: string }
  | { kind: "hidden"; reason: string }
  | { kind: "none" };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The job's arguments, redacted. */
export function argumentsView(job: Pick<JobView, "payload" | "rawBody">, redact: Redactor): ArgumentsView {
  if (job.payload) return { kind: "args", value: redact(job.payload.args.json) };
  if (job.rawBody === null) return { kind: "none" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(job.rawBody);
  } catch {
    return redact.active ? { kind: "hidden", reason: "the stored body is not JSON, so filterArguments cannot be applied to it" } : { kind: "raw", text: job.rawBody };
  }
  if (isObject(parsed) && "args" in parsed) {
    const args = parsed.args;
    const redacted = isObject(args) && "json" in args ? { ...args, json: redact(args.json) } : redact(args);
    return { kind: "raw", text: JSON.stringify({ ...parsed, args: redacted }, null, 2) };
  }
  return redact.active ? { kind: "hidden", reason: "the stored body has no args field, so filterArguments cannot be applied to it" } : { kind: "raw", text: JSON.stringify(parsed, null, 2) };
}
