/**
 * Errand's decorators must behave the same under both decorator proposals: legacy
 * `experimentalDecorators` (as NestJS apps compile) and TC39 standard decorators
 * (TypeScript 5's default). This compiles one fixture (fixtures/decorators/src) both
 * ways with the real TypeScript compiler, runs each build in its own Node process, and
 * compares what they print: resolved queues and priorities, retry/discard/rescue
 * outcomes, callback order and inheritance.
 *
 * The builds go to fixtures/decorators/dist/{legacy,standard} (ignored like every
 * dist/) so that `@errand/core` resolves through the repository's node_modules.
 */
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { beforeAll, describe, expect, it } from "vitest";

import { runNode, type ChildResult } from "./support/run-node.js";

const fixture = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "decorators");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");



function describeFailure(what: string, result: ChildResult): string {
  const why = result.timedOut ? "did not finish before its deadline" : `exited with ${result.code}`;
  return `${what} ${why}\n${result.stdout}\n${result.stderr}`;
}

const modes = ["legacy", "standard"] as const;
type Mode = (typeof modes)[number];

interface Outcome {
  runs: number;
  state: string;
  executions: number;
  queue: string;
  priority: number;
  error: string | null;
  result: unknown;
  log: string[];
}

interface Output {
  enqueued: { job: string; queue: string; priority: number; timeoutMs?: number; executions: number; args: unknown[]; flow?: unknown }[];
  flow: boolean[];
  enqueuedAudit: { job: string; queue: string }[];
  enqueueLog: string[];
  scenarios: Record<string, Outcome> & { "parent model reloaded": string[] };
  performJob: unknown;
  performJobLog: string[];
  performNow: unknown;
  performNowLog: string[];
}

const compiled = {} as Record<Mode, ChildResult>;
const ran = {} as Record<Mode, ChildResult>;
const outputs = {} as Record<Mode, Output>;

beforeAll(async () => {
  await Promise.all(
    modes.map(async (mode) => {
      await rm(join(fixture, "dist", mode), { recursive: true, force: true });
      compiled[mode] = await runNode([tsc, "-p", `tsconfig.${mode}.json`], { cwd: fixture, deadlineMs: 30_000 });
      if (compiled[mode].code !== 0) return;
      ran[mode] = await runNode([join("dist", mode, "main.js")], { cwd: fixture, deadlineMs: 15_000 });
      if (ran[mode].code === 0) outputs[mode] = JSON.parse(ran[mode].stdout) as Output;
    }),
  );
}, 40_000);

