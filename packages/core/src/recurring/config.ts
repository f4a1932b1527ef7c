/**
 * The `recurring` section of the config: its types (an entry's `args` checked against its
 * job's `perform` where TypeScript can), its validation (every mistake a `ConfigError`
 * naming the task), and its compiled form, {@link RecurringTaskSpec}, that the scheduler
 * and the CLI use.
 *
 * @module
 */
import type { Duration } from "../duration.js";
import { ConfigError, ErrandError } from "../errors.js";
import type { Job } from "../job/job.js";
import { isJobClass } from "../job-mark.js";
import { serializeArguments } from "../serializers/arguments.js";
import { checkValue, describeOption, rules, type OptionRule, type OptionSchema } from "../config/validate.js";
import { cronSchedule, everySchedule, type Schedule } from "./schedule.js";

/** Longest task name: task names are backend keys, which core bounds to 512 characters. */
export const MAX_TASK_NAME = 512;

/**
 * What a worker that starts does about the tick just before its start: `"skip"` (the
 * default) fires only ticks after its start; `"latest"` also fires the latest tick before
 * it, unless the backend already stored that tick (or a later one) for the task.
 */
export type MissedPolicy = "skip" | "latest";

/** A concrete job class. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobConstructor = new (...args: any[]) => Job<any, any>;

/** The parameters of `J`'s `perform`. */
export type RecurringArgs<J extends JobConstructor> = Parameters<InstanceType<J>["perform"]>;

/** `args` may be left out when `perform` takes none (or only optional ones). */
type ArgsField<J extends JobConstructor> = [] extends RecurringArgs<J> ? { args?: RecurringArgs<J> } : { args: RecurringArgs<J> };

/** A cron expression (with an optional time zone) or a fixed interval: exactly one. */
export type RecurringTiming =
  | {
      /** Cron expression, five fields (`"0 3 * * *"`) or six with seconds first (`"*\/10 * * * * *"`). */
      cron: string;
      /** IANA time zone the cron expression is read in (`"Europe/Berlin"`). Default UTC. */
      tz?: string;
      every?: never;
    }
  | {
      /** Fixed interval (`"10m"`), its ticks aligned to multiples of it since the Unix epoch (UTC). At least 1s. */
      every: Duration;
      cron?: never;
      /** Not with `every`: its ticks are aligned in UTC; use `cron` for a local time of day. */
      tz?: never;
    };

/** A recurring task without its job class: what {@link recurringTask} takes. */
export type RecurringTaskOptions<J extends JobConstructor> = RecurringTiming &
  ArgsField<J> & {
    /** Queue for its jobs (prefix from config applied). Default: the job class's queue. */
    queue?: string;
    /** Priority for its jobs; lower runs first. Default: the job class's priority. */
    priority?: number;
    /** The tick before a worker's start: `"skip"` (default) or `"latest"`. */
    missed?: MissedPolicy;
  };

/**
 * One recurring task of `config.recurring`: `{ job, cron | every, tz?, args?, queue?,
 * priority?, missed? }`. Written inline in `defineConfig`, `args` is checked against the
 * job's `perform`; elsewhere {@link recurringTask} does the same.
 */
export type RecurringTask<J extends JobConstructor = JobConstructor> = { /** The job class each tick enqueues. */ job: J } & RecurringTaskOptions<J>;

/**
 * Types one recurring task, checking `args` against `job`'s `perform` (for configs built
 * outside `defineConfig`): `recurring: { nightly: recurringTask(CleanupJob, { cron: "0 3 * * *", args: [30] }) }`.
 */
export function recurringTask<J extends JobConstructor>(job: J, task: RecurringTaskOptions<J>): RecurringTask<J> {
  return { ...task, job } as RecurringTask<J>;
}

/** A recurring task as the scheduler and the CLI use it: checked, its schedule compiled. */
export interface RecurringTaskSpec {
  /** The task's name (its key in `config.recurring`): global per backend. */
  readonly name: string;
  readonly jobClass: Function;
  readonly schedule: Schedule;
  readonly args: readonly unknown[];
  readonly queue: string | undefined;
  readonly priority: number | undefined;
  readonly missed: MissedPolicy;
}

