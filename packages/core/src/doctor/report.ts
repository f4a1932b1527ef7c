/**
 * What `errand doctor` reports: one {@link DoctorCheck} per thing it looked at, and the
 * {@link DoctorReport} around them — the shape `errand doctor --json` prints
 * (`docs/doctor.md`).
 *
 * A check passes, fails, or is skipped: skipped when it cannot run (an earlier check failed —
 * the server is unreachable, so its migrations are unknown — or the backend offers nothing
 * to look at), and says why. A skipped check is never counted as passed, and never fails the
 * report by itself: the report is `ok` when no check failed.
 *
 * @module
 */

/** How a check ended. */
export type CheckStatus = "pass" | "fail" | "skip";

/** One line of the report. */
export interface DoctorCheck {
  /** Stable id for scripts: `config`, `jobs`, `adapter:default`, `schema:default`, `backlog:default:mailers`, `recurring:nightly`… */
  id: string;
  status: CheckStatus;
  /** True only when the check passed (`status === "pass"`). */
  ok: boolean;
  /** What was checked, as one phrase: `default adapter postgres`, `queue mailers`. */
  title: string;
  /** What was found (a pass's facts, a failure's reason, why a check was skipped). */
  detail?: string;
  /** For a failure: what to do (`run \`errand migrate\``). */
  fix?: string;
  /** One round trip to the server, in ms, for the checks that made one. */
  latencyMs?: number;
}

/** The whole report: `errand doctor --json` prints exactly this. */
export interface DoctorReport {
  /** No check failed: the exit code is 0 exactly when this is true. */
  ok: boolean;
  /** The environment the config was read for (`ERRAND_ENV`, else `NODE_ENV`, else `development`). */
  environment: string;
  /** The config file read (absolute path), or null when there was none. */
  config: string | null;
  checks: DoctorCheck[];
}

/** Extra fields of a check. */
type Extra = Partial<Pick<DoctorCheck, "detail" | "fix" | "latencyMs">>;

/** A passed check. */
export function passed(id: string, title: string, extra: Extra = {}): DoctorCheck {
  return { id, status: "pass", ok: true, title, ...defined(extra) };
}

/** A failed check, with what to do. */
export function failed(id: string, title: string, detail: string, fix: string, extra: Extra = {}): DoctorCheck {
  return { id, status: "fail", ok: false, title, detail, fix, ...defined(extra) };
}

/** A check that could not run, and why. */
export function skipped(id: string, title: string, why: string): DoctorCheck {
  return { id, status: "skip", ok: false, title, detail: why };
}

/** `extra` without its undefined fields, so the JSON has no `"fix": undefined` holes. */
function defined(extra: Extra): Extra {
  return Object.fromEntries(Object.entries(extra).filter(([, value]) => value !== undefined)) as Extra;
}

/** An error as a message for a check's detail: one line, no stack. */
export function reason(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  // Node's connect to a name with several addresses (localhost: ::1 and 127.0.0.1) fails with
  // an AggregateError whose own message is empty: its errors say what happened.
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof AggregateError && !cause.message) message += cause.errors.map((each) => reason(each)).join("; ");
  return message.replace(/\s*\n\s*/g, " ").trim();
}
