/**
 * `@errand/core/testing`: assertions and helpers for app tests, as ActiveJob's
 * TestHelper. Configure the test adapter for the test environment
 * (`adapter: { test: "test", ... }`), then:
 *
 * @example
 * await SignupController.create(request);
 * await assertEnqueued({ job: WelcomeJob, args: [user], queue: "mailers" });
 * await performEnqueuedJobs();
 * await assertPerformed({ job: WelcomeJob, count: 1 });
 *
 * Without an `adapter` option the helpers follow the jobs: a `job` (or `only`) looks in
 * that class's adapter, so a class pinned to a test adapter (`static adapter = "mail"`)
 * needs nothing more; with neither, every test adapter in play is looked at (the default
 * one and those pinned classes have used). Matchers and options are checked: an unknown
 * key is a `ConfigError` naming the nearest valid one. A job class given where a matcher
 * is expected is taken as `{ job: Class }`.
 *
 * @module
 */
import { AssertionError } from "node:assert";
import { isDeepStrictEqual } from "node:util";

import type { JobPayload, Reservation } from "../adapter/contract.js";
import { TestAdapter, type PendingJob, type RecordedJob } from "../backends/test-adapter.js";
import { payloadFor } from "../job/enqueuing.js";
import { executeReservation, originalError } from "../job/execution.js";
import type { Job, JobArgs, JobResult } from "../job/job.js";
import { rules, validateOptions, type OptionSchema } from "../config/validate.js";
import { ConfigError, describeValue } from "../errors.js";
import { currentRuntime, type Runtime } from "../runtime.js";
import { deserializeResult, serializeArguments } from "../serializers/arguments.js";
import { JobRegistry } from "../registry.js";

import { MailDeliveryJob } from "../mailer/delivery-job.js";
import type { SentMail } from "../mailer/message.js";
import { isMailerClass, mailerName } from "../mailer/registry.js";
import { testDeliveriesOf } from "../mailer/transport.js";

import { checkMatcher, jobClassRule, dateRule, MATCHER_SCHEMA, testAdapterOf, testAdaptersInPlay, type AnyJobClass, type JobMatcher } from "./adapters.js";

export { TestAdapter } from "../backends/test-adapter.js";
export type { RecordedJob } from "../backends/test-adapter.js";
export type { JobMatcher } from "./adapters.js";

/** The test adapter in force (default adapter, or a named one). */
export async function testAdapter(options: { adapter?: string; runtime?: Runtime } = {}): Promise<TestAdapter> {
  return testAdapterOf(options.runtime ?? currentRuntime(), options.adapter);
}

/** What the test adapters in scope recorded (`enqueued` or `performed`), oldest first. */
async function recordedIn(kind: "enqueued" | "performed", scope: { adapter?: string | undefined; job?: Function | undefined }): Promise<RecordedJob[]> {
  const adapters = await testAdaptersInPlay(currentRuntime(), { adapter: scope.adapter, jobs: scope.job ? [scope.job] : undefined });
  if (adapters.length === 1) return adapters[0]![kind];
  // A stable sort: jobs recorded in the same millisecond keep their order within an adapter.
  return adapters.flatMap((adapter) => adapter[kind]).sort((a, b) => a.at.getTime() - b.at.getTime());
}

function matches(payload: JobPayload, matcher: JobMatcher, runtime: Runtime): boolean {
  if (matcher.job && payload.job !== JobRegistry.nameOf(matcher.job)) return false;
  if (matcher.queue !== undefined && payload.queue !== runtime.queueName(matcher.queue)) return false;
  if (matcher.priority !== undefined && payload.priority !== matcher.priority) return false;
  if (matcher.at !== undefined && Math.abs(Date.parse(payload.runAt) - matcher.at.getTime()) > 1000) return false;
  if (matcher.args !== undefined) {
    const expected = serializeArguments(matcher.args as unknown[], runtime.app);
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(expected)), JSON.parse(JSON.stringify(payload.args)))) return false;
  }
  return true;
}

