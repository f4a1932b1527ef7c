/**
 * `runDoctor`: the checks of `errand doctor`, in order — the config and job modules
 * (`setup.ts`), each adapter the environment uses (`adapters.ts`), the queues waiting for a
 * worker (`backlog.ts`), the recurring tasks (`recurring.ts`) — composed into one
 * {@link DoctorReport}. A check that cannot run because an earlier one failed is skipped,
 * saying why.
 *
 * The doctor changes nothing: it never migrates, never creates a queue, runs no job, and
 * starts no embedded worker. Each adapter's round trip is bounded by `timeoutMs`, so a server
 * that does not answer fails its check within seconds instead of hanging a deploy.
 *
 * @module
 */
import { currentEnvironment } from "../config/environment.js";
import { checkAdapter, servedQueues, usedAdapters, within } from "./adapters.js";
import { checkBacklog } from "./backlog.js";
import { checkRecurring } from "./recurring.js";
import { skipped, type DoctorCheck, type DoctorReport } from "./report.js";
import { checkSetup } from "./setup.js";

export type { CheckStatus, DoctorCheck, DoctorReport } from "./report.js";

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** Config file; default: `errand.config.{ts,mts,mjs,js}` in the working directory. */
  config?: string;
  /** Longest wait for each server's answer, in ms. Default 3,000. */
  timeoutMs?: number;
}

/** Default {@link DoctorOptions.timeoutMs}: a server on the same network answers in milliseconds; 3 s leaves room for TLS and a cold DNS. */
export const DOCTOR_TIMEOUT_MS = 3000;

/** How long closing the adapters may take before the doctor reports anyway (a client still reconnecting to a server that is down). */
const CLOSE_MS = 2000;

/** Runs every check and returns the report; `ok` when none failed. */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? DOCTOR_TIMEOUT_MS;
  const checks: DoctorCheck[] = [];
  const setup = await checkSetup({ ...(options.config === undefined ? {} : { config: options.config }), environment: currentEnvironment() }, checks);
  const { runtime } = setup;
  if (!runtime) {
    checks.push(skipped("adapters", "adapters, queues and recurring tasks", "unknown: the config did not load"));
  } else {
    try {
      // Adapters are checked at once (an unreachable one costs its timeout, not the others'), their lines kept in order.
      const results = await Promise.all(
        usedAdapters(runtime).map(async (name) => {
          const own: DoctorCheck[] = [];
          const adapter = await checkAdapter({ runtime, name, queues: servedQueues(runtime, name, setup.recurring), timeoutMs }, own);
          return { adapter, own };
        }),
      );
      for (const { own } of results) checks.push(...own);
      const adapters = results.map((result) => result.adapter);
      for (const adapter of adapters) await checkBacklog(adapter, checks);
      checkRecurring(runtime, setup.recurring, adapters, checks);
    } finally {
      await within(runtime.close(), CLOSE_MS, "closing the adapters").catch(() => undefined);
    }
  }
  return { ok: !checks.some((check) => check.status === "fail"), environment: setup.environment, config: setup.file, checks };
}
