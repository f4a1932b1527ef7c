/**
 * The conformance suite's harness: what an adapter's wiring provides, the runtime and
 * workers each case gets, and the job classes the cases enqueue.
 *
 * Each case builds a fresh adapter through the wiring (its own key prefix, schema or
 * queue), so test files run in parallel and cases never see each other's jobs.
 */
import { randomUUID } from "node:crypto";

import { afterAll } from "vitest";

import { configure, Job, Worker, type ErrandConfig, type Runtime, type WorkerOptions } from "@errand/core";
import type { Adapter, AdapterCapabilities, JobPayload } from "@errand/core/adapter";
import { AdapterClient } from "@errand/core/adapter";

/** What one adapter's conformance wiring provides (~20 lines per adapter). */
export interface AdapterWiring {
  /** Adapter name in test titles. */
  name: string;
  /** The adapter's capabilities, known before any adapter is built: they choose the cases. */
  capabilities: AdapterCapabilities;
  /** A fresh adapter, isolated from every other one the suite creates. */
  create(): Promise<Adapter>;
  /**
   * Stores a raw body as a ready job on `queue`, bypassing validation, for wire-format
   * cases. Without it, those cases store a JSON object through `enqueue`, which covers
   * everything but bodies that are not JSON at all.
   */
  insertRaw?(adapter: Adapter, body: string, queue: string): Promise<void>;
  /**
   * A second adapter on the same backend and data as `adapter` (its prefix, schema or
   * queues, and status store): what another process of the app would build. The caller
   * closes it. Without it, cases about changes made by another process are skipped.
   */
  peer?(adapter: Adapter): Promise<Adapter>;
}

/** Shared, per-file state the test jobs report into. */
export const journal = {
  performed: [] as { label: string; jobId: string; executions: number }[],
  attempts: new Map<string, number>(),
  gates: new Map<string, { release: () => void; opened: Promise<void>; started: boolean; aborted: boolean }>(),
  reset() {
    this.performed.length = 0;
    this.attempts.clear();
    this.gates.clear();
  },
};

/** Records its label. */
export class RecordJob extends Job<[label: string]> {
  static override jobName = "RecordJob";
  perform(label: string) {
    journal.performed.push({ label, jobId: this.jobId, executions: this.executions });
    return { label };
  }
}

export class FlakyError extends Error {}
export class GoneError extends Error {}

/** Fails with FlakyError until its `succeedOn`-th run; retried by its rule. */
export class FlakyJob extends Job<[succeedOn: number]> {
  static override jobName = "FlakyJob";
  static override retry = [[FlakyError, { attempts: 3, wait: 20, jitter: 0 }]] as const;
  perform(succeedOn: number) {
    journal.attempts.set(this.jobId, this.executions);
    if (this.executions < succeedOn) throw new FlakyError(`attempt ${this.executions} failed`);
    return this.executions;
  }
}

/** Always fails with a plain Error: the default policy applies. */
export class BrokenJob extends Job<[]> {
  static override jobName = "BrokenJob";
  perform(): never {
    journal.attempts.set(this.jobId, this.executions);
    throw new Error(`broken on run ${this.executions}`);
  }
}

/** Fails with GoneError, which is discarded. */
export class DiscardedJob extends Job<[]> {
  static override jobName = "DiscardedJob";
  static override discard = [GoneError];
  perform(): never {
    throw new GoneError("record gone");
  }
}

/** Waits at a gate the test opens; records whether its signal was aborted. */
export class GatedJob extends Job<[gate: string]> {
  static override jobName = "GatedJob";
  async perform(gate: string) {
    const entry = openGate(gate);
    entry.started = true;
    this.signal.addEventListener("abort", () => (entry.aborted = true));
    await entry.opened;
    journal.performed.push({ label: gate, jobId: this.jobId, executions: this.executions });
    return gate;
  }
}

/** Reports progress, then returns a result with superjson types. */
export class ProgressJob extends Job<[steps: number]> {
  static override jobName = "ProgressJob";
  perform(steps: number) {
    for (let step = 1; step <= steps; step++) this.progress(step / steps, `step ${step}/${steps}`);
    return { steps, at: new Date(0), big: 10n };
  }
}

/** Exceeds its timeout unless its signal is honoured. */
export class SlowJob extends Job<[]> {
  static override jobName = "SlowJob";
  static override timeout = 50;
  static override retry = [[Error, { attempts: 1 }]] as const;
  perform() {
    return new Promise((_, reject) => this.signal.addEventListener("abort", () => reject(this.signal.reason)));
  }
}

export const ALL_JOBS = [RecordJob, FlakyJob, BrokenJob, DiscardedJob, GatedJob, ProgressJob, SlowJob];

