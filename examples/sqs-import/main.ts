// The runnable example of packages/adapter-sqs/README.md (kept identical by test/readme.test.ts).
import { configure, Job, Worker } from "@errand/core";

class ImportJob extends Job<[file: string], number> {
  perform(file: string) {
    this.progress(1, `imported ${file}`);
    return file.length;
  }
}

// In production: { use: "sqs", region: "eu-west-1", queuePrefix: "shop-" } and the usual AWS credentials.
const endpoint = process.env.SQS_ENDPOINT ?? "http://127.0.0.1:4566";
const runtime = configure({
  adapter: { use: "sqs", endpoint, queuePrefix: "example-", clientConfig: { region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } } },
});

const { jobId } = await ImportJob.set({ queue: "imports" }).performLater("users.csv");

// A worker (normally its own process: `errand work -q imports`) runs it.
const worker = new Worker({ runtime, queues: "imports", concurrency: 10 });
await worker.start();
await worker.drained();
console.log((await ImportJob.status(jobId))?.state); // "succeeded"
await runtime.close();
