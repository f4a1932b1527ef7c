/**
 * What a worker says at start about a setup that works but surprises: today, statuses kept
 * only in this process's memory (the SQS adapter without a shared status store), which a
 * web process asking `Job.status(id)` cannot see.
 *
 * @module
 */
import type { AdapterCapabilities } from "../adapter/contract.js";
import type { Runtime } from "../runtime.js";

/** Codes already written as process warnings: a test suite starting 50 workers says it once. */
const warnedCodes = new Set<string>();

/**
 * Emits a `worker:warning` event for each surprise in `capabilities`; when nobody listens,
 * writes a process warning instead, once per code and process.
 */
export function warnAtStart(runtime: Runtime, workerId: string, adapter: string, capabilities: AdapterCapabilities): void {
  if (capabilities.localStatus) {
    warn(
      runtime,
      workerId,
      "ERRAND_LOCAL_STATUS",
      `the ${adapter} adapter keeps job statuses in this process's memory: other processes (a web process calling Job.status(id)) cannot see them. ` +
        "Give the adapter a store every process shares: status: new RedisStatusStore({ url }) (@errand/adapter-redis) or new PostgresStatusStore({ url }) (@errand/adapter-postgres)",
    );
  }
}

function warn(runtime: Runtime, workerId: string, code: string, message: string): void {
  if (runtime.events.has("worker:warning")) runtime.events.emit("worker:warning", { workerId, code, message });
  else if (!warnedCodes.has(code)) {
    warnedCodes.add(code);
    process.emitWarning(message, { code });
  }
}
