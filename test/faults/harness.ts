/**
 * The fault suite's harness: what a durable backend's wiring provides, and the case each
 * fault test gets — a store of its own (schema, key prefix or queue prefix), `errand work`
 * processes on it, the runs its jobs record, and what the store holds.
 *
 * Two ground truths judge every case, because no portable API can vouch for either:
 * - the runs file the jobs write to (`fixtures/faults/jobs.mjs`): which jobs ran, and which
 *   ran twice (a lease that expires uncounts a run, and SQS deletes a finished job's message);
 * - the backend's raw store, read by its wiring (rows, keys, queue attributes): which jobs
 *   wait, are held under a lease, died, finished, or are gone.
 *
 * A job is lost when it is not both recorded as run and finished in the store at the end.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { configure, performAllLater, type Job } from "@errand/core";
import type { Adapter } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import { expect } from "vitest";

import { countRuns, printSummary, WorkerProcess, type Runs } from "../support/worker-process.js";

export type { Runs } from "../support/worker-process.js";

/** The one queue every fault case uses. */
export const QUEUE = "default";

/** Absolute path of a file in `test/fixtures/faults/` (the worker configs and the jobs). */
export function faultFixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/faults/${name}`, import.meta.url));
}

/** What a backend's store holds for one case, in the suite's terms. */
export interface Stored {
  /** Jobs waiting to be reserved (Postgres `available`, Redis in `ready`, SQS visible). */
  ready: number;
  /** Jobs held under a lease: running, buffered by a worker, or done and not settled yet. */
  leased: number;
  /** Dead jobs (SQS: every message in the dead-letter queue). */
  dead: number;
  /** Jobs finished as the store tells (SQS keeps no record: the case's jobs minus the messages left). */
  succeeded: number;
  /** Sum of the stored run counters; undefined where the backend keeps none (SQS). */
  executions?: number;
  /**
   * What must never be there at any checkpoint of any case, by what it is (`{ missing: 3 }`):
   * a job with no record, a record in no set or in the wrong one, a state no case makes.
   */
  anomalies: Record<string, number>;
  /** The raw facts, for failure messages. */
  raw: string;
}

/** Cheap counts a case polls while it waits. */
export interface Progress {
  /** As {@link Stored.succeeded}. */
  succeeded: number;
  /** As {@link Stored.dead}. */
  dead: number;
  /** Ready and leased. */
  pending: number;
}

/** One of the worker's connections, as the server lists it. */
export interface Connection {
  id: string;
  /** What the worker uses it for, in the wiring's words (`"pool"`, `"listener"`, `"pub/sub"`…). */
  kind: string;
}

/** How a case finds and cuts its worker's connections from the server side. */
export interface FaultConnections {
  /** Kinds the worker holds while busy: each must be there before a mid-run cut, and be cut. */
  busyKinds: readonly string[];
  /** Kinds the worker holds while idle, waiting for work. */
  idleKinds: readonly string[];
  /** The kind it hears wake-ups on: it must be among those cut while idle. */
  listenerKind: string;
  /** The case's worker's connections. */
  list(): Promise<Connection[]>;
  /** Cuts every connection of the case's worker; returns those cut. */
  kill(): Promise<Connection[]>;
  /** True once the worker listens for wake-ups again after a cut; without it, a new connection of `listenerKind` is taken as proof. */
  listening?(): Promise<boolean>;
}

/** The jobs a case stored: what a store's counts are judged against. */
export interface CaseJobs {
  /** Backend ids of the jobs enqueued through Errand, by argument: job n has id `ids[n]`. */
  readonly ids: readonly string[];
  /** Ids of the jobs stored raw. */
  readonly rawIds: readonly string[];
}

/** One case's store on a backend, isolated from every other (made by {@link FaultWiring.open}). */
export interface FaultStore {
  /** Environment of the case's worker processes (URL, schema or prefix…). */
  env: Record<string, string>;
  /** An adapter on the test's own connection: closing it leaves the connection open. */
  adapter(): Adapter;
  /**
   * Stores a job the way the backend does, bypassing the adapter's encoding, ready to run.
   * Returns the backend's id for it: the id a body without a readable job id goes by.
   */
  insertRaw(raw: { id: string; job: string; body: string }): Promise<string>;
  /** Cheap counts, polled every 25 ms while a case waits. */
  progress(jobs: CaseJobs): Promise<Progress>;
  /** Everything the store holds for the case's jobs, with its anomalies: read at checkpoints. */
  count(jobs: CaseJobs): Promise<Stored>;
  /** Present unless the wiring says why there are none ({@link FaultWiring.noConnections}). */
  connections?: FaultConnections;
  /**
   * Backend-only checks of the kill -9 case: called once the killed worker's writes have all
   * landed, it returns the check to make once a second worker has drained the queue.
   */
  afterKill?(jobs: CaseJobs): Promise<(ran: Runs) => Promise<void>>;
}

/** What one durable backend's fault wiring provides (the test file holds nothing else). */
export interface FaultWiring {
  /** Backend name in titles and summaries. */
  name: string;
  /** The config file the worker processes load. */
  config: string;
  /** The worker's lease in that config, ms. */
  leaseMs: number;
  /**
   * Where the store lets an expired lease go by itself (SQS: the visibility timeout): the
   * environment that gives a worker a lease longer than any case's deadline, so that a job
   * found ready again after the worker stopped can only have been handed back. Elsewhere
   * only a worker's reserve or lease check lets a lease go, so between two workers a job
   * found ready again was handed back, however late it is read.
   */
  longLeaseEnv?: Record<string, string>;
  /** Jobs in the kill -9 case: as many as a drain after the lease fits its deadlines. */
  killJobs: number;
  /** Why the backend has no connections a server can cut; the connections case is then skipped, saying so. */
  noConnections?: string;
  /** A new store for one case. */
  open(): FaultStore;
  /** Ends the file's connections and drops every store it opened. */
  close(): Promise<void>;
}

/** What each fault area gets: the wiring, and new cases. */
export interface FaultSuite {
  wiring: FaultWiring;
  /** A new case: a new store from the wiring, and a runs file of its own. */
  newCase(): FaultCase;
}

type JobClass = new (n: number) => Job<[n: number], number>;

/** One fault case: its store, its runs file, its jobs, its workers. */
export class FaultCase implements CaseJobs {
  readonly ids: string[] = [];
  readonly rawIds: string[] = [];

  constructor(
    readonly wiring: FaultWiring,
    readonly store: FaultStore,
    /** The file the case's jobs record their runs to. */
    readonly runsFile: string,
  ) {}

  /** Enqueues `count` more jobs (the next arguments in order) through the adapter, from this process. */
  async enqueue(jobClass: JobClass, count: number): Promise<void> {
    const runtime = configure({ adapter: this.store.adapter() });
    try {
      const first = this.ids.length;
      const enqueued = await performAllLater(Array.from({ length: count }, (_, n) => new jobClass(first + n)));
      expect(enqueued.every((job) => job.enqueued && job.queue === QUEUE)).toBe(true);
      this.ids.push(...enqueued.map((job) => job.providerJobId));
    } finally {
      await runtime.close();
    }
  }

  /** Stores a job raw (see {@link FaultStore.insertRaw}); returns the backend's id for it. */
  async insertRaw(raw: { id: string; job: string; body: string }): Promise<string> {
    const id = await this.store.insertRaw(raw);
    this.rawIds.push(id);
    return id;
  }

  /** An `errand work` process on the case's store; `env` adds to its environment. */
  startWorker(concurrency: number, env: Record<string, string> = {}): WorkerProcess {
    return new WorkerProcess(this.wiring.config, concurrency, { ...this.store.env, ...env, ERRAND_TEST_RUNS: this.runsFile });
  }

  /** The runs the case's jobs recorded so far. */
  runs(): Runs {
    return countRuns(this.runsFile);
  }

  /** How many more jobs recorded a start (SlowJob's `.starts` file) than a run: those in flight now. */
  startedNotRun(): number {
    const file = `${this.runsFile}.starts`;
    const started = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
    return started - this.runs().total;
  }

  /** What the store holds for the case now. */
  count(): Promise<Stored> {
    return this.store.count(this);
  }

  /** The store's cheap counts for the case now. */
  progress(): Promise<Progress> {
    return this.store.progress(this);
  }

  /**
   * Waits until `done` holds for the store's progress and the runs; the failure says where
   * things stood. The runs file is read only when `done` asks (`runs()`), so a store that
   * says "not yet" spares parsing up to 10,000 lines every 25 ms next to the worker.
   */
  async until(worker: WorkerProcess, message: string, timeoutMs: number, done: (progress: Progress, runs: () => Runs) => boolean): Promise<void> {
    try {
      await waitFor(async () => done(await this.progress(), () => this.runs()), { timeoutMs, intervalMs: 25, message });
    } catch (error) {
      const runs = this.runs();
      throw new Error(`${(error as Error).message}; store: ${(await this.count()).raw}; runs: ${runs.total} total, ${runs.distinct} distinct\n${worker.tail()}`);
    }
  }

  /** Waits until at least `count` jobs have succeeded in the store and recorded their run. */
  untilSucceeded(worker: WorkerProcess, count: number, timeoutMs: number): Promise<void> {
    return this.until(worker, `${count} jobs succeeded`, timeoutMs, (progress, runs) => progress.succeeded >= count && runs().distinct >= count);
  }

  /** Waits until the worker has a connection of each of `kinds`, none of them among `gone`. */
  async untilConnected(worker: WorkerProcess, kinds: readonly string[], gone: ReadonlySet<string>, message: string): Promise<void> {
    const connections = this.store.connections!;
    try {
      await waitFor(
        async () => {
          const fresh = (await connections.list()).filter((connection) => !gone.has(connection.id));
          return kinds.every((kind) => fresh.some((connection) => connection.kind === kind));
        },
        { timeoutMs: 10_000, intervalMs: 10, message },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; connections: ${JSON.stringify(await connections.list())}\n${worker.tail()}`);
    }
  }

  /** Prints the case's one-line summary, to quote. */
  summary(name: string, fields: Record<string, number | string | undefined>): void {
    const defined = Object.entries(fields).filter((entry): entry is [string, number | string] => entry[1] !== undefined);
    printSummary(this.wiring.name, name, Object.fromEntries(defined));
  }
}

/** Asserts the store's counts, and that it shows nothing that must never be there. */
export function expectStored(stored: Stored, expected: Partial<Pick<Stored, "ready" | "leased" | "dead" | "succeeded">>, context = ""): void {
  const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, stored[key as keyof typeof expected]]));
  expect({ ...picked, anomalies: stored.anomalies }, `${stored.raw}${context ? `\n${context}` : ""}`).toEqual({ ...expected, anomalies: {} });
}

/** Jobs lost: of `jobs`, those the store does not say finished or that recorded no run. */
export function lost(jobs: number, stored: Stored, ran: Runs): number {
  return jobs - Math.min(stored.succeeded, ran.distinct);
}

/** Runs beyond one per job, from the store's counters; undefined where it keeps none. */
export function extraExecutions(stored: Stored, jobs: number): number | undefined {
  return stored.executions === undefined ? undefined : stored.executions - jobs;
}
