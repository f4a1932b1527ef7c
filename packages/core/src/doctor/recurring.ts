/**
 * The doctor's recurring-task checks, one per task of `config.recurring`: its entry
 * compiles (a job class, a schedule that parses and fires), its job class can be registered
 * (no other class holds its name), and the adapter its job lives on can store ticks
 * (`capabilities.recurring`). A passing task shows its next run.
 *
 * @module
 */
import { definitionOf } from "../job/settings.js";
import { JobRegistry } from "../registry.js";
import type { Runtime } from "../runtime.js";
import type { CheckedAdapter } from "./adapters.js";
import { failed, passed, reason, skipped, type DoctorCheck } from "./report.js";
import type { RecurringEntry } from "./setup.js";

/** Pushes one check per recurring task. */
export function checkRecurring(runtime: Runtime, entries: readonly RecurringEntry[], adapters: readonly CheckedAdapter[], checks: DoctorCheck[], now = Date.now()): void {
  for (const entry of entries) {
    const id = `recurring:${entry.name}`;
    const title = `recurring task ${entry.name}`;
    if ("error" in entry) {
      checks.push(failed(id, title, entry.error, "fix the task in config.recurring (docs/recurring-tasks.md)"));
      continue;
    }
    const { spec } = entry;
    let job: string;
    let pinned: string | undefined;
    try {
      job = runtime.registry.ensure(spec.jobClass);
      pinned = definitionOf(spec.jobClass).adapter;
    } catch (error) {
      checks.push(failed(id, title, reason(error), "fix the task's job class"));
      continue;
    }
    const adapter = adapters.find((each) => each.name === pinned);
    const client = adapter?.client;
    if (!client) {
      checks.push(skipped(id, title, `unknown: ${adapter?.label ?? `adapter "${pinned ?? "default"}"`} of job ${job} did not resolve`));
      continue;
    }
    if (!client.capabilities.recurring) {
      const note = client.adapter.capabilityNotes?.recurring;
      checks.push(
        failed(id, title, `job ${job} is on the ${client.name} adapter, which cannot store recurring ticks${note ? ` (${note})` : ""}`, "use an adapter that can (async, redis, postgres, or sqs with a shared status store), or drop the task"),
      );
      continue;
    }
    const next = spec.schedule.next(now);
    const when = next === null ? "never fires again" : `next run ${new Date(next).toISOString()}`;
    checks.push(passed(id, title, { detail: `${JobRegistry.nameOf(spec.jobClass)} ${spec.schedule.description}, ${when}` }));
  }
}
