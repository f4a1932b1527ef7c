/**
 * Job classes of the flow-control conformance areas, and the journal they report into:
 * how many jobs of each key run at once (the most ever seen is what a limit is checked
 * against) and when each started.
 */
import { setTimeout as delay } from "node:timers/promises";

import { Job, type ErrandConfig } from "@errand/core";
import type { JobPayload } from "@errand/core/adapter";

import { ALL_JOBS, journal, openGate, payload } from "./harness.js";

/** What flow jobs report. */
export const flowJournal = {
  running: new Map<string, number>(),
  most: new Map<string, number>(),
  starts: new Map<string, number[]>(),
  reset() {
    this.running.clear();
    this.most.clear();
    this.starts.clear();
  },
};

/** Counts a run of `key`, runs `work`, uncounts it. */
async function counted(key: string, work: () => Promise<unknown>): Promise<void> {
  const now = (flowJournal.running.get(key) ?? 0) + 1;
  flowJournal.running.set(key, now);
  flowJournal.most.set(key, Math.max(now, flowJournal.most.get(key) ?? 0));
  const starts = flowJournal.starts.get(key) ?? [];
  starts.push(Date.now());
  flowJournal.starts.set(key, starts);
  try {
    await work();
  } finally {
    flowJournal.running.set(key, flowJournal.running.get(key)! - 1);
  }
}

/** Waits at `gate` when one is given (the test opens it), then records `key`. */
async function gatedRun(job: Job<never>, key: string, gate: string | undefined): Promise<string> {
  if (gate) {
    const entry = openGate(gate);
    entry.started = true;
    await entry.opened;
  }
  journal.performed.push({ label: key, jobId: job.jobId, executions: job.executions });
  return key;
}

/** Unique by its first argument while queued. */
export class UniqueQueuedJob extends Job<[key: string, gate?: string]> {
  static override jobName = "UniqueQueuedJob";
  static override unique = { key: (key: string) => key, while: "queued" as const };
  perform(key: string, gate?: string) {
    return gatedRun(this as never, key, gate);
  }
}

/** Unique by its first argument until it finishes. */
export class UniqueActiveJob extends Job<[key: string, gate?: string]> {
  static override jobName = "UniqueActiveJob";
  static override unique = { key: (key: string) => key, while: "active" as const };
  perform(key: string, gate?: string) {
    return gatedRun(this as never, key, gate);
  }
}

/** Unique by its first argument until 1.5 s after its enqueue, a success included. */
export class UniqueDoneJob extends Job<[key: string]> {
  static override jobName = "UniqueDoneJob";
  static override unique = { key: (key: string) => key, while: "done" as const, for: 1500 };
  perform(key: string) {
    return gatedRun(this as never, key, undefined);
  }
}

/** Unique by all its arguments (the default key) while queued. */
export class UniqueArgsJob extends Job<[a: string, b: number]> {
  static override jobName = "UniqueArgsJob";
  static override unique = { while: "queued" as const };
  perform(a: string, b: number) {
    journal.performed.push({ label: `${a}${b}`, jobId: this.jobId, executions: this.executions });
  }
}

/** Unique while active, and always fails once: it dies. */
export class UniqueDyingJob extends Job<[key: string]> {
  static override jobName = "UniqueDyingJob";
  static override unique = { key: (key: string) => key, while: "active" as const };
  static override retry = [[Error, { attempts: 1 }]] as const;
  perform(key: string): never {
    throw new Error(`${key} fails`);
  }
}

/** At most 2 at once per key; works `ms` (the job's own work, not a synchronisation). */
export class LimitedJob extends Job<[key: string, ms: number]> {
  static override jobName = "LimitedJob";
  static override concurrencyLimit = { key: (key: string) => `limited:${key}`, limit: 2 };
  perform(key: string, ms: number) {
    return counted(key, () => delay(ms));
  }
}

/** One at a time per key, held at a gate the test opens. */
export class SerialGatedJob extends Job<[key: string, gate: string]> {
  static override jobName = "SerialGatedJob";
  static override concurrencyLimit = { key: (key: string) => `serial:${key}`, limit: 1 };
  perform(key: string, gate: string) {
    return counted(key, () => gatedRun(this as never, key, gate));
  }
}

/**
 * At most 3 starts per 1,500 ms per key. The window is wide so the test can allow for the
 * lag between the backend deciding a start and the job reading the clock: with two CI runs
 * on 2 cores a first start was read 129 ms late, against 600 ms windows and 60 ms of slack.
 */
export class RateJob extends Job<[key: string]> {
  static override jobName = "RateJob";
  static override rateLimit = { limit: 3, per: 1_500, key: (key: string) => `rate:${key}` };
  perform(key: string) {
    return counted(key, async () => {
      journal.performed.push({ label: key, jobId: this.jobId, executions: this.executions });
    });
  }
}

/** Both: 1 at a time and 2 starts per 1,500 ms, per key. */
export class BothLimitsJob extends Job<[key: string, ms: number]> {
  static override jobName = "BothLimitsJob";
  static override concurrencyLimit = { key: (key: string) => `both:${key}`, limit: 1 };
  static override rateLimit = { limit: 2, per: 1_500, key: (key: string) => `both:${key}` }; // wide: see RateJob
  perform(key: string, ms: number) {
    return counted(key, () => delay(ms));
  }
}

export const FLOW_JOBS = [UniqueQueuedJob, UniqueActiveJob, UniqueDoneJob, UniqueArgsJob, UniqueDyingJob, LimitedJob, SerialGatedJob, RateJob, BothLimitsJob];

/** Config for flow fixtures: every job class, dying jobs die at once. */
export const FLOW_CONFIG: ErrandConfig = { jobs: [...ALL_JOBS, ...FLOW_JOBS] };

/** A RecordJob payload with `flow`, for direct adapter calls. */
export function flowPayload(flow: NonNullable<JobPayload["flow"]>, overrides: Partial<JobPayload> = {}): JobPayload {
  return payload({ flow, ...overrides });
}
