/**
 * Jobs in every state for the dashboard's tests and screenshots: a runtime on a given
 * adapter with a worker, and `seed()`, which leaves jobs queued, scheduled, running (held
 * by a gate), retrying (with earlier attempts), dead, succeeded and failed, with arguments
 * that hold secrets for `filterArguments` to hide.
 */
import { configure, Job, queues, Worker, type Runtime } from "@errand/core";
import type { Adapter } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

/** Arguments with secrets at several depths. */
export const SIGNUP = { email: "ada@example.com", password: "hunter2", profile: { name: "Ada", apiToken: "tok_live_123" }, card: { number: "4242424242424242", brand: "visa" } };

/** Jobs that fail while their label is in this set. */
export const failing = new Set<string>();
/** Labels of the jobs whose signal fired while they waited at their gate, in order. */
export const signalled: string[] = [];
/** Gates: a job whose label has one waits until it is released (or its signal aborts). */
const gates = new Map<string, { opened: Promise<void>; open(): void }>();

/** Holds the job labelled `label` at its gate until {@link release}. */
export function hold(label: string): void {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  gates.set(label, { opened, open });
}

/** Opens the gate of `label`. */
export function release(label: string): void {
  gates.get(label)?.open();
  gates.delete(label);
}

function gate(label: string, signal: AbortSignal): Promise<void> {
  const held = gates.get(label);
  if (!held) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      signalled.push(label);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    void held.opened.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

/** Sends a welcome mail; reports progress; returns what it sent. */
export class WelcomeJob extends Job<[signup: typeof SIGNUP, label: string], { sent: number; at: Date }> {
  static override jobName = "WelcomeJob";
  static override queue = "mailers";
  static override retry = [[Error, { attempts: 1 }]] as const;
  async perform(_signup: typeof SIGNUP, label: string) {
    this.progress(0.5, "rendering");
    await gate(label, this.signal);
    if (failing.has(label)) throw new Error(`SMTP refused ${label}`);
    return { sent: 1, at: new Date("2026-12-03T12:00:00Z") };
  }
}

/** Retried five times an hour apart: stays `retrying` with its attempts. */
export class SyncJob extends Job<[account: number, label: string]> {
  static override jobName = "SyncJob";
  static override queue = "sync";
  static override retry = [[Error, { attempts: 5, wait: "1h" }]] as const;
  async perform(_account: number, label: string) {
    if (failing.has(label)) throw new TypeError(`upstream answered 502 for ${label}`);
  }
}

/** A nightly report, for the recurring page. */
export class ReportJob extends Job {
  static override jobName = "ReportJob";
  static override queue = "reports";
  async perform() {}
}

/** What a seeded app is made of. */
export interface SeededApp {
  runtime: Runtime;
  /** The worker, when the adapter has no embedded pool. */
  worker?: Worker;
}

/**
 * A runtime on `adapter` with the seed's jobs and a recurring task; for an adapter without
 * an in-process pool, a worker on every queue.
 */
export async function startApp(adapter: Adapter): Promise<SeededApp> {
  const runtime = configure({
    adapter,
    jobs: [WelcomeJob, SyncJob, ReportJob],
    recurring: { "nightly-report": { job: ReportJob, cron: "0 3 * * *", tz: "Europe/Berlin" } },
    worker: { concurrency: 4, pollInterval: "50ms" },
  });
  await runtime.start();
  const client = await runtime.adapterFor();
  let worker: Worker | undefined;
  if (!client.capabilities.embeddedWorker) {
    // Every queue the jobs use, named where the backend cannot work "*" (SQS).
    const all = client.capabilities.wildcardQueues ? "*" : ["mailers", "sync", "reports", "held"];
    worker = new Worker({ runtime, queues: all, concurrency: 4, pollInterval: "50ms" });
    await worker.start();
  }
  // One job through, so the pool runs (the async adapter starts it at the first enqueue).
  const { jobId } = await ReportJob.performLater();
  await waitFor(async () => (await ReportJob.status(jobId))?.state === "succeeded", { timeoutMs: 10_000, message: "the first job" });
  return worker ? { runtime, worker } : { runtime };
}

/** The ids of the jobs `seed` left in each state. */
export interface Seeded {
  queued: string;
  scheduled: string;
  running: string;
  retrying: string;
  dead: string;
  succeeded: string;
  failed: string;
}

/**
 * Call before pausing `name`; resolves once the worker leaves it out of its reserves: it
 * read the pause (`worker:paused`), and a reserve already waiting when it did has returned
 * (a job on an open queue ran after the beat).
 */
export function waitForPause(runtime: Runtime, name: string): Promise<void> {
  let seen = false;
  const listener = ({ queues: paused }: { workerId: string; queues: string[] }) => {
    if (paused.includes(name)) seen = true;
  };
  runtime.events.on("worker:paused", listener);
  return (async () => {
    try {
      await waitFor(() => seen, { timeoutMs: 10_000, message: `a worker seeing ${name} paused` });
    } finally {
      runtime.events.off("worker:paused", listener);
    }
    const { jobId } = await ReportJob.performLater();
    await waitFor(async () => (await ReportJob.status(jobId))?.state === "succeeded", { timeoutMs: 10_000, message: "a probe job on an open queue" });
  })();
}

/**
 * Leaves one job in each state (plus a few more succeeded, for throughput). `queued` sits in
 * the queue `held`, which it pauses first.
 */
export async function seed(runtime: Runtime, prefix = "seed"): Promise<Seeded> {
  const paused = waitForPause(runtime, "held");
  await queues().pause("held");
  await paused;
  const label = (name: string) => `${prefix}-${name}`;
  const status = async (id: string, state: string) => {
    await waitFor(async () => (await WelcomeJob.status(id))?.state === state || (await SyncJob.status(id))?.state === state, { timeoutMs: 15_000, message: `${id} ${state}` });
    return id;
  };
  failing.add(label("dead"));
  failing.add(label("retrying"));
  hold(label("running"));
  const succeeded = (await WelcomeJob.performLater(SIGNUP, label("ok"))).jobId;
  for (let index = 0; index < 5; index++) await WelcomeJob.performLater(SIGNUP, label(`ok-${index}`));
  const dead = (await WelcomeJob.performLater(SIGNUP, label("dead"))).jobId;
  const retrying = (await SyncJob.performLater(42, label("retrying"))).jobId;
  const running = (await WelcomeJob.performLater(SIGNUP, label("running"))).jobId;
  const scheduled = (await WelcomeJob.set({ wait: "2h" }).performLater(SIGNUP, label("scheduled"))).jobId;
  const queued = (await WelcomeJob.set({ queue: "held" }).performLater(SIGNUP, label("queued"))).jobId;
  const failed = (await WelcomeJob.set({ wait: "3h" }).performLater(SIGNUP, label("failed"))).jobId;
  await runtime.adapterFor().then((client) => client.changeJobs({ action: "cancel", ids: [failed] }));
  await Promise.all([status(succeeded, "succeeded"), status(dead, "dead"), status(retrying, "retrying"), status(running, "running"), status(failed, "failed")]);
  return { queued, scheduled, running, retrying, dead, succeeded, failed };
}

/** Lets every held job go and every failing one succeed (after a test). */
export function releaseAll(): void {
  for (const label of [...gates.keys()]) release(label);
  failing.clear();
}
