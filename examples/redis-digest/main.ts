// The runnable example of packages/adapter-redis/README.md (kept identical by test/readme.test.ts).
import { configure, Job, Worker } from "@errand/core";

class DigestJob extends Job<[userId: number], string> {
  perform(userId: number) {
    this.progress(0.5, "rendered");
    return `digest sent to user ${userId}`;
  }
}

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const runtime = configure({ adapter: { use: "redis", url, prefix: "errand-example" } });

// From a request handler: one round trip, then answer the user.
const { jobId } = await DigestJob.set({ queue: "mail", priority: 5 }).performLater(42);

// A worker (normally its own process: `errand work -q mail`) runs it.
const worker = new Worker({ runtime, queues: "mail", concurrency: 5 });
await worker.start();
await worker.drained();
console.log((await DigestJob.status(jobId))?.result); // "digest sent to user 42"
await runtime.close();