/** Creates (or returns) the gate `name`. */
export function openGate(name: string) {
  let entry = journal.gates.get(name);
  if (!entry) {
    let release!: () => void;
    const opened = new Promise<void>((resolve) => (release = resolve));
    entry = { release, opened, started: false, aborted: false };
    journal.gates.set(name, entry);
  }
  return entry;
}

/** A fresh adapter, a runtime using it, and workers on demand. */
export interface Fixture {
  adapter: Adapter;
  client: AdapterClient;
  runtime: Runtime;
  startWorker(options?: WorkerOptions): Promise<Worker>;
  close(): Promise<void>;
}

/** Runtimes of finished cases still closing, once the file asked for it (see {@link closeCasesInBackground}). */
let background: { pending: Set<Promise<void>>; errors: unknown[] } | undefined;

/**
 * From now on in this test file, a case's runtime closes while the next case runs, and the
 * file waits for every close in an afterAll ({@link casesClosed}) that fails on any close's
 * error. For adapters whose close waits out a long poll: the SQS adapter never cuts one
 * off (a cut-off request may still take messages), and a worker's poll lasts 1 s, the
 * shortest SQS allows; closing took 33 s of the 87 s of tests in
 * sqs-redis-status.conformance.test.ts (58 cases with a worker, 2026-12-04, load 1.5). A
 * case's workers have stopped before its runtime closes, and each case has queues, a key
 * prefix and a schema of its own, so the next case sees nothing of it.
 */
export function closeCasesInBackground(): void {
  if (background) return;
  background = { pending: new Set(), errors: [] };
  afterAll(casesClosed);
}

/** Resolves once every case's runtime has closed; rejects with their errors. An afterAll that drops what the cases used awaits it first. */
export async function casesClosed(): Promise<void> {
  if (!background) return;
  while (background.pending.size > 0) await Promise.all(background.pending);
  const errors = background.errors.splice(0);
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} case runtime(s) failed to close`);
}

/** Builds a fixture; `config` overrides the defaults (fast retries, short polls, no embedded pool). */
export async function setup(wiring: AdapterWiring, config: ErrandConfig = {}): Promise<Fixture> {
  journal.reset();
  const adapter = await wiring.create();
  const runtime = configure({
    adapter,
    jobs: ALL_JOBS,
    retry: { attempts: 2, wait: 10, jitter: 0 },
    ...config,
    worker: { embedded: false, pollInterval: 50, shutdownGrace: 2000, ...config.worker },
  });
  const client = await runtime.adapterFor();
  const workers: Worker[] = [];
  return {
    adapter,
    client,
    runtime,
    async startWorker(options = {}) {
      const worker = new Worker({ runtime, concurrency: 4, ...options });
      workers.push(worker);
      await worker.start();
      return worker;
    },
    async close() {
      for (const gate of journal.gates.values()) gate.release();
      await Promise.all(workers.map((worker) => worker.stop({ graceMs: 1000 })));
      if (!background) return runtime.close();
      const { pending, errors } = background;
      const closing: Promise<void> = runtime
        .close()
        .catch((error: unknown) => void errors.push(error))
        .finally(() => pending.delete(closing));
      pending.add(closing);
    },
  };
}

/** A valid wire-format payload for direct adapter calls. */
export function payload(overrides: Partial<JobPayload> = {}): JobPayload {
  const now = new Date().toISOString();
  return {
    v: 1,
    job: "RecordJob",
    id: randomUUID(),
    queue: "default",
    priority: 0,
    args: { json: ["x"] },
    executions: 0,
    enqueuedAt: now,
    runAt: now,
    ...overrides,
  };
}

/** Reserves once, with sensible defaults. */
export function reserve(adapter: Adapter, options: Partial<Parameters<Adapter["reserve"]>[0]> = {}) {
  return adapter.reserve({ queues: ["default"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "conformance", ...options });
}

/** Parsed payloads of reservations. */
export function bodies(reservations: { body: string }[]): JobPayload[] {
  return reservations.map((reservation) => JSON.parse(reservation.body) as JobPayload);
}

/** Runs `body` with a fresh fixture and always closes it. */
export async function withFixture(
  wiring: AdapterWiring,
  configOrBody: ErrandConfig | ((fixture: Fixture) => Promise<void>),
  maybeBody?: (fixture: Fixture) => Promise<void>,
): Promise<void> {
  const config = typeof configOrBody === "function" ? {} : configOrBody;
  const body = typeof configOrBody === "function" ? configOrBody : maybeBody!;
  const fixture = await setup(wiring, config);
  try {
    await body(fixture);
  } finally {
    await fixture.close();
  }
}
