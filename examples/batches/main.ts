// The runnable example of docs/batches.md: an import cut into 20 chunks run as one batch
// by two workers; one chunk fans out a clean-up job into the batch (`this.batch.add`), and
// the batch's callbacks run once, after the last job finished. Checked by
// test/examples-batches.test.ts.
import { batch, configure, Job, Worker } from "@errand/core";
import { waitFor } from "@errand/core/testing";

const saved = new Set<number>(); // rows imported
const ran: string[] = []; // callbacks, in the order they ran

class ImportChunkJob extends Job<[file: string, chunk: number]> {
  async perform(file: string, chunk: number) {
    for (let row = chunk * 50; row < (chunk + 1) * 50; row++) saved.add(row);
    await new Promise((resolve) => setImmediate(resolve));
    // Fan-out: the batch now also waits for this job.
    if (chunk === 0) await this.batch!.add([new CleanUpJob(file)]);
  }
}

class CleanUpJob extends Job<[file: string]> {
  perform(file: string) {
    console.log(`cleaned up after ${file}`);
  }
}

class ImportDoneJob extends Job<[file: string]> {
  async perform(file: string) {
    const status = await this.batch!.status();
    ran.push(`${this.batch!.callback}`);
    console.log(`${this.batch!.callback}: ${file}, ${status!.succeeded} of ${status!.total} jobs succeeded, ${saved.size} rows`);
  }
}

const runtime = configure({ adapter: "async", jobs: [ImportChunkJob, CleanUpJob, ImportDoneJob], worker: { embedded: false } });
const chunks = Array.from({ length: 20 }, (_, chunk) => new ImportChunkJob("users.csv", chunk));
const batchId = await batch(chunks, {
  onSuccess: [ImportDoneJob, ["users.csv"]],
  onComplete: [ImportDoneJob, ["users.csv"]],
  description: "import of users.csv",
});
console.log(`batch created: ${(await batch.status(batchId))!.total} jobs`);

const workers = [new Worker({ runtime, concurrency: 4 }), new Worker({ runtime, concurrency: 4 })];
for (const worker of workers) await worker.start();
await waitFor(() => ran.length === 2);
const status = (await batch.status(batchId))!;
for (const worker of workers) await worker.stop();
console.log(`${status.state}: ${status.total} jobs, ${status.pending} pending, callbacks ${Object.keys(status.enqueuedCallbacks).sort().join(" and ")}`);
await runtime.close();
