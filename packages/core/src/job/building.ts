/**
 * Building the instance that performs, when the app's container is in charge of
 * constructors (`config.resolve`, docs/dependency-injection.md). The container supplies a
 * job's constructor services; Errand then sets what it owns (arguments, id) and the run
 * state, as it does for an instance it built itself. `undefined` from the hook means "not
 * mine": Errand builds the job as without a hook.
 *
 * Without a hook a job is built with `new JobClass(...args)`; a constructor that did not
 * hand its arguments on to `Job` (it takes services) is refused with what to do
 * (`constructJob`, restoring.ts).
 *
 * @module
 */
import type { ErrandConfig } from "../config/define.js";
import { ConfigError } from "../errors.js";
import type { Job } from "./job.js";
import { constructJob, restoreJob } from "./restoring.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJob = Job<any, any>;

/** The config's `resolve` hook. */
export type ResolveHook = NonNullable<ErrandConfig["resolve"]>;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an instance of ${(value as object).constructor?.name ?? "Object"}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * @internal asks the hook for an instance of `target`: `undefined` when it declines.
 * @throws ConfigError when it answers with something that is not an instance of `target`; what the hook throws, as thrown.
 */
export async function resolveInstance<T extends object>(resolve: ResolveHook, target: Function, what: string): Promise<T | undefined> {
  const instance = await resolve(target as Parameters<ResolveHook>[0]);
  if (instance === undefined) return undefined;
  if (!(instance instanceof target)) {
    throw new ConfigError(`the Errand config's resolve hook returned ${describe(instance)} for ${what} ${target.name}, not an instance of ${target.name}`);
  }
  return instance as T;
}

/**
 * @internal the instance `performNow` runs: from the hook when there is one (`undefined`:
 * none configured), else `new JobClass(...args)`, refused for a constructor that takes
 * services (`constructJob`).
 */
export async function jobToRun<J extends AnyJob>(resolve: ResolveHook | undefined, jobClass: Function, args: unknown[]): Promise<J> {
  return resolve === undefined ? constructJob<J>(jobClass, args) : resolvedJob<J>(resolve, jobClass, args);
}

/**
 * @internal the instance that performs a job: from the hook when it has one, else built by
 * Errand. `jobId` is the stored id (the executor); without it a resolved instance keeps
 * the id its construction drew (`performNow`).
 */
export async function resolvedJob<J extends AnyJob>(resolve: ResolveHook, jobClass: Function, args: unknown[], jobId?: string): Promise<J> {
  const job = await resolveInstance<J>(resolve, jobClass, "job");
  if (job === undefined) return jobId === undefined ? constructJob<J>(jobClass, args) : restoreJob<J>(jobClass, args, jobId);
  (job as { arguments: unknown[] }).arguments = args;
  if (jobId !== undefined) job.jobId = jobId;
  return job;
}