function describeMatcher(matcher: JobMatcher): string {
  const parts: string[] = [];
  if (matcher.job) parts.push(`job ${JobRegistry.nameOf(matcher.job)}`);
  if (matcher.args !== undefined) parts.push(`args ${JSON.stringify(serializeArguments(matcher.args as unknown[], currentRuntime().app).json)}`);
  if (matcher.queue !== undefined) parts.push(`queue ${matcher.queue}`);
  if (matcher.priority !== undefined) parts.push(`priority ${matcher.priority}`);
  if (matcher.at !== undefined) parts.push(`at ${matcher.at.toISOString()}`);
  return parts.join(", ") || "any job";
}

function describeRecorded(recorded: readonly RecordedJob[]): string {
  if (recorded.length === 0) return "none";
  return recorded
    .map(({ payload }) => `${payload.job}(${JSON.stringify(payload.args.json)}) on ${payload.queue} at ${payload.runAt}`)
    .join("; ");
}

function assertMatching(kind: "enqueued" | "performed", recorded: readonly RecordedJob[], matcher: JobMatcher): JobPayload[] {
  const runtime = currentRuntime();
  const found = recorded.filter(({ payload }) => matches(payload, matcher, runtime)).map(({ payload }) => payload);
  const ok = matcher.count === undefined ? found.length > 0 : found.length === matcher.count;
  if (!ok) {
    const wanted = matcher.count === undefined ? "at least one" : String(matcher.count);
    throw new AssertionError({
      message: `expected ${wanted} ${kind} job(s) matching ${describeMatcher(matcher)}, found ${found.length}. ${kind}: ${describeRecorded(recorded)}`,
      actual: found.length,
      expected: matcher.count ?? 1,
      operator: "assertMatching",
    });
  }
  return found;
}

/**
 * Asserts that matching jobs were enqueued; returns their payloads. A job class alone
 * (`assertEnqueued(WelcomeJob)`) means `{ job: WelcomeJob }`.
 */
export async function assertEnqueued<C extends AnyJobClass>(matcher: JobMatcher<C> | C): Promise<JobPayload[]> {
  const checked = checkMatcher<JobMatcher>(matcher, MATCHER_SCHEMA, "assertEnqueued");
  return assertMatching("enqueued", await recordedIn("enqueued", checked), checked);
}

/**
 * Asserts that matching jobs were performed; returns their payloads. A job class alone
 * (`assertPerformed(WelcomeJob)`) means `{ job: WelcomeJob }`.
 */
export async function assertPerformed<C extends AnyJobClass>(matcher: JobMatcher<C> | C): Promise<JobPayload[]> {
  const checked = checkMatcher<JobMatcher>(matcher, MATCHER_SCHEMA, "assertPerformed");
  return assertMatching("performed", await recordedIn("performed", checked), checked);
}

/** Options of {@link performEnqueuedJobs}. */
export interface PerformEnqueuedOptions {
  /** Only jobs of these classes. */
  only?: AnyJobClass | readonly AnyJobClass[];
  /** Only jobs of this queue. */
  queue?: string;
  /** Only jobs due by this time (default: every job, scheduled ones too). */
  at?: Date;
  /** Only this adapter (`adapters.<name>`). Default: the adapters of `only`; without `only`, every test adapter in play. */
  adapter?: string;
  /** Stop after this many runs, to catch jobs that enqueue themselves forever. Default 10,000. */
  limit?: number;
}

const PERFORM_ENQUEUED_SCHEMA: OptionSchema<PerformEnqueuedOptions> = {
  only: { expected: "a job class or an array of job classes", test: (value) => (Array.isArray(value) ? value : [value]).every((c) => jobClassRule.test(c)) },
  queue: rules.string,
  at: dateRule,
  adapter: rules.nonEmptyString,
  limit: rules.integer(1),
};

/**
 * Runs the stored jobs of the test adapters in scope through the real execution path (callbacks,
 * error rules, status), including jobs they enqueue and retries, until none is left.
 * Resolves to the number of runs.
 */
