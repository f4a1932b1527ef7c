/**
 * What a job class asks of its adapter beyond the payload at hand: a `retryOn` rule that
 * moves a retry to another priority needs the adapter to store that priority. Checked when
 * the job is enqueued, before anything is sent — a retry found unstorable only when it
 * happens would leave the job neither retried nor cleanly dead.
 *
 * @module
 */
import type { AdapterCapabilities } from "../adapter/contract.js";
import { unstorablePriority } from "../backends/storable.js";
import { UnsupportedError } from "../errors.js";
import type { JobDefinition } from "./settings.js";

/**
 * Refuses a job class whose retry rules name a priority the adapter cannot store.
 * @throws UnsupportedError naming the class, the rule's errors, the priority and the bound.
 */
export function checkRetryPriorities(definition: JobDefinition, className: string, adapter: string, capabilities: AdapterCapabilities): void {
  for (const rule of definition.rules) {
    if (rule.kind !== "retry" || rule.priority === undefined) continue;
    const { priority } = rule;
    const lacking = unstorablePriority(priority, capabilities);
    if (!lacking) continue;
    const problem =
      lacking === "priorities"
        ? `the ${adapter} adapter does not support priorities (capability priorities)`
        : `the ${adapter} adapter stores -${capabilities.maxPriority} to ${capabilities.maxPriority} (capability maxPriority)`;
    throw new UnsupportedError(`${className}: retryOn(${rule.key}) retries at priority ${priority}, but ${problem}`);
  }
}