describe.each(modes)("%s decorators", (mode) => {
  const output = (): Output => {
    expect(compiled[mode].code, describeFailure(`tsc -p tsconfig.${mode}.json`, compiled[mode])).toBe(0);
    expect(ran[mode].code, describeFailure(`node dist/${mode}/main.js`, ran[mode])).toBe(0);
    return outputs[mode];
  };

  it("compiles and runs", () => {
    expect(output().enqueued.length).toBeGreaterThan(0);
  });

  it("resolves queues and priorities (value and function form) and timeouts, inherited down the chain", () => {
    const settings = output()
      .enqueued.filter(({ job }) => !job.startsWith("Flow"))
      .map(({ job, queue, priority, timeoutMs }) => ({ job, queue, priority, timeoutMs }));
    expect(settings).toEqual([
      { job: "ParentJob", queue: "parents", priority: 5, timeoutMs: 5000 },
      { job: "ChildJob", queue: "child-ok", priority: 5, timeoutMs: 5000 },
      { job: "ChildJob", queue: "child-blue", priority: 5, timeoutMs: 5000 },
      { job: "GrandchildJob", queue: "child-ok", priority: 5, timeoutMs: 5000 },
      // @queueWithPriority(7) with static queue/timeout twins on one class…
      { job: "MixedJob", queue: "statics", priority: 7, timeoutMs: 2000 },
      // …and a subclass whose static fields override the inherited decorator settings.
      { job: "MixedChildJob", queue: "mixed-child", priority: 8, timeoutMs: 2000 },
      { job: "SlowJob", queue: "default", priority: 0, timeoutMs: 50 },
      { job: "ParentJob", queue: "override", priority: -1, timeoutMs: 5000 },
      // @queueWithPriority(fn): the priority comes from each job's arguments.
      { job: "UrgencyJob", queue: "default", priority: -10, timeoutMs: undefined },
      { job: "UrgencyJob", queue: "default", priority: 20, timeoutMs: undefined },
    ]);
  });

  it("writes @unique, @limitConcurrency and @rateLimit into the payload; a subclass's static twin replaces one of them", () => {
    const flows = output().enqueued.filter(({ job }) => job.startsWith("Flow"));
    // The second FlowJob is a duplicate (stored nothing); FlowChildJob's key is its own class's.
    expect(output().flow).toEqual([false, true, false]);
    expect(flows).toMatchObject([
      {
        job: "FlowJob",
        flow: {
          unique: { key: "FlowJob:acme", while: "active", forMs: 3_600_000 },
          concurrency: { key: "account:acme", limit: 2 },
          rateLimit: { key: "FlowJob", limit: 10, perMs: 1000 },
        },
      },
      {
        job: "FlowChildJob",
        flow: {
          unique: { key: "FlowChildJob:acme", while: "active", forMs: 3_600_000 },
          concurrency: { key: "account:acme", limit: 2 },
          rateLimit: { key: "shared-api", limit: 1, perMs: 60_000 },
        },
      },
    ]);
  });

  it("stores a @model argument as a gid and loads it again at perform time", () => {
    const { enqueued, scenarios } = output();
    expect(enqueued[0]!.args).toEqual(["ok", "gid://fixture/User/1"]);
    expect(scenarios["parent model reloaded"]).toContain("ParentJob.perform ok #1 user=Ada (renamed) model=true");
  });

  it("sends a @useAdapter job to its own adapter only", () => {
    const { enqueued, enqueuedAudit } = output();
    expect(enqueued.map((payload) => payload.job)).not.toContain("PinnedJob");
    expect(enqueuedAudit.map(({ job, queue }) => ({ job, queue }))).toEqual([{ job: "PinnedJob", queue: "audit" }]);
  });

  it("runs enqueue callbacks root class first, in the order written", () => {
    expect(output().enqueueLog.slice(4, 9)).toEqual([
      "parent.beforeEnqueue ChildJob",
      "child.beforeEnqueue ChildJob",
      "parent.aroundEnqueue:in ChildJob",
      "parent.aroundEnqueue:out ChildJob",
      "parent.afterEnqueue ChildJob queue=child-ok",
    ]);
  });

  it("runs perform callbacks root class first, around callbacks nested, decorators before static twins", () => {
    const { scenarios } = output();
    expect(scenarios["child ok"]!.log).toEqual([
      "parent.beforePerform 1",
      "parent.beforePerform 2",
      "child.beforePerform",
      "parent.aroundPerform:in",
      "child.aroundPerform:in",
      "ChildJob.perform ok #1 user=Ada model=true",
      "child.aroundPerform:out",
      "parent.aroundPerform:out",
      "parent.afterPerform",
      "child.afterPerform",
    ]);
    expect(scenarios["mixed ok"]!.log).toEqual([
      "mixed.beforePerform (decorator)",
      "mixed.beforePerform (static)",
      "mixed.aroundPerform (static):in",
      "MixedJob.perform ok #1",
      "mixed.aroundPerform (static):out",
    ]);
  });

  it("applies @retryOn, @discardOn, @rescueFrom, @afterDiscard and the default policy", () => {
    const { scenarios } = output();
    const brief = (name: string) => {
      const { runs, state, executions, queue, priority, error } = scenarios[name]!;
      return { runs, state, executions, queue, priority, error };
    };
    expect(brief("parent ok")).toEqual({ runs: 1, state: "succeeded", executions: 1, queue: "parents", priority: 5, error: null });
    expect(scenarios["parent ok"]!.result).toEqual({ mode: "ok", user: "Ada" });
    // retryOn(TransientError, { attempts: 3 }): three runs, then the dead set and afterDiscard.
    expect(brief("parent transient")).toMatchObject({ runs: 3, state: "dead", executions: 3, error: "TransientError" });
    expect(scenarios["parent transient"]!.log.at(-1)).toBe("afterDiscard ParentJob TransientError");
    // discardOn(FatalError): one run, failed, afterDiscard.
    expect(brief("parent fatal")).toMatchObject({ runs: 1, state: "failed", error: "FatalError" });
    expect(scenarios["parent fatal"]!.log.at(-1)).toBe("afterDiscard ParentJob FatalError");
    // rescueFrom(RecoverableError): handled, counts as succeeded.
    expect(brief("parent recoverable")).toMatchObject({ runs: 1, state: "succeeded", error: null });
    expect(scenarios["parent recoverable"]!.log.at(-1)).toBe("rescue ParentJob RecoverableError");
    // No rule: the configured default policy (2 attempts in the fixture).
    expect(brief("parent other")).toMatchObject({ runs: 2, state: "dead", error: "Error" });
    // A slow job: @timeout aborts its signal, JobTimeoutError is discarded by its rule.
    expect(brief("slow")).toMatchObject({ runs: 1, state: "failed", error: "JobTimeoutError" });
    expect(scenarios["slow"]!.log).toEqual(["slow.perform", "slow.afterDiscard JobTimeoutError signal.aborted=true"]);
  });

  it("gives subclasses their parent's error rules and their own, their own matched first", () => {
    const { scenarios } = output();
    expect(scenarios["child transient"]).toMatchObject({ runs: 3, state: "dead", error: "TransientError" });
    expect(scenarios["child fatal"]).toMatchObject({ runs: 1, state: "failed", error: "FatalError" });
    expect(scenarios["grandchild recoverable"]).toMatchObject({ runs: 1, state: "succeeded" });
    expect(scenarios["grandchild recoverable"]!.log.at(-1)).toBe("rescue GrandchildJob RecoverableError");
    // StaleDataError extends TransientError: the child's own @discardOn wins over the parent's @retryOn.
    expect(scenarios["child stale"]).toMatchObject({ runs: 1, state: "failed", error: "StaleDataError" });
    // The child's own retry rule, with its retry queue and priority…
    expect(scenarios["child child-only"]).toMatchObject({ runs: 2, state: "dead", queue: "retries", priority: 1, error: "ChildOnlyError" });
    // …does not leak up to the parent (default policy there).
    expect(scenarios["parent child-only"]).toMatchObject({ runs: 2, state: "dead", queue: "parents", priority: 5 });
  });

  it("applies static-field twins next to decorators, and to subclasses", () => {
    const { scenarios } = output();
    expect(scenarios["mixed transient"]).toMatchObject({ runs: 3, state: "dead", queue: "statics", priority: 7, error: "TransientError" });
    expect(scenarios["mixed transient"]!.log.slice(-2)).toEqual([
      "mixed.afterDiscard (decorator) MixedJob",
      "mixed.afterDiscard (static) MixedJob",
    ]);
    expect(scenarios["mixed fatal"]).toMatchObject({ runs: 1, state: "failed", error: "FatalError" });
    expect(scenarios["mixed recoverable"]).toMatchObject({ runs: 1, state: "succeeded" });
    expect(scenarios["mixed recoverable"]!.log.at(-1)).toBe("static.rescue MixedJob RecoverableError");
    expect(scenarios["mixed child transient"]).toMatchObject({ runs: 3, state: "dead", queue: "mixed-child", priority: 8 });
  });

  it("uses the same settings for performJob and performNow", () => {
    const { performJob, performJobLog, performNow, performNowLog, scenarios } = output();
    expect(performJob).toEqual({ mode: "ok", user: "Ada" });
    expect(performJobLog).toEqual(scenarios["child ok"]!.log);
    expect(performNow).toBeNull(); // rescued: resolves to undefined
    expect(performNowLog.at(-1)).toBe("rescue ParentJob RecoverableError");
  });
});

it("legacy and standard builds behave identically", () => {
  for (const mode of modes) expect(outputs[mode], `${mode} build produced no output`).toBeDefined();
  expect(outputs.standard).toEqual(outputs.legacy);
});

// DESIGN.md documents the twins as plain array literals (`static retry = [[E, { attempts: 3 }]]`).
// Fails until Job's static declarations accept what TypeScript infers for them.
it("static-field twins compile as DESIGN.md writes them (no `as const`)", async () => {
  const result = await runNode([tsc, "-p", "tsconfig.plain-statics.json"], { cwd: fixture, deadlineMs: 30_000 });
  expect(result.code, describeFailure("tsc -p tsconfig.plain-statics.json", result)).toBe(0);
}, 35_000);
