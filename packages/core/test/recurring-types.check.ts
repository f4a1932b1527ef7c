// Compile-time checks of the recurring config types (run by `npm run typecheck:tests`): an
// entry written inline in defineConfig has its args checked against its job's perform; each
// line marked as an expected error below must be one, or tsc fails on the unused directive.
import { defineConfig } from "../src/config/define.js";
import { Job } from "../src/job/job.js";
import { recurringTask } from "../src/recurring/config.js";

class CleanupJob extends Job<[days: number]> { async perform(days: number) { return days; } }
class PollJob extends Job { async perform() {} }

defineConfig({
  recurring: {
    nightly: { job: CleanupJob, cron: "0 3 * * *", tz: "Europe/Berlin", args: [30] },
    poll: { job: PollJob, every: "10m" },
  },
});
defineConfig({
  // @ts-expect-error args of the wrong type
  recurring: { nightly: { job: CleanupJob, cron: "0 3 * * *", args: ["x"] } },
});
defineConfig({
  // @ts-expect-error args missing for a perform that takes one
  recurring: { nightly: { job: CleanupJob, cron: "0 3 * * *" } },
});
defineConfig({
  // @ts-expect-error tz with every
  recurring: { poll: { job: PollJob, every: "10m", tz: "UTC" } },
});
defineConfig({
  // @ts-expect-error both cron and every
  recurring: { poll: { job: PollJob, every: "10m", cron: "* * * * *" } },
});
recurringTask(CleanupJob, { cron: "0 3 * * *", args: [1] });
// @ts-expect-error wrong args
recurringTask(CleanupJob, { cron: "0 3 * * *", args: [1, 2] });
