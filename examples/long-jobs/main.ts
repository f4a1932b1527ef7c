// The runnable example of docs/long-jobs.md: an import of 1,000 rows whose worker stops
// half-way (as a deploy's SIGTERM stops it); a second worker resumes it at its cursor.
// Checked by test/examples.test.ts.
import { configure, Job, Worker } from "@errand/core";
import { waitFor } from "@errand/core/testing";

const saved = new Map<number, number>(); // row → times saved

class ImportJob extends Job<[rows: number], number> {
  static override resumeWait = 0; // default 5 s: time for a deploy's new workers to start
  async perform(rows: number) {
    await this.step("rows", async (step) => {
      for (let row = step.cursor ?? 0; row < rows; row++) {
        saved.set(row, (saved.get(row) ?? 0) + 1); // the work: save one row
        await new Promise((resolve) => setImmediate(resolve));
        step.advance(); // a checkpoint: stops here when the worker is stopping
      }
    });
    await this.step("report", () => {
      console.log(`imported ${rows} rows`);
    });
    return rows;
  }
}

const runtime = configure({ adapter: "async", jobs: [ImportJob], worker: { embedded: false } });
const { jobId } = await ImportJob.performLater(1000);

const first = new Worker({ runtime });
await first.start();
await waitFor(() => saved.size >= 300);
await first.stop(); // the job stops at its next checkpoint and is re-enqueued with its cursor
const stoppedAt = saved.size;
console.log(`first worker stopped; the job was handed back at row ${stoppedAt}`);

const second = new Worker({ runtime });
await second.start();
const status = await waitFor(async () => {
  const current = await ImportJob.status(jobId);
  return current?.state === "succeeded" && current;
});
await second.stop();
const twice = [...saved.values()].filter((times) => times > 1).length;
console.log(`${status.state}: ${saved.size} rows saved, ${twice} twice`);
await runtime.close();
