// The `recurring` section of the config (recurring/config.ts): every mistake is a
// ConfigError naming the task, from defineConfig, configure (Runtime) and loadConfig alike.
import { describe, expect, it } from "vitest";

import { defineConfig, type ErrandConfig } from "../src/config/define.js";
import { ConfigError } from "../src/errors.js";
import { Job } from "../src/job/job.js";
import { compileRecurring, recurringTask } from "../src/recurring/config.js";
import { Runtime } from "../src/runtime.js";

class CleanupJob extends Job<[days: number]> {
  async perform(days: number) {
    return days;
  }
}
class PollJob extends Job {
  async perform() {}
}
class NotAJob {
  perform() {}
}

/** The ConfigError message that checking `recurring` throws. */
function message(recurring: unknown): string {
  try {
    defineConfig({ recurring } as ErrandConfig);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return expect.unreachable("expected a ConfigError");
}

describe("recurring config", () => {
  it("compiles valid tasks, with their defaults", () => {
    const tasks = compileRecurring({
      "nightly-cleanup": { job: CleanupJob, cron: "0 3 * * *", tz: "Europe/Berlin", args: [30] },
      "poll-api": { job: PollJob, every: "10m", queue: "polling", priority: -1, missed: "latest" },
      typed: recurringTask(CleanupJob, { every: { hours: 1 }, args: [7] }),
    });
    expect(tasks.map((task) => [task.name, task.schedule.description, task.schedule.tz, task.args, task.queue, task.priority, task.missed])).toEqual([
      ["nightly-cleanup", 'cron "0 3 * * *" (Europe/Berlin)', "Europe/Berlin", [30], undefined, undefined, "skip"],
      ["poll-api", "every 10m", undefined, [], "polling", -1, "latest"],
      ["typed", 'every {"hours":1}', undefined, [7], undefined, undefined, "skip"],
    ]);
  });

  it.each<[string, unknown, string]>([
    ["a bad expression", { job: PollJob, cron: "0 25 * * *" }, 'recurring task "t" in the Errand config: cron "0 25 * * *" is not a valid cron expression (Invalid value for hour: 25)'],
    ["an unknown tz", { job: PollJob, cron: "0 3 * * *", tz: "Europe/Atlantis" }, 'recurring task "t" in the Errand config: tz "Europe/Atlantis" is not a known time zone'],
    ["both cron and every", { job: PollJob, cron: "0 3 * * *", every: "1h" }, 'recurring task "t" in the Errand config: give exactly one of cron ("0 3 * * *") and every ("10m"), not both'],
    ["neither cron nor every", { job: PollJob }, 'recurring task "t" in the Errand config: give exactly one of cron ("0 3 * * *") and every ("10m"), got neither'],
    ["tz with every", { job: PollJob, every: "1h", tz: "UTC" }, 'recurring task "t" in the Errand config: tz does not apply to every'],
    ["an unknown key", { job: PollJob, cron: "0 3 * * *", timezone: "UTC" }, 'unknown option "recurring.t.timezone" in the Errand config; valid options: job, cron, every, tz, args, queue, priority, missed'],
    ["a misspelt key", { job: PollJob, crn: "0 3 * * *" }, 'unknown option "recurring.t.crn" in the Errand config; did you mean "recurring.t.cron"?'],
    ["args that do not serialize", { job: CleanupJob, every: "1h", args: [() => 1] }, 'recurring task "t" in the Errand config: args cannot be stored ('],
    ["args that are not an array", { job: CleanupJob, every: "1h", args: 30 }, 'option "recurring.t.args" in the Errand config must be an array'],
    ["a class that is not a Job", { job: NotAJob, every: "1h" }, 'option "recurring.t.job" in the Errand config must be a job class (a subclass of Job with perform), got function NotAJob'],
    ["no job", { every: "1h" }, 'recurring task "t" in the Errand config: job is missing'],
    ["a bad missed policy", { job: PollJob, every: "1h", missed: "all" }, 'option "recurring.t.missed" in the Errand config must be one of "skip", "latest", got "all"'],
    ["a bad every", { job: PollJob, every: "soon" }, 'option "recurring.t.every" in the Errand config must be a duration'],
    ["every under a second", { job: PollJob, every: 10 }, 'recurring task "t" in the Errand config: every must be a whole number of milliseconds of at least 1s, got 10'],
    ["a bad priority", { job: PollJob, every: "1h", priority: 1.5 }, 'option "recurring.t.priority" in the Errand config must be an integer, got 1.5'],
  ])("refuses %s, naming the task", (_what, entry, expected) => {
    expect(message({ t: entry })).toContain(expected);
  });

  it("refuses a task that is not an object, and a name past 512 characters", () => {
    expect(message({ t: "0 3 * * *" })).toBe('option "recurring.t" in the Errand config must be an object, got "0 3 * * *"');
    expect(message({ ["x".repeat(513)]: { job: PollJob, every: "1h" } })).toMatch(/^a recurring task name in the Errand config must have 1 to 512 characters/);
    expect(message([])).toMatch(/^option "recurring" in the Errand config must be an object of recurring tasks/);
  });

  it("is checked by configure (Runtime) as well", () => {
    expect(() => new Runtime({ recurring: { t: { job: PollJob, cron: "bad" } } } as ErrandConfig)).toThrow(/recurring task "t" in the Errand config: cron "bad"/);
  });
});
