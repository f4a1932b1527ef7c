// Resumable jobs in core (issue 17): steps, cursors, checkpoints, the settings and the
// performContinuable test helper, run through the full execution path.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import "../src/index.js";
import { ConfigError, JobInterruptedError, ResumptionLimitError, StepError } from "../src/errors.js";
import { Job } from "../src/job/job.js";
import { configure, type Runtime } from "../src/runtime.js";
import { performContinuable, performJob } from "../src/testing/index.js";
import { validatePayload } from "../src/wire-format.js";
import { revive } from "../src/backends/revive.js";

let runtime: Runtime;
beforeEach(() => {
  runtime = configure({ adapter: "test" });
});
afterEach(() => runtime.close());

const done: string[] = [];
beforeEach(() => {
  done.length = 0;
});

class ImportJob extends Job<[rows: number], number> {
  static override resumeWait = 0;
  async perform(rows: number) {
    await this.step("prepare", () => {
      done.push("prepare");
    });
    await this.step("rows", async (step) => {
      for (let row = step.cursor ?? 0; row < rows; row++) {
        done.push(`row ${row}`);
        step.advance();
      }
    });
    await this.step("finish", () => {
      done.push("finish");
    });
    return rows;
  }
}

describe("steps", () => {
  it("run once each without interruptions, as performJob and performNow run them", async () => {
    expect(await performJob(ImportJob, 2)).toBe(2);
    expect(done).toEqual(["prepare", "row 0", "row 1", "finish"]);
    done.length = 0;
    expect(await ImportJob.performNow(1)).toBe(1);
    expect(done).toEqual(["prepare", "row 0", "finish"]);
  });

  it("resume at the cursor after an interruption, completed steps not run again", async () => {
    const run = await performContinuable(ImportJob, [5], { interrupt: [{ during: "rows", at: 2 }, { after: "rows" }] });
    expect(run).toMatchObject({ outcome: "succeeded", result: 5, runs: 3 });
    expect(run.resumptions).toEqual([
      { completed: ["prepare"], step: "rows", cursor: 2, resumptions: 1 },
      { completed: ["prepare", "rows"], step: undefined, cursor: undefined, resumptions: 2 },
    ]);
    expect(done).toEqual(["prepare", "row 0", "row 1", "row 2", "row 3", "row 4", "finish"]);
  });

  it("run the step after a resumed one in the same run (the resumed step completing is no mismatch)", async () => {
    const run = await performContinuable(ImportJob, [4], { interrupt: [{ during: "rows", at: 2 }] });
    expect(run).toMatchObject({ outcome: "succeeded", result: 4, runs: 2 });
    expect(run.resumptions).toEqual([{ completed: ["prepare"], step: "rows", cursor: 2, resumptions: 1 }]);
    expect(done).toEqual(["prepare", "row 0", "row 1", "row 2", "row 3", "finish"]);
  });

  it("keep any storable cursor (superjson), starting a fresh step at `start`", async () => {
    const seen: unknown[] = [];
    class DatesJob extends Job<[]> {
      static override resumeWait = 0;
      async perform() {
        await this.step<Date>(
          "days",
          (step) => {
            seen.push(step.cursor);
            for (let day = step.cursor!.getTime(); day < Date.UTC(2026, 0, 4); day += 86_400_000) step.set(new Date(day + 86_400_000));
          },
          { start: new Date(Date.UTC(2026, 0, 1)) },
        );
      }
    }
    const run = await performContinuable(DatesJob, [], { interrupt: [{ during: "days", at: new Date(Date.UTC(2026, 0, 2)) }] });
    expect(run.outcome).toBe("succeeded");
    expect(run.resumptions[0]!.cursor).toEqual(new Date(Date.UTC(2026, 0, 2)));
    expect(seen).toEqual([new Date(Date.UTC(2026, 0, 1)), new Date(Date.UTC(2026, 0, 2))]);
  });

  it("refuse a name used twice, nested steps, unknown options and a numeric advance of another cursor", async () => {
    class TwiceJob extends Job<[]> {
      async perform() {
        await this.step("a", () => {});
        await this.step("a", () => {});
      }
    }
    await expect(performJob(TwiceJob)).rejects.toThrow(new StepError('TwiceJob: step "a" ran twice; step names must be unique'));
    class NestedJob extends Job<[]> {
      async perform() {
        await this.step("outer", () => this.step("inner", () => {}));
      }
    }
    await expect(performJob(NestedJob)).rejects.toThrow(/step "inner" was started inside step "outer"; steps cannot nest/);
    class OptionJob extends Job<[]> {
      async perform() {
        await this.step("a", () => {}, { begin: 1 } as never);
      }
    }
    await expect(performJob(OptionJob)).rejects.toThrow(ConfigError);
    class StringJob extends Job<[]> {
      async perform() {
        await this.step<string>("a", (step) => step.advance(), { start: "x" });
      }
    }
    await expect(performJob(StringJob)).rejects.toThrow(/advance\(\) needs a numeric cursor/);
  });

  it("say clearly when the steps no longer match the saved progress", async () => {
    let renamed = false;
    class RenamedJob extends Job<[]> {
      static override resumeWait = 0;
      async perform() {
        await this.step(renamed ? "fetch" : "download", () => {});
        renamed = true;
        await this.step("parse", (step) => step.checkpoint());
      }
    }
    const run = await performContinuable(RenamedJob, [], { interrupt: [{ during: "parse" }] });
    expect(run.outcome).toBe("retry");
    expect(run.error).toBeInstanceOf(StepError);
    expect((run.error as Error).message).toMatch(/step 1 is "fetch", but the saved progress has "download" \(completed\) there/);
  });

  it("ends a run whose interruption was swallowed as interrupted", async () => {
    class SwallowJob extends Job<[]> {
      static override resumeWait = 0;
      async perform() {
        await this.step("loop", (step) => {
          for (let i = step.cursor ?? 0; i < 3; i++) {
            try {
              step.advance();
            } catch (error) {
              if (!(error instanceof JobInterruptedError)) throw error;
            }
          }
        });
      }
    }
    const run = await performContinuable(SwallowJob, [], { interrupt: [{ during: "loop", at: 1 }] });
    expect(run).toMatchObject({ outcome: "succeeded", runs: 2 });
    // Its later advances still moved the cursor: the work up to 3 was done.
    expect(run.resumptions[0]).toMatchObject({ step: "loop", cursor: 3 });
  });
});

