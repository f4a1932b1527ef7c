// The jobs of the 10,000-job batch tests (batches-async.test.ts on the async adapter,
// postgres-batches-workers.pg.test.ts on PostgreSQL): ChunkJob, the batch's jobs, counts its
// runs; DoneJob, its callbacks, records which callback it ran as and how many chunks had run
// before it. State of the test file's process, as each file runs in its own.
import { Job } from "@errand/core";

let performed = 0;

/** Each DoneJob run: the batch callback it ran as (`undefined` outside a batch), and how many ChunkJobs had run by then. */
export const callbacks: { kind: string | undefined; performedBefore: number }[] = [];

/** One of the batch's jobs: counts itself. */
export class ChunkJob extends Job<[index: number]> {
  perform(_index: number) {
    performed++;
  }
}

/** The batch's callbacks (and the sentinel job enqueued after them): records itself in {@link callbacks}. */
export class DoneJob extends Job<[label: string]> {
  perform(_label: string) {
    callbacks.push({ kind: this.batch?.callback, performedBefore: performed });
  }
}