const ENTRY_SCHEMA: OptionSchema<{ job: unknown; cron: unknown; every: unknown; tz: unknown; args: unknown; queue: unknown; priority: unknown; missed: unknown }> = {
  job: { expected: "a job class (a subclass of Job with perform)", test: isJobClass },
  cron: rules.nonEmptyString,
  every: rules.duration,
  tz: rules.nonEmptyString,
  args: rules.arrayOf({ expected: "a value", test: () => true }),
  queue: rules.nonEmptyString,
  priority: { expected: "an integer", test: Number.isInteger },
  missed: rules.oneOf("skip", "latest"),
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Compiles one entry; every mistake is a `ConfigError` that names the task. */
function compileTask(name: string, entry: unknown, where: string): RecurringTaskSpec {
  const what = `recurring task ${JSON.stringify(name)} in ${where}`;
  if (name.length === 0 || name.length > MAX_TASK_NAME) {
    throw new ConfigError(`a recurring task name in ${where} must have 1 to ${MAX_TASK_NAME} characters, got ${describeOption(name)}`);
  }
  checkValue(entry, rules.object(ENTRY_SCHEMA), `recurring.${name}`, where);
  const task = entry as Record<string, unknown>;
  if (task.job === undefined) throw new ConfigError(`${what}: job is missing (the job class each tick enqueues)`);
  const hasCron = task.cron !== undefined;
  const hasEvery = task.every !== undefined;
  if (hasCron === hasEvery) {
    throw new ConfigError(`${what}: give exactly one of cron ("0 3 * * *") and every ("10m"), ${hasCron ? "not both" : "got neither"}`);
  }
  if (hasEvery && task.tz !== undefined) {
    throw new ConfigError(`${what}: tz does not apply to every (its ticks are aligned to the Unix epoch in UTC); use cron for a local time of day`);
  }
  const schedule = hasCron ? cronSchedule(task.cron as string, task.tz as string | undefined, what) : everySchedule(task.every as Duration, what);
  const args = (task.args as unknown[] | undefined) ?? [];
  try {
    serializeArguments(args, "errand");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${what}: args cannot be stored (${reason})`, { cause: error });
  }
  return {
    name,
    jobClass: task.job as Function,
    schedule,
    args,
    queue: task.queue as string | undefined,
    priority: task.priority as number | undefined,
    missed: (task.missed as MissedPolicy | undefined) ?? "skip",
  };
}

/** Compiles `config.recurring`; throws the first task's `ConfigError`. */
export function compileRecurring(recurring: unknown, where = "the Errand config"): RecurringTaskSpec[] {
  if (recurring === undefined) return [];
  if (!isObject(recurring)) throw new ConfigError(`option "recurring" in ${where} must be an object of recurring tasks, got ${describeOption(recurring)}`);
  return Object.entries(recurring).map(([name, entry]) => compileTask(name, entry, where));
}

/** The config schema's rule for `recurring`. */
export const RECURRING_RULE: OptionRule = {
  expected: "an object of recurring tasks ({ name: { job, cron or every, ... } })",
  test: isObject,
  check: (value, _path, where) => void compileRecurring(value, where),
};

const compiled = new WeakMap<object, RecurringTaskSpec[]>();

/** The runtime config's recurring tasks, compiled once per config object. */
export function recurringTasks(config: { recurring?: unknown }): RecurringTaskSpec[] {
  let tasks = compiled.get(config);
  if (!tasks) compiled.set(config, (tasks = compileRecurring(config.recurring)));
  return tasks;
}

/** Thrown by `errand recurring run` for a name that is not in the config. */
export class UnknownRecurringTaskError extends ErrandError {
  constructor(name: string, known: readonly string[]) {
    super(
      "ERR_UNKNOWN_RECURRING_TASK",
      `unknown recurring task ${JSON.stringify(name)}; ${known.length > 0 ? `known tasks: ${known.join(", ")}` : "the config has no recurring tasks"}`,
    );
  }
}
