// Batches in app tests (@errand/core/testing): with the test adapter, `batch()` stores its
// jobs, `performEnqueuedJobs` runs them and then the callbacks the finishing batch stored,
// which are recorded as enqueued (assertEnqueued sees them). The inline adapter refuses
// `batch()`, saying to use the test adapter.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { batch, ConfigError, configure, Job, UnsupportedError, type Runtime } from "@errand/core";
import { assertEnqueued, assertPerformed, performEnqueuedJobs, testAdapter } from "@errand/core/testing";

const ran: string[] = [];

class RowJob extends Job<[row: number]> {
  async perform(row: number) {
    ran.push(`row ${row} of ${this.batch?.id ?? "no batch"}`);
    if (row === 0) await this.batch!.add([new RowJob(100)]);
  }
}
class FailingRowJob extends Job<[]> {
  static override retry = [[Error, { attempts: 1 }]] as const;
  perform(): never {
    throw new Error("bad row");
  }
}
class ReportJob extends Job<[label: string]> {
  async perform(label: string) {
    ran.push(`${label} (${this.batch?.callback})`);
    await this.batch!.add([new RowJob(7)]).catch((error: Error) => ran.push(error.message));
  }
}

let runtime: Runtime;
beforeEach(() => {
  ran.length = 0;
  runtime = configure({ adapter: "test", adapters: { now: "inline" } });
});
afterEach(() => runtime.close());

describe("batches with the test adapter", () => {
  it("performEnqueuedJobs runs the batch's jobs, what they add, then its callbacks, recorded as enqueued", async () => {
    const id = await batch([new RowJob(0), new RowJob(1)], { onSuccess: [ReportJob, ["imported"]], onFailure: [ReportJob, ["broken"]] });
    await assertEnqueued({ job: RowJob, count: 2 });
    expect((await batch.status(id))?.state).toBe("running");
    await performEnqueuedJobs();
    expect(ran).toEqual([
      `row 0 of ${id}`,
      `row 1 of ${id}`,
      `row 100 of ${id}`,
      "imported (success)",
      expect.stringMatching(/^this\.batch\.add\(\): ReportJob runs as the success callback of batch .*; a callback cannot add jobs to it/),
    ]);
    const [callback] = await assertEnqueued({ job: ReportJob, args: ["imported"], count: 1 });
    expect(callback!.batch).toEqual({ id, callback: "success" });
    await assertPerformed({ job: ReportJob, count: 1 });
    expect(await batch.status(id)).toMatchObject({ state: "finished", total: 3, succeeded: 3, enqueuedCallbacks: { success: callback!.id } });
    expect((await testAdapter()).store.dead.list(undefined, 10, 0)).toEqual([]);
  });

  it("a failed job: onFailure runs, onSuccess does not", async () => {
    const id = await batch([new RowJob(1), new FailingRowJob()], { onSuccess: [ReportJob, ["imported"]], onFailure: [ReportJob, ["broken"]] });
    await performEnqueuedJobs();
    expect(ran.filter((line) => line.endsWith("(failure)") || line.endsWith("(success)"))).toEqual(["broken (failure)"]);
    expect(await batch.status(id)).toMatchObject({ state: "finished", dead: 1, succeeded: 1 });
  });

  it("the inline adapter refuses batch(), pointing at the test adapter", async () => {
    class InlineRowJob extends RowJob {
      static override adapter = "now";
    }
    await expect(batch([new InlineRowJob(1)])).rejects.toThrow(UnsupportedError);
    await expect(batch([new InlineRowJob(1)])).rejects.toThrow(/capability batches.*use the test adapter/);
  });

  it("jobs on two adapters in one batch are refused, naming both", async () => {
    class InlineRowJob extends RowJob {
      static override adapter = "now";
    }
    await expect(batch([new RowJob(1), new InlineRowJob(2)])).rejects.toThrow(ConfigError);
    await expect(batch([new RowJob(1), new InlineRowJob(2)])).rejects.toThrow(/RowJob uses adapter \(default\) but InlineRowJob uses now/);
    await expect(batch([new RowJob(1).set({ transaction: {} })])).rejects.toThrow(/set\(\{ transaction \}\)/);
    expect(ran).toEqual([]);
  });
});
