/**
 * `errand doctor [--config FILE] [--json] [--timeout MS]`: checks a setup — config, job
 * modules, each adapter's server, schema, queues and status store, queues waiting for a
 * worker, recurring tasks — and prints one line per check (`docs/doctor.md`). Exits 0 when
 * every check passed (skipped ones aside), 1 otherwise: a deploy gate or a readiness check.
 *
 * @module
 */
import type { Command } from "commander";

import { DOCTOR_TIMEOUT_MS, runDoctor, type DoctorCheck } from "../../doctor/run.js";
import type { CommonOptions } from "../context.js";
import { integerAtLeast, say, toJson } from "../output.js";

/** Options of `errand doctor`. */
export interface DoctorCommandOptions extends CommonOptions {
  json?: boolean;
  /** Longest wait for each server's answer, in ms. */
  timeout?: number;
}

const MARKS = { pass: "✔", fail: "✘", skip: "–" } as const;

/** One check as one line: `✘ schema …: 1 migration pending: 021_interrupt — run \`errand migrate\``. */
export function checkLine(check: DoctorCheck): string {
  const detail = check.detail ? `: ${check.detail}` : "";
  const fix = check.fix ? ` — ${check.fix}` : "";
  return `${MARKS[check.status]} ${check.title}${check.status === "skip" ? " (skipped)" : ""}${detail}${fix}`;
}

/** Runs the checks, prints them (or the report as JSON) and sets the exit code. */
export async function doctor(options: DoctorCommandOptions): Promise<void> {
  const report = await runDoctor({
    ...(options.config === undefined ? {} : { config: options.config }),
    timeoutMs: options.timeout ?? DOCTOR_TIMEOUT_MS,
  });
  process.exitCode = report.ok ? 0 : 1;
  if (options.json) return say(toJson(report, 2));
  say(`errand doctor: environment ${report.environment}`);
  for (const check of report.checks) say(checkLine(check));
  const count = (status: DoctorCheck["status"]) => report.checks.filter((check) => check.status === status).length;
  const skippedCount = count("skip");
  say(`${report.ok ? "ok" : "not ok"}: ${count("pass")} passed, ${count("fail")} failed${skippedCount > 0 ? `, ${skippedCount} skipped` : ""}`);
}

/** Adds `doctor` to the program. */
export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check the setup (config, jobs, servers, migrations, queues, workers, recurring tasks); exit 1 when a check fails")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .option("--json", "print the report as JSON")
    .option("--timeout <ms>", `longest wait for each server's answer (default ${DOCTOR_TIMEOUT_MS})`, integerAtLeast(1))
    .action((options: DoctorCommandOptions) => doctor(options));
}