export async function performEnqueuedJobs(options: PerformEnqueuedOptions = {}): Promise<number> {
  validateOptions(options, PERFORM_ENQUEUED_SCHEMA, "the performEnqueuedJobs options");
  const runtime = currentRuntime();
  const onlyClasses = options.only === undefined ? undefined : Array.isArray(options.only) ? (options.only as readonly AnyJobClass[]) : [options.only as AnyJobClass];
  const only = onlyClasses && new Set(onlyClasses.map((c) => JobRegistry.nameOf(c)));
  const queue = options.queue === undefined ? undefined : runtime.queueName(options.queue);
  const at = options.at?.getTime();
  const limit = options.limit ?? 10_000;
  const wanted = (job: PendingJob) =>
    (!only || only.has(job.payload.job)) && (queue === undefined || job.payload.queue === queue) && (at === undefined || job.runAtMs <= at);
  let runs = 0;
  for (;;) {
    // Asked again each round: a job performed may enqueue into an adapter not built before.
    const adapters = await testAdaptersInPlay(runtime, { adapter: options.adapter, jobs: onlyClasses });
    if (runs === limit) {
      // Checked before taking: a job taken and not run would stay leased, neither pending
      // nor settled. A filter that accepts nothing only looks.
      let left = false;
      const look = (job: PendingJob): boolean => {
        if (wanted(job)) left = true;
        return false;
      };
      for (const candidate of adapters) candidate.takePending(look, { includeScheduled: true });
      if (!left) return runs;
      throw new Error(`performEnqueuedJobs: more than ${limit} runs; does a job enqueue itself forever?`);
    }
    let adapter: TestAdapter | undefined;
    let reservation: Reservation | undefined;
    for (const candidate of adapters) {
      [reservation] = candidate.takePending(wanted, { includeScheduled: true, max: 1 });
      adapter = candidate;
      if (reservation) break;
    }
    if (!reservation || !adapter) return runs;
    runs++;
    const settlement = await executeReservation({ runtime, workerId: "test" }, reservation);
    await adapter.settle({ settlements: [settlement] });
  }
}

/**
 * Runs one job now through the full execution path, arguments round-tripped through the
 * wire format (so serialization problems show), without any adapter. Resolves to the
 * result; rejects with the job's error if it failed (not retried).
 */
export async function performJob<J extends Job<any, any>>( // eslint-disable-line @typescript-eslint/no-explicit-any
  jobClass: new (...args: any[]) => J, // eslint-disable-line @typescript-eslint/no-explicit-any
  ...args: JobArgs<J>
): Promise<JobResult<J>> {
  const runtime = currentRuntime();
  // Resolved as performLater resolves it: a class's queue and priority functions see the job.
  const payload = payloadFor(new jobClass(...args), {}, runtime);
  const settlement = await executeReservation(
    { runtime, workerId: "test" },
    { providerJobId: payload.id, body: JSON.stringify(payload) },
  );
  if (settlement.outcome === "succeeded") return deserializeResult(settlement.result) as JobResult<J>;
  if (settlement.outcome === "failed") return undefined as JobResult<J>;
  throw originalError(settlement) ?? new Error(settlement.outcome === "released" ? "released" : settlement.error.message);
}

/** Options of {@link enqueuedJobs}, {@link performedJobs} and {@link clearJobs}. */
export interface RecordedJobsOptions {
  /** Only this adapter (`adapters.<name>`). Default: `job`'s adapter; without `job`, every test adapter in play. */
  adapter?: string;
  /** Only jobs of this class (looked up in its own adapter). */
  job?: AnyJobClass;
}

const RECORDED_SCHEMA: OptionSchema<RecordedJobsOptions> = { adapter: rules.nonEmptyString, job: jobClassRule };

