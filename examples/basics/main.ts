// The runnable example of packages/core/README.md (kept identical by test/readme.test.ts).
import { configure, Job, queueAs, registerModel, retryOn } from "@errand/core";
import { waitFor } from "@errand/core/testing";

class User {
  constructor(readonly id: number, readonly email: string) {}
}
const users = new Map([[1, new User(1, "ada@example.com")]]);
registerModel(User, { find: (id) => users.get(id as number), findMany: (ids) => ids.map((id) => users.get(id as number)!) });

class FlakyApiError extends Error {}

@queueAs("reports")
@retryOn(FlakyApiError, { attempts: 3, wait: "1s" })
class ReportJob extends Job<[user: User, month: Date], { user: string; rows: number }> {
  async perform(user: User, month: Date) {
    this.progress(0.5, `building ${month.toISOString().slice(0, 7)}`);
    return { user: user.email, rows: 42 };
  }
}

const runtime = configure({ app: "example", adapter: "async" });
const { jobId } = await ReportJob.performLater(users.get(1)!, new Date("2026-11-01"));
const status = await waitFor(async () => {
  const current = await ReportJob.status(jobId);
  return current?.state === "succeeded" && current;
});
console.log(status.result); // { user: "ada@example.com", rows: 42 }
await runtime.close();
