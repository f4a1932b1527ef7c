// The runnable example of docs/dependency-injection.md (kept identical by test/readme.test.ts).
import { configure, Job, performAllLater } from "@errand/core";
import { waitFor } from "@errand/core/testing";

/** A service the job needs: in an app, a repository or an API client. */
class AccountRepository {
  readonly balances = new Map<string, number>();
  credit(account: string, cents: number): number {
    const balance = (this.balances.get(account) ?? 0) + cents;
    this.balances.set(account, balance);
    return balance;
  }
}

/** Its constructor takes the service; Errand sets the arguments (`super(Job.injected)`). */
class CreditJob extends Job<[account: string, cents: number], number> {
  constructor(private readonly accounts: AccountRepository) {
    super(Job.injected);
  }
  perform(account: string, cents: number): number {
    return this.accounts.credit(account, cents);
  }
}

// The app's container, here a map of factories; tsyringe or Inversify fit the same hook.
const accounts = new AccountRepository();
const container = new Map<Function, () => object>([[CreditJob, () => new CreditJob(accounts)]]);

const runtime = configure({
  adapter: "async",
  jobs: [CreditJob],
  // A fresh job per run from the container; undefined: Errand builds the class itself.
  resolve: (target) => container.get(target)?.(),
});
let done = 0;
runtime.events.on("job:complete", () => void done++);

await CreditJob.performLater("acme", 250);
// performAllLater takes instances: Job.build makes them without the constructor.
await performAllLater([CreditJob.build("acme", 100), CreditJob.build("globex", 5)]);
await waitFor(() => done === 3);
console.log(`acme ${accounts.balances.get("acme")}, globex ${accounts.balances.get("globex")}`);
await runtime.close();
