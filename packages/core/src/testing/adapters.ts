/**
 * Which test adapters a testing helper looks at, and checking what it was given.
 *
 * A job class pinned to an adapter (`static adapter = "mail"`, `adapters: { mail: "test" }`)
 * records its jobs in that adapter, not in the default one. As ActiveJob's helpers do, a
 * helper without an `adapter` option follows the jobs: given job classes, it looks at their
 * adapters; given none, at every test adapter in play — the default one and each test
 * adapter a pinned class has used so far (an adapter is built on its first enqueue, so one
 * not built yet holds no jobs).
 *
 * Matchers and options are checked like configuration: an unknown key (`jobs` for `job`) is
 * a `ConfigError` naming the nearest valid one, so a misspelt matcher field cannot turn
 * into a matcher that matches every job.
 *
 * @module
 */
import { TestAdapter } from "../backends/test-adapter.js";
import { rules, validateOptions, type OptionRule, type OptionSchema } from "../config/validate.js";
import { ConfigError, describeValue } from "../errors.js";
import { definitionOf } from "../job/settings.js";
import type { Job } from "../job/job.js";
import { isJobSubclass, type Runtime } from "../runtime.js";

/** Any job class, abstract ones included. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobClass = abstract new (...args: any[]) => Job<any, any>;

/** What to match recorded jobs on. Every given field must match. */
export interface JobMatcher<C extends AnyJobClass = AnyJobClass> {
  /** The job class (an abstract base class too: its name is matched like any other). */
  job?: C;
  /** The arguments, compared as stored (models by reference). */
  args?: C extends new (...args: never[]) => infer J ? (J extends Job<infer A> ? Partial<A> | unknown[] : unknown[]) : unknown[];
  /** The queue name as given to the job (the prefix is applied for you). */
  queue?: string;
  /** The priority stored. */
  priority?: number;
  /** Scheduled time, matched within a second. */
  at?: Date;
  /** How many must match; default: at least one. */
  count?: number;
  /**
   * Adapter name (`adapters.<name>`) the jobs went to. Default: `job`'s own adapter (the one
   * it is pinned to, else the default one); without `job`, every test adapter in play.
   */
  adapter?: string;
}

/** The test adapter named `adapter` (the default one when undefined); `what` names it in the error. */
export async function testAdapterOf(runtime: Runtime, adapter: string | undefined, what?: string): Promise<TestAdapter> {
  const client = await runtime.adapterFor(adapter);
  if (!(client.adapter instanceof TestAdapter)) {
    const where = what ?? (adapter === undefined ? "the default adapter" : `adapters.${adapter}`);
    throw new Error(
      `${where} is the ${client.name} adapter; testing helpers need the test adapter (adapter: { test: "test" } in config, run with NODE_ENV=test)`,
    );
  }
  return client.adapter;
}

/** Where a helper looks: a named adapter, the adapters of some job classes, or (neither) every test adapter in play. */
export interface AdapterScope {
  adapter?: string | undefined;
  jobs?: readonly Function[] | undefined;
}

/** The test adapters a helper looks at, each once; see the module comment. */
export async function testAdaptersInPlay(runtime: Runtime, scope: AdapterScope): Promise<TestAdapter[]> {
  if (scope.adapter !== undefined) return [await testAdapterOf(runtime, scope.adapter)];
  const found = new Set<TestAdapter>();
  if (scope.jobs?.length) {
    for (const job of scope.jobs) {
      const pinned = definitionOf(job).adapter;
      const what = `the adapter of ${job.name} (${pinned === undefined ? "the default adapter" : `adapters.${pinned}`})`;
      found.add(await testAdapterOf(runtime, pinned, what));
    }
    return [...found];
  }
  const fallback = await runtime.adapterFor();
  if (fallback.adapter instanceof TestAdapter) found.add(fallback.adapter);
  for (const client of await runtime.builtAdapters()) if (client.adapter instanceof TestAdapter) found.add(client.adapter);
  if (found.size === 0) await testAdapterOf(runtime, undefined);
  return [...found];
}

/**
 * A job class: a subclass of `Job`, abstract ones too (a base class without `perform` is
 * named like any other). A matcher's `job` and a class given in place of a matcher are
 * judged by this one rule.
 */
export const jobClassRule: OptionRule = { expected: "a job class (a subclass of Job)", test: isJobSubclass };

/** A `Date` that holds a time. */
export const dateRule: OptionRule = {
  expected: "a Date",
  test: (value) => value instanceof Date && !Number.isNaN(value.getTime()),
};

/** The keys every recorded-job matcher takes; typed, so a new matcher key without a rule does not compile. */
export const MATCHER_SCHEMA: OptionSchema<JobMatcher> = {
  job: jobClassRule,
  args: { expected: "an array", test: Array.isArray },
  queue: rules.string,
  priority: { expected: "a number", test: (value) => typeof value === "number" },
  at: dateRule,
  count: rules.integer(0),
  adapter: rules.nonEmptyString,
};

/**
 * Checks a matcher. A job class given in its place (JavaScript: `assertEnqueued(WelcomeJob)`)
 * is taken as `{ job: WelcomeJob }`; any other function is refused.
 * @param helper - names the helper in errors (`"assertEnqueued"`).
 */
export function checkMatcher<M extends object>(input: M | Function, schema: OptionSchema<M>, helper: string): M {
  if (typeof input === "function") {
    if (jobClassRule.test(input)) return { job: input } as unknown as M;
    throw new ConfigError(`${helper}: expected a matcher such as { job: WelcomeJob } or a job class, got ${describeValue(input)}`);
  }
  validateOptions(input, schema, `the ${helper} matcher`);
  return input ?? ({} as M);
}