describe("settings", () => {
  it("maxResumptions: the interruption past it ends the job dead, naming the limit, its progress kept", async () => {
    class LimitedJob extends ImportJob {
      static override maxResumptions = 1;
    }
    const run = await performContinuable(LimitedJob, [5], { interrupt: [{ during: "rows", at: 1 }, { during: "rows", at: 3 }] });
    expect(run.outcome).toBe("dead");
    expect(run.error).toBeInstanceOf(ResumptionLimitError);
    expect((run.error as Error).message).toBe("LimitedJob stopped again after 1 resumptions, its maxResumptions");
    expect(run.progress).toMatchObject({ step: "rows", cursor: 3, resumptions: 2 });
  });

  it("resumeErrorsAfterAdvancing: an error after progress resumes at the checkpoint (true) or retries (false)", async () => {
    let failAt: number | undefined = 3;
    class FlakyJob extends Job<[]> {
      static override resumeWait = 0;
      async perform() {
        await this.step("rows", (step) => {
          for (let row = step.cursor ?? 0; row < 5; row++) {
            if (row === failAt) {
              failAt = undefined;
              throw new Error("the API timed out");
            }
            done.push(`row ${row}`);
            step.advance();
          }
        });
      }
    }
    const run = await performContinuable(FlakyJob, []);
    expect(run).toMatchObject({ outcome: "succeeded", runs: 2 });
    expect(run.resumptions).toEqual([{ completed: [], step: "rows", cursor: 3, resumptions: 1 }]);
    expect(done).toEqual(["row 0", "row 1", "row 2", "row 3", "row 4"]);

    class StrictJob extends FlakyJob {
      static override resumeErrorsAfterAdvancing = false;
    }
    failAt = 3;
    const strict = await performContinuable(StrictJob, []);
    expect(strict.outcome).toBe("retry");
    expect((strict.error as Error).message).toBe("the API timed out");
    expect(strict.progress).toBeUndefined();
  });

  it("a timeout after progress resumes from the last checkpoint: a long step runs in many runs of at most `timeout`", async () => {
    const rows = new Set<number>();
    class TimedJob extends Job<[]> {
      static override resumeWait = 0;
      static override timeout = 300;
      async perform() {
        await this.step("rows", async (step) => {
          const start = step.cursor ?? 0;
          for (let row = start; row < 6; row++) {
            // Every run advances at once (progress, so its timeout resumes), then waits out its timeout.
            if (row > start) await new Promise((resolve) => setTimeout(resolve, 120));
            rows.add(row);
            step.advance();
          }
        });
      }
    }
    const run = await performContinuable(TimedJob, []);
    expect(run.outcome).toBe("succeeded");
    expect(run.runs).toBeGreaterThan(1);
    expect([...rows].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("discardOn still discards an error after progress", async () => {
    class GoneError extends Error {}
    class GoneJob extends Job<[]> {
      static override discard = [GoneError];
      async perform() {
        await this.step("rows", (step) => {
          step.advance();
          throw new GoneError("gone");
        });
      }
    }
    expect((await performContinuable(GoneJob, [])).outcome).toBe("discarded");
  });

  it("checks the settings where the class is first used", async () => {
    class BadJob extends ImportJob {
      static override maxResumptions = -1;
    }
    await expect(performJob(BadJob, 1)).rejects.toThrow(new ConfigError("BadJob: maxResumptions must be an integer >= 0 or Infinity, got -1"));
    await expect(performContinuable(ImportJob, [1], { interrupt: [{ during: "rows", after: "prepare" }] })).rejects.toThrow(/needs either "during" or "after"/);
  });
});

describe("the payload's continuation", () => {
  const base = { v: 1, job: "J", id: "a", queue: "q", priority: 0, args: { json: [] }, executions: 1, enqueuedAt: "2026-01-01T00:00:00.000Z", runAt: "2026-01-01T00:00:00.000Z" };

  it("is validated", () => {
    expect(() => validatePayload({ ...base, continuation: { completed: ["a"], current: { step: "b", cursor: { json: 3 } }, resumptions: 2 } })).not.toThrow();
    expect(() => validatePayload({ ...base, continuation: { completed: ["a", "a"], resumptions: 0 } })).toThrow(/"continuation.completed" names a step twice/);
    expect(() => validatePayload({ ...base, continuation: { completed: [], resumptions: -1 } })).toThrow(/"continuation.resumptions" must be an integer >= 0/);
    expect(() => validatePayload({ ...base, continuation: { completed: [], current: { step: "b", cursor: 3 }, resumptions: 0 } })).toThrow(/"continuation.current.cursor" must be superjson output/);
  });

  it("is kept by a dead-job retry, its resumptions counted afresh", () => {
    const body = JSON.stringify({ ...base, continuation: { completed: ["a"], current: { step: "b", cursor: { json: 3 } }, resumptions: 4 } });
    expect(revive(body)!.payload.continuation).toEqual({ completed: ["a"], current: { step: "b", cursor: { json: 3 } }, resumptions: 0 });
  });
});
