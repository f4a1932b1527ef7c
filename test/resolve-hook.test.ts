// The config's resolve hook (issue 16, part 4) on the async backend: a job whose
// constructor takes services is built by a container for each run; Errand sets its
// arguments and id. A hook that declines builds it as without one; one that throws or
// answers with the wrong thing fails that run by the job's rules, and the worker goes on.
import { afterEach, describe, expect, it } from "vitest";

import { ConfigError, configure, Job, Mailer, performAllLater, type ErrandConfig, type Runtime } from "@errand/core";
import { waitFor } from "@errand/core/testing";

/** A service a job's constructor receives. */
class Ledger {
  readonly entries: string[] = [];
  record(entry: string): void {
    this.entries.push(entry);
  }
}

class PostJob extends Job<[account: string, cents: number], string> {
  static override retry = [[Error, { attempts: 2, wait: 0, jitter: 0 }]] as const;
  constructor(private readonly ledger: Ledger) {
    super(Job.injected);
  }
  perform(account: string, cents: number) {
    this.ledger.record(`${account}:${cents}:${this.jobId}`);
    return `${account} ${cents}`;
  }
}

class PlainJob extends Job<[n: number], number> {
  perform(n: number) {
    return n * 2;
  }
}

class LedgerMailer extends Mailer {
  constructor(private readonly ledger: Ledger) {
    super();
  }
  receipt(account: string) {
    this.ledger.record(`mail:${account}`);
    return { to: `${account}@example.com`, subject: "Receipt" };
  }
}

