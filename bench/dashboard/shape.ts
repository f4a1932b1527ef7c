/**
 * The data every dashboard bench stores (issue 15): 1,000,000 jobs in six states over six
 * queues and four job classes, and an hour of throughput. redis.ts and store-jobs.ts write it
 * job by job from here; postgres.ts writes the same shape as rows by SQL (its statement spells
 * the classes and priorities out again, in SQL), so the three backends' figures compare.
 */
import { uuidv7, type HeartbeatOptions, type JobPayload } from "@errand/core/adapter";

/** Queues by share of every state's jobs (40/25/15/10/6/4 %). */
export const QUEUES = [["mail", 0.4], ["reports", 0.25], ["exports", 0.15], ["webhooks", 0.1], ["billing", 0.06], ["audit", 0.04]] as const;

/** Job classes by share, spread over every state (every 100 jobs: 60, 30, 9, 1). */
export const CLASSES = [["ReportJob", 60], ["MailJob", 30], ["ExportJob", 9], ["AuditJob", 1]] as const;

/**
 * Jobs per state at scale 1, in the order they are written and printed. `ready` is what the
 * adapters list as `queued` (store-jobs.ts prints it so, as the status stores call it).
 */
export const STATES = { succeeded: 900_000, dead: 5_000, retrying: 5_000, running: 10_000, ready: 50_000, scheduled: 30_000 };

/** One of {@link STATES}' names. */
export type StateName = keyof typeof STATES;

/** Jobs per listing page: the dashboard's page. */
export const PAGE = 50;

/** One hour, ms. */
export const HOUR = 3_600_000;

/** The error a failed job of the bench carries (dead and retrying jobs). */
export const TIMEOUT_ERROR = { name: "ApiTimeoutError", message: "the API did not answer within 30 s", stack: "ApiTimeoutError: the API did not answer\n    at perform (jobs/report.ts:12:11)" };

/** One queue's jobs per state: `share` of every state's count at `scale`, rounded. */
export function queueCounts(share: number, scale: number): Record<StateName, number> {
  return Object.fromEntries(Object.entries(STATES).map(([state, count]) => [state, Math.round(count * share * scale)])) as Record<StateName, number>;
}

/**
 * The line a build prints for one queue: `  mail: 3600 succeeded, 20 dead, …`, `ready` named
 * `readyAs`.
 */
export function countsLine(queue: string, counts: Record<StateName, number>, readyAs = "ready"): string {
  return `  ${queue}: ${Object.entries(counts).map(([state, count]) => `${count} ${state === "ready" ? readyAs : state}`).join(", ")}\n`;
}

/** The class of job number `i`: by `i % 100`, as {@link CLASSES} shares them. */
export function classOf(i: number): string {
  let slot = i % 100;
  for (const [name, share] of CLASSES) {
    if (slot < share) return name;
    slot -= share;
  }
  return CLASSES[0][0];
}

/** Priority 5 for every tenth job, else 0 (what the adapter benches store). */
export function priorityOf(i: number): number {
  return i % 10 === 0 ? 5 : 0;
}

/** Job number `i` of `queue` as a wire-format payload, enqueued at `now` to run at `runAt` (ms). */
export function job(queue: string, i: number, runAt: number, now: number, priority = 0): JobPayload {
  return { v: 1, job: classOf(i), id: uuidv7(), queue, priority, args: { json: [i, "a few words of arguments"] }, executions: 0, enqueuedAt: new Date(now).toISOString(), runAt: new Date(runAt).toISOString() };
}

/**
 * An hour of throughput: 60 beats of one worker of `adapter`, one per minute up to `now`, each
 * finishing `1000 + 100 × q + m` jobs (and `m % 7` failures) in the q-th queue at minute m.
 */
export async function hourOfBeats(heartbeat: (options: HeartbeatOptions) => Promise<unknown>, adapter: string, now: number): Promise<void> {
  for (let m = 59; m >= 0; m -= 1) {
    await heartbeat({
      worker: { id: "bench-worker", host: "bench", pid: process.pid, adapter, queues: "*", concurrency: 20, startedAt: new Date(now - HOUR), running: [] },
      at: new Date(now - m * 60_000),
      ttlMs: 5000,
      finished: QUEUES.map(([queue], q) => ({ queue, succeeded: 1000 + q * 100 + m, failed: m % 7 })),
    });
  }
}