/** Jobs recorded as enqueued by the test adapters in scope, oldest first. */
export async function enqueuedJobs(options: RecordedJobsOptions = {}): Promise<JobPayload[]> {
  validateOptions(options, RECORDED_SCHEMA, "the enqueuedJobs options");
  return ofJob(await recordedIn("enqueued", options), options.job);
}

/** Jobs recorded as performed by the test adapters in scope, oldest first. */
export async function performedJobs(options: RecordedJobsOptions = {}): Promise<JobPayload[]> {
  validateOptions(options, RECORDED_SCHEMA, "the performedJobs options");
  return ofJob(await recordedIn("performed", options), options.job);
}

function ofJob(recorded: readonly RecordedJob[], job: AnyJobClass | undefined): JobPayload[] {
  const name = job && JobRegistry.nameOf(job);
  return recorded.filter(({ payload }) => name === undefined || payload.job === name).map(({ payload }) => payload);
}

/** Forgets every recorded and stored job of the test adapters in scope, and their paused queues and throughput (call it in `beforeEach`). */
export async function clearJobs(options: Omit<RecordedJobsOptions, "job"> = {}): Promise<void> {
  validateOptions(options, { adapter: rules.nonEmptyString }, "the clearJobs options");
  for (const adapter of await testAdaptersInPlay(currentRuntime(), { adapter: options.adapter })) adapter.clear();
}

/** Mails the test delivery kept (`mail.transport: "test"`, the default in the test environment), oldest first. */
export function deliveries(runtime: Runtime = currentRuntime()): SentMail[] {
  return testDeliveriesOf(runtime);
}

/** Forgets the mails the test delivery kept. */
export function clearDeliveries(runtime: Runtime = currentRuntime()): void {
  testDeliveriesOf(runtime).length = 0;
}

/** What to match enqueued mails on. */
export interface MailMatcher {
  /** The mailer class (a `Mailer` subclass). Required. */
  mailer: Function;
  /** The mail method's name. Required. */
  method: string;
  /** The method's arguments, compared as stored (models by reference). */
  args?: unknown[];
  /** The queue as given; default any. */
  queue?: string;
  count?: number;
}

const MAIL_MATCHER_SCHEMA: OptionSchema<MailMatcher> = {
  mailer: { expected: "a mailer class (a subclass of Mailer)", test: isMailerClass },
  method: rules.nonEmptyString,
  args: { expected: "an array", test: Array.isArray },
  queue: rules.string,
  count: rules.integer(0),
};

/** Asserts that matching mails were enqueued with `deliverLater` (test adapters in play); returns their payloads. */
export async function assertMailEnqueued(matcher: MailMatcher): Promise<JobPayload[]> {
  const where = "the assertMailEnqueued matcher";
  if (typeof matcher !== "object" || matcher === null) {
    throw new ConfigError(`assertMailEnqueued: expected a matcher such as { mailer: UserMailer, method: "welcome" }, got ${describeValue(matcher)}`);
  }
  validateOptions(matcher, MAIL_MATCHER_SCHEMA, where);
  for (const key of ["mailer", "method"] as const) {
    if (matcher[key] === undefined) throw new ConfigError(`option "${key}" in ${where} is required: { mailer: UserMailer, method: "welcome" }`);
  }
  const name = mailerName(matcher.mailer);
  const args = matcher.args === undefined ? undefined : [name, matcher.method, matcher.args];
  const recorded = (await recordedIn("enqueued", {})).filter(({ payload }) => {
    const json = payload.args.json as unknown[];
    return payload.job === MailDeliveryJob.jobName && json[0] === name && json[1] === matcher.method;
  });
  return assertMatching("enqueued", recorded, { ...(args ? { args } : {}), ...(matcher.queue ? { queue: matcher.queue } : {}), ...(matcher.count !== undefined ? { count: matcher.count } : {}) });
}

export { waitFor } from "./wait-for.js";
export type { Truthy, WaitForOptions } from "./wait-for.js";
export { performContinuable } from "./continuations.js";
export type { ContinuableRun, Interruption, PerformContinuableOptions, SavedProgress } from "./continuations.js";
