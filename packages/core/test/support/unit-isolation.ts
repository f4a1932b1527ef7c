/**
 * Setup file of the "unit" project (vitest.config.ts), whose files share worker processes
 * (`isolate: false`): what one file leaves in the process, the next file meets. Each file
 * must end as it began: no runtime installed (close the one you configure; a closed runtime
 * uninstalls itself), no process listener added, real timers.
 *
 * Process-wide registries an app fills at boot (mailers, models, custom serializers) stay
 * filled on purpose; a test file gives its classes names no other unit file uses.
 */
import { afterAll, vi } from "vitest";

const RUNTIME = Symbol.for("errand.runtime");
const EVENTS = ["SIGTERM", "SIGINT", "SIGHUP", "exit", "beforeExit", "uncaughtException", "unhandledRejection", "warning"] as const;

const listeners = (): string =>
  EVENTS.map((event) => `${event} ${process.listenerCount(event)}`)
    .filter((entry) => !entry.endsWith(" 0"))
    .join(", ") || "none";

const atStart = listeners();

afterAll(() => {
  const problems: string[] = [];
  if ((globalThis as Record<symbol, unknown>)[RUNTIME] !== undefined) problems.push("a runtime is still installed (close the runtime configure() returned)");
  const atEnd = listeners();
  if (atEnd !== atStart) problems.push(`process listeners changed from ${atStart} to ${atEnd}`);
  if (vi.isFakeTimers()) problems.push("fake timers are still on (call vi.useRealTimers())");
  if (problems.length > 0) throw new Error(`this unit file leaks into the next one in its worker: ${problems.join("; ")}`);
});