/** The tiniest container: a factory per class, a fresh instance per call. */
function container(ledger: Ledger, counts: Map<Function, number>): NonNullable<ErrandConfig["resolve"]> {
  const factories = new Map<Function, () => object>([
    [PostJob, () => new PostJob(ledger)],
    [LedgerMailer, () => new LedgerMailer(ledger)],
  ]);
  return (target) => {
    counts.set(target, (counts.get(target) ?? 0) + 1);
    return factories.get(target)?.();
  };
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

function outcomes(of: Runtime) {
  const seen = { complete: new Map<string, unknown>(), retry: [] as unknown[], dead: [] as unknown[] };
  of.events.on("job:complete", ({ payload, result }) => seen.complete.set(payload.id, result));
  of.events.on("job:retry", ({ error }) => seen.retry.push(error));
  of.events.on("job:dead", ({ error }) => seen.dead.push(error));
  return seen;
}

describe("the resolve hook", () => {
  it("builds each run's job with its services; arguments and id are the enqueued ones", async () => {
    const ledger = new Ledger();
    const counts = new Map<Function, number>();
    runtime = configure({ adapter: "async", environment: "test", jobs: [PostJob, PlainJob], resolve: container(ledger, counts) });
    const seen = outcomes(runtime);
    const first = await PostJob.performLater("acme", 250);
    const second = await PostJob.set({ priority: 1 }).performLater("globex", 99);
    await waitFor(() => seen.complete.size === 2, { message: "both jobs complete" });
    expect(seen.complete.get(first.jobId)).toBe("acme 250");
    expect(seen.complete.get(second.jobId)).toBe("globex 99");
    expect(ledger.entries.sort()).toEqual([`acme:250:${first.jobId}`, `globex:99:${second.jobId}`].sort());
    // One instance per run, none for the enqueue side.
    expect(counts.get(PostJob)).toBe(2);
  });

  it("Job.build makes enqueue-only instances for performAllLater", async () => {
    const ledger = new Ledger();
    runtime = configure({ adapter: "async", environment: "test", jobs: [PostJob], resolve: container(ledger, new Map()) });
    const seen = outcomes(runtime);
    const built = PostJob.build("initech", 1);
    expect(built).toBeInstanceOf(PostJob);
    expect(built.arguments).toEqual(["initech", 1]);
    const enqueued = await performAllLater([built, PostJob.build("hooli", 2).set({ priority: 3 })]);
    await waitFor(() => seen.complete.size === 2, { message: "both jobs complete" });
    expect(enqueued.map((job) => seen.complete.get(job.jobId))).toEqual(["initech 1", "hooli 2"]);
  });

  it("performNow builds the job with the hook too", async () => {
    const ledger = new Ledger();
    runtime = configure({ adapter: "async", environment: "test", resolve: container(ledger, new Map()) });
    await expect(PostJob.performNow("umbrella", 7)).resolves.toBe("umbrella 7");
    expect(ledger.entries).toHaveLength(1);
    expect(ledger.entries[0]).toMatch(/^umbrella:7:/);
  });

  it("a hook answering undefined lets Errand build the job", async () => {
    const counts = new Map<Function, number>();
    runtime = configure({ adapter: "async", environment: "test", jobs: [PlainJob], resolve: container(new Ledger(), counts) });
    const seen = outcomes(runtime);
    const { jobId } = await PlainJob.performLater(21);
    await waitFor(() => seen.complete.has(jobId), { message: "PlainJob completes" });
    expect(seen.complete.get(jobId)).toBe(42);
    expect(counts.get(PlainJob)).toBe(1);
  });

  it("a hook that throws fails the run by the job's rules (retried, then dead); the worker goes on", async () => {
    let failing = true;
    const ledger = new Ledger();
    const inner = container(ledger, new Map());
    runtime = configure({
      adapter: "async",
      environment: "test",
      jobs: [PostJob, PlainJob],
      resolve: (target) => {
        if (failing && target === PostJob) throw new Error("no Ledger in this container");
        return inner(target);
      },
    });
    const seen = outcomes(runtime);
    await PostJob.performLater("acme", 1);
    await waitFor(() => seen.dead.length === 1, { message: "PostJob dies after its 2 attempts" });
    expect(seen.retry).toHaveLength(1);
    expect((seen.retry[0] as Error).message).toBe("no Ledger in this container");
    expect((seen.dead[0] as { message: string }).message).toBe("no Ledger in this container");
    // The worker still runs jobs, the same class included once the container can build it.
    failing = false;
    const plain = await PlainJob.performLater(1);
    const post = await PostJob.performLater("acme", 2);
    await waitFor(() => seen.complete.has(plain.jobId) && seen.complete.has(post.jobId), { message: "later jobs complete" });
  });

  it("a hook answering with something else than an instance of the class fails the run, naming both", async () => {
    runtime = configure({ adapter: "async", environment: "test", jobs: [PostJob], resolve: () => new Ledger() });
    const seen = outcomes(runtime);
    await PostJob.performLater("acme", 1);
    await waitFor(() => seen.dead.length === 1, { message: "PostJob dies" });
    expect((seen.retry[0] as Error).message).toBe("the Errand config's resolve hook returned an instance of Ledger for job PostJob, not an instance of PostJob");
    expect(seen.retry[0]).toBeInstanceOf(ConfigError);
  });

  it("builds mailers with the hook when mail is delivered", async () => {
    const ledger = new Ledger();
    runtime = configure({ adapter: "async", environment: "test", mailers: [LedgerMailer], resolve: container(ledger, new Map()) });
    await LedgerMailer.mail("receipt", "acme").deliverNow();
    expect(ledger.entries).toEqual(["mail:acme"]);
  });
});

describe("without a resolve hook", () => {
  it("a job whose constructor takes services is refused at performLater, saying what to do", async () => {
    runtime = configure({ adapter: "async", environment: "test", jobs: [PostJob] });
    const refused = PostJob.performLater("acme", 1);
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(
      "PostJob was built with 2 argument(s) but its constructor passed 0 to Job: a job whose constructor takes services needs the resolve hook in the Errand config (docs/dependency-injection.md), or build it for enqueueing with PostJob.build(...args)",
    );
  });

  it("a job built with Job.build is refused by the worker with the same error, and dies by its rules", async () => {
    runtime = configure({ adapter: "async", environment: "test", jobs: [PostJob] });
    const seen = outcomes(runtime);
    await PostJob.build("acme", 1).enqueue();
    await waitFor(() => seen.dead.length === 1, { message: "PostJob dies" });
    expect((seen.dead[0] as { message: string }).message).toMatch(/^PostJob was built with 2 argument\(s\) but its constructor passed 0 to Job/);
  });

  it("a mailer whose constructor takes services is refused at delivery, saying what to do", async () => {
    runtime = configure({ adapter: "async", environment: "test", mailers: [LedgerMailer] });
    const refused = LedgerMailer.mail("receipt", "acme").deliverNow();
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow("LedgerMailer's constructor takes 1 parameter(s), and the Errand config has no resolve hook");
  });

  it("the resolve key must be a function", () => {
    expect(() => configure({ resolve: "container" as never })).toThrow(ConfigError);
  });
});
